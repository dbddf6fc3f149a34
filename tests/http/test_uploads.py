"""Uploads: multipart bodies read by `src/bridge/multipart.mjs` (one buffer, file parts as views
of it) instead of workerd's `formData()`, which held each upload twice (docs/performance.md,
"Uploads").

The parser runs on Node (tests/http/node/multipart.mjs) on bodies cut at every point; the
Worker's uploads are checked at the emulator, byte for byte, with the file before or after the
other fields, with and without a Content-Length.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import subprocess
import urllib.parse

import pytest

from bench.uploads import noise_png
from tests.audio_samples import wav_silence
from tests.http.conftest import NODE, REPO_ROOT
from tests.http.test_audio import arrived_as_stream, multipart, post, runs

SCRIPT = REPO_ROOT / "tests" / "http" / "node" / "multipart.mjs"
BOUNDARY = "------------------------d74496d66958873e"
CONTENT_TYPE = f"multipart/form-data; boundary={BOUNDARY}"
LIMIT = 1 << 20


def parse_all(cases: list[dict]) -> list[dict]:
    """multipart.mjs's `readForm` on each case (see the script for the fields)."""
    lines = "".join(json.dumps(_case(**case)) + "\n" for case in cases)
    done = subprocess.run(
        [str(NODE), str(SCRIPT)], input=lines, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def _case(body: bytes, declared: bool | int = True, **case) -> dict:
    """A case for the script: `declared` True sends the body's own length, False none."""
    length = len(body) if declared is True else None if declared is False else declared
    fields = {"contentType": CONTENT_TYPE, "limit": LIMIT, "chunks": [], **case}
    return {**fields, "body": base64.b64encode(body).decode(), "declared": length}


def parse(body: bytes, **case) -> dict:
    return parse_all([{"body": body, **case}])[0]


def file_entry(filename: str, content_type: str, data: bytes) -> dict:
    encoded = base64.b64encode(data).decode()
    return {"filename": filename, "type": content_type, "data": encoded, "streamed": [encoded] * 2}


AUDIO = bytes(range(256)) * 3 + b"\r\n--not-the-boundary\r\n\n--" + BOUNDARY[:-1].encode()
FORM = [
    ("model", "whisper-1"),
    ("file", ("voix é.wav", AUDIO, "audio/wav")),
    ("language", "fr"),
    ("model", "again"),
]
EXPECTED = {
    "entries": [
        ["model", "whisper-1"],
        ["file", file_entry("voix é.wav", "audio/wav", AUDIO)],
        ["language", "fr"],
        ["model", "again"],
    ]
}


def test_every_part_in_body_order_wherever_the_body_is_cut():
    body, _ = multipart(FORM)
    cases = [{"body": body, "chunks": [cut]} for cut in range(len(body) + 1)]
    cases.append({"body": body, "chunks": [1] * len(body)})
    cases += [{"body": body, "chunks": [cut], "declared": False} for cut in (0, 7, 400)]
    assert all(result == EXPECTED for result in parse_all(cases))


def test_bare_line_feeds_escapes_utf_8_and_a_file_without_a_type():
    body = (
        (
            f'--{BOUNDARY}\nContent-Disposition: form-data; name="a\\"b"\n\nline one\r\nline two\r\n'
            f'--{BOUNDARY}\ncontent-disposition: form-data; name="naïve"; filename="x.bin"\n\n'
        ).encode()
        + b"\x00\r\r"
        + f"\n--{BOUNDARY}--".encode()
    )  # one CR before the LF dropped
    assert parse(body) == {
        "entries": [
            ['a"b', "line one\r\nline two"],
            ["naïve", file_entry("x.bin", "", b"\x00\r")],
        ]
    }


def test_a_large_file_part_streams_in_pieces_unchanged():
    data = noise_png(300 * 1024)
    body, _ = multipart([("image", ("a.png", data, "image/png")), ("prompt", "p")])
    [entry, prompt] = parse(body, chunks=[4096] * 80)["entries"]
    assert entry == ["image", file_entry("a.png", "image/png", data)]
    assert prompt == ["prompt", "p"]


@pytest.mark.parametrize(
    ("body", "content_type", "error"),
    [
        (b"no boundary at all", CONTENT_TYPE, "InvalidForm"),
        (b"--x\r\n", "multipart/form-data", "InvalidForm"),
        (f"--{BOUNDARY}\r\nContent-Disposition: form-data\r\n\r\nv\r\n--{BOUNDARY}--".encode(),
         CONTENT_TYPE, "InvalidForm"),
        (f'--{BOUNDARY}\r\nContent-Disposition: attachment; name="a"\r\n\r\nv\r\n--{BOUNDARY}--'.encode(),
         CONTENT_TYPE, "InvalidForm"),
        (f'--{BOUNDARY}\r\nContent-Type: text/plain\r\n\r\nv\r\n--{BOUNDARY}--'.encode(),
         CONTENT_TYPE, "InvalidForm"),
        (f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="a"\r\n\r\nv, cut off'.encode(),
         CONTENT_TYPE, "InvalidForm"),
        (f'--{BOUNDARY}xx\r\nContent-Disposition: form-data; name="a"\r\n\r\nv\r\n--{BOUNDARY}--'.encode(),
         CONTENT_TYPE, "InvalidForm"),
    ],
)  # fmt: skip
def test_bodies_that_are_not_forms(body, content_type, error):
    assert parse(body, contentType=content_type) == {"error": error}


def test_a_body_shorter_than_its_declared_length_is_incomplete():
    body, _ = multipart(FORM)
    assert parse(body, declared=len(body) + 10) == {"error": "IncompleteBody"}


def test_a_body_with_a_length_is_read_into_one_buffer_not_chunk_by_chunk():
    # workerd's request bodies are byte streams: read into the buffer allocated for the whole
    # body, a 25 MB upload leaves no chunks behind (docs/performance.md, "Uploads").
    body, _ = multipart(FORM)
    cuts = [{"chunks": [size] * (len(body) // size + 1)} for size in (1, 7, 100, len(body))]
    assert parse_all([{"body": body, "byob": True, **cut} for cut in cuts]) == [EXPECTED] * 4
    assert parse(body, declared=len(body) + 10, byob=True) == {"error": "IncompleteBody"}
    assert parse(body, declared=len(body) - 1, byob=True) == {"error": "IncompleteBody"}


def test_a_body_without_a_length_past_the_limit_is_refused_as_it_arrives():
    body, _ = multipart(FORM)
    assert parse(body, declared=False, limit=len(body) - 1) == {"tooLarge": True}
    assert parse(body, declared=False, limit=len(body)) == EXPECTED


def test_base64_built_in_javascript_is_pythons_for_every_length():
    # multipart.mjs's `base64` (img2img's `image_b64`, built from the upload's view): lengths
    # around its piece size, where pieces must join without padding, and every length up to 7.
    # Node has no `Uint8Array.prototype.toBase64`, so this checks the btoa pieces.
    lengths = [*range(8), 3 * 8192 - 1, 3 * 8192, 3 * 8192 + 1, 2 * 3 * 8192 + 2, 300_001]
    script = (
        f"import {{ base64 }} from {json.dumps((REPO_ROOT / 'src/bridge/multipart.mjs').as_uri())};"
        "for (const n of JSON.parse(process.argv[1])) {"
        "  const data = new Uint8Array(n).map((_, i) => (i * 7919 + 13) & 255);"
        "  console.log(base64(data));"
        "}"
    )
    done = subprocess.run(
        [str(NODE), "--input-type=module", "-e", script, json.dumps(lengths)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    expected = [
        base64.b64encode(bytes((i * 7919 + 13) & 255 for i in range(n))).decode() for n in lengths
    ]
    assert done.stdout.splitlines() == expected


# ---------------------------------------------------------------------------------------------
# through the Worker


def send(base_url: str, api_key: str, path: str, body: bytes, chunked: bool = False):
    """POST a multipart body, with a Content-Length or chunked; (status, JSON answer)."""
    url = urllib.parse.urlsplit(base_url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=120)
    headers = {"Authorization": f"Bearer {api_key}", "Content-Type": CONTENT_TYPE}
    try:
        if chunked:
            pieces = (body[i : i + 65536] for i in range(0, len(body), 65536))
            connection.request("POST", path, pieces, headers, encode_chunked=True)
        else:
            connection.request("POST", path, body, headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_25_mb_upload_before_the_other_fields_reaches_workers_ai_unchanged(
    base_url, api_key, emulator_control, chunked
):
    audio = wav_silence(25 * 1024 * 1024)
    body, _ = multipart(
        [("file", ("long.wav", audio, "audio/wav")), ("model", "whisper-1"), ("language", "en")]
    )
    status, answer = send(base_url, api_key, "/v1/audio/transcriptions", body, chunked)
    assert status == 200, answer
    assert answer == {"text": f"Transcribed {(len(audio) - 44) // 2 / 16000:.2f} seconds of audio."}
    [run] = runs(emulator_control)
    arrived_as_stream(run, audio, "audio/wav", {"task": "transcribe", "language": "en"})


def test_an_image_edit_reaches_workers_ai_unchanged(base_url, api_key, emulator_control):
    image = noise_png(512 * 1024)
    body, _ = multipart([("image", ("a.png", image, "image/png")), ("prompt", "a lake")])
    status, answer = send(base_url, api_key, "/v1/images/edits", body)
    assert status == 200, answer
    [run] = runs(emulator_control)
    assert run["model"] == "@cf/runwayml/stable-diffusion-v1-5-img2img"
    sent = base64.b64decode(run["inputs"]["image_b64"])
    assert hashlib.sha256(sent).digest() == hashlib.sha256(image).digest()


def test_a_part_without_a_name_is_a_400(base_url, api_key):
    body = f"--{BOUNDARY}\r\nContent-Disposition: form-data\r\n\r\nv\r\n--{BOUNDARY}--\r\n"
    answer = post(
        base_url + "/v1/audio/transcriptions",
        body.encode(),
        {"Authorization": f"Bearer {api_key}", "Content-Type": CONTENT_TYPE},
    )
    assert answer.status == 400
    assert answer.json() == {
        "error": {
            "message": "The body is not valid multipart/form-data or urlencoded form data.",
            "type": "invalid_request_error",
            "param": None,
            "code": None,
        }
    }
