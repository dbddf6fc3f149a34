"""Images through the local runtime and the Workers AI emulator, with the `openai` SDK:
generations in both upstream families, edits, R2 storage and `/file/`, an upload host, chat."""

from __future__ import annotations

import base64
import hashlib
import http.client
import io
import json
import re
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import openai
import pytest
from PIL import Image

from emulator.images import picture

CACHE = "public, max-age=31536000, immutable"
SDXL = "@cf/stabilityai/stable-diffusion-xl-base-1.0"
LIGHTNING = "@cf/bytedance/stable-diffusion-xl-lightning"
SCHNELL = "@cf/black-forest-labs/flux-1-schnell"
KLEIN = "@cf/black-forest-labs/flux-2-klein-4b"
PHOENIX = "@cf/leonardo/phoenix-1.0"
IMG2IMG = "@cf/runwayml/stable-diffusion-v1-5-img2img"
INPAINT = "@cf/runwayml/stable-diffusion-v1-5-inpainting"


def decode(data: bytes) -> tuple[str, tuple[int, int]]:
    with Image.open(io.BytesIO(data)) as img:
        return img.format, img.size


def png(size=(64, 64), color=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def fetch(url: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    """A GET without any API key (as an <img> tag would make it)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    conn.request("GET", parts.path, headers=headers or {})
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, body


def fails(call, status: int) -> dict:
    with pytest.raises(openai.APIStatusError) as caught:
        call()
    assert caught.value.status_code == status
    assert caught.value.response.headers["content-type"] == "application/json"
    return caught.value.response.json()


def runs(control) -> list[dict]:
    return [r for r in control.requests() if r["model"].startswith("@cf/")]


# --- generations: both upstream families ------------------------------------------------------


def test_png_bytes_family_via_sdk(client, emulator_control):
    result = client.images.generate(model="dall-e-2", prompt="a red fox", size="512x512")
    assert isinstance(result.created, int) and result.created > 1_700_000_000
    (item,) = result.data
    data = base64.b64decode(item.b64_json)
    assert data == picture("a red fox", None, 512, 512, "PNG")
    assert item.url is None and item.revised_prompt is None
    (run,) = runs(emulator_control)
    assert run["model"] == LIGHTNING
    assert run["inputs"] == {"prompt": "a red fox", "width": 512, "height": 512}


def test_jpeg_bytes_family_phoenix(client, emulator_control):
    result = client.images.generate(model=PHOENIX, prompt="dunes", size="768x512", quality="hd")
    data = base64.b64decode(result.data[0].b64_json)
    assert decode(data) == ("JPEG", (768, 512))
    assert runs(emulator_control)[0]["inputs"]["num_steps"] == 50


def test_json_base64_family_default_model_sends_only_allowed_fields(client, emulator_control):
    result = client.images.generate(
        prompt="a lighthouse", extra_body={"seed": 3, "negative_prompt": "fog", "guidance": 4}
    )
    assert decode(base64.b64decode(result.data[0].b64_json)) == ("JPEG", (1024, 1024))
    (run,) = runs(emulator_control)
    assert run["model"] == SCHNELL
    assert run["inputs"] == {"prompt": "a lighthouse"}


def test_flux2_multipart_inputs_through_the_binding(client, emulator_control):
    result = client.images.generate(model="gpt-image-1", prompt="a kite", size="768x512")
    assert decode(base64.b64decode(result.data[0].b64_json)) == ("JPEG", (768, 512))
    (run,) = runs(emulator_control)
    assert run["model"] == KLEIN
    assert run["content_type"].startswith("multipart/form-data; boundary=")
    assert run["inputs"] is None


def test_n_images_use_different_seeds(client, emulator_control):
    result = client.images.generate(model=SDXL, prompt="a tree", n=3, size="256x256", extra_body={"seed": 40})  # fmt: skip
    images = [base64.b64decode(d.b64_json) for d in result.data]
    assert images == [picture("a tree", s, 256, 256, "PNG") for s in (40, 41, 42)]
    assert sorted(r["inputs"]["seed"] for r in runs(emulator_control)) == [40, 41, 42]


def test_size_outside_the_models_range_is_400_with_param(client, emulator_control):
    body = fails(
        lambda: client.images.generate(model="dall-e-3", prompt="x", size="1792x1024"), 400
    )
    assert body == {
        "error": {
            "message": f"Invalid 'size': '1792x1024'. `{SCHNELL}` makes 1024x1024 images only; "
            "send '1024x1024' or 'auto', or choose another model for other sizes.",
            "type": "invalid_request_error",
            "param": "size",
            "code": "invalid_value",
        }
    }
    body = fails(lambda: client.images.generate(model=SDXL, prompt="x", size="4096x4096"), 400)
    assert body["error"]["param"] == "size"
    body = fails(lambda: client.images.generate(model=SDXL, prompt="x", n=5), 400)
    assert body["error"]["param"] == "n"
    assert runs(emulator_control) == []


def test_safety_filter_is_400(client):
    body = fails(lambda: client.images.generate(model=SDXL, prompt="nsfw please"), 400)
    assert body == {
        "error": {
            "message": "Workers AI rejected the request (3030): The generated image was flagged "
            "by the safety filter",
            "type": "invalid_request_error",
            "param": None,
            "code": "content_policy_violation",
        }
    }


def test_flux2_klein_nsfw_refusal_is_400(client):
    body = fails(lambda: client.images.generate(model=KLEIN, prompt="nsfw"), 400)
    assert body["error"]["code"] == "content_policy_violation"
    assert "(8007)" in body["error"]["message"]


def test_capacity_is_429(client, emulator_control):
    emulator_control.fault(model=SCHNELL, code=3040)
    body = fails(lambda: client.images.generate(prompt="x"), 429)
    assert body == {
        "error": {
            "message": "Workers AI rejected the request (3040): No more data centers to forward "
            "the request to",
            "type": "rate_limit_error",
            "param": None,
            "code": "rate_limit_exceeded",
        }
    }


# --- R2 storage and /file/ --------------------------------------------------------------------


def test_url_answer_is_stored_in_r2_and_served_publicly(client, base_url):
    result = client.images.generate(model=SDXL, prompt="a boat", size="256x256", response_format="url")  # fmt: skip
    url = result.data[0].url
    expected = picture("a boat", None, 256, 256, "PNG")
    key = hashlib.sha256(expected).hexdigest()[:40] + ".png"
    assert url == f"{base_url}/file/{key}"
    status, headers, body = fetch(url)
    assert status == 200
    assert body == expected
    assert headers["content-type"] == "image/png"
    assert headers["cache-control"] == CACHE
    etag = headers["etag"]
    assert re.fullmatch(r'"[0-9a-f]{32}"', etag)
    last_modified = headers["last-modified"]

    status, headers, body = fetch(url, {"If-None-Match": etag})
    assert (status, body, headers["etag"]) == (304, b"", etag)
    status, _, body = fetch(url, {"If-Modified-Since": last_modified})
    assert (status, body) == (304, b"")
    status, _, body = fetch(url, {"If-None-Match": '"stale"'})
    assert (status, body) == (200, expected)
    status, _, _ = fetch(url, {"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"})
    assert status == 200


def test_unknown_key_is_404(base_url):
    status, headers, body = fetch(f"{base_url}/file/{'0' * 40}.png")
    assert status == 404
    assert headers["content-type"] == "application/json"
    assert json.loads(body) == {
        "error": {
            "message": "No stored file has this key.",
            "type": "invalid_request_error",
            "param": None,
            "code": "file_not_found",
        }
    }


def test_chat_to_image_links_a_stored_picture(client, base_url):
    completion = client.chat.completions.create(
        model="dall-e-3", messages=[{"role": "user", "content": "a quiet harbour"}]
    )
    assert completion.object == "chat.completion"
    assert completion.model == SCHNELL
    content = completion.choices[0].message.content
    match = re.fullmatch(r"!\[a quiet harbour\]\((\S+)\)", content)
    assert match, content
    assert match.group(1).startswith(f"{base_url}/file/")
    status, headers, body = fetch(match.group(1))
    assert status == 200 and headers["content-type"] == "image/jpeg"
    assert decode(body) == ("JPEG", (1024, 1024))


def test_chat_to_image_streams(client):
    stream = client.chat.completions.create(
        model=SCHNELL, messages=[{"role": "user", "content": "a fox"}], stream=True
    )
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    content = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert content.startswith("![a fox](http")
    assert chunks[-1].choices[0].finish_reason == "stop"


# --- edits --------------------------------------------------------------------------------------


def test_edit_without_mask_is_img2img(client, emulator_control):
    source = png()
    result = client.images.edit(
        image=("in.png", source, "image/png"), prompt="make it blue", size="256x256"
    )
    data = base64.b64decode(result.data[0].b64_json)
    assert data == picture("make it blue", None, 256, 256, "PNG")
    (run,) = runs(emulator_control)
    assert run["model"] == IMG2IMG
    # img2img's most compact accepted form: base64 (a number array is ~3.6 bytes a byte).
    assert run["inputs"]["image_b64"] == base64.b64encode(source).decode()
    assert "image" not in run["inputs"] and "mask" not in run["inputs"]


def rgba_png(size=(64, 64), hole=(10, 20, 40, 30), color=(0, 0, 0, 255)) -> bytes:
    """An OpenAI-style mask (or image): opaque, fully transparent inside `hole`."""
    image = Image.new("RGBA", size, color)
    image.paste((0, 0, 0, 0), hole)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def sd_mask_sent(run: dict) -> Image.Image:
    """The mask the Worker sent upstream, decoded from its uint8 array."""
    image = Image.open(io.BytesIO(bytes(run["inputs"]["mask"])))
    image.load()
    return image


def white_where_transparent(sent: Image.Image, client_mask: bytes) -> None:
    with Image.open(io.BytesIO(client_mask)) as original:
        alpha = original.getchannel("A").tobytes()
    assert sent.mode == "L" and sent.size == original.size
    assert sent.tobytes() == bytes(255 if a == 0 else 0 for a in alpha)
    assert 0 < sent.tobytes().count(255) < len(alpha)


def test_edit_with_an_openai_mask_sends_its_transparent_area_as_white(client, emulator_control):
    source = png()
    mask = rgba_png()
    result = client.images.edit(
        image=("in.png", source, "image/png"),
        mask=("mask.png", mask, "image/png"),
        prompt="a hat",
        model="dall-e-2",
        size="256x256",
    )
    data = base64.b64decode(result.data[0].b64_json)
    assert data == picture("a hat", None, 256, 256, "PNG")
    (run,) = runs(emulator_control)
    assert run["model"] == INPAINT
    assert run["inputs"]["image"] == list(source)
    white_where_transparent(sd_mask_sent(run), mask)
    assert sd_mask_sent(run).getpixel((10, 20)) == 255  # inside the hole
    assert sd_mask_sent(run).getpixel((9, 20)) == 0  # just outside it


def test_edit_without_mask_edits_the_images_transparent_area(client, emulator_control):
    image = rgba_png(hole=(0, 0, 64, 8), color=(30, 200, 30, 255))
    client.images.edit(image=("in.png", image, "image/png"), prompt="sky")
    (run,) = runs(emulator_control)
    assert run["model"] == INPAINT
    assert run["inputs"]["image"] == list(image)
    white_where_transparent(sd_mask_sent(run), image)


@pytest.mark.parametrize(
    ("mask", "error"),
    [
        (
            ("mask.png", rgba_png(size=(32, 64)), "image/png"),
            {
                "message": "'mask' is 32x64 but 'image' is 64x64; they must be the same size.",
                "code": "invalid_value",
            },
        ),
        (
            ("mask.jpg", b"\xff\xd8\xff\xe0 a jpeg", "image/jpeg"),
            {"message": "'mask' must be a PNG image.", "code": "invalid_image"},
        ),
        (
            ("mask.png", rgba_png()[:100], "image/png"),
            {
                "message": "Could not read 'mask': truncated PNG (IDAT chunk).",
                "code": "invalid_image",
            },
        ),
    ],
)
def test_edit_bad_masks_are_400(client, emulator_control, mask, error):
    body = fails(
        lambda: client.images.edit(image=("in.png", png(), "image/png"), mask=mask, prompt="x"),
        400,
    )
    assert body == {"error": {"type": "invalid_request_error", "param": "mask", **error}}
    assert runs(emulator_control) == []


def test_edit_with_an_sd_style_mask_sends_it_unchanged(client, emulator_control):
    source, mask = png(), png(color=(255, 255, 255))
    result = client.images.edit(
        image=("in.png", source, "image/png"),
        mask=("mask.png", mask, "image/png"),
        prompt="a hat",
        model="dall-e-2",
        response_format="url",
    )
    assert result.data[0].url.startswith("http")
    (run,) = runs(emulator_control)
    assert run["model"] == INPAINT
    assert run["inputs"]["mask"] == list(mask)


def test_edit_needs_an_image(client):
    body = fails(
        lambda: client.images.edit(image=("x.txt", b"plain text", "text/plain"), prompt="x"), 400
    )
    assert body == {
        "error": {
            "message": "'image' must be a PNG, JPEG or WebP image.",
            "type": "invalid_request_error",
            "param": "image",
            "code": "invalid_image",
        }
    }


# --- no storage, upload host --------------------------------------------------------------------


def test_without_storage_url_is_a_data_url(start_worker):
    worker = start_worker({"API_KEYS": "sk-plain"})
    plain = openai.OpenAI(base_url=worker.base_url + "/v1", api_key="sk-plain", max_retries=0)
    result = plain.images.generate(model=SDXL, prompt="a cup", size="256x256", response_format="url")  # fmt: skip
    expected = picture("a cup", None, 256, 256, "PNG")
    assert result.data[0].url == "data:image/png;base64," + base64.b64encode(expected).decode()
    status, _, body = fetch(f"{worker.base_url}/file/abc.png")
    assert status == 404
    assert "IMAGE_UPLOAD_URL" in json.loads(body)["error"]["message"]


class UploadHost:
    """A telegra.ph-compatible host on 127.0.0.1: POST /upload, GET /file/<name>."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {"page.html": b"<script>alert(1)</script>"}
        self.log: list[tuple[str, str]] = []
        host = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status, body=b"", content_type="application/json", **headers):
                self.send_response(status)
                self.send_header("content-type", content_type)
                self.send_header("content-length", str(len(body)))
                for name, value in headers.items():
                    self.send_header(name.replace("_", "-"), value)
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                host.log.append(("POST", self.path))
                body = self.rfile.read(int(self.headers["content-length"]))
                if self.path != "/upload":
                    return self._send(500, b'{"error":"broken"}')
                boundary = self.headers["content-type"].split("boundary=")[1].encode()
                part = body.split(b"--" + boundary)[1]
                head, _, data = part.partition(b"\r\n\r\n")
                assert b'name="file"' in head
                data = data[: -len(b"\r\n")]
                name = hashlib.sha256(data).hexdigest()[:16] + ".png"
                host.files[name] = data
                self._send(200, json.dumps([{"src": f"/file/{name}"}]).encode())

            def do_GET(self):
                host.log.append(("GET", self.path))
                name = self.path.removeprefix("/file/")
                if not self.path.startswith("/file/") or name not in host.files:
                    return self._send(404, b"{}")
                etag = f'"{name}"'
                if self.headers.get("if-none-match") == etag:
                    return self._send(304, etag=etag)
                kind = "text/html" if name.endswith(".html") else "image/png"
                self._send(200, host.files[name], kind, etag=etag)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def upload_host():
    host = UploadHost()
    yield host
    host.server.shutdown()


@pytest.fixture(scope="module")
def uploading(start_worker, upload_host):
    worker = start_worker({"API_KEYS": "sk-up", "IMAGE_UPLOAD_URL": upload_host.url + "/upload"})
    return worker, openai.OpenAI(base_url=worker.base_url + "/v1", api_key="sk-up", max_retries=0)


def test_upload_host_flow(uploading, upload_host):
    worker, up = uploading
    result = up.images.generate(model=SDXL, prompt="a bird", size="256x256", response_format="url")  # fmt: skip
    expected = picture("a bird", None, 256, 256, "PNG")
    name = hashlib.sha256(expected).hexdigest()[:16] + ".png"
    assert result.data[0].url == f"{worker.base_url}/file/{name}"
    assert upload_host.files[name] == expected
    status, headers, body = fetch(result.data[0].url)
    assert (status, body, headers["content-type"]) == (200, expected, "image/png")
    assert headers["cache-control"] == CACHE
    assert headers["etag"] == f'"{name}"'
    status, _, body = fetch(result.data[0].url, {"If-None-Match": f'"{name}"'})
    assert (status, body) == (304, b"")
    assert upload_host.log[-2:] == [("GET", f"/file/{name}"), ("GET", f"/file/{name}")]


def test_file_proxy_refuses_tricks_and_other_hosts(uploading, upload_host):
    worker, _ = uploading
    before = list(upload_host.log)
    for path in (
        "/file/a%2F..%2Fb",
        "/file/%2e%2e%2fupload",
        "/file/@evil.example",
        "/file/http:%2F%2Fevil.example%2Fx.png",
        "/file/a%5Cb",
        "/file/..%5Cupload",
    ):
        status, _, body = fetch(worker.base_url + path)
        assert (status, json.loads(body)["error"]["code"]) == (400, "invalid_file_key"), path
    status, _, _ = fetch(worker.base_url + "/file//evil.example/x.png")
    assert status == 404
    assert upload_host.log == before  # nothing reached the host, let alone another one
    status, _, _ = fetch(worker.base_url + "/file/page.html")  # not an image: never relayed
    assert status == 502


def test_upload_failure_is_502(start_worker, upload_host):
    worker = start_worker({"API_KEYS": "sk-b", "IMAGE_UPLOAD_URL": upload_host.url + "/broken"})
    broken = openai.OpenAI(base_url=worker.base_url + "/v1", api_key="sk-b", max_retries=0)
    body = fails(lambda: broken.images.generate(prompt="x", response_format="url"), 502)
    assert body == {
        "error": {
            "message": "The image was generated but could not be stored (the upload host "
            'answered HTTP 500). No link was made; retry, or ask for response_format "b64_json".',
            "type": "api_error",
            "param": None,
            "code": "image_storage_failed",
        }
    }


def test_generation_needs_an_api_key(base_url):
    request = urllib.request.Request(
        base_url + "/v1/images/generations",
        data=b'{"prompt":"x"}',
        headers={"content-type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=30)
    assert caught.value.code == 401
