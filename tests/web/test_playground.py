"""The browser playground in headless Chromium: it loads cleanly, mouse strokes on #screen draw
with the console's brush and get the console's answer, the keyboard is pad 1, #clear clears,
and MNIST digits written into the canvas from the page get the answers and scores cynes gets
on the same ROM, bit for bit."""

from __future__ import annotations

import base64
import functools
import hashlib
import http.server
import json
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from nes.tools import web
from nes.tools.pad_digits import PAD_DIGITS, by_name
from nes.tools.web_driver import draw, open_page, wait_settled
from tests.conftest import TINY_DOIT, TinyBuild

pytestmark = TINY_DOIT  # `doit web` runs on the shared tiny build

MNIST_DIGITS = 50


def url(folder: Path) -> str:
    return (folder / "index.html").resolve().as_uri()


@pytest.fixture
def problems() -> list[str]:
    return []


@pytest.fixture
def page(browser, tiny_page: Path, problems: list[str]):
    opened = open_page(browser, url(tiny_page), problems)
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def served(tiny_page: Path) -> Iterator[str]:
    """The page folder on a plain static file server (Python's), as on GitHub Pages."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tiny_page))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    thread.join()


def test_doit_web_writes_the_page(tiny_build: TinyBuild, tiny_page: Path) -> None:
    for target in web.outputs(tiny_page, "tiny.nes"):
        assert target.exists(), target
    rom = (tiny_build.out / "tiny.nes").read_bytes()
    assert (tiny_page / "tiny.nes").read_bytes() == rom
    info = json.loads((tiny_page / web.ROM_SCRIPT).read_text().split("=", 1)[1].rstrip().rstrip(";"))
    assert base64.b64decode(info["rom_base64"]) == rom and info["sha256"] == hashlib.sha256(rom).hexdigest()
    from nes.tools.dbginfo import read_symbols

    symbols = read_symbols(tiny_build.out / "tiny.dbg")
    assert info["ram"]["canvas"] == {"address": symbols.address("canvas"), "size": 196}
    package = json.loads((web.SOURCE_DIR / "node_modules" / "jsnes" / "package.json").read_text())
    assert package["version"] == web.pinned_jsnes() == json.loads((web.SOURCE_DIR / "package.json").read_text())[
        "dependencies"]["jsnes"]  # fmt: skip
    text = (tiny_page / "index.html").read_text()
    for needed in ('id="screen"', 'id="answer"', 'id="clear"', 'id="input"', 'id="scores"', "download"):
        assert needed in text
    assert "http" not in text.replace("https://github.com/bfirsh/jsnes", "")  # no CDN, nothing fetched
    second = tiny_build.doit("web", report_name="web-again.json")
    assert second.results.get("web") == "up-to-date"


@pytest.mark.parametrize("how", ["file", "http"])
def test_page_loads_without_console_errors(browser, tiny_page: Path, served: str, how: str) -> None:
    problems: list[str] = []
    page = open_page(browser, url(tiny_page) if how == "file" else served + "index.html", problems)
    try:
        assert page.evaluate("window.playground.error") is None
        assert page.get_attribute("#status", "data-state") == "running"
        # 60 Hz by the clock, never faster; a busy machine may paint late and the page falls behind
        rate = page.evaluate(
            """() => new Promise(done => {
                 const frames = window.playground.frames(), start = performance.now();
                 const rate = () => (window.playground.frames() - frames) * 1000 / (performance.now() - start);
                 setTimeout(() => done(rate()), 2000);
               })"""
        )
        assert 15 <= rate <= 63, f"{rate:.1f} frames a second: not 60 Hz"
        scale = float(page.evaluate("document.getElementById('screen').getBoundingClientRect().width")) / 256
        assert scale == int(scale) and scale >= 1  # whole factors only
        assert page.evaluate("getComputedStyle(document.getElementById('screen')).imageRendering") == "pixelated"
        assert page.evaluate("window.playground.nes.opts.emulateSound") is False
    finally:
        page.close()
    assert problems == []


def pad_drawn(tiny_build: TinyBuild) -> dict[str, dict]:
    """The `paddrawn` step's records: each pad-drawn digit's answer on this ROM in cynes."""
    return {entry["name"]: entry for entry in json.loads((tiny_build.out / "paddrawn.json").read_text())["digits"]}


MORE_DIGITS = ("0 neat", "4 neat, open", "3 large")  # with --slow


@pytest.mark.parametrize("name", ["7 neat, bar", *(pytest.param(name, marks=pytest.mark.slow) for name in MORE_DIGITS)])
def test_mouse_strokes_draw_with_the_brush_and_get_the_console_answer(
    page, tiny_build: TinyBuild, problems: list[str], name: str
) -> None:
    """Drawn with the mouse, a pad-drawn digit gives the canvas the D-pad gives (cynes) and the
    answer the console gives it (the `paddrawn` step's)."""
    from nes.tools.ui_driver import Ui

    entry = by_name(name)
    draw(page, entry.strokes)
    result = wait_settled(page)
    ui = Ui(tiny_build.out / "tiny.nes")
    ui.draw(entry.strokes)
    ui.wait_answer()
    assert page.evaluate("window.playground.canvas()") == ui.canvas().ravel().tolist()
    want = pad_drawn(tiny_build)[name]["answer"]
    assert result["digit"] == want == ui.byte("ui_winner")
    assert page.inner_text("#answer") == str(want) and page.get_attribute("#answer", "data-digit") == str(want)
    assert result["scores"] == ui.scores().tolist()
    assert abs(sum(result["probabilities"]) - 1) < 1e-9 and int(np.argmax(result["probabilities"])) == want
    assert problems == []


def test_keyboard_is_pad_one(page) -> None:
    before = page.evaluate("window.playground.cursor()")
    page.keyboard.down("ArrowRight")
    page.wait_for_timeout(400)
    page.keyboard.up("ArrowRight")
    moved = page.evaluate("window.playground.cursor()")
    assert moved["x"] > before["x"] and moved["y"] == before["y"]
    assert not any(page.evaluate("window.playground.canvas()"))
    page.keyboard.down("x")  # A: draw
    page.keyboard.down("ArrowDown")
    page.wait_for_timeout(400)
    page.keyboard.up("ArrowDown")
    page.keyboard.up("x")
    cells = np.array(page.evaluate("window.playground.canvas()")).reshape(28, 28)
    after = page.evaluate("window.playground.cursor()")
    assert after["y"] > moved["y"]
    line = cells[moved["y"] + 1 : after["y"] + 2, moved["x"] : moved["x"] + 2]  # (A and Down may start together)
    assert line.min() == cells.max() > 0  # a line of full ink down from where the cursor was
    wait_settled(page)
    assert page.get_attribute("#answer", "data-digit") != ""


def test_clear_button_clears_canvas_and_answer(page) -> None:
    draw(page, by_name("1 neat").strokes)
    wait_settled(page)
    assert any(page.evaluate("window.playground.canvas()"))
    page.click("#clear")
    page.wait_for_function("window.playground.canvas().every(level => level === 0)", timeout=2000)
    page.wait_for_function("document.getElementById('answer').dataset.digit === ''", timeout=2000)
    assert page.inner_text("#answer") == "–"


@pytest.mark.slow  # about 10 s
def test_mnist_digits_written_from_the_page_match_cynes(page, tiny_build: TinyBuild, mnist_dir: Path) -> None:
    """50 MNIST test digits, written into the canvas through the page and classified by the
    console in jsnes, and the same canvases in cynes: answers, scores and the network's input
    equal, bit for bit; the frames the inference took within one."""
    from intnet.prep import to_levels
    from nes.tools import canvas
    from nes.tools.ui_driver import Ui
    from training.dataset import load_split

    manifest = json.loads((tiny_build.out / "export" / "manifest.json").read_text())["input"]
    images = load_split(mnist_dir, "test", allow_download=False, mirrors=[])[0][:MNIST_DIGITS]
    levels = to_levels(images, manifest["levels"], manifest.get("ink"))
    ui = Ui(tiny_build.out / "tiny.nes")
    console = ui.console
    page.evaluate("window.playground.pause()")
    shown = page.evaluate("window.playground.result()")
    classified = shown["classified"] if shown else -1
    for k, cells in enumerate(levels):
        page.evaluate("levels => window.playground.writeCanvas(levels)", cells.ravel().tolist())
        got = page.evaluate("after => window.playground.runUntilAnswer(after, 600)", classified)
        assert got is not None, f"digit {k}: no answer on the page"
        classified = got["classified"]

        ui.reset()
        canvas.write(console, cells)
        ui.nes[ui.sym("ui_dirty")] = 1  # as the page does after writing: a changed canvas
        ui.nes[ui.sym("ui_quiet")] = 0
        row_dirty = ui.sym("row_dirty")  # and the canvas redrawn, as the page asks (the NMI's share of the frames)
        console.poke(row_dirty, [1] * console.symbols.size("row_dirty"))
        count = ui.byte("ui_classified")
        for _ in range(600):
            ui.step(0)
            if ui.byte("ui_classified") != count and ui.byte("nn_state") == console.NN_DONE:
                break
        want = console.read_result()
        assert got["digit"] == want.digit == got["nn_digit"], f"digit {k}"
        assert got["scores"] == want.scores.tolist(), f"digit {k}"
        # vblanks during the inference: the two emulators' cycle timing differs a little (on the
        # default build 4 of 200 digits ended a frame apart, on either side)
        assert abs(got["frames"] - want.frames) <= 1, f"digit {k}"
        assert got["input"] == console.peek(console.addr["nn_input"], console.input_count).tolist(), f"digit {k}"
    page.evaluate("window.playground.resume()")


@pytest.fixture
def broken_copy(tiny_page: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "web"
    shutil.copytree(tiny_page, copy)
    return copy


def status_after_loading(browser, folder: Path) -> tuple[str, str | None]:
    page = open_page(browser, url(folder))
    try:
        return page.inner_text("#status"), page.get_attribute("#status", "data-state")
    finally:
        page.close()


def test_missing_rom_says_so(browser, broken_copy: Path) -> None:
    (broken_copy / web.ROM_SCRIPT).unlink()
    text, state = status_after_loading(browser, broken_copy)
    assert state == "error" and "ROM is missing" in text


def test_a_rom_that_does_not_load_says_so(browser, broken_copy: Path) -> None:
    script = broken_copy / web.ROM_SCRIPT
    script.write_text(script.read_text().replace('"rom_base64": "TkVTG', '"rom_base64": "AAAAA'))
    text, state = status_after_loading(browser, broken_copy)
    assert state == "error" and "ROM does not load" in text


def test_a_rom_the_emulator_rejects_says_so(browser, broken_copy: Path) -> None:
    """A well-formed iNES file with a mapper jsnes does not have."""
    script = broken_copy / web.ROM_SCRIPT
    info = json.loads(script.read_text().split("=", 1)[1].rstrip().rstrip(";"))
    data = bytearray(base64.b64decode(info["rom_base64"]))
    data[6] |= 0xF0
    data[7] |= 0xF0  # mapper 255
    info["rom_base64"] = base64.b64encode(bytes(data)).decode()
    script.write_text(f"window.{web.GLOBAL_NAME} = {json.dumps(info)};\n")
    text, state = status_after_loading(browser, broken_copy)
    assert state == "error" and "cannot start this ROM" in text


def test_no_emulator_says_so(browser, broken_copy: Path) -> None:
    (broken_copy / "jsnes.min.js").unlink()
    text, state = status_after_loading(browser, broken_copy)
    assert state == "error" and "emulator cannot start" in text


def test_pad_digit_names_exist() -> None:
    names = {entry.name for entry in PAD_DIGITS}
    assert {"7 neat, bar", "0 neat", "4 neat, open", "3 large", "1 neat"} <= names


@pytest.mark.slow  # about 20 s: Chromium, then the report
def test_web_shot_puts_the_page_in_the_report(browser, tiny_build: TinyBuild, tiny_page: Path) -> None:
    """`doit web_shot` draws a 7 with the mouse in Chromium and saves the page; the report shows it."""
    from PIL import Image

    run = tiny_build.doit("web_shot", "report", report_name="web-shot.json")
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    shot = tiny_build.out / "report" / "web.png"
    with Image.open(shot) as image:
        assert image.format == "PNG" and image.width >= 512  # the screen at 2x at least fits
    report = (tiny_build.out / "report" / "index.html").read_text()
    assert '<img src="web.png"' in report and '<a href="../web/index.html">' in report


def test_doit_web_without_jsnes_says_how_to_install_it(tmp_path: Path) -> None:
    from common.errors import BuildError

    for name in (*web.PAGE_FILES, "package.json", "package-lock.json"):
        shutil.copyfile(web.SOURCE_DIR / name, tmp_path / name)
    with pytest.raises(BuildError, match="npm ci --prefix web"):
        web.installed_jsnes(tmp_path)
