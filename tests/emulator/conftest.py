"""Fixtures: one emulator for the session, a clean control state for every test."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from emulator.client import EmulatorControl
from emulator.server import Emulator, start

ACCOUNT = "0123456789abcdef0123456789abcdef"


@dataclass
class Reply:
    """An HTTP answer: status, headers (lower-case keys) and body bytes."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> object:
        return json.loads(self.body)

    @property
    def content_type(self) -> str:
        return self.headers["content-type"]

    def events(self) -> list[str]:
        """The `data:` payloads of an SSE body, in order."""
        text = self.body.decode()
        assert text.endswith("\n\n"), text[-50:]
        out = []
        for block in text.split("\n\n")[:-1]:
            assert block.startswith("data: "), block
            out.append(block.removeprefix("data: "))
        return out


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    emu = start()
    yield emu
    emu.stop()


@pytest.fixture
def control(emulator: Emulator) -> Iterator[EmulatorControl]:
    ctl = EmulatorControl(emulator.base_url)
    ctl.reset()
    yield ctl
    ctl.reset()


@pytest.fixture
def run(emulator: Emulator, control: EmulatorControl):
    """POST to the run endpoint: run(model, inputs | bytes, content_type=..., query=...)."""

    def call(
        model: str,
        inputs: object = None,
        *,
        body: bytes | None = None,
        content_type: str = "application/json",
        query: str = "",
        token: str | None = "test-token",
    ) -> Reply:
        data = body if body is not None else json.dumps(inputs).encode()
        headers = {"content-type": content_type}
        if token is not None:
            headers["authorization"] = f"Bearer {token}"
        url = f"{emulator.rest_base}/accounts/{ACCOUNT}/ai/run/{model}{query}"
        request = urllib.request.Request(url, data=data, method="POST", headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return Reply(response.status, _lower(response.headers), response.read())
        except urllib.error.HTTPError as error:
            return Reply(error.code, _lower(error.headers), error.read())

    return call


def _lower(headers: object) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}  # type: ignore[attr-defined]


def error_body(code: int, text: str) -> dict:
    """The whole REST error envelope Workers AI sends."""
    return {
        "errors": [{"message": f"AiError: AiError: {text}", "code": code}],
        "success": False,
        "result": None,
        "messages": [],
    }
