"""Every curl example in README.md and docs/*.md, run with real curl against the Worker.

A reader copies these first; one that fails is a broken promise. Each ```sh/```bash block is
read, continuation lines are joined, and every line that starts with `curl` is run with the
placeholders a reader would fill in (`https://<worker>`, `http://127.0.0.1:8787`, `KEY`,
`<key>`, `$KEY`, `sk-local`, ...) replaced by the test's base URL and key. Files a command
uploads (`-F file=@audio.mp3`) come from SAMPLE_FILES. A new doc, or a new block in an old one,
is covered without touching this file; commands that cannot run here (deploy, `make dev`) are
the ones that are not curl.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from emulator import audio as emulated_audio

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCS = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]

_BLOCK = re.compile(r"^```(?:sh|bash|shell)[ \t]*\n(.*?)^```", re.M | re.S)
_BASE_URL = re.compile(r"https?://(?:<[^>\s]*>|127\.0\.0\.1:8787|localhost:8787)")
_KEY = re.compile(
    r"<key>|<one of API_KEYS>|\$\{?KEY\}?|(?<![\w$-])KEY\b|\bsk-local\b|\bsk-your-key\b"
)
_UPLOAD = re.compile(r"=@([\w.-]+)")

# Files the examples upload, by the name they use.
SAMPLE_FILES = {"audio.mp3": lambda: emulated_audio.mp3_silence(2.0)}


def curl_examples() -> list[tuple[str, str]]:
    """(where, command) for every curl line of every shell block, continuation lines joined."""
    examples = []
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        for block in _BLOCK.finditer(text):
            line_number = text.count("\n", 0, block.start(1)) + 1
            for offset, line in enumerate(block.group(1).replace("\\\n", " ").splitlines()):
                if line.strip().startswith("curl "):
                    where = f"{doc.relative_to(REPO_ROOT)}:{line_number + offset}"
                    examples.append((where, line.strip()))
    return examples


EXAMPLES = curl_examples()


def filled_in(command: str, base_url: str, api_key: str) -> str:
    """The command as a reader would run it against `base_url` with `api_key`."""
    return _KEY.sub(api_key, _BASE_URL.sub(base_url, command))


def test_the_docs_have_curl_examples():
    # The extraction itself works: the README's and the translation guide's examples are found.
    places = {where.split(":")[0] for where, _ in EXAMPLES}
    assert {"README.md", "docs/translation.md", "docs/audio.md"} <= places


def test_placeholders_are_filled_in():
    command = (
        "curl 'https://<worker>/translate?token=KEY' -H 'Authorization: Bearer <key>' "
        "-H \"x-api-key: $KEY\" http://127.0.0.1:8787/v1 -H 'Authorization: Bearer sk-local' "
        "-H 'DeepL-Auth-Key KEY' -d 'API_KEYS=x'"
    )
    assert filled_in(command, "http://h:1", "k") == (
        "curl 'http://h:1/translate?token=k' -H 'Authorization: Bearer k' "
        "-H \"x-api-key: k\" http://h:1/v1 -H 'Authorization: Bearer k' "
        "-H 'DeepL-Auth-Key k' -d 'API_KEYS=x'"
    )


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
@pytest.mark.parametrize(("where", "command"), EXAMPLES, ids=[where for where, _ in EXAMPLES])
def test_curl_example_succeeds(where, command, base_url, api_key, tmp_path):
    for name in _UPLOAD.findall(command):
        assert name in SAMPLE_FILES, f"{where} uploads {name}: add a sample to SAMPLE_FILES"
        (tmp_path / name).write_bytes(SAMPLE_FILES[name]())
    out = tmp_path / "response"
    # Written out, then checked: `-w` prints the status and content type after the body.
    run = filled_in(command, base_url, api_key).replace(
        "curl ", f"curl -sS -o {out} -w '%{{http_code}} %{{content_type}}' ", 1
    )
    result = subprocess.run(
        ["bash", "-c", run], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, f"{where}: curl failed: {result.stderr}"
    status, _, content_type = result.stdout.partition(" ")
    body = out.read_bytes() if out.exists() else b""
    assert status.startswith("2"), f"{where} answered {status}: {body[:500]!r}"
    if "json" in content_type:
        json.loads(body)
