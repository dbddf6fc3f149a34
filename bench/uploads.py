"""Memory of large uploads on the local runtime (issue 17, "Uploads within the isolate").

    .venv/bin/python -m bench.uploads [--repeat 2] [--case NAME]... [--json] [--save]

Cases, each in a fresh `node runtime/dev.mjs` (real workerd, the repo's emulator as Workers AI):
- a 25 MB WAV to `POST /v1/audio/transcriptions` with `whisper-1` (whisper-large-v3-turbo, which
  takes the file as a stream), and a 15 MB one behind AI Gateway (base64, which is refused over
  15 MB; no target);
- a 4 MB PNG (incompressible noise, RGB) to `POST /v1/images/edits` (img2img, `image_b64`);
- the floor under it (no target): the same PNG as the whole body of a bench-only path that
  passes the JS request to `bench/workers/base64_floor.mjs`, which reads it ("floor-read"),
  base64-encodes it ("floor-base64") and sends that to `env.AI.run` ("floor-run"), no Python.

The Worker runs with `bench/workers/memory_probe.py` as its main module (its own modules
unchanged beside it), which answers one extra path with the size of Pyodide's Wasm memory.
Each case warms up with a small upload, then posts the large one `--repeat` times, recording
the workerd process's VmRSS before and after, its peak (VmHWM, reset before each upload through
/proc/<pid>/clear_refs) and Pyodide's Wasm memory before and after. Issue 17's target: the
process grows by no more than 2× the file. Figures are compared with bench/uploads-baseline.json
(`--save` rewrites it). Exits 1 if an upload was not answered 200.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import struct
import sys
import tempfile
import time
import tomllib
import urllib.error
import urllib.request
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from emulator.server import start as start_emulator  # noqa: E402
from tests.audio_samples import wav_silence  # noqa: E402
from tests.http.conftest import spawn_runtime  # noqa: E402

API_KEY = "sk-bench"
MiB = 1024 * 1024
BASELINE = REPO_ROOT / "bench" / "uploads-baseline.json"
PROBE = REPO_ROOT / "bench" / "workers" / "memory_probe.py"
FLOOR = REPO_ROOT / "bench" / "workers" / "base64_floor.mjs"
PROBE_PATH = "/__bench/memory"
TARGET_FACTOR = 2  # issue 17: the process grows by no more than 2× the file
ISOLATE_LIMIT_MB = 128  # a deployed Worker's isolate, Pyodide heap included


def noise_png(total_bytes: int, width: int = 1024, seed: int = 17) -> bytes:
    """A valid RGB PNG of at most `total_bytes`, rows of seeded noise (incompressible), stored
    with zlib level 0 so its size is known in advance."""
    stride = 1 + 3 * width  # filter byte + RGB
    overhead = 8 + 25 + 12 + 12 + 6  # signature, IHDR, IDAT and IEND framing, zlib head + adler
    height = (total_bytes - overhead) * 65535 // (65540 * stride)  # 5 bytes per stored block
    noise = random.Random(seed).randbytes(height * stride)
    rows = bytearray(noise)
    rows[::stride] = bytes(height)  # filter type 0 (None) on every row

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(rows), 0))
        + chunk(b"IEND", b"")
    )


def multipart(fields: dict[str, str], name: str, filename: str, kind: str, data: bytes) -> bytes:
    """A multipart/form-data body: text `fields`, then one file part."""
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
        for k, v in fields.items()
    ]
    parts.append(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"; '
        f'filename="{filename}"\r\nContent-Type: {kind}\r\n\r\n'
    )
    return "".join(parts).encode() + data + f"\r\n--{BOUNDARY}--\r\n".encode()


BOUNDARY = "bench-boundary-7d9f"


@dataclass(frozen=True)
class Case:
    """One kind of upload: where it goes, the file, and whether issue 17 sets a target."""

    name: str
    path: str
    fields: dict[str, str]
    part: tuple[str, str, str]  # form field, file name, content type
    make: Callable[[int], bytes]
    size: int
    warm_size: int
    env: dict[str, str] = field(default_factory=dict)
    target: bool = True
    raw: bool = False  # the file is the whole body (the floor), not a multipart part

    def body(self, data: bytes) -> bytes:
        return data if self.raw else multipart(self.fields, *self.part, data)

    @property
    def content_type(self) -> str:
        return self.part[2] if self.raw else f"multipart/form-data; boundary={BOUNDARY}"


AUDIO = {"model": "whisper-1"}
IMAGE = {"model": "dall-e-2", "prompt": "a watercolour of the same scene"}
CASES = (
    Case("audio", "/v1/audio/transcriptions", AUDIO, ("file", "a.wav", "audio/wav"),
         wav_silence, 25 * MiB, 32 * 1024),
    # Behind AI Gateway the audio goes as base64, refused over 15 MB (transcripts.BASE64_LIMIT).
    Case("audio-gateway", "/v1/audio/transcriptions", AUDIO, ("file", "a.wav", "audio/wav"),
         wav_silence, 15 * MiB, 32 * 1024, {"AI_GATEWAY_ID": "bench"}, target=False),
    Case("image-edit", "/v1/images/edits", IMAGE, ("image", "a.png", "image/png"),
         noise_png, 4 * MiB, 64 * 1024),
    *(Case(f"floor-{step}", f"/__bench/floor?step={step}", {}, ("image", "a.png", "image/png"),
           noise_png, 4 * MiB, 64 * 1024, target=False, raw=True)
      for step in ("read", "base64", "run")),
)  # fmt: skip
LABELS = {
    "audio": "25 MB WAV, whisper-1 (stream to Workers AI)",
    "audio-gateway": "15 MB WAV, whisper-1 behind AI Gateway (base64)",
    "image-edit": "4 MB PNG, /v1/images/edits (img2img, base64)",
    "floor-read": "4 MB PNG, JavaScript only: read the body",
    "floor-base64": "4 MB PNG, JavaScript only: read, base64",
    "floor-run": "4 MB PNG, JavaScript only: read, base64, env.AI.run",
}


def workerd_pid(parent: int) -> int:
    """The workerd process below `parent` (dev.mjs), which holds the Worker."""
    todo = [parent]
    while todo:
        pid = todo.pop()
        for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
            if b"workerd" in Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")[0]:
                return int(child)
            todo.append(int(child))
    raise RuntimeError(f"no workerd process below {parent}")


def memory_mb(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM (peak) of `pid` in MB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0]) / 1024
    return values


def reset_peak(pid: int) -> None:
    """Set VmHWM back to the current RSS (Linux: `5` in clear_refs)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def bench_config(root: Path) -> Path:
    """A config in `root` whose main module is the probe, beside the Worker's own modules
    (links to src/ and python_modules/), so the Worker runs unchanged."""
    raw = tomllib.loads((REPO_ROOT / "wrangler.toml").read_text())
    main = Path(raw["main"])
    src = root / main.parent
    src.mkdir(parents=True)
    for entry in (REPO_ROOT / main.parent).iterdir():
        (src / entry.name).symlink_to(entry)
    shutil.copy(PROBE, src / "bench_memory_probe.py")
    shutil.copy(FLOOR, src / "bench_base64_floor.mjs")
    (root / "python_modules").symlink_to(REPO_ROOT / "python_modules")
    raw["main"] = str(main.parent / "bench_memory_probe.py")
    # (a later rule of a type already used is dropped unless the first falls through)
    floor_rule = {"type": "ESModule", "globs": ["bench_*.mjs"], "fallthrough": True}
    raw["rules"] = [floor_rule, *raw.get("rules", [])]
    raw.pop("assets", None)  # the playground's files: not part of these requests
    config = root / "wrangler.json"
    config.write_text(json.dumps(raw))
    return config


def _request(
    url: str, body: bytes | None = None, content_type: str = ""
) -> tuple[int, bytes, float]:
    headers = {"Authorization": f"Bearer {API_KEY}"}
    if body is not None:
        headers["Content-Type"] = content_type
    request = urllib.request.Request(url, data=body, headers=headers)
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=300) as response:
            return response.status, response.read(), time.perf_counter() - started
    except urllib.error.HTTPError as error:
        return error.code, error.read(), time.perf_counter() - started


def wasm_mb(base_url: str) -> float:
    """Pyodide's Wasm memory, through the probe's path."""
    status, body, _ = _request(base_url + PROBE_PATH)
    if status != 200:
        raise RuntimeError(f"memory probe answered {status}: {body[:200]!r}")
    return json.loads(body)["wasm_bytes"] / MiB


def _measure_case(emulator_base: str, config: Path, case: Case, repeat: int) -> list[dict]:
    worker = spawn_runtime(
        env={"API_KEYS": API_KEY, **case.env}, ai_base_url=emulator_base, config=config
    )
    try:
        worker.wait_ready()
        pid = workerd_pid(worker.proc.pid)
        url = worker.base_url + case.path
        warm = case.body(case.make(case.warm_size))
        status, answer, _ = _request(url, warm, case.content_type)
        if status != 200:  # imports and the first call are behind us from here
            raise RuntimeError(f"{case.name}: warm-up answered {status}: {answer[:300]!r}")
        data = case.make(case.size)
        runs = []
        for attempt in range(repeat):
            body = case.body(data)
            wasm_before = wasm_mb(worker.base_url)
            before = memory_mb(pid)
            reset_peak(pid)
            status, answer, seconds = _request(url, body, case.content_type)
            after = memory_mb(pid)
            wasm_after = wasm_mb(worker.base_url)
            if status != 200:
                print(f"{case.name}: {status} {answer[:300]!r}", file=sys.stderr)
            runs.append(
                {
                    "case": case.name,
                    "file_mb": round(len(data) / MiB, 2),
                    "attempt": attempt + 1,
                    "status": status,
                    "seconds": round(seconds, 2),
                    "rss_before_mb": round(before["VmRSS"], 1),
                    "rss_after_mb": round(after["VmRSS"], 1),
                    "rss_growth_mb": round(after["VmRSS"] - before["VmRSS"], 1),
                    "peak_growth_mb": round(after["VmHWM"] - before["VmRSS"], 1),
                    "wasm_before_mb": round(wasm_before, 1),
                    "wasm_after_mb": round(wasm_after, 1),
                }
            )
        return runs
    finally:
        worker.stop()


def measure(repeat: int = 2, names: Sequence[str] | None = None) -> dict:
    """Run every case (or those named), each in a fresh runtime."""
    emulator = start_emulator("127.0.0.1", 0)
    root = Path(tempfile.mkdtemp(prefix="bench-uploads-"))
    try:
        config = bench_config(root)
        runs: list[dict] = []
        for case in CASES:
            if names is None or case.name in names:
                runs += _measure_case(emulator.rest_base, config, case, repeat)
        return {"runs": runs, "figures": figures(runs)}
    finally:
        shutil.rmtree(root, ignore_errors=True)
        emulator.stop()


def figures(runs: list[dict]) -> dict:
    """Per case, the worst attempt's figures (what the targets and the baseline compare)."""
    out: dict[str, dict] = {}
    for run in runs:
        worst = out.setdefault(run["case"], {"file_mb": run["file_mb"]})
        for key in ("rss_growth_mb", "peak_growth_mb", "wasm_after_mb", "seconds"):
            worst[key] = max(worst.get(key, run[key]), run[key])
        growth = round(run["wasm_after_mb"] - run["wasm_before_mb"], 1)
        worst["wasm_growth_mb"] = max(worst.get("wasm_growth_mb", growth), growth)
    return out


def table(results: dict) -> str:
    """Every upload, then each case's worst figures with targets and baseline deltas."""
    lines = [
        "Uploads: workerd process RSS and Pyodide's Wasm memory, MB "
        f"(a deployed isolate has {ISOLATE_LIMIT_MB} MB, Wasm heap included)",
        f"{'case':<14} {'run':>3} {'status':>6} {'time s':>6} {'RSS before':>10} "
        f"{'after':>6} {'growth':>6} {'peak +':>6} {'Wasm before':>11} {'after':>6}",
    ]
    for r in results["runs"]:
        lines.append(
            f"{r['case']:<14} {r['attempt']:>3} {r['status']:>6} {r['seconds']:>6.2f} "
            f"{r['rss_before_mb']:>10.1f} {r['rss_after_mb']:>6.1f} {r['rss_growth_mb']:>6.1f} "
            f"{r['peak_growth_mb']:>6.1f} {r['wasm_before_mb']:>11.1f} {r['wasm_after_mb']:>6.1f}"
        )
    baseline = json.loads(BASELINE.read_text())["figures"] if BASELINE.exists() else {}
    for name, worst in results["figures"].items():
        case = next(c for c in CASES if c.name == name)
        lines.append(f"{LABELS[name]}, {worst['file_mb']} MB file; worst of the uploads:")
        limit = round(TARGET_FACTOR * worst["file_mb"], 1)
        for key, label in (
            ("rss_growth_mb", "RSS growth, MB"),
            ("peak_growth_mb", "peak RSS growth, MB"),
            ("wasm_growth_mb", "Wasm memory growth, MB"),
            ("wasm_after_mb", "Wasm memory after, MB"),
            ("seconds", "time, s"),
        ):
            value = worst[key]
            old = baseline.get(name, {}).get(key)
            delta = f"  (baseline {old}, {value - old:+.1f})" if old is not None else ""
            goal = ""
            if case.target and key in ("rss_growth_mb", "peak_growth_mb"):
                goal = f"  target <= {limit} (2x the file): {'met' if value <= limit else 'missed'}"
            lines.append(f"  {label:<28}{value:>8}{delta}{goal}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """The command line; returns the exit status (1 if an upload failed)."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2, help="large uploads per case")
    parser.add_argument(
        "--case", action="append", choices=[c.name for c in CASES], help="only this case"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--save", action="store_true", help=f"rewrite {BASELINE.name}")
    args = parser.parse_args(argv)
    results = measure(args.repeat, args.case)
    print(json.dumps(results) if args.json else table(results))
    if args.save:
        BASELINE.write_text(json.dumps({"figures": results["figures"]}, indent=2) + "\n")
        print(f"saved {BASELINE.relative_to(REPO_ROOT)}")
    return 0 if all(run["status"] == 200 for run in results["runs"]) else 1


if __name__ == "__main__":
    sys.exit(main())
