"""The drawing screen's layout, in one place: ui.s draws it, the Python screen readers read it.

gen_ui.py writes `asm_constants()` into the generated ui.inc (ui.s and prep.s use them);
ui_driver.py (the tests' and the report's screen reader) imports the pixel positions below.
Coordinates are nametable tiles (column 0-31, row 0-29, 8x8 pixels each) unless named *_PX/*_PY.
Pure Python, no numpy: dodo.py and gen_ui.py import it.
"""

from __future__ import annotations

TILE = 8  # pixels a side of a tile
CANVAS_SIDE = 28  # canvas cells a side (MNIST's 28x28 pixels)
CELL = 4  # pixels a side of a canvas cell, and of a big-digit glyph pixel (a tile quadrant)
CANVAS_COL, CANVAS_ROW = 2, 4  # the canvas's top-left tile (its frame is one tile around it)
TITLE_COL, TITLE_ROW = 2, 1
GUESS_COL, GUESS_ROW = 18, 5  # "GUESS", above the big digit
THINK_COL, THINK_ROW = 23, 5  # the "thinking" mark (a sprite) after "GUESS" while the network runs
THINK_GLYPH = "*"  # its font tile (the font's tiles are ASCII codes)
DIGIT_COL, DIGIT_ROW = 24, 3  # the big digit's top-left tile (chr.inc's BIG_W x BIG_H tiles)
BAR_COL, BAR_ROW = 18, 9  # bar j on row BAR_ROW + j: marker, label digit, then BAR_TILES bar tiles
BAR_TILES = 10
HELP_COL, HELP_ROWS = 1, (20, 22, 24)  # the help lines under the bars
REASON_COL, REASON_ROW = 1, 5  # without the canvas: why, then a note on NOTE_ROW
NOTE_ROW = 8
PALETTE1_COL = 20  # background palette 1 (bars, big digit) from this column on (a multiple of 4)

# Derived, for the screen readers (pixels of the 256x240 picture).
CANVAS_PX, CANVAS_PY = CANVAS_COL * TILE, CANVAS_ROW * TILE
DIGIT_PX, DIGIT_PY = DIGIT_COL * TILE, DIGIT_ROW * TILE
THINK_PX, THINK_PY = THINK_COL * TILE, THINK_ROW * TILE
BAR_PX, BAR_PY = (BAR_COL + 2) * TILE, BAR_ROW * TILE  # the first bar tile of bar 0
BAR_PIXELS = BAR_TILES * TILE  # a full bar


def asm_constants() -> list[str]:
    """The layout as ca65 `NAME = value` lines for ui.inc."""
    values = {
        "CANVAS_SIDE": (CANVAS_SIDE, "canvas cells a side"),
        "CELL_PX": (CELL, "pixels a side of a canvas cell"),
        "CANVAS_COL": (CANVAS_COL, "canvas top-left tile column / row"),
        "CANVAS_ROW": (CANVAS_ROW, ""),
        "TITLE_COL": (TITLE_COL, "title"),
        "TITLE_ROW": (TITLE_ROW, ""),
        "GUESS_COL": (GUESS_COL, '"GUESS"'),
        "GUESS_ROW": (GUESS_ROW, ""),
        "THINK_PX": (THINK_PX, '"thinking" mark sprite, pixels'),
        "THINK_PY": (THINK_PY, ""),
        "THINK_TILE": (ord(THINK_GLYPH), f"its tile: {THINK_GLYPH!r}"),
        "DIGIT_COL": (DIGIT_COL, "big digit top-left tile"),
        "DIGIT_ROW": (DIGIT_ROW, ""),
        "BAR_COL": (BAR_COL, "bar j: row BAR_ROW+j from BAR_COL: marker, label, BAR_TILES tiles"),
        "BAR_ROW": (BAR_ROW, ""),
        "BAR_TILES": (BAR_TILES, ""),
        "HELP_COL": (HELP_COL, "help lines"),
        **{f"HELP_ROW{k}": (row, "") for k, row in enumerate(HELP_ROWS)},
        "REASON_COL": (REASON_COL, "no canvas: the reason, then a note"),
        "REASON_ROW": (REASON_ROW, ""),
        "NOTE_ROW": (NOTE_ROW, ""),
        "PALETTE1_COL": (PALETTE1_COL, "background palette 1 from this column on"),
    }
    return [f"{name} = {value}" + (f"   ; {note}" if note else "") for name, (value, note) in values.items()]
