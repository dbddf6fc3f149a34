"""Memory and time of a 20 MB transcription upload on the local runtime.

    .venv/bin/python -m bench.audio_upload [--mb 20] [--repeat 2] [--json]

Starts the emulator in-process and one `node runtime/dev.mjs`, warms it up with a small upload,
then for each audio input form (whisper-large-v3-turbo: base64 string; whisper: JS number
array) posts a WAV of `--mb` MB and reports the Node process's resident memory (VmRSS, Linux)
before and after, its peak (VmHWM), and the request time. Prints a table, or one JSON object
with `--json` (for bench/run.mjs).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.request
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from emulator.server import start as start_emulator  # noqa: E402
from tests.audio_samples import wav_silence, wav_tone  # noqa: E402
from tests.http.conftest import spawn_runtime  # noqa: E402

API_KEY = "sk-bench"
MODELS = (
    ("base64", "@cf/openai/whisper-large-v3-turbo"),
    ("byte array", "@cf/openai/whisper"),
)


def memory_mb(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM (peak) of `pid` in MB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0]) / 1024
    return values


def transcribe(base_url: str, model: str, audio: bytes) -> tuple[int, float]:
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
    with urllib.request.urlopen(request, timeout=300) as response:
        response.read()
        return response.status, time.perf_counter() - started


def measure(megabytes: float, repeat: int = 2) -> dict:
    """Run the measurement; `repeat` entries per audio input form (the second shows whether
    memory is reused or keeps growing)."""
    emulator = start_emulator("127.0.0.1", 0)
    worker = spawn_runtime(env={"API_KEYS": API_KEY}, ai_base_url=emulator.rest_base)
    try:
        worker.wait_ready()
        pid = worker.proc.pid
        for _, model in MODELS:
            transcribe(worker.base_url, model, wav_tone(1.0))  # warm: imports, first call
        audio = wav_silence(int(megabytes * 1024 * 1024))
        results = {"upload_mb": round(len(audio) / 1024 / 1024, 2), "runs": []}
        for form, model in [m for m in MODELS for _ in range(repeat)]:
            before = memory_mb(pid)
            status, seconds = transcribe(worker.base_url, model, audio)
            after = memory_mb(pid)
            results["runs"].append(
                {
                    "model": model,
                    "audio_input": form,
                    "status": status,
                    "seconds": round(seconds, 3),
                    "rss_before_mb": round(before["VmRSS"], 1),
                    "rss_after_mb": round(after["VmRSS"], 1),
                    "rss_growth_mb": round(after["VmRSS"] - before["VmRSS"], 1),
                    "peak_rss_mb": round(after["VmHWM"], 1),
                }
            )
        return results
    finally:
        worker.stop()
        emulator.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=20.0, help="upload size in MB")
    parser.add_argument("--repeat", type=int, default=2, help="uploads per input form")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    results = measure(args.mb, args.repeat)
    if args.json:
        print(json.dumps(results))
        return
    print(f"audio upload: {results['upload_mb']} MB WAV, Node RSS (MB)")
    print(f"{'input form':<12} {'status':>6} {'time s':>7} {'before':>7} {'after':>7} "
          f"{'growth':>7} {'peak':>7}")  # fmt: skip
    for run in results["runs"]:
        print(
            f"{run['audio_input']:<12} {run['status']:>6} {run['seconds']:>7} "
            f"{run['rss_before_mb']:>7} {run['rss_after_mb']:>7} {run['rss_growth_mb']:>7} "
            f"{run['peak_rss_mb']:>7}"
        )


if __name__ == "__main__":
    main()
