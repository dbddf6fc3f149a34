"""The local runtime (runtime/dev.mjs: the Worker on workerd through miniflare) as a process.

Startup log, settings precedence, SIGTERM/SIGINT cleanup, the error shape of failures outside
the request pipeline, and the `env.AI` shim's binding semantics. They need the local runtime
itself, so they skip with WORKER_BASE_URL.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.http.conftest import worker_copy

REPO_ROOT = Path(__file__).resolve().parents[2]
NODE = REPO_ROOT / "node_modules" / ".bin" / "node"
CHAT_MODEL = "@cf/meta/llama-3.1-8b-instruct-fast"

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("WORKER_BASE_URL")),
    reason="exercises the local runtime process, not a deployment",
)


def call(base, method, path, body=None, headers=None, timeout=60):
    request = urllib.request.Request(base + path, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


# --- startup log ----------------------------------------------------------------------------


def test_startup_log_names_the_runtime_and_every_local_difference(worker):
    logs = worker.logs()
    versions = json.loads((REPO_ROOT / "package.json").read_text())["devDependencies"]
    assert re.search(r"^workerd 1\.\d{8}\.\d+ \(miniflare\)", logs, re.M), logs
    assert f"Pyodide {versions['pyodide']} " in logs
    flags = re.search(r"^Compatibility flags: (.*)$", logs, re.M).group(1).split(", ")
    assert flags == [
        "python_workers",
        "disable_python_no_global_handlers",
        "python_workers_development",
        "no_python_workers_20250116",
        "no_python_workers_314",
        "python_dedicated_snapshot",
    ]
    local_only = re.findall(r"^  local only: (\S+) \((.+)\)$", logs, re.M)
    assert [flag for flag, _ in local_only] == flags[2:]
    assert all(why for _, why in local_only)
    assert re.search(
        r"^Bindings: .*\bIMAGES\b.*\bAI\b.*from the process environment: API_KEYS", logs, re.M
    )
    assert re.search(r"^Memory snapshot: (saved|restored) ", logs, re.M)
    assert "sk-test-1" not in logs


# --- settings -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def configured(tmp_path_factory, start_worker):
    """The Worker with [vars], .dev.vars and process settings that override one another, and
    without the [[rules]] entry that uploads sse_splice.mjs (a deploy mistake to survive)."""
    root = tmp_path_factory.mktemp("configured")
    config = worker_copy(
        root,
        rules=False,
        vars_toml=(
            'MODEL_ALIASES = \'{"toml-alias": "@cf/meta/llama-3.1-8b-instruct-fast"}\'\n'
            'CORS_ORIGINS = "https://toml.example"\n'
        ),
    )
    (root / ".dev.vars").write_text(
        '# comment\nCORS_ORIGINS="https://dev.example"\nAPI_KEYS=dev-key\n'
    )
    return start_worker({"API_KEYS": "process-key", "NOT_A_SETTING": "x"}, config=config)


def test_process_env_overrides_dev_vars_which_override_toml(configured):
    base = configured.base_url
    assert call(base, "GET", "/v1/models", headers={"x-api-key": "process-key"})[0] == 200
    assert call(base, "GET", "/v1/models", headers={"x-api-key": "dev-key"})[0] == 401
    status, _, body = call(
        base, "GET", "/v1/models/toml-alias", headers={"x-api-key": "process-key"}
    )
    assert status == 200, body
    allowed = {"x-api-key": "process-key", "origin": "https://dev.example"}
    assert call(base, "GET", "/health", headers=allowed)[1].get("access-control-allow-origin") == (
        "https://dev.example"
    )
    denied = {"origin": "https://toml.example"}
    assert "access-control-allow-origin" not in call(base, "GET", "/health", headers=denied)[1]
    logs = configured.logs()
    assert "from the process environment: API_KEYS" in logs
    assert "NOT_A_SETTING" not in logs
    assert "process-key" not in logs and "dev-key" not in logs


# --- failures outside the pipeline -----------------------------------------------------------


def test_a_js_error_outside_the_pipeline_is_an_openai_error_not_a_bare_500(configured):
    # Without the rule, sse_splice.mjs is not uploaded and a streamed chat's import of it
    # throws a JavaScript error after the handler has answered.
    body = {"model": CHAT_MODEL, "stream": True, "messages": [{"role": "user", "content": "hi"}]}
    status, headers, raw = call(
        configured.base_url,
        "POST",
        "/v1/chat/completions",
        json.dumps(body).encode(),
        {"x-api-key": "process-key", "content-type": "application/json"},
    )
    assert status == 500
    request_id = headers["x-request-id"]
    assert request_id.startswith("req_")
    error = json.loads(raw)["error"]
    assert error["type"] == "server_error"
    assert error["code"] == "internal_error"
    assert request_id in error["message"]
    assert "sse_splice" not in raw.decode()
    # The traceback is logged as one JSON line under the same request id.
    line = configured.wait_for_log(
        rf'\{{"request_id":"{request_id}","event":"unhandled_exception".*'
    )
    assert "Traceback" in line.group(0) and "sse_splice" in line.group(0)


# --- process lifecycle ----------------------------------------------------------------------


def test_a_worker_that_fails_to_import_stops_the_runtime_with_its_traceback(
    tmp_path, emulator, runtime_spawner
):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "entry.py").write_text("raise ValueError('bad module level code')\n")
    (tmp_path / "wrangler.toml").write_text(
        'name = "broken"\nmain = "src/entry.py"\ncompatibility_date = "2026-11-01"\n'
        'compatibility_flags = ["python_workers"]\n'
    )
    (tmp_path / "python_modules").symlink_to(REPO_ROOT / "python_modules")
    proc = runtime_spawner(config=tmp_path / "wrangler.toml", ai_base_url=emulator.rest_base)
    assert proc.proc.wait(120) == 1
    proc.stop()
    logs = proc.logs()
    assert re.search(
        r"(?s)could not start.*entry\.py\", line 1.*ValueError: bad module level code", logs
    )
    assert "Ready on" not in logs


def descendants(pid: int) -> set[int]:
    """Every live process below `pid` (from /proc)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_workerd_and_the_emulator(tmp_path, runtime_spawner, signum):
    # No AI_BASE_URL and no credentials: the runtime starts `python -m emulator` itself.
    proc = runtime_spawner(
        persist_to=tmp_path / "state",
        env={"PYTHON": str(REPO_ROOT / ".venv" / "bin" / "python")},
    ).wait_ready()
    emulator_url = proc.wait_for_log(r"Workers AI: emulator at (http://\S+)").group(1)
    below = descendants(proc.proc.pid)
    commands = [Path(f"/proc/{pid}/cmdline").read_bytes() for pid in below]
    assert any(b"workerd" in c and b"serve" in c for c in commands), commands
    assert any(b"emulator" in c for c in commands), commands

    proc.proc.send_signal(signum)
    # 0 from our handler, or 128 + signal from miniflare's exit hook when it runs first; the
    # emulator is stopped on exit either way.
    assert proc.proc.wait(30) in (0, 128 + signum)
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in below) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in below if alive(pid)]
    with pytest.raises(OSError):
        urllib.request.urlopen(emulator_url + "/__emulator/health", timeout=2)
    proc.stop()


# --- env.AI: the shim's binding semantics, in Node --------------------------------------------

AI_SHIM_SCRIPT = r"""
import { Ai } from "./runtime/ai.mjs";
const calls = [];
function reply(body, init) { return new Response(body, init); }
const answers = {
  json: () => reply(JSON.stringify({result: {response: "hi"}, success: true, errors: [], messages: []}),
                    {headers: {"content-type": "application/json", "cf-ai-req-id": "req-1"}}),
  charset: () => reply('{"result": 1, "success": true}', {headers: {"content-type": "application/json; charset=utf-8"}}),
  sse: () => reply("data: {}\n\n", {headers: {"content-type": "text/event-stream"}}),
  rest_error: () => reply(JSON.stringify({success: false, result: null, messages: [],
      errors: [{code: 5006, message: "AiError: AiError: Bad input: missing 'prompt'"}]}),
      {status: 400, headers: {"content-type": "application/json"}}),
  plain_error: () => reply(JSON.stringify({errors: [{code: 7003, message: "No route for that URI"}]}),
      {status: 404, headers: {"content-type": "application/json"}}),
  binding_error: () => reply(JSON.stringify({internalCode: 1001, name: "InvalidInput", description: "bad"}),
      {status: 400}),
  text_error: () => reply("upstream exploded", {status: 502}),
};
let next = "json";
const fetchImpl = async (url, init) => {
  const body = init.body instanceof ReadableStream ? await new Response(init.body).text() : init.body;
  calls.push({url, method: init.method, headers: Object.fromEntries(init.headers), body});
  return answers[next]();
};
const ai = new Ai({baseUrl: "http://emu.test/client/v4/", accountId: "acct", token: "secret-token", fetchImpl});
const remote = new Ai({baseUrl: "https://api.test/client/v4", accountId: "acct", token: "t",
  gatewayBaseUrl: "https://gateway.test/v1", fetchImpl});
const out = {};
async function attempt(name, fn) {
  try { out[name] = {ok: await fn()}; }
  catch (e) { out[name] = {error: {name: e.name, message: e.message, cls: e.constructor.name}}; }
}
await attempt("json", () => ai.run("@cf/m/x", {prompt: "p", n: null}, {queueRequest: true, gateway: {id: "g"}, tags: ["a"]}));
out.lastRequestId = ai.lastRequestId;
await attempt("remote_gateway", () => remote.run("@cf/m/x", {prompt: "p"}, {gateway: {id: "g"}}));
next = "charset"; await attempt("charset", async () => typeof (await ai.run("m", {})).getReader);
next = "sse"; await attempt("sse", async () => (await ai.run("m", {stream: true})) instanceof ReadableStream);
next = "json"; await attempt("raw", async () => (await ai.run("m", {}, {returnRawResponse: true})) instanceof Response);
for (const k of ["rest_error", "plain_error", "binding_error", "text_error"]) {
  next = k; await attempt(k, () => ai.run("m", {prompt: "p"}));
}
next = "json";
const stream = () => new Response("AUDIO").body;
await attempt("upload", () => ai.run("@cf/openai/whisper", {audio: {body: stream(), contentType: "audio/wav"}, language: "en", opts: {a: 1}}));
await attempt("two_streams", () => ai.run("m", {audio: stream(), image: {body: stream(), contentType: "x/y"}}));
await attempt("no_content_type", () => ai.run("m", {audio: stream()}));
await attempt("stream_gateway", () => ai.run("m", {audio: {body: stream(), contentType: "audio/wav"}}, {gateway: {id: "g"}}));
out.calls = calls;
out.printed = JSON.stringify(ai) + String(ai);
console.log(JSON.stringify(out));
"""


def test_ai_shim_matches_the_binding_semantics():
    result = subprocess.run(
        [str(NODE), "--input-type=module", "-e", AI_SHIM_SCRIPT],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    calls = out["calls"]

    assert out["json"] == {"ok": {"response": "hi"}}
    assert out["lastRequestId"] == "req-1"
    first = calls[0]
    # Without a gateway endpoint (the emulator) the gateway options travel as a query
    # parameter the emulator records; a real account goes through AI Gateway's URL.
    assert first["url"] == (
        "http://emu.test/client/v4/accounts/acct/ai/run/@cf/m/x?queueRequest=true"
        "&tags=%5B%22a%22%5D&gateway=%7B%22id%22%3A%22g%22%7D"
    )
    assert calls[1]["url"] == "https://gateway.test/v1/acct/g/workers-ai/@cf/m/x"
    assert first["method"] == "POST"
    assert first["headers"]["authorization"] == "Bearer secret-token"
    assert first["headers"]["content-type"] == "application/json"
    assert json.loads(first["body"]) == {"prompt": "p", "n": None}

    # Only an exact "application/json" is parsed, like the real binding.
    assert out["charset"] == {"ok": "function"}
    assert out["sse"] == {"ok": True}
    assert out["raw"] == {"ok": True}

    assert out["rest_error"]["error"] == {
        "name": "AiError",
        "message": "5006: Bad input: missing 'prompt'",
        "cls": "InferenceUpstreamError",
    }
    assert out["plain_error"]["error"]["name"] == "InferenceUpstreamError"
    assert out["plain_error"]["error"]["message"] == "7003: No route for that URI"
    assert out["binding_error"]["error"]["message"] == "1001: bad"
    assert out["binding_error"]["error"]["name"] == "InvalidInput"
    assert out["text_error"]["error"]["message"] == "upstream exploded"

    upload = calls[-1]
    assert upload["url"].endswith("/ai/run/@cf/openai/whisper?language=en&opts=%7B%22a%22%3A1%7D")
    assert upload["headers"]["content-type"] == "audio/wav"
    assert upload["body"] == "AUDIO"
    assert out["two_streams"]["error"] == {
        "name": "AiInternalError",
        "message": "Multiple ReadableStreams are not supported. Found streams in keys: "
        "[audio, image]",
        "cls": "AiInternalError",
    }
    assert out["no_content_type"]["error"]["message"] == (
        "Content-Type is required with ReadableStream inputs"
    )
    assert out["stream_gateway"]["error"]["message"] == (
        "AI Gateway does not support ReadableStreams yet."
    )
    assert "secret-token" not in out["printed"]
