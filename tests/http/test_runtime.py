"""The local runtime (runtime/dev.mjs) seen over HTTP, with a test-only Worker.

The fixture Worker (tests/http/fixtures/runtime_worker) keeps these tests independent of the
product in src/. They need the local runtime itself, so they skip with WORKER_BASE_URL.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
NODE = REPO_ROOT / "node_modules" / ".bin" / "node"
FIXTURE = Path(__file__).parent / "fixtures" / "runtime_worker"
FIXTURE_CONFIG = FIXTURE / "wrangler.toml"
CHAT_MODEL = "@cf/meta/llama-3.1-8b-instruct-fast"

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("WORKER_BASE_URL")),
    reason="exercises the local runtime process, not a deployment",
)


@pytest.fixture(scope="module")
def fx(start_worker):
    """The fixture Worker with an R2 binding that its config does not declare."""
    return start_worker({"API_KEYS": "sk-fixture"}, r2=("IMAGES",), config=FIXTURE_CONFIG)


def call(base, method, path, body=None, headers=None, timeout=30):
    request = urllib.request.Request(base + path, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def get_json(base, path, **kw):
    status, _, body = call(base, "GET", path, **kw)
    assert status == 200, body
    return json.loads(body)


def post_json(base, path, data):
    status, _, body = call(
        base, "POST", path, json.dumps(data).encode(), {"content-type": "application/json"}
    )
    return status, json.loads(body)


def connect(base):
    parts = urlsplit(base)
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)


# --- streaming --------------------------------------------------------------------------


def test_streamed_upload_reaches_the_worker_chunk_by_chunk(fx):
    conn = connect(fx.base_url)
    conn.putrequest("POST", "/upload-timing")
    conn.putheader("transfer-encoding", "chunked")
    conn.endheaders()
    for _ in range(5):
        chunk = b"x" * 1024
        conn.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        time.sleep(0.2)
    conn.send(b"0\r\n\r\n")
    response = conn.getresponse()
    chunks = json.loads(response.read())["chunks"]
    assert sum(size for _, size in chunks) == 5 * 1024
    assert len(chunks) >= 4, chunks
    # The Worker saw the first chunk long before the last was sent.
    assert chunks[-1][0] - chunks[0][0] >= 600, chunks


def test_streamed_response_reaches_the_client_event_by_event(fx):
    conn = connect(fx.base_url)
    conn.request("GET", "/stream?n=5&interval=0.2")
    response = conn.getresponse()
    assert response.status == 200
    assert response.getheader("content-type") == "text/event-stream"
    arrivals, buffer = [], b""
    start = time.monotonic()
    while True:
        data = response.read1(65536)
        if not data:
            break
        buffer += data
        arrivals.append(time.monotonic() - start)
    assert buffer == b"".join(b"data: %d\n\n" % i for i in range(5))
    assert len(arrivals) >= 4, arrivals
    assert arrivals[0] < 0.5, arrivals
    assert arrivals[-1] - arrivals[0] >= 0.6, arrivals


def test_client_disconnect_cancels_the_stream_and_the_server_keeps_serving(fx):
    conn = connect(fx.base_url)
    conn.request("GET", "/stream?n=200&interval=0.02")
    response = conn.getresponse()
    assert response.read1(65536).startswith(b"data: 0")
    conn.sock.shutdown(socket.SHUT_RDWR)
    conn.close()
    fx.wait_for_log(r"stream pump stopped: .*client disconnected")
    assert get_json(fx.base_url, "/echo")["method"] == "GET"


def test_set_cookie_headers_stay_separate(fx):
    conn = connect(fx.base_url)
    conn.request("GET", "/cookies")
    response = conn.getresponse()
    response.read()
    assert response.msg.get_all("set-cookie") == ["a=1", "b=2"]


def test_request_reaches_the_worker_as_a_workers_request(fx):
    status, _, body = call(
        fx.base_url, "PUT", "/echo?x=1", b"payload", {"x-test": "1", "content-type": "text/plain"}
    )
    data = json.loads(body)
    assert status == 200
    assert data["method"] == "PUT"
    assert data["url"].endswith("/echo?x=1")
    assert data["headers"]["x-test"] == "1"
    assert data["body"] == "payload"


# --- errors ----------------------------------------------------------------------------


def test_uncaught_python_exception_is_a_500_with_the_traceback_logged(fx):
    status, _, body = call(fx.base_url, "GET", "/raise")
    assert status == 500
    assert b"Traceback" not in body
    fx.wait_for_log(r"(?s)Traceback.*entry\.py.*RuntimeError: boom from the fixture worker")
    assert get_json(fx.base_url, "/echo")["method"] == "GET"


def test_a_worker_that_fails_to_import_stops_the_runtime_with_its_traceback(
    tmp_path, emulator, runtime_spawner
):
    worker_dir = tmp_path / "broken"
    (worker_dir / "src").mkdir(parents=True)
    (worker_dir / "src" / "entry.py").write_text("raise ValueError('bad module level code')\n")
    (worker_dir / "wrangler.toml").write_text(
        'name = "broken"\nmain = "src/entry.py"\ncompatibility_date = "2026-11-01"\n'
        'compatibility_flags = ["python_workers"]\n'
    )
    proc = runtime_spawner(config=worker_dir / "wrangler.toml", ai_base_url=emulator.rest_base)
    assert proc.proc.wait(60) == 1
    proc.stop()
    assert "ValueError: bad module level code" in proc.logs()
    assert "Ready on" not in proc.logs()


# --- Python runtime semantics ----------------------------------------------------------


def test_entropy_at_import_time_raises_like_production(fx):
    data = get_json(fx.base_url, "/entropy")
    errors = data["import_time"]
    context = "Cannot get entropy outside of request context"
    assert errors["random.random"] == (
        "RuntimeError: Cannot use random.random() outside of request context"
    )
    assert errors["random.Random(1)"] == "ok"
    assert errors["os.urandom"] == f"OSError: [Errno 29] {context}"
    assert errors["uuid.uuid4"] == f"OSError: [Errno 29] {context}"
    assert errors["secrets.token_hex"] == f"OSError: [Errno 29] {context}"
    assert data["sdk_patches"] is True
    # ... and works once requests are served.
    assert data["request_time"] == {"random": True, "urandom": 4}


def test_wait_until_keeps_background_work_running(fx):
    key = f"k{time.monotonic_ns()}"
    assert get_json(fx.base_url, f"/wait-until?key={key}") == {"scheduled": key}
    deadline = time.monotonic() + 5
    while get_json(fx.base_url, f"/wait-until-result?key={key}")["value"] != "done":
        assert time.monotonic() < deadline
        time.sleep(0.05)


# --- env ----------------------------------------------------------------------------------


def test_process_env_overrides_dev_vars_which_override_toml(tmp_path, start_worker):
    worker_dir = tmp_path / "worker"
    shutil.copytree(FIXTURE, worker_dir, ignore=shutil.ignore_patterns(".wrangler"))
    (worker_dir / ".dev.vars").write_text(
        '# comment\nOVERRIDDEN=devvars\nFROM_DEV_VARS="dev value"\nAPI_KEYS=from-dev-vars\n'
    )
    instance = start_worker(
        {
            "OVERRIDDEN": "process",
            "API_KEYS": "process-key",
            "MODEL_ALIASES": '{"a": "b"}',
            "NOT_A_SETTING": "must not leak",
        },
        config=worker_dir / "wrangler.toml",
    )
    names = "FROM_TOML,OVERRIDDEN,FROM_DEV_VARS,API_KEYS,MODEL_ALIASES,NOT_A_SETTING,JSON_VAR"
    assert get_json(instance.base_url, f"/vars?names={names}") == {
        "FROM_TOML": "toml",
        "OVERRIDDEN": "process",
        "FROM_DEV_VARS": "dev value",
        "API_KEYS": "process-key",
        "MODEL_ALIASES": '{"a": "b"}',
        "NOT_A_SETTING": None,
        "JSON_VAR": {"nested": [1, 2]},
    }
    assert "process-key" not in instance.logs()


# --- R2 -----------------------------------------------------------------------------------


def test_r2_put_get_head_list_delete_from_python(fx):
    key = f"img-{time.monotonic_ns()}.png"
    payload = bytes(range(256)) * 40
    status, _, body = call(fx.base_url, "PUT", f"/r2/{key}", payload, {"content-type": "image/png"})
    assert status == 200, body
    assert json.loads(body)["size"] == len(payload)

    status, headers, body = call(fx.base_url, "GET", f"/r2/{key}")
    assert status == 200
    assert body == payload
    assert headers["content-type"] == "image/png"
    assert headers["x-etag"]

    assert get_json(fx.base_url, f"/r2/{key}?head=1")["size"] == len(payload)
    assert key in get_json(fx.base_url, "/r2/")["keys"]
    call(fx.base_url, "DELETE", f"/r2/{key}")
    assert call(fx.base_url, "GET", f"/r2/{key}")[0] == 404
    assert get_json(fx.base_url, f"/r2/{key}?head=1") is None


# --- env.AI through the shim --------------------------------------------------------------


def test_ai_run_json_result_is_the_unwrapped_rest_result(fx, emulator_control):
    status, data = post_json(
        fx.base_url, "/ai/json", {"model": CHAT_MODEL, "inputs": {"prompt": "hello"}}
    )
    assert status == 200, data
    assert isinstance(data["result"]["response"], str)
    assert "success" not in data["result"]
    [seen] = emulator_control.requests()
    assert seen["model"] == CHAT_MODEL


def test_ai_run_stream_result_is_passed_through_as_sse(fx, emulator_control):
    conn = connect(fx.base_url)
    body = {"model": CHAT_MODEL, "inputs": {"prompt": "hello", "stream": True}}
    conn.request("POST", "/ai/stream", json.dumps(body), {"content-type": "application/json"})
    response = conn.getresponse()
    text = response.read().decode()
    assert response.status == 200
    events = [line for line in text.splitlines() if line.startswith("data: ")]
    assert events[-1] == "data: [DONE]"
    assert "response" in json.loads(events[0][len("data: ") :])


def test_ai_run_error_has_the_bindings_message_format(fx, emulator_control):
    emulator_control.fault(model=CHAT_MODEL, code=3040)
    status, data = post_json(
        fx.base_url, "/ai/json", {"model": CHAT_MODEL, "inputs": {"prompt": "hello"}}
    )
    assert status == 502
    error = data["error"]
    assert error["message"].startswith("3040: ")
    assert "AiError: " not in error["message"]
    assert error["name"] in ("AiError", "InferenceUpstreamError")


def test_ai_run_stream_input_sends_a_raw_body(fx, emulator_control):
    # The bytes are not real audio; only what reached the emulator matters here.
    post_json(
        fx.base_url,
        "/ai/upload",
        {"model": "@cf/openai/whisper", "inputs": {"language": "en"}},
    )
    [seen] = emulator_control.requests()
    assert seen["content_type"].startswith("audio/wav"), seen
    assert seen["query"].get("language") == "en", seen


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
const ai = new Ai({baseUrl: "http://emu.test/client/v4/", accountId: "acct", token: "secret-token",
  fetchImpl: async (url, init) => {
    const body = init.body instanceof ReadableStream ? await new Response(init.body).text() : init.body;
    calls.push({url, method: init.method, headers: Object.fromEntries(init.headers), body});
    return answers[next]();
  }});
const out = {};
async function attempt(name, fn) {
  try { out[name] = {ok: await fn()}; }
  catch (e) { out[name] = {error: {name: e.name, message: e.message, cls: e.constructor.name}}; }
}
await attempt("json", () => ai.run("@cf/m/x", {prompt: "p", n: null}, {queueRequest: true, gateway: {id: "g"}, tags: ["a"]}));
out.lastRequestId = ai.lastRequestId;
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
out.calls = calls;
out.printed = JSON.stringify(ai) + require_inspect(ai);
function require_inspect(o) { return String(o); }
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
    assert first["url"] == (
        "http://emu.test/client/v4/accounts/acct/ai/run/@cf/m/x?queueRequest=true&tags=%5B%22a%22%5D"
    )
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
    assert "secret-token" not in out["printed"]


# --- process lifecycle --------------------------------------------------------------------


def test_sigterm_stops_the_runtime_and_its_emulator(tmp_path, runtime_spawner):
    # No AI_BASE_URL and no credentials: the runtime spawns `python -m emulator` itself.
    proc = runtime_spawner(
        config=FIXTURE_CONFIG,
        persist_to=tmp_path / "state",
        env={"PYTHON": str(REPO_ROOT / ".venv" / "bin" / "python")},
    ).wait_ready()
    match = proc.wait_for_log(r"Workers AI: emulator at (http://\S+)")
    emulator_url = match.group(1)
    with urllib.request.urlopen(emulator_url + "/__emulator/health", timeout=10) as response:
        assert response.status == 200
    assert proc.stop() == 0
    time.sleep(0.5)
    with pytest.raises(OSError):
        urllib.request.urlopen(emulator_url + "/__emulator/health", timeout=2)


def test_an_unread_request_body_is_discarded_after_the_response(fx):
    # The client sends everything before reading; the Worker answers without reading the body.
    conn = connect(fx.base_url)
    body = b"z" * (8 * 1024 * 1024)
    conn.request("POST", "/ok", body, {"content-type": "application/octet-stream"})
    response = conn.getresponse()
    assert response.status == 200
    assert response.read() == b"ok"
    # The connection stays usable.
    conn.request("GET", "/ok")
    assert conn.getresponse().read() == b"ok"
