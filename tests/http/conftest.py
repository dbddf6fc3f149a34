"""Fixtures for HTTP tests: the Workers AI emulator and the Worker on the local runtime.

Every HTTP test talks to `base_url`, which is the local runtime (`node runtime/dev.mjs`, the
Worker on workerd) unless
`WORKER_BASE_URL` points the suite at `wrangler dev` or a deployment (then `WORKER_API_KEY`
gives the key, and tests that need the emulator's fault controls are skipped).

Fixtures:
- `emulator` (session): the emulator in-process; `.base_url`, `.rest_base`, `.stop()`.
- `emulator_control`: an `EmulatorControl` for that emulator, reset before and after the test.
- `start_worker` (session): `start_worker(env={}, r2=(), config=None, kv=()) -> WorkerProcess`,
  one process per distinct arguments for the whole session, all terminated at the end.
- `worker` (session): the default instance (`API_KEYS="sk-test-1,sk-test-2"`, R2 `IMAGES`,
  KV `RESPONSES`).
- `base_url`, `api_key`, `client` (an `openai.OpenAI` for `base_url + "/v1"` whose responses
  must conform to the OpenAPI document).
- `runtime_spawner` (session): `spawn_runtime(env=, r2=, kv=, config=, ai_base_url=, persist_to=)`,
  an uncached process the test must `.stop()` itself.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
NODE_BIN = REPO_ROOT / "node_modules" / ".bin"
NODE = NODE_BIN / "node"  # Node 22 from npm; the system node is too old for miniflare
DEV_MJS = REPO_ROOT / "runtime" / "dev.mjs"
# workerd boots Pyodide and imports the Worker before it listens: ~25 s on a busy 2-core box.
READY_TIMEOUT_S = 180.0
DEFAULT_API_KEYS = "sk-test-1,sk-test-2"

_READY = re.compile(r"Ready on (http://\S+)")


def documented_settings() -> list[str]:
    """The setting names the runtime lets the process environment override (one list, in JS)."""
    text = (REPO_ROOT / "runtime" / "settings.mjs").read_text()
    block = text.split("DOCUMENTED_SETTINGS = Object.freeze([", 1)[1].split("])", 1)[0]
    return re.findall(r'"([A-Z0-9_]+)"', block)


def remote_base_url() -> str | None:
    return os.environ.get("WORKER_BASE_URL") or None


class WorkerProcess:
    """A `node runtime/dev.mjs` child process with its captured output."""

    def __init__(self, args: list[str], env: Mapping[str, str]) -> None:
        self.args = args
        self._lines: list[str] = []
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self.base_url: str | None = None
        self.proc = subprocess.Popen(
            args,
            cwd=REPO_ROOT,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",
        )
        self._readers = [
            threading.Thread(target=self._read, args=(stream,), daemon=True)
            for stream in (self.proc.stdout, self.proc.stderr)
        ]
        for reader in self._readers:
            reader.start()

    def _read(self, stream) -> None:
        for line in stream:
            with self._lock:
                self._lines.append(line)
            match = _READY.search(line)
            if match and not self._ready.is_set():
                self.base_url = match.group(1)
                self._ready.set()

    def wait_ready(self, timeout: float = READY_TIMEOUT_S) -> WorkerProcess:
        deadline = time.monotonic() + timeout
        while not self._ready.wait(0.05):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                reason = (
                    f"exited with {self.proc.returncode}"
                    if self.proc.returncode is not None
                    else f"not ready after {timeout:.0f} s"
                )
                raise RuntimeError(
                    f"local runtime {reason}: {' '.join(self.args)}\n--- output ---\n{self.logs()}"
                )
        return self

    def logs(self) -> str:
        """Everything the process wrote to stdout and stderr so far (interleaved by line)."""
        with self._lock:
            return "".join(self._lines)

    def wait_for_log(self, pattern: str, timeout: float = 10.0) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = re.search(pattern, self.logs())
            if match:
                return match
            time.sleep(0.05)
        raise AssertionError(f"{pattern!r} not in the runtime log:\n{self.logs()}")

    def stop(self, timeout: float = 10.0) -> int | None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        for reader in self._readers:
            reader.join(2)
        return self.proc.returncode


def runtime_env(ai_base_url: str | None, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The child environment: hermetic settings, Node 22 first on PATH, the given overrides."""
    child = {
        k: v
        for k, v in os.environ.items()
        if k not in documented_settings()
        and k not in ("CLOUDFLARE_ACCOUNT_ID", "CLOUDFLARE_API_TOKEN", "AI_BASE_URL", "PORT")
        and k not in ("LOCAL_R2_BINDINGS", "LOCAL_KV_BINDINGS")
    }
    child["PATH"] = f"{NODE_BIN}{os.pathsep}{child.get('PATH', '')}"
    if ai_base_url:
        child["AI_BASE_URL"] = ai_base_url
    child.update(env or {})
    return child


def spawn_runtime(
    *,
    env: Mapping[str, str] | None = None,
    r2: Iterable[str] = (),
    kv: Iterable[str] = (),
    config: str | os.PathLike[str] | None = None,
    ai_base_url: str | None = None,
    persist_to: str | os.PathLike[str] | None = None,
    extra_args: Iterable[str] = (),
) -> WorkerProcess:
    """Start `node runtime/dev.mjs --port 0` (not cached, not waited for)."""
    args = [str(NODE), str(DEV_MJS), "--port", "0"]
    for name in r2:
        args += ["--r2", name]
    for name in kv:
        args += ["--kv", name]
    if config is not None:
        args += ["--config", str(config)]
    if persist_to is not None:
        args += ["--persist-to", str(persist_to)]
    args += list(extra_args)
    return WorkerProcess(args, runtime_env(ai_base_url, env))


@pytest.fixture(scope="session")
def runtime_spawner():
    """`spawn_runtime(**kw)` for tests that manage a runtime process themselves."""
    return spawn_runtime


@pytest.fixture(scope="session")
def emulator():
    if remote_base_url():
        pytest.skip(
            "WORKER_BASE_URL is set: this test needs the local Workers AI emulator "
            "(fault injection and the request log) and cannot run against a deployment"
        )
    from emulator.server import start

    instance = start("127.0.0.1", 0)
    yield instance
    instance.stop()


@pytest.fixture
def emulator_control(emulator):
    from emulator.client import EmulatorControl

    control = EmulatorControl(emulator.base_url)
    control.reset()
    yield control
    control.reset()


class _WorkerFactory:
    def __init__(self, ai_base_url: str, state_root: Path) -> None:
        self._ai_base_url = ai_base_url
        self._state_root = state_root
        self._instances: dict[tuple, WorkerProcess] = {}

    def __call__(
        self,
        env: Mapping[str, str] | None = None,
        r2: Iterable[str] = (),
        config: str | os.PathLike[str] | None = None,
        kv: Iterable[str] = (),
    ) -> WorkerProcess:
        env = dict(env or {})
        key = (tuple(sorted(env.items())), tuple(r2), str(config) if config else None, tuple(kv))
        instance = self._instances.get(key)
        if instance is not None and instance.proc.poll() is None:
            return instance
        persist = self._state_root / f"state-{len(self._instances)}"
        instance = spawn_runtime(
            env=env,
            r2=r2,
            kv=kv,
            config=config,
            ai_base_url=self._ai_base_url,
            persist_to=persist,
        )
        self._instances[key] = instance
        return instance.wait_ready()

    def stop_all(self) -> None:
        for instance in self._instances.values():
            instance.stop()


@pytest.fixture(scope="session")
def start_worker(emulator) -> Iterator[_WorkerFactory]:
    state_root = Path(tempfile.mkdtemp(prefix="worker-state-"))
    factory = _WorkerFactory(emulator.rest_base, state_root)
    yield factory
    factory.stop_all()
    shutil.rmtree(state_root, ignore_errors=True)


@pytest.fixture(scope="session")
def worker(start_worker) -> WorkerProcess:
    # Image URLs on 127.0.0.1 are allowed here (IMAGE_URL_HOSTS) so vision tests can serve images
    # from a loopback server; test_hostile.py proves the default policy refuses them.
    return start_worker(
        {"API_KEYS": DEFAULT_API_KEYS, "IMAGE_URL_HOSTS": "127.0.0.1"},
        r2=("IMAGES",),
        kv=("RESPONSES",),
    )


@pytest.fixture(scope="session")
def base_url(request) -> str:
    remote = remote_base_url()
    if remote:
        return remote.rstrip("/")
    return request.getfixturevalue("worker").base_url


@pytest.fixture(scope="session")
def api_key() -> str:
    return os.environ.get("WORKER_API_KEY") or DEFAULT_API_KEYS.split(",")[0]


@pytest.fixture
def client(base_url, api_key):
    """The OpenAI client; every response it receives is checked against the OpenAPI document
    when the test ends (a violation fails the test; docs/openapi.md)."""
    import openai

    from tests.http import openapi_contract

    problems: list[str] = []
    hook = openapi_contract.recorder(problems)
    http_client = openai.DefaultHttpx2Client(event_hooks={"response": [hook]})
    yield openai.OpenAI(
        base_url=base_url + "/v1",
        api_key=api_key,
        max_retries=0,
        timeout=60,
        http_client=http_client,
    )
    http_client.close()
    assert not problems, "responses the OpenAPI document does not allow:\n" + "\n".join(problems)


def worker_copy(
    tmp_path: Path, *, rules: bool = True, vars_toml: str = "", src: Path = REPO_ROOT / "src"
) -> Path:
    """The repo's Worker under another config: `src/` (or a stand-in) and `python_modules/` by
    reference."""
    text = (REPO_ROOT / "wrangler.toml").read_text()
    text = text.replace('main = "src/entry.py"', f'main = "{src / "entry.py"}"')
    if not rules:
        text = text.split("[[rules]]", 1)[0]
    for line in vars_toml.splitlines():  # drop the repo's value of each name set here
        text = re.sub(rf"(?m)^{line.split('=')[0].strip()} = .*\n", "", text)
    text = text.replace("[vars]\n", "[vars]\n" + vars_toml)
    (tmp_path / "wrangler.toml").write_text(text)
    (tmp_path / "python_modules").symlink_to(REPO_ROOT / "python_modules")
    return tmp_path / "wrangler.toml"
