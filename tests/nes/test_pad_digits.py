"""The pad-drawn digit set (nes/tools/pad_digits.py): complete, on the canvas, the sizes its
styles promise, and drawn on the console exactly as `pen_cells` says."""

from __future__ import annotations

import numpy as np

from nes.tools.pad_digits import (
    CURSOR_MAX,
    DIGITS,
    PAD_DIGITS,
    SHAPES,
    STYLES,
    PadDigit,
    by_name,
    ink_box,
    pen_cells,
)
from nes.tools.screen import CANVAS_SIDE
from tests.conftest import TinyBuild

CENTRE = (CANVAS_SIDE - 1) / 2


def test_every_digit_in_every_style_and_the_special_shapes() -> None:
    assert len(PAD_DIGITS) >= 30
    present = {(entry.digit, entry.style) for entry in PAD_DIGITS}
    assert present >= {(digit, style) for digit in range(10) for style in STYLES}
    assert {entry.style for entry in PAD_DIGITS} <= set(STYLES)
    assert {(entry.digit, entry.shape) for entry in PAD_DIGITS} >= SHAPES
    names = [entry.name for entry in PAD_DIGITS]
    assert len(set(names)) == len(names)
    assert all(by_name(name).name == name for name in names)
    assert sorted(DIGITS) == list(range(10))  # the neat ones the UI tests draw


def test_every_cell_is_a_cursor_position_on_the_canvas() -> None:
    for entry in PAD_DIGITS:
        assert 0 <= entry.digit <= 9 and entry.strokes, entry.name
        for stroke in entry.strokes:
            assert len(stroke) >= 2, entry.name  # pen down somewhere
            for y, x in stroke:
                assert isinstance(y, int) and isinstance(x, int), entry.name
                assert 0 <= y <= CURSOR_MAX and 0 <= x <= CURSOR_MAX, (entry.name, (y, x))


def box_size(entry: PadDigit) -> tuple[int, tuple[float, float]]:
    top, bottom, left, right = ink_box(entry)
    return bottom - top + 1, ((top + bottom) / 2, (left + right) / 2)


def test_styles_have_their_sizes_and_places() -> None:
    """neat: centred, 17-20 cells tall; small: 10-12 tall and off-centre; large: 22-24 tall
    (full-ink cells; the grey edge adds one on each side)."""
    for entry in PAD_DIGITS:
        height, (cy, cx) = box_size(entry)
        off = max(abs(cy - CENTRE), abs(cx - CENTRE))
        if entry.style == "neat":
            assert 17 <= height <= 20 and off <= 2, (entry.name, height, off)
        elif entry.style == "small":
            assert 10 <= height <= 12 and off >= 5, (entry.name, height, off)
        else:
            assert 22 <= height <= 24, (entry.name, height)


def test_the_large_digits_lean_right() -> None:
    """Slanted like handwriting: the top of each large digit's pen path lies further right than
    its bottom."""
    for entry in PAD_DIGITS:
        if entry.style != "large":
            continue
        cells = np.array([cell for stroke in entry.strokes for cell in pen_cells(stroke)])
        top, bottom = cells[:, 0].min(), cells[:, 0].max()
        upper = cells[cells[:, 0] <= top + 3, 1].max()
        lower = cells[cells[:, 0] >= bottom - 3, 1].max()
        assert upper >= lower + 3, (entry.name, upper, lower)


def test_pen_cells_move_like_the_driver() -> None:
    assert pen_cells([(5, 5), (8, 7), (8, 9)]) == [(5, 5), (6, 6), (7, 7), (8, 7), (8, 8), (8, 9)]
    assert pen_cells([(3, 3), (3, 3)]) == [(3, 3)]


def test_the_console_inks_what_pen_cells_say(tiny_build: TinyBuild) -> None:
    """Drawn with the buttons on a ROM, a digit inks the brush's core (full ink) over exactly the
    cells `pen_cells` lists, and the ring (at least grey) around them: the sizes above are real."""
    from nes.tools.ui_driver import Ui

    ui = Ui(tiny_build.out / "tiny.nes")
    for name in ("4 neat, closed", "9 small", "5 large"):
        entry = by_name(name)
        ui.reset()
        ui.draw(entry.strokes)
        core = np.zeros((CANVAS_SIDE, CANVAS_SIDE), bool)
        ring = np.zeros_like(core)
        for y, x in (cell for stroke in entry.strokes for cell in pen_cells(stroke)):
            core[y : y + 2, x : x + 2] = True
            ring[max(0, y - 1) : y + 3, x : x + 2] = True
            ring[y : y + 2, max(0, x - 1) : x + 3] = True
        canvas = ui.canvas()
        assert np.array_equal(canvas == 2, core), name
        assert np.array_equal(canvas > 0, core | ring), name
        top, bottom, left, right = ink_box(entry)
        rows, columns = np.nonzero(canvas == 2)
        assert (rows.min(), rows.max(), columns.min(), columns.max()) == (top, bottom, left, right), name
