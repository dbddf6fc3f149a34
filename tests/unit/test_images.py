"""Images: request mapping per model, both upstream output families, storage, /file/, chat."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import json
import re
import struct
import zlib

import pytest
from PIL import Image

from bench.uploads import noise_png
from core.errors import ApiError
from core.exchange import Base64Input, ByteList, FetchResult, FormInput, StoredObject
from formats import filebytes
from mapping import catalog, images
from tests.unit.fakes import AUTH, FakeAi, FakeStream, FakeUpload, body_json, make_call, run
from upstream import imagegen, imagestore

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR-fake-png-body"
JPEG = b"\xff\xd8\xff\xe0" + b"fake-jpeg-body"
SCHNELL = catalog.MODELS["@cf/black-forest-labs/flux-1-schnell"]
SDXL = catalog.MODELS["@cf/stabilityai/stable-diffusion-xl-base-1.0"]
PHOENIX = catalog.MODELS["@cf/leonardo/phoenix-1.0"]
FLUX2 = catalog.MODELS["@cf/black-forest-labs/flux-2-dev"]
KLEIN = catalog.MODELS["@cf/black-forest-labs/flux-2-klein-4b"]
IMG2IMG, INPAINT = images.EDIT_FAMILY


class FakeStore:
    """An in-memory R2 bucket."""

    def __init__(self, fail: bool = False) -> None:
        self.objects: dict[str, tuple[bytes, str]] = {}
        self.fail = fail

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        if self.fail:
            raise OSError("bucket down")
        self.objects[key] = (data, content_type)

    def _meta(self, key: str, data: bytes | None) -> StoredObject | None:
        if key not in self.objects:
            return None
        stored, content_type = self.objects[key]
        etag = '"' + hashlib.md5(stored).hexdigest() + '"'
        return StoredObject(data, content_type, etag, 1_700_000_000_000)

    async def head(self, key: str) -> StoredObject | None:
        return self._meta(key, None)

    async def get(self, key: str) -> StoredObject | None:
        return self._meta(key, self.objects.get(key, (b"", ""))[0])


class FakeFetch:
    """Records outbound requests; answers with `answer(url, method, headers, body)`."""

    def __init__(self, answer) -> None:
        self.answer = answer
        self.calls: list[dict] = []

    async def __call__(self, url, method="GET", headers=None, body=None, *, max_bytes, timeout_s):
        self.calls.append(
            {"url": url, "method": method, "headers": dict(headers or {}), "body": body}
        )
        self.calls[-1]["timeout_s"] = timeout_s
        return self.answer(url, method, headers or {}, body)


def png_ai(model, inputs):
    return PNG


def post(body, ai=None, vars=None, store=None, fetch=None, path="/v1/images/generations"):
    call = make_call("POST", path, body=body, headers=AUTH, ai=ai or FakeAi(png_ai), vars=vars)
    call.env.images = store
    call.env.fetch = fetch
    return call


def error_of(reply):
    return body_json(reply)["error"]


# --- mapping ----------------------------------------------------------------------------------


def test_size_is_parsed_and_checked_against_the_model():
    assert images.parse_size("768x512", SDXL, (1024, 1024)) == (768, 512)
    assert images.parse_size("auto", SDXL, (1024, 1024)) == (1024, 1024)
    assert images.parse_size(None, SCHNELL, (1024, 1024)) == (1024, 1024)
    assert images.parse_size("1024x1024", SCHNELL, (1024, 1024)) == (1024, 1024)


@pytest.mark.parametrize(
    ("model", "size", "message"),
    [
        (
            SCHNELL,
            "1792x1024",
            "Invalid 'size': '1792x1024'. `@cf/black-forest-labs/flux-1-schnell` makes "
            "1024x1024 images only; send '1024x1024' or 'auto', or choose another model for "
            "other sizes.",
        ),
        (
            SDXL,
            "4096x1024",
            "Invalid 'size': '4096x1024'. `@cf/stabilityai/stable-diffusion-xl-base-1.0` makes "
            "images from 256 to 2048 pixels per side.",
        ),
        (
            SDXL,
            "1000x1001",
            "Invalid 'size': '1000x1001'. `@cf/stabilityai/stable-diffusion-xl-base-1.0` needs "
            "width and height in multiples of 8.",
        ),
        (
            SDXL,
            "big",
            "Invalid value for 'size': 'big'. Use 'WIDTHxHEIGHT' (e.g. '1024x1024') or 'auto'.",
        ),
    ],
)
def test_bad_sizes_are_400_naming_size(model, size, message):
    with pytest.raises(ApiError) as caught:
        images.parse_size(size, model, (1024, 1024))
    assert caught.value.body() == {
        "error": {
            "message": message,
            "type": "invalid_request_error",
            "param": "size",
            "code": "invalid_value",
        }
    }


def test_flux1_schnell_gets_only_the_fields_its_schema_allows():
    job = images.parse_job(
        {
            "prompt": "a cat",
            "seed": 7,
            "negative_prompt": "dogs",
            "guidance": 3,
            "quality": "hd",
            "size": "1024x1024",
        },
        SCHNELL,
    )
    inputs = images.to_upstream(job, SCHNELL, seed=7)
    # Fixed 1024² output: width/height are not in its schema either.
    assert inputs == {"prompt": "a cat", "steps": 8}


def test_stable_diffusion_gets_size_steps_seed_negative_prompt_and_guidance():
    body = {
        "prompt": "a cat",
        "size": "512x768",
        "quality": "low",
        "negative_prompt": "blur",
        "guidance": 9.5,
    }
    job = images.parse_job(body, SDXL)
    assert images.to_upstream(job, SDXL, seed=42) == {
        "prompt": "a cat",
        "width": 512,
        "height": 768,
        "num_steps": 10,
        "seed": 42,
        "negative_prompt": "blur",
        "guidance": 9.5,
    }


def test_default_quality_leaves_the_models_step_default_and_size_is_the_models_default():
    job = images.parse_job({"prompt": "x"}, PHOENIX)
    assert images.to_upstream(job, PHOENIX) == {"prompt": "x", "width": 1024, "height": 1024}


def test_guidance_is_checked_against_the_models_range():
    with pytest.raises(ApiError) as caught:
        images.parse_job({"prompt": "x", "guidance": 20}, PHOENIX)
    assert caught.value.param == "guidance"
    # A model without guidance ignores it, whatever the value.
    assert images.parse_job({"prompt": "x", "guidance": 20}, SCHNELL).guidance == 20


def test_flux2_inputs_are_one_multipart_form_of_strings():
    job = images.parse_job(
        {"prompt": "a cat", "size": "1024x768", "quality": "high", "guidance": 4, "seed": 3},
        FLUX2,
    )
    assert images.to_upstream(job, FLUX2, seed=3) == {
        "multipart": FormInput(
            {"prompt": "a cat", "width": "1024", "height": "768", "steps": "50", "guidance": "4"}
        )
    }


def test_flux2_klein_has_fixed_steps():
    job = images.parse_job({"prompt": "a cat", "quality": "high"}, KLEIN)
    assert images.to_upstream(job, KLEIN) == {
        "multipart": FormInput({"prompt": "a cat", "width": "1024", "height": "1024"})
    }


def test_n_above_the_cap_is_400():
    with pytest.raises(ApiError) as caught:
        images.parse_job({"prompt": "x", "n": images.MAX_N + 1}, SDXL)
    assert caught.value.param == "n"
    assert caught.value.status == 400


def test_seeds_differ_per_image_when_the_model_takes_one():
    job = images.parse_job({"prompt": "x", "n": 3, "seed": 10}, SDXL)
    assert images.seeds(job, SDXL) == [10, 11, 12]
    job = images.parse_job({"prompt": "x", "n": 2}, SDXL)
    assert images.seeds(job, SDXL, pick=lambda limit: 99) == [99, 100]
    assert images.seeds(images.parse_job({"prompt": "x"}, SDXL), SDXL) == [None]
    assert images.seeds(images.parse_job({"prompt": "x", "n": 2}, SCHNELL), SCHNELL) == [
        None,
        None,
    ]


def test_a_prompt_longer_than_the_model_takes_is_cut_and_reported():
    job = images.parse_job({"prompt": "y" * 3000}, SCHNELL)
    assert job.prompt == "y" * 2048
    assert job.revised_prompt == "y" * 2048


@pytest.mark.parametrize(
    "answer",
    [
        PNG,
        memoryview(PNG),
        FakeStream([PNG[:5], PNG[5:]]),
        {"image": base64.b64encode(PNG).decode()},
    ],
)
def test_every_upstream_output_family_gives_the_image_bytes(answer):
    assert asyncio.run(imagegen.image_bytes(answer)) == PNG


@pytest.mark.parametrize("answer", [{"image": "***"}, {"response": "text"}, b"", "a string"])
def test_an_answer_without_an_image_is_502(answer):
    with pytest.raises(ApiError) as caught:
        asyncio.run(imagegen.image_bytes(answer))
    assert caught.value.status == 502
    assert caught.value.code == "upstream_error"


# --- /v1/images/generations -------------------------------------------------------------------


def test_generation_b64_json_from_png_bytes():
    ai = FakeAi(png_ai)
    reply = run(post({"prompt": "a red fox", "model": "dall-e-2"}, ai))
    assert reply.status == 200
    assert reply.headers["content-type"] == "application/json"
    body = body_json(reply)
    assert isinstance(body["created"], int) and body["created"] > 1_700_000_000
    assert body["data"] == [{"b64_json": base64.b64encode(PNG).decode()}]
    assert ai.calls[0][0] == "@cf/bytedance/stable-diffusion-xl-lightning"


def test_generation_from_json_base64_family_and_default_model():
    ai = FakeAi(lambda model, inputs: {"image": base64.b64encode(JPEG).decode()})
    reply = run(post({"prompt": "a red fox"}, ai))
    assert reply.status == 200
    assert base64.b64decode(body_json(reply)["data"][0]["b64_json"]) == JPEG
    assert ai.calls == [(catalog.DEFAULTS[catalog.IMAGE], {"prompt": "a red fox"}, None)]


def test_n_images_are_n_upstream_calls_with_different_seeds():
    ai = FakeAi(lambda model, inputs: PNG + str(inputs["seed"]).encode())
    reply = run(post({"prompt": "fox", "model": SDXL.id, "n": 3, "seed": 5}, ai))
    data = body_json(reply)["data"]
    assert [base64.b64decode(d["b64_json"]) for d in data] == [PNG + b"5", PNG + b"6", PNG + b"7"]
    assert sorted(c[1]["seed"] for c in ai.calls) == [5, 6, 7]


def test_revised_prompt_appears_when_the_prompt_was_shortened():
    reply = run(post({"prompt": "z" * 2100, "model": "dall-e-3"}))
    assert body_json(reply)["data"][0]["revised_prompt"] == "z" * 2048


def test_edit_only_model_on_generations_is_400():
    reply = run(post({"prompt": "x", "model": IMG2IMG}))
    assert reply.status == 400
    assert error_of(reply) == {
        "message": f"`{IMG2IMG}` changes an input image; send it to /v1/images/edits.",
        "type": "invalid_request_error",
        "param": "model",
        "code": "model_not_supported",
    }


def test_a_chat_model_on_generations_is_400():
    reply = run(post({"prompt": "x", "model": "gpt-4o-mini"}))
    assert reply.status == 400
    assert error_of(reply)["code"] == "model_not_supported"


def test_missing_prompt_is_400():
    reply = run(post({"model": "dall-e-3"}))
    assert reply.status == 400
    assert error_of(reply) == {
        "message": "Missing required parameter: 'prompt'.",
        "type": "invalid_request_error",
        "param": "prompt",
        "code": "missing_required_parameter",
    }


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        (
            3030,
            400,
            {
                "message": "Workers AI rejected the request (3030): flagged",
                "type": "invalid_request_error",
                "param": None,
                "code": "content_policy_violation",
            },
        ),
        (
            3040,
            429,
            {
                "message": "Workers AI rejected the request (3040): busy",
                "type": "rate_limit_error",
                "param": None,
                "code": "rate_limit_exceeded",
            },
        ),
    ],
)
def test_upstream_faults_are_mapped(code, status, expected):
    detail = "flagged" if code == 3030 else "busy"
    ai = FakeAi(lambda model, inputs: RuntimeError(f"{code}: {detail}"))
    reply = run(post({"prompt": "x"}, ai))
    assert reply.status == status
    assert error_of(reply) == expected


# --- url answers and storage ------------------------------------------------------------------


def test_url_without_storage_is_a_data_url():
    reply = run(post({"prompt": "x", "model": SDXL.id, "response_format": "url"}))
    assert body_json(reply)["data"] == [
        {"url": "data:image/png;base64," + base64.b64encode(PNG).decode()}
    ]


def test_url_with_r2_stores_under_the_content_hash():
    store = FakeStore()
    reply = run(post({"prompt": "x", "model": SDXL.id, "response_format": "url"}, store=store))
    key = hashlib.sha256(PNG).hexdigest()[:40] + ".png"
    assert body_json(reply)["data"] == [{"url": f"https://worker.test/file/{key}"}]
    assert store.objects == {key: (PNG, "image/png")}


def test_public_base_url_makes_the_links():
    store = FakeStore()
    vars = {"API_KEYS": "sk-a", "PUBLIC_BASE_URL": "https://img.example.com/"}
    reply = run(post({"prompt": "x", "response_format": "url"}, vars=vars, store=store))
    assert body_json(reply)["data"][0]["url"].startswith("https://img.example.com/file/")


def test_a_storage_failure_is_502_not_a_broken_link():
    reply = run(post({"prompt": "x", "response_format": "url"}, store=FakeStore(fail=True)))
    assert reply.status == 502
    assert error_of(reply) == {
        "message": "The image was generated but could not be stored (the IMAGES bucket refused "
        'it). No link was made; retry, or ask for response_format "b64_json".',
        "type": "api_error",
        "param": None,
        "code": "image_storage_failed",
    }


UPLOAD_VARS = {"API_KEYS": "sk-a", "IMAGE_UPLOAD_URL": "https://up.example/upload"}


def test_url_with_an_upload_host_posts_multipart_file_and_links_through_file():
    fetch = FakeFetch(lambda *a: FetchResult(200, {}, b'[{"src": "/file/abc123.png"}]'))
    reply = run(post({"prompt": "x", "response_format": "url"}, vars=UPLOAD_VARS, fetch=fetch))
    assert reply.status == 200
    assert body_json(reply)["data"] == [{"url": "https://worker.test/file/abc123.png"}]
    (sent,) = fetch.calls
    assert sent["url"] == "https://up.example/upload"
    assert sent["method"] == "POST"
    boundary = sent["headers"]["content-type"].split("boundary=")[1]
    assert sent["body"].startswith(f"--{boundary}\r\n".encode())
    assert b'name="file"; filename="' in sent["body"]
    assert (
        b"Content-Type: image/png\r\n\r\n" + PNG + f"\r\n--{boundary}--\r\n".encode()
        in (sent["body"])
    )


@pytest.mark.parametrize(
    "answer",
    [
        FetchResult(500, {}, b"oops"),
        FetchResult(200, {}, b"not json"),
        FetchResult(200, {}, b'{"error": "File type invalid"}'),
        FetchResult(200, {}, b'[{"src": "https://elsewhere.example/x.png"}]'),
        FetchResult(200, {}, b'[{"src": "/file/../../etc"}]'),
        FetchResult(302, {"location": "https://elsewhere.example/"}, b""),
    ],
)
def test_an_upload_failure_is_502(answer):
    fetch = FakeFetch(lambda *a: answer)
    reply = run(post({"prompt": "x", "response_format": "url"}, vars=UPLOAD_VARS, fetch=fetch))
    assert reply.status == 502
    assert error_of(reply)["code"] == "image_storage_failed"
    assert fetch.calls[0]["timeout_s"] == 15.0  # FETCH_TIMEOUT_S default


def test_an_unreachable_upload_host_is_502():
    def down(*a):
        raise ConnectionError("refused")

    reply = run(
        post({"prompt": "x", "response_format": "url"}, vars=UPLOAD_VARS, fetch=FakeFetch(down))
    )
    assert reply.status == 502
    assert "could not be reached" in error_of(reply)["message"]


# --- GET /file/{key} --------------------------------------------------------------------------


def get_file(key, headers=None, store=None, vars=None, fetch=None):
    call = make_call("GET", f"/file/{key}", headers=headers or {}, vars=vars)
    call.env.images = store
    call.env.fetch = fetch
    return run(call)


def stored():
    store = FakeStore()
    key = imagestore.content_key(PNG, "image/png")
    store.objects[key] = (PNG, "image/png")
    return store, key


def test_file_from_r2_is_public_and_long_cached():
    store, key = stored()
    reply = get_file(key, store=store)
    assert reply.status == 200
    assert isinstance(reply.body, StoredObject) and reply.body.data == PNG
    assert reply.headers["content-type"] == "image/png"
    assert reply.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert reply.headers["etag"] == '"' + hashlib.md5(PNG).hexdigest() + '"'
    assert reply.headers["last-modified"] == "Tue, 14 Nov 2023 22:13:20 GMT"
    assert reply.headers["x-content-type-options"] == "nosniff"


def test_file_if_none_match_is_304():
    store, key = stored()
    etag = '"' + hashlib.md5(PNG).hexdigest() + '"'
    reply = get_file(key, {"if-none-match": f'"other", {etag}'}, store)
    assert reply.status == 304
    assert reply.body is None
    assert reply.headers["etag"] == etag
    assert get_file(key, {"if-none-match": '"other"'}, store).status == 200


def test_file_if_modified_since_is_304_unless_older():
    store, key = stored()
    assert (
        get_file(key, {"if-modified-since": "Tue, 14 Nov 2023 22:13:20 GMT"}, store).status == 304
    )
    assert (
        get_file(key, {"if-modified-since": "Wed, 15 Nov 2023 00:00:00 GMT"}, store).status == 304
    )
    assert (
        get_file(key, {"if-modified-since": "Mon, 13 Nov 2023 00:00:00 GMT"}, store).status == 200
    )
    assert get_file(key, {"if-modified-since": "garbage"}, store).status == 200


def test_missing_file_is_404():
    reply = get_file("0" * 40 + ".png", store=FakeStore())
    assert reply.status == 404
    assert error_of(reply) == {
        "message": "No stored file has this key.",
        "type": "invalid_request_error",
        "param": None,
        "code": "file_not_found",
    }


@pytest.mark.parametrize(
    "key", ["..", "a..b", "%2e%2e", "a%2Fb", "a@evil.example", "a\\b", "a:b", ".hidden", "a b"]
)
def test_file_refuses_path_tricks_before_any_lookup(key):
    fetch = FakeFetch(lambda *a: FetchResult(200, {"content-type": "image/png"}, PNG))
    reply = get_file(key, vars=UPLOAD_VARS, fetch=fetch)
    assert reply.status == 400
    assert error_of(reply)["code"] == "invalid_file_key"
    assert fetch.calls == []


def test_file_proxies_only_to_the_upload_host():
    fetch = FakeFetch(
        lambda *a: FetchResult(200, {"content-type": "image/png", "etag": '"e1"'}, PNG)
    )
    reply = get_file("abc123.png", {"if-none-match": '"old"'}, vars=UPLOAD_VARS, fetch=fetch)
    assert reply.status == 200
    assert reply.body == PNG
    assert reply.headers["content-type"] == "image/png"
    assert reply.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert reply.headers["etag"] == '"e1"'
    assert fetch.calls == [
        {
            "url": "https://up.example/file/abc123.png",
            "method": "GET",
            "headers": {"if-none-match": '"old"'},
            "body": None,
            "timeout_s": 15.0,
        }
    ]


@pytest.mark.parametrize(
    ("answer", "status"),
    [
        (FetchResult(304, {"etag": '"e1"'}, b""), 304),
        (FetchResult(404, {}, b"nope"), 404),
        (FetchResult(200, {"content-type": "text/html"}, b"<script>"), 502),
        (FetchResult(200, {"content-type": "image/svg+xml"}, b"<svg/>"), 502),
        (FetchResult(302, {"location": "https://evil.example/x.png"}, b""), 502),
    ],
)
def test_file_proxy_relays_only_images(answer, status):
    reply = get_file("abc.png", vars=UPLOAD_VARS, fetch=FakeFetch(lambda *a: answer))
    assert reply.status == status


def test_file_without_storage_says_how_to_enable_it():
    reply = get_file("abc.png")
    assert reply.status == 404
    assert "IMAGES" in error_of(reply)["message"]
    assert "IMAGE_UPLOAD_URL" in error_of(reply)["message"]


def test_imagestore_conditional_rules():
    etag = '"abc"'
    assert imagestore.not_modified({"if-none-match": "*"}, etag, 0)
    assert imagestore.not_modified({"if-none-match": 'W/"abc"'}, etag, 0)
    # If-None-Match wins over If-Modified-Since.
    headers = {"if-none-match": '"x"', "if-modified-since": "Tue, 14 Nov 2023 22:13:20 GMT"}
    assert not imagestore.not_modified(headers, etag, 1_700_000_000_000)
    assert not imagestore.not_modified({}, etag, 0)


# --- /v1/images/edits -------------------------------------------------------------------------


def edit_call(form, ai=None):
    call = make_call("POST", "/v1/images/edits", headers=AUTH, ai=ai or FakeAi(png_ai), form=form)
    return call


def test_edit_without_mask_is_img2img_with_the_image_bytes():
    ai = FakeAi(png_ai)
    form = {
        "image": FakeUpload(JPEG),
        "prompt": "make it blue",
        "model": "dall-e-2",
        "strength": "0.6",
        "n": "1",
    }
    reply = run(edit_call(form, ai))
    assert reply.status == 200
    assert body_json(reply)["data"] == [{"b64_json": base64.b64encode(PNG).decode()}]
    assert ai.calls == [
        (
            IMG2IMG,
            {
                "prompt": "make it blue",
                "image_b64": base64.b64encode(JPEG).decode(),
                "strength": 0.6,
            },
            None,
        )
    ]  # img2img's most compact form: base64, not a number array


def test_an_edit_image_stays_with_the_adapter_and_python_reads_it_a_block_at_a_time():
    # A 1 MB RGB PNG: checked in Python (signature, every chunk's CRC, no transparency) through
    # bounded reads, then handed to the adapter to encode as base64 in JavaScript.
    image = noise_png(1024 * 1024)
    upload = FakeUpload(image, "a.png", "image/png")
    ai = FakeAi(png_ai)
    assert run(edit_call({"image": upload, "prompt": "a lake"}, ai)).status == 200
    [given] = ai.given
    assert isinstance(given["image_b64"], Base64Input)
    assert given["image_b64"].source.reader is upload  # the upload itself, not its bytes
    spans = [tuple(map(int, read.split(":")[1:])) for read in upload.reads]
    assert all(read.startswith("read:") for read in upload.reads), upload.reads
    assert max(stop - start for start, stop in spans) <= filebytes.BLOCK
    assert ai.calls[0][1]["image_b64"] == base64.b64encode(image).decode()


def real_png(mode, size=(16, 8), color=0, hole=None) -> bytes:
    """A PNG made by Pillow; `hole` = (box, color) pasted over it."""
    image = Image.new(mode, size, color)
    if hole is not None:
        image.paste(hole[1], hole[0])
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def gray_pixels(data) -> list[list[int]]:
    with Image.open(io.BytesIO(bytes(data))) as image:
        assert image.mode == "L"
        raw = image.tobytes()
        return [list(raw[y * image.width : (y + 1) * image.width]) for y in range(image.height)]


def painted(size, box) -> list[list[int]]:
    """The SD mask expected: 255 inside `box` (left, top, right, bottom), 0 elsewhere."""
    left, top, right, bottom = box
    return [
        [255 if left <= x < right and top <= y < bottom else 0 for x in range(size[0])]
        for y in range(size[1])
    ]


SOURCE = real_png("RGB", color=(200, 30, 30))
BOX = (2, 1, 9, 5)


def test_edit_with_an_openai_mask_sends_sd_its_inverse_convention():
    # OpenAI: an opaque mask whose fully transparent pixels mark the area to edit.
    mask = real_png("RGBA", color=(0, 0, 0, 255), hole=(BOX, (0, 0, 0, 0)))
    ai = FakeAi(png_ai)
    form = {"image": FakeUpload(SOURCE), "mask": FakeUpload(mask), "prompt": "a hat"}
    reply = run(edit_call(form, ai))
    assert reply.status == 200
    ((model, inputs, _),) = ai.calls
    assert model == INPAINT
    assert inputs["image"] == ByteList(SOURCE)
    assert gray_pixels(inputs["mask"].data) == painted((16, 8), BOX)


def test_edit_with_an_sd_style_mask_sends_it_unchanged():
    mask = real_png("L", hole=(BOX, 255))  # no transparency: white already means repaint
    ai = FakeAi(png_ai)
    form = {"image": FakeUpload(SOURCE), "mask": FakeUpload(mask), "prompt": "a hat", "size": "512x512"}  # fmt: skip
    reply = run(edit_call(form, ai))
    assert reply.status == 200
    ((model, inputs, _),) = ai.calls
    assert model == INPAINT
    assert inputs["mask"] == ByteList(mask) and inputs["image"] == ByteList(SOURCE)
    assert (inputs["width"], inputs["height"]) == (512, 512)


def test_edit_without_mask_uses_the_images_transparent_area():
    image = real_png("RGBA", color=(9, 9, 9, 255), hole=(BOX, (0, 0, 0, 0)))
    ai = FakeAi(png_ai)
    reply = run(edit_call({"image": FakeUpload(image), "prompt": "a hat"}, ai))
    assert reply.status == 200
    ((model, inputs, _),) = ai.calls
    assert model == INPAINT
    assert inputs["image"] == ByteList(image)
    assert gray_pixels(inputs["mask"].data) == painted((16, 8), BOX)


def test_edit_without_mask_of_an_opaque_rgba_image_is_img2img():
    image = real_png("RGBA", color=(9, 9, 9, 255), hole=(BOX, (0, 0, 0, 1)))
    ai = FakeAi(png_ai)
    reply = run(edit_call({"image": FakeUpload(image), "prompt": "x"}, ai))
    assert reply.status == 200
    assert ai.calls == [
        (IMG2IMG, {"prompt": "x", "image_b64": base64.b64encode(image).decode()}, None)
    ]


def test_edit_checks_the_mask_size_against_a_jpeg_image_too():
    out = io.BytesIO()
    Image.new("RGB", (16, 8)).save(out, "JPEG")
    mask = real_png("RGBA", color=(0, 0, 0, 255), hole=(BOX, (0, 0, 0, 0)))
    ai = FakeAi(png_ai)
    form = {"image": FakeUpload(out.getvalue()), "mask": FakeUpload(mask), "prompt": "x"}
    assert run(edit_call(form, ai)).status == 200
    assert gray_pixels(ai.calls[0][1]["mask"].data) == painted((16, 8), BOX)


def interlaced(data: bytes) -> bytes:
    """`data` with the IHDR interlace flag set (and its CRC fixed)."""
    ihdr = bytearray(data[12:29])
    ihdr[-1] = 1
    return data[:12] + bytes(ihdr) + struct.pack(">I", zlib.crc32(ihdr)) + data[33:]


@pytest.mark.parametrize(
    ("form", "error"),
    [
        (
            {"mask": FakeUpload(real_png("RGBA", size=(8, 8)))},
            {
                "message": "'mask' is 8x8 but 'image' is 16x8; they must be the same size.",
                "param": "mask",
                "code": "invalid_value",
            },
        ),
        (
            {"mask": FakeUpload(JPEG)},
            {"message": "'mask' must be a PNG image.", "param": "mask", "code": "invalid_image"},
        ),
        (
            {"mask": FakeUpload(interlaced(real_png("RGBA", hole=(BOX, (0, 0, 0, 0)))))},
            {
                "message": "Could not read 'mask': interlaced PNGs are not supported; save it "
                "without interlacing.",
                "param": "mask",
                "code": "invalid_image",
            },
        ),
        (
            {"mask": FakeUpload(PNG)},
            {
                "message": "Could not read 'mask': not a PNG file.",
                "param": "mask",
                "code": "invalid_image",
            },
        ),
        (
            {"image": FakeUpload(real_png("RGBA", hole=(BOX, (0, 0, 0, 0)))[:-30])},
            {
                "message": "Could not read 'image': truncated PNG (no IEND chunk).",
                "param": "image",
                "code": "invalid_image",
            },
        ),
    ],
)
def test_edit_bad_masks_are_400(form, error):
    ai = FakeAi(png_ai)
    reply = run(edit_call({"image": FakeUpload(SOURCE), "prompt": "x", **form}, ai))
    assert reply.status == 400
    assert body_json(reply) == {"error": {"type": "invalid_request_error", **error}}
    assert ai.calls == []


def test_edit_refuses_a_model_that_cannot_edit():
    form = {"image": FakeUpload(SOURCE), "prompt": "x", "model": SDXL.id}
    reply = run(edit_call(form))
    assert reply.status == 400
    assert error_of(reply)["param"] == "model"


@pytest.mark.parametrize(
    ("form", "param"),
    [
        ({"prompt": "x"}, "image"),
        ({"image": "not a file", "prompt": "x"}, "image"),
        ({"image": FakeUpload(b"GIF89a..."), "prompt": "x"}, "image"),
        ({"image": FakeUpload(SOURCE)}, "prompt"),
        ({"image": FakeUpload(SOURCE), "prompt": "x", "n": "two"}, "n"),
        ({"image": FakeUpload(SOURCE), "prompt": "x", "strength": "2"}, "strength"),
        ({"image": FakeUpload(SOURCE), "mask": FakeUpload(b"text"), "prompt": "x"}, "mask"),
    ],
)
def test_edit_bad_fields_are_400_naming_them(form, param):
    reply = run(edit_call(form))
    assert reply.status == 400
    assert error_of(reply)["param"] == param


# --- chat-to-image ----------------------------------------------------------------------------


def chat(body, store=None, ai=None):
    body = {"model": SDXL.id, **body}
    call = make_call("POST", "/v1/chat/completions", body=body, headers=AUTH, ai=ai)
    call.env.images = store
    return run(call)


def test_chat_to_image_answers_a_markdown_image():
    ai = FakeAi(png_ai)
    store = FakeStore()
    body = {
        "model": SDXL.id,
        "messages": [
            {"role": "user", "content": "first"},
            {"role": "assistant", "content": "ok"},
            {"role": "user", "content": [{"type": "text", "text": "a [red] fox"}]},
        ],
    }
    reply = chat(body, store, ai)
    assert reply.status == 200
    assert reply.headers["content-type"] == "application/json"
    answer = body_json(reply)
    key = imagestore.content_key(PNG, "image/png")
    assert answer["object"] == "chat.completion"
    assert answer["id"] == "chatcmpl-test"
    assert answer["model"] == SDXL.id
    assert answer["choices"] == [
        {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": f"![a (red) fox](https://worker.test/file/{key})",
            },
            "logprobs": None,
            "finish_reason": "stop",
        }
    ]
    assert ai.calls[0][1]["prompt"] == "a [red] fox"


def test_chat_to_image_streams_chunks_then_done():
    body = {
        "messages": [{"role": "user", "content": "a fox"}],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    reply = chat(body, ai=FakeAi(png_ai))
    assert reply.headers["content-type"] == "text/event-stream; charset=utf-8"
    events = re.findall(r"^data: (.*)$", reply.body, flags=re.M)
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert [c["object"] for c in chunks] == ["chat.completion.chunk"] * 4
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert chunks[1]["choices"][0]["delta"]["content"].startswith("![a fox](data:image/png;base64,")
    assert chunks[2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[3]["choices"] == [] and "usage" in chunks[3]


def test_chat_to_image_without_user_text_is_400():
    reply = chat({"messages": [{"role": "system", "content": "hi"}]})
    assert reply.status == 400
    assert error_of(reply)["param"] == "messages"


def test_generation_needs_a_key_but_files_do_not():
    assert run(make_call("POST", "/v1/images/generations", body={"prompt": "x"})).status == 401
    # No key sent: the answer is about storage, not authentication.
    reply = run(make_call("GET", "/file/abc.png", vars={"API_KEYS": "sk-a"}))
    assert reply.status == 404
    assert error_of(reply)["code"] == "file_not_found"


def test_an_edit_file_over_the_per_file_cap_is_413_before_it_is_read():
    upload = FakeUpload(b"\x89PNG" + b"\x00" * 16, "big.png", "image/png")
    upload.size = 11 * 1024 * 1024
    call = make_call(
        "POST", "/v1/images/edits", headers=AUTH, form={"image": upload, "prompt": "x"}
    )
    reply = run(call)
    assert reply.status == 413
    assert body_json(reply)["error"] == {
        "message": "The 'image' file is larger than this endpoint accepts (10 MB).",
        "type": "invalid_request_error",
        "param": "image",
        "code": "request_too_large",
    }
    assert upload.reads == []


def test_inpainting_too_large_for_number_arrays_is_a_413_naming_the_limit():
    big = real_png("RGBA", size=(16, 8), color=(0, 0, 0, 255), hole=(BOX, (0, 0, 0, 0)))
    big = big + b"\0" * (4 * 1024 * 1024)  # a valid PNG followed by padding
    ai = FakeAi(png_ai)
    reply = run(edit_call({"image": FakeUpload(big), "prompt": "x"}, ai))
    assert reply.status == 413
    error = body_json(reply)["error"]
    assert error["code"] == "request_too_large" and error["param"] == "image"
    assert "4 MB" in error["message"] and "img2img" in error["message"]
    assert not ai.calls
