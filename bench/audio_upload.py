"""Memory and time of a large transcription upload on the local runtime.

    .venv/bin/python -m bench.audio_upload [--mb 20] [--repeat 2] [--json]

Starts the emulator in-process and, for each way the audio can reach Workers AI, a fresh
`node runtime/dev.mjs`: whisper-large-v3-turbo as a stream (the default), turbo as base64 (what
it gets behind AI Gateway), and whisper's JSON byte array. Each warms up with a small upload,
then posts a WAV of `--mb` MB `--repeat` times, recording the workerd process's resident memory
(VmRSS, Linux) before and after, its peak (VmHWM) and the request time. Prints a short table, or
one JSON object with `--json`. Exits 1 if an upload was not answered 200.

`main(argv)` is what `make bench` calls (`python -m bench.audio_upload --mb 20`).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from emulator.server import start as start_emulator  # noqa: E402
from tests.audio_samples import wav_silence, wav_tone  # noqa: E402
from tests.http.conftest import spawn_runtime  # noqa: E402

API_KEY = "sk-bench"
TURBO = "@cf/openai/whisper-large-v3-turbo"
# (input form, model, extra worker settings): one fresh runtime each, so numbers compare.
FORMS = (
    ("stream", TURBO, {}),
    ("base64 (gateway)", TURBO, {"AI_GATEWAY_ID": "bench"}),
    ("byte array", "@cf/openai/whisper", {}),
)
ISOLATE_LIMIT_MB = 128  # a deployed Worker's isolate, Pyodide heap included


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


def transcribe(base_url: str, model: str, audio: bytes) -> tuple[int, float]:
    """POST `audio` as a multipart WAV upload; (status, seconds)."""
    boundary = "bench-boundary-7d9f"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="model"\r\n\r\n{model}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="audio.wav"\r\nContent-Type: audio/wav\r\n\r\n'
        ).encode()
        + audio
        + f"\r\n--{boundary}--\r\n".encode()
    )
    request = urllib.request.Request(
        base_url + "/v1/audio/transcriptions",
        data=body,
        method="POST",
        headers={
            "Authorization": f"Bearer {API_KEY}",
            "Content-Type": f"multipart/form-data; boundary={boundary}",
        },
    )
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=300) as response:
            response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        error.read()
        status = error.code
    return status, time.perf_counter() - started


def _measure_form(
    emulator_base: str, form: str, model: str, env: dict, audio: bytes, repeat: int
) -> list[dict]:
    worker = spawn_runtime(env={"API_KEYS": API_KEY, **env}, ai_base_url=emulator_base)
    try:
        worker.wait_ready()
        pid = workerd_pid(worker.proc.pid)
        transcribe(worker.base_url, model, wav_tone(1.0))  # warm: imports, first call
        runs = []
        for attempt in range(repeat):
            before = memory_mb(pid)
            status, seconds = transcribe(worker.base_url, model, audio)
            after = memory_mb(pid)
            runs.append(
                {
                    "model": model,
                    "audio_input": form,
                    "attempt": attempt + 1,
                    "status": status,
                    "seconds": round(seconds, 3),
                    "rss_before_mb": round(before["VmRSS"], 1),
                    "rss_after_mb": round(after["VmRSS"], 1),
                    "rss_growth_mb": round(after["VmRSS"] - before["VmRSS"], 1),
                    "peak_rss_mb": round(after["VmHWM"], 1),
                }
            )
        return runs
    finally:
        worker.stop()


def measure(megabytes: float, repeat: int = 2, forms: Sequence[str] | None = None) -> dict:
    """Run the measurement; `repeat` uploads per input form (the second shows whether memory
    is reused or keeps growing); `forms` limits it to some of `FORMS` by name."""
    emulator = start_emulator("127.0.0.1", 0)
    try:
        audio = wav_silence(int(megabytes * 1024 * 1024))
        results: dict = {"upload_mb": round(len(audio) / 1024 / 1024, 2), "runs": []}
        for form, model, env in FORMS:
            if forms is None or form in forms:
                results["runs"] += _measure_form(
                    emulator.rest_base, form, model, env, audio, repeat
                )
        return results
    finally:
        emulator.stop()


def table(results: dict) -> str:
    """The measurement as a short human-readable table."""
    lines = [
        f"audio upload: {results['upload_mb']} MB WAV through the local runtime; workerd RSS in MB "
        f"(a deployed isolate has {ISOLATE_LIMIT_MB} MB)",
        f"{'input form':<18} {'run':>3} {'status':>6} {'time s':>7} {'before':>7} "
        f"{'growth':>7} {'peak':>7}",
    ]
    for run in results["runs"]:
        lines.append(
            f"{run['audio_input']:<18} {run['attempt']:>3} {run['status']:>6} "
            f"{run['seconds']:>7.2f} {run['rss_before_mb']:>7.0f} {run['rss_growth_mb']:>7.0f} "
            f"{run['peak_rss_mb']:>7.0f}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """The command line; returns the exit status (1 if an upload failed)."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--mb", type=float, default=20.0, help="upload size in MB")
    parser.add_argument("--repeat", type=int, default=2, help="uploads per input form")
    parser.add_argument(
        "--form",
        action="append",
        choices=[form for form, _, _ in FORMS],
        help="measure only this input form (repeatable)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    results = measure(args.mb, args.repeat, args.form)
    print(json.dumps(results) if args.json else table(results))
    return 0 if all(run["status"] == 200 for run in results["runs"]) else 1


if __name__ == "__main__":
    sys.exit(main())
