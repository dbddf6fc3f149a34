"""Fixtures for the playground tests: Debian's chromium driven by Playwright (no browser
download), against the Worker of tests/http's fixtures.

- `browser` (module): headless chromium at `$CHROMIUM` (default /usr/bin/chromium), with a
  fake microphone that needs no permission prompt.
- `page`: the playground in a fresh context (desktop size); the test fails if the page logged
  a console error or threw, except those it declared with `page.expect_console_error(regex)`.
- `shoot(page, name)`: screenshots of the current panel at desktop and phone width into
  `.artifacts/screenshots/` (gitignored; reviewed copies live in docs/playground/).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.http import conftest as http

# tests/http's fixtures: the same emulator-backed Worker, started for this directory too.
emulator = http.emulator
emulator_control = http.emulator_control
start_worker = http.start_worker
worker = http.worker
base_url = http.base_url
api_key = http.api_key

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = http.REPO_ROOT / ".artifacts" / "screenshots"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # The recording test: a synthetic microphone, granted without a prompt.
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
]


# Per module, not per session: while Playwright's sync API runs, its event loop is the running
# loop of the main thread, and every later test's asyncio.run() would fail.
@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} not found: `make test` installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # Playwright makes a fresh, temporary user-data-dir for each launch.
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield browser
        browser.close()


class ConsoleLog:
    """Console errors and uncaught exceptions of one page, minus the expected ones."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.expected: list[re.Pattern[str]] = []

    def unexpected(self) -> list[str]:
        return [e for e in self.errors if not any(p.search(e) for p in self.expected)]


@pytest.fixture
def page(browser, base_url, emulator):
    """`emulator`: the tests expect its answers, so they skip against a deployment."""
    context = browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(20_000)
    page = context.new_page()
    log = ConsoleLog()
    page.on("console", lambda m: m.type == "error" and log.errors.append(m.text))
    page.on("pageerror", lambda e: log.errors.append(f"uncaught: {e}"))
    page.expect_console_error = lambda pattern: log.expected.append(re.compile(pattern))
    page.goto(base_url + "/")
    yield page
    context.close()
    if log.unexpected():
        pytest.fail("console errors:\n" + "\n".join(log.unexpected()))


@pytest.fixture(scope="session")
def shoot():
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def shoot(page, name: str) -> None:
        for size, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
            page.set_viewport_size(viewport)
            # The top of the page down to the panel's result, at most two screens.
            height = page.evaluate("document.documentElement.scrollHeight")
            clip = {
                "x": 0,
                "y": 0,
                "width": viewport["width"],
                "height": min(height, 2 * viewport["height"]),
            }
            page.screenshot(path=SCREENSHOTS / f"{name}-{size}.png", full_page=True, clip=clip)
        page.set_viewport_size(DESKTOP)

    return shoot
