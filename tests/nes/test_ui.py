"""The drawing cartridge: the 6502's canvas preprocessing equals intnet/prep.py bit for
bit, and the UI works when driven by buttons only (strokes, clear, cursor bounds, screen)."""

# ruff: noqa: F401  (session fixtures are imported by name)
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from common import layout
from common.config import MNIST_SIZE, PreprocessConfig
from intnet.prep import input_max, input_shift, preprocess, to_levels
from nes.tools import canvas as packed_canvas
from nes.tools.pad_digits import DIGITS
from nes.tools.ui_driver import (
    SELECT,
    SIDE,
    START,
    A,
    B,
    Ui,
    bar_lengths,
    canvas_region,
    expected_bars,
    lit,
    shown_digit,
)
from tests.conftest import TinyBuild
from tests.nes.builds import LayerSpec, NesBuild, write_network


def build_ui_rom(tmp: Path, name: str, pre: PreprocessConfig, seed: int = 7) -> NesBuild:
    """A random 1-layer network whose manifest describes `pre`, built into a ROM with the UI."""
    from intnet import golden
    from tests.nes.builds import build_rom

    size = pre.size * pre.size
    export_dir = write_network(tmp / name / "export", [LayerSpec(size, 10, 16, None)], input_max(pre), seed)
    manifest_path = export_dir / layout.MANIFEST
    manifest = json.loads(manifest_path.read_text())
    manifest["input"].update(
        size=pre.size,
        levels=pre.levels,
        resize="area",
        deskew=pre.deskew,
        center=pre.center,
        normalize=pre.normalize,
        shift=input_shift(pre),
        window=pre.window_side,
        window_start=pre.window_start,
        half_pixels=pre.half_pixels,
        block=pre.block,
    )
    manifest_path.write_text(json.dumps(manifest))
    outputs = build_rom(manifest_path, tmp / name / "nes", name=name)
    return NesBuild(export_dir, outputs.rom, golden.load(export_dir))


PRESETS = {
    "d7": PreprocessConfig(size=7, resize="area", levels=3, deskew=True, center=False),  # the default
    "dc7": PreprocessConfig(size=7, resize="area", levels=3, deskew=True, center=True),
    "c14": PreprocessConfig(size=14, resize="area", levels=2, deskew=False, center=True),
    "p7": PreprocessConfig(size=7, resize="area", levels=2, deskew=False, center=False),
    # windows: 3x3 blocks of the middle 21x21 cells; 2x2 blocks of the middle 24x24, 144 inputs
    "w21": PreprocessConfig(size=7, resize="area", levels=3, deskew=True, center=True, window=21),
    "w24": PreprocessConfig(size=12, resize="area", levels=3, deskew=True, center=True, window=24),
    # half-pixel blocks: 1.5x1.5 pixels (14x14 over the middle 21x21), 2.5x2.5 (5x5 of 25x25 at 2 levels)
    "h21": PreprocessConfig(size=14, resize="area", levels=3, deskew=True, center=True, window=21),
    "h25": PreprocessConfig(size=10, resize="area", levels=2, deskew=False, center=True, window=25),
    # size normalisation: the default's 14x14 fitted to 20x20 like MNIST; 7x7 blown up to the whole
    # field (no deskew or centring: the box's placement shows); the smallest box under a window
    "n14": PreprocessConfig(size=14, resize="area", levels=3, deskew=True, center=True, normalize=20),
    "n7": PreprocessConfig(size=7, resize="area", levels=2, deskew=False, center=False, normalize=28),
    "n8w21": PreprocessConfig(size=7, resize="area", levels=3, deskew=True, center=False, window=21, normalize=8),
}


@pytest.fixture(scope="module")
def ui_roms(tmp_path_factory: pytest.TempPathFactory) -> dict[str, NesBuild]:
    tmp = tmp_path_factory.mktemp("ui")
    return {name: build_ui_rom(tmp, name, pre) for name, pre in PRESETS.items()}


def canvases(levels: int, mnist: np.ndarray) -> np.ndarray:
    """Extremes, strong slants, random noise and MNIST digits, as grey-level canvases."""
    top = levels - 1
    rng = np.random.default_rng(31)
    items = [np.zeros((SIDE, SIDE)), np.full((SIDE, SIDE), top)]
    for y, x in ((0, 0), (0, 27), (27, 0), (27, 27), (13, 14)):
        one = np.zeros((SIDE, SIDE))
        one[y, x] = top
        items.append(one)
    for slope in (-1.0, -0.6, 0.4, 1.0, 3.0):  # lines x = 14 + slope * (y - 14), thick
        img = np.zeros((SIDE, SIDE))
        for y in range(SIDE):
            x = round(14 + slope * (y - 14))
            img[y, max(0, x - 1) : max(0, min(SIDE, x + 2))] = top
        items.append(img)
    row = np.zeros((SIDE, SIDE))
    row[3, :] = top  # one row: Vyy = 0
    items.append(row)
    column = np.zeros((SIDE, SIDE))
    column[:, 22] = top  # one column: a 28x1 box
    items.append(column)
    for y, x in ((0, slice(9, 17)), (27, slice(4, 12)), (slice(8, 19), 0), (slice(15, 26), 27)):
        edge = np.zeros((SIDE, SIDE))  # a stroke along each edge (top, bottom, left, right)
        edge[y, x] = top
        edge[12:15, 12:14] = 1
        items.append(edge)
    pair = np.zeros((SIDE, SIDE))
    pair[9, 20:22] = top  # a 1x2 box: scaled the most
    items.append(pair)
    corner = np.zeros((SIDE, SIDE))
    corner[20:, 20:] = top
    items.append(corner)
    for density in (0.03, 0.2, 0.6):
        items.append(rng.integers(0, levels, (SIDE, SIDE)) * (rng.random((SIDE, SIDE)) < density))
    items += list(to_levels(mnist, levels))
    return np.array(items, dtype=np.uint8)


def console_input(ui: Ui, canvas: np.ndarray, count: int) -> np.ndarray:
    """Write the canvas into RAM, press Start (through ui_go), wait for the answer, read nn_input."""
    nes = ui.nes
    nes.load(ui.console.ready_state)
    packed_canvas.write(ui.console, canvas)
    nes[ui.sym("ui_go")] = 1
    ui.console.wait_done(30)
    return ui.console.peek(ui.sym("nn_input"), count)


@pytest.mark.parametrize("name", list(PRESETS))
def test_console_preprocessing_is_bit_exact(ui_roms: dict[str, NesBuild], mnist_test: np.ndarray, name: str) -> None:
    pre = PRESETS[name]
    ui = Ui(ui_roms[name].rom)
    levels = canvases(pre.levels, mnist_test[:60])
    # The canvas holds grey levels; preprocess() starts from 0..255 pixels: the level l is the
    # pixel value that to_levels maps back to l.
    pixels = (levels.astype(np.int64) * 255 // (pre.levels - 1)).astype(np.uint8)
    assert np.array_equal(to_levels(pixels, pre.levels), levels)
    want = preprocess(pixels, pre)
    for k in range(len(levels)):
        got = console_input(ui, levels[k], pre.size * pre.size)
        assert got.tolist() == want[k].tolist(), f"{name} canvas {k}"


@pytest.fixture(scope="module")
def mnist_test(mnist_dir: Path) -> np.ndarray:
    from training.dataset import load_split

    return load_split(mnist_dir, "test", allow_download=False, mirrors=[])[0][:100]


def assert_screen_shows(ui: Ui, canvas: np.ndarray) -> None:
    """Cell by cell, the screen's canvas shows the canvas in RAM: a blank cell dark, each level
    one colour, ink brighter than the grey edge (the cursor sprite's cells left out)."""
    region = canvas_region(ui.frame).astype(np.int64).sum(axis=2)  # brightness
    cells = region.reshape(SIDE, 4, SIDE, 4).transpose(0, 2, 1, 3).reshape(SIDE, SIDE, 16)
    cy, cx = ui.cursor()
    free = np.ones((SIDE, SIDE), dtype=bool)
    free[max(cy - 1, 0) : cy + 3, max(cx - 1, 0) : cx + 3] = False
    assert (cells[free].min(axis=1) == cells[free].max(axis=1)).all(), "a canvas cell is not one colour"
    shade = cells[:, :, 0]
    for level in np.unique(canvas):
        assert len(np.unique(shade[free & (canvas == level)])) == 1, f"level {level} shown in several colours"
    assert (shade[free & (canvas == 0)] < shade[free & (canvas == 1)].min()).all()
    assert (shade[free & (canvas == 1)] < shade[free & (canvas == 2)].min()).all()


def test_strokes_draw_soft_lines_and_select_clears(ui_roms: dict[str, NesBuild], tmp_path: Path) -> None:
    ui = Ui(ui_roms["d7"].rom)
    ui.draw(DIGITS[7])
    canvas = ui.canvas()
    assert set(np.unique(canvas)) == {0, 1, 2}  # ink core and grey edge, like MNIST strokes
    assert canvas[6, 7:20].min() == 2  # the bar of the 7
    ui.step(0, 16)  # every dirty tile row redrawn (2 a frame)
    assert_screen_shows(ui, canvas)
    ui.wait_answer()
    assert shown_digit(ui.frame) == ui.byte("ui_winner")
    ui.press(SELECT)
    ui.step(0, 10)  # 14 tile rows at 2 per frame
    assert not ui.canvas().any()
    region = canvas_region(ui.frame)
    cy, cx = ui.cursor()
    region[cy * 4 - 1 : cy * 4 + 9, cx * 4 - 1 : cx * 4 + 9] = region[0, 0]  # the cursor sprite
    assert not lit(region).any()
    assert shown_digit(ui.frame) is None and bar_lengths(ui.frame)[0] == [0] * 10


def test_b_erases(ui_roms: dict[str, NesBuild]) -> None:
    ui = Ui(ui_roms["d7"].rom)
    ui.stroke([(10, 5), (10, 20)])
    assert ui.canvas()[10:12, 5:21].min() == 2
    ui.move_to(10, 12)
    ui.step(B, 2)
    assert not ui.canvas()[10:12, 12:14].any() and ui.canvas()[10, 5] == 2


def test_display_matches_scores(ui_roms: dict[str, NesBuild], tmp_path: Path) -> None:
    ui = Ui(ui_roms["d7"].rom)
    ui.draw(DIGITS[0])
    frames = ui.wait_answer()
    assert frames < 60
    result = ui.console.read_result()
    assert ui.byte("ui_winner") == result.digit == int(np.argmax(result.scores))
    shift = int(
        next(
            line.split("=")[1].split(";")[0]
            for line in (ui_roms["d7"].rom.parent / "gen" / "ui.inc").read_text().splitlines()
            if line.startswith("UI_BAR_SHIFT")
        )
    )
    lengths, colours = bar_lengths(ui.frame)
    assert lengths == expected_bars(result.scores, shift)
    assert lengths[result.digit] == 80
    assert sum(c == colours[result.digit] for c, n in zip(colours, lengths, strict=True) if n) == 1  # highlighted
    ui.save(tmp_path / "drawn_0.png")


def test_start_classifies_on_demand(ui_roms: dict[str, NesBuild]) -> None:
    ui = Ui(ui_roms["d7"].rom)
    before = ui.byte("nn_runs")
    ui.press(START)
    ui.step(0, 8)
    assert ui.byte("nn_runs") == (before + 1) % 256


def random_buttons(rom: Path, total: int, seed: int) -> None:
    """Random buttons held 1-16 frames: no crash or lock-up, the cursor stays on the canvas,
    and Select always clears the canvas fully."""
    ui = Ui(rom)
    rng = np.random.default_rng(seed)
    frames = 0
    checked_clears = 0
    while frames < total:
        bits = int(rng.integers(0, 256)) & ~SELECT
        if rng.random() < 0.03:
            ui.step(0, 1)
            ui.step(SELECT, 1)
            assert not ui.canvas().any(), "Select left ink on the canvas"
            checked_clears += 1
        if rng.random() < 0.02:
            assert int(ui.canvas().max()) <= 2
            frames += 2
        hold = int(rng.integers(1, 17))
        ui.nes.controller = bits
        ui.nes.step(hold)  # (no screenshot per frame: fast)
        assert not ui.nes.has_crashed
        frames += hold
        cy, cx = ui.cursor()
        assert 0 <= cy <= SIDE - 2 and 0 <= cx <= SIDE - 2
    assert checked_clears >= total // 1000
    runs = ui.byte("nn_runs")
    ui.step(0, 1)
    ui.press(START)
    ui.step(0, 12)
    assert ui.byte("nn_runs") != runs, "the console no longer answers"


@pytest.mark.slow
def test_random_buttons_2000_frames(ui_roms: dict[str, NesBuild]) -> None:
    random_buttons(ui_roms["d7"].rom, 2_048, seed=5)


@pytest.mark.slow
def test_random_buttons_10000_frames(ui_roms: dict[str, NesBuild]) -> None:
    random_buttons(ui_roms["dc7"].rom, 10_240, seed=6)


def test_unsupported_preprocessing_builds_without_canvas(tmp_path: Path) -> None:
    """A network the canvas cannot feed (bilinear input) still gets a ROM: raw protocol only."""
    from nes.tools.budget import support
    from nes.tools.console import Console

    build = build_ui_rom(tmp_path, "plain", PRESETS["p7"])
    manifest_path = build.export_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["input"].update(resize="bilinear", levels=256)
    assert support(manifest) == (False, "resize 'bilinear': the console only mirrors area sums")
    manifest_path.write_text(json.dumps(manifest))
    from tests.nes.builds import build_rom

    rom = build_rom(manifest_path, tmp_path / "plain" / "nes2", name="plain2").rom
    console = Console(rom)
    assert not console.symbols.find("canvas")
    result = console.infer(np.zeros(49, np.uint8))
    assert 0 <= result.digit <= 9


def test_doit_rom_has_the_canvas_ui(tiny_build: TinyBuild) -> None:
    gen = tiny_build.out / "nes" / "gen"
    assert "UI_ENABLED = 1" in (gen / "ui.inc").read_text()
    assert (gen / "chr.bin").stat().st_size == 8192
    ui = Ui(tiny_build.out / "tiny.nes")
    ui.draw(DIGITS[1])
    ui.wait_answer()


@pytest.mark.slow
def test_pad_drawn_digits_are_recognised(default_build: Path) -> None:
    """Every pad-drawn digit (nes/tools/pad_digits.py: each digit neat, small and off-centre,
    large and slanted, and the special shapes), drawn with the D-pad and A on the default ROM by
    the build's `paddrawn` step, is right; the frames from the last stroke to the answer are
    reported (and stay within a second: a stuck or lost answer)."""
    from nes.tools.pad_digits import PAD_DIGITS

    out = default_build / "default"
    result = json.loads((out / layout.PADDRAWN).read_text())
    assert result["canvas"] and result["total"] == len(PAD_DIGITS) >= 30
    frames = {entry["name"]: entry["frames"] for entry in result["digits"]}
    print(f"pad-drawn: {result['right']} of {result['total']} right, frames {result['frames']}: {frames}")
    assert result["wrong"] == [], (result["wrong"], frames, out / "report" / layout.PADDRAWN_SHEET)
    assert result["frames"]["max"] <= 60, frames
    assert MNIST_SIZE == SIDE
