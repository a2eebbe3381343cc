"""Use the browser playground (nes/tools/web.py's page) like a person, in Chromium via Playwright.

Drawing goes through mouse events on `#screen` only; the answer is read from the page
(`#answer`, `window.playground`). The tests (tests/web/) and the `web_shot` step use it.
Chromium is the system's (Debian's `chromium`), never a browser Playwright downloads.

    python -m nes.tools.web_driver PAGE_DIR SCREENSHOT    the `web_shot` step: draw a 7, save the page
"""

from __future__ import annotations

import os
import shutil
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nes.tools.pad_digits import Stroke, by_name
from nes.tools.screen import CANVAS_PX, CANVAS_PY, CELL

if TYPE_CHECKING:
    from collections.abc import Iterator

    from playwright.sync_api import Browser, Page

CHROMIUM_ENV = "CHROMIUM"  # the browser to run, when not `chromium` on the PATH
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")  # Debian; Ubuntu; GitHub runners
SCREENSHOT_DIGIT = "7 neat, bar"  # the digit nes/tools/screenshot.py draws with the pad
VIEWPORT = {"width": 1100, "height": 900}


class BrowserMissing(RuntimeError):
    pass


def chromium_path() -> str:
    """The system Chromium: $CHROMIUM, else `chromium` on the PATH."""
    explicit = os.environ.get(CHROMIUM_ENV)
    if explicit:
        if not shutil.which(explicit):
            raise BrowserMissing(f"${CHROMIUM_ENV} is {explicit}, which is no program")
        return explicit
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise BrowserMissing("no Chromium: install Debian's `chromium` (bash .ci/run install) or set $CHROMIUM")


@contextmanager
def chromium() -> Iterator[Browser]:
    """Headless system Chromium under Playwright (which downloads nothing this way)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as error:
        raise BrowserMissing("no Playwright: pip install -r requirements.txt") from error
    path = chromium_path()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def open_page(browser: Browser, url: str, problems: list[str] | None = None) -> Page:
    """Open the playground and wait until it runs or says why not; console errors and page
    exceptions are appended to `problems`."""
    page = browser.new_page(viewport=VIEWPORT)
    if problems is not None:
        page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(url)
    page.wait_for_function("window.playground && (window.playground.ready || window.playground.error !== null)")
    return page


def screen_point(page: Page, y: float, x: float) -> tuple[float, float]:
    """Where on the page the pointer puts the brush's cursor at canvas cell (y, x): the middle of
    its 2x2 core, a quarter cell off the boundary so that rounding cannot go the other way."""
    box = page.locator("#screen").bounding_box()
    assert box is not None, "#screen is not on the page"
    scale = box["width"] / 256
    return box["x"] + (CANVAS_PX + (x + 1.25) * CELL) * scale, box["y"] + (CANVAS_PY + (y + 1.25) * CELL) * scale


def draw(page: Page, strokes: list[Stroke]) -> None:
    """Draw with the mouse: button down at each stroke's first cell, one move to each next, up."""
    for stroke in strokes:
        page.mouse.move(*screen_point(page, *stroke[0]))
        page.mouse.down()
        for y, x in stroke[1:]:
            page.mouse.move(*screen_point(page, y, x))
        page.mouse.up()


def wait_settled(page: Page, timeout_ms: float = 10_000) -> dict[str, Any]:
    """Wait until the console has classified the final canvas and the page shows it; the result."""
    page.wait_for_function("window.playground.settled()", timeout=timeout_ms)
    return page.evaluate("window.playground.result()")


def web_shot(page_dir: Path, target: Path) -> None:
    """The `web_shot` step: open the page, draw the pad-drawn 7 with the mouse, save the page."""
    with chromium() as browser:
        page = open_page(browser, Path(page_dir).resolve().joinpath("index.html").as_uri())
        error = page.evaluate("window.playground.error")
        if error:
            raise RuntimeError(f"the page says: {error}")
        draw(page, by_name(SCREENSHOT_DIGIT).strokes)
        result = wait_settled(page)
        page.wait_for_timeout(300)  # the bars are drawn by the NMI, two a frame
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(target), full_page=True)
        print(f"web_shot: {target} (answer {result['digit']})")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        web_shot(Path(args[0]), Path(args[1]))
    except BrowserMissing as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
