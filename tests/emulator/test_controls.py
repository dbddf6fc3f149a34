"""Fault injection, scripted answers, the request log, streaming pace and the CLI."""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from emulator.errors import CODES
from tests.emulator.conftest import ACCOUNT, error_body

LLAMA = "@cf/meta/llama-3.1-8b-instruct-fast"
ROOT = Path(__file__).resolve().parents[2]


def open_stream(emulator, model: str, inputs: dict) -> http.client.HTTPResponse:
    url = urlsplit(emulator.base_url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    conn.request(
        "POST",
        f"/client/v4/accounts/{ACCOUNT}/ai/run/{model}",
        body=json.dumps(inputs),
        headers={"content-type": "application/json", "authorization": "Bearer t"},
    )
    return conn.getresponse()


# The documented table (docs/workers-ai.md §1.3) plus the codes seen in the wild.
DOCUMENTED = {
    5007: 400, 5004: 400, 3039: 400, 3003: 400, 5018: 403, 5016: 403, 3023: 403, 3041: 403,
    5019: 405, 5005: 405, 3042: 404, 3006: 413, 3007: 408, 3008: 408, 3036: 429, 3040: 429,
    5035: 403, 5006: 400, 3010: 400, 5021: 413, 4006: 429, 3046: 408, 3030: 400, 8007: 400,
    3001: 500,
}  # fmt: skip


@pytest.mark.parametrize(("code", "status"), sorted(DOCUMENTED.items()))
def test_fault_codes_have_documented_status(run, control, code, status):
    control.fault(model=LLAMA, code=code)
    reply = run(LLAMA, {"prompt": "hi"})
    assert reply.status == status
    assert reply.content_type == "application/json"
    assert reply.json() == error_body(code, CODES[code][1])
    assert run(LLAMA, {"prompt": "hi"}).status == 200  # consumed after one use


def test_fault_overrides_and_model_matching(run, control):
    control.fault(model="@cf/other/model", code=3040)
    control.fault(
        model="*",
        code=3040,
        status=503,
        message="Capacity temporarily exceeded, please try again.",
        times=2,
    )
    for _ in range(2):
        reply = run(LLAMA, {"prompt": "hi"})
        assert reply.status == 503
        assert reply.json() == error_body(3040, "Capacity temporarily exceeded, please try again.")
    assert run(LLAMA, {"prompt": "hi"}).status == 200


def test_latency_fault(run, control):
    control.fault(latency_ms=300)
    started = time.monotonic()
    assert run(LLAMA, {"prompt": "hi"}).status == 200
    assert time.monotonic() - started >= 0.3


def test_stream_is_incremental(emulator, control):
    control.fault(token_delay_ms=40)
    response = open_stream(emulator, LLAMA, {"prompt": "a b c d e f g h", "stream": True})
    started = time.monotonic()
    first = response.read1(65536)
    first_at = time.monotonic() - started
    rest = response.read()
    total = time.monotonic() - started
    assert first.startswith(b"data: ")
    assert (first + rest).endswith(b"data: [DONE]\n\n")
    assert total > 0.5 and first_at < total / 3


def test_mid_stream_abort(emulator, control):
    control.fault(abort_after_events=3)
    response = open_stream(emulator, LLAMA, {"prompt": "a b c d e f", "stream": True})
    with pytest.raises(http.client.IncompleteRead) as info:
        response.read()
    partial = info.value.partial
    assert partial.count(b"data: ") == 3 and b"[DONE]" not in partial


def test_abort_on_json_answer_truncates_body(emulator, control):
    control.fault(abort_after_events=0)
    response = open_stream(emulator, LLAMA, {"prompt": "hi"})
    with pytest.raises(http.client.IncompleteRead):
        response.read()


def test_scripted_json_raw_and_chunks(run, control):
    control.script(model=LLAMA, json={"response": "scripted"})
    assert run(LLAMA, {"prompt": "x"}).json() == {
        "result": {"response": "scripted"},
        "success": True,
        "errors": [],
        "messages": [],
    }
    control.script(
        json={"odd": True}, raw=True, status=502, content_type="application/json; charset=utf-8"
    )
    reply = run(LLAMA, {"prompt": "x"})
    assert reply.status == 502 and reply.json() == {"odd": True}
    assert reply.content_type == "application/json; charset=utf-8"
    chunks = ['data: {"respo', 'nse":"a"}\n', "\ndata: [DONE]\n\n"]
    control.script(chunks=chunks, chunk_delay_ms=10)
    reply = run(LLAMA, {"prompt": "x", "stream": True})
    assert reply.content_type == "text/event-stream"
    assert reply.body.decode() == "".join(chunks)
    control.script(body_b64="AAEC", content_type="image/png")
    assert run(LLAMA, {"prompt": "x"}).body == b"\x00\x01\x02"


def test_bad_control_requests(control):
    import urllib.error

    with pytest.raises(urllib.error.HTTPError) as info:
        control.fault(bogus=1)
    assert info.value.code == 400
    with pytest.raises(urllib.error.HTTPError):
        control.script(model="*")


def test_request_log(run, control):
    run(LLAMA, {"prompt": "logged"}, query="?queueRequest=false&tags=a")
    run("@cf/openai/whisper", body=b"RIFF", content_type="audio/wav")
    first, second = control.requests()
    assert first["model"] == LLAMA and first["inputs"] == {"prompt": "logged"}
    assert first["query"] == {"queueRequest": "false", "tags": "a"}
    assert first["content_type"] == "application/json"
    assert second["inputs"] is None and second["body_size"] == 4
    assert second["body_sha256"] == hashlib.sha256(b"RIFF").hexdigest()
    control.clear_requests()
    assert control.requests() == []


def test_health(control):
    assert control.health() == {"status": "ok"}


def test_cli_prints_ready_line_and_stops_on_sigterm():
    process = subprocess.Popen(
        [sys.executable, "-m", "emulator", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        line = process.stdout.readline()
        assert line.startswith("EMULATOR_READY http://127.0.0.1:")
        url = urlsplit(line.split()[1])
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=5)
        conn.request("GET", "/__emulator/health")
        assert json.loads(conn.getresponse().read()) == {"status": "ok"}
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=5) == 0
        assert process.stdout.read() == ""
    finally:
        if process.poll() is None:
            process.kill()


def test_slow_stream_does_not_block_other_requests(emulator, control, run):
    control.fault(model=LLAMA, token_delay_ms=200)
    response = open_stream(emulator, LLAMA, {"prompt": "a b c d e f g h i j", "stream": True})
    response.read1(65536)  # the stream is now in progress, with about 2 s still to go
    started = time.monotonic()
    assert run("@cf/baai/bge-small-en-v1.5", {"text": "x"}).status == 200
    assert time.monotonic() - started < 1.0
    assert response.read().endswith(b"data: [DONE]\n\n")


def test_request_log_marks_a_stream_the_client_abandoned(emulator, control):
    control.fault(model="*", token_delay_ms=50)
    url = urlsplit(emulator.base_url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    conn.request(
        "POST",
        f"/client/v4/accounts/{ACCOUNT}/ai/run/{LLAMA}",
        body=json.dumps({"prompt": "hi", "stream": True}),
        headers={"content-type": "application/json", "authorization": "Bearer t"},
    )
    assert conn.getresponse().read1(65536)
    assert control.requests()[-1]["abandoned"] is False
    conn.sock.shutdown(socket.SHUT_RDWR)
    conn.close()
    assert control.wait_abandoned(), "the hang-up was not noticed"


def test_quirks_are_validated_and_reset(control):
    assert control.quirks()["unstreamed_models"] == "json"
    assert control.quirks(usage_chunk="always")["usage_chunk"] == "always"
    for bad in ({"nope": 1}, {"usage_chunk": "sometimes"}, {"paid_plan": "yes"}):
        with pytest.raises(urllib.error.HTTPError) as caught:
            control.quirks(**bad)
        assert caught.value.code == 400
    control.reset()
    assert control.quirks()["usage_chunk"] == "when_asked"


def test_body_limit_is_cloudflares_documented_100_mb(emulator):
    # limits.mdx: "Free 100 MB"; announced by Content-Length, refused before the body is read.
    host, port = urlsplit(emulator.base_url).netloc.split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=5)
    connection.putrequest("POST", f"/client/v4/accounts/{ACCOUNT}/ai/run/@cf/openai/whisper")
    connection.putheader("authorization", "Bearer t")
    connection.putheader("content-type", "audio/wav")
    connection.putheader("content-length", str(100_000_001))
    connection.endheaders()
    response = connection.getresponse()
    assert response.status == 413
    assert json.loads(response.read()) == error_body(3006, "Request is too large")
    connection.close()
