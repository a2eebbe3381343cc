"""The pad-drawn digits: every digit as a person draws it on the cartridge, with the D-pad and A.

The one place of the digits the `paddrawn` step, the `screenshot` step and the UI tests draw.
Each stroke is a list of canvas cells (y, x) the cursor visits with A held; between two cells
the driver holds the D-pad diagonally, then straight (`Ui.move_to`), as a thumb does, so a slant
is a staircase of short diagonals. The cursor is the top-left cell of the brush's 2x2 core and
stays in 0..CURSOR_MAX; the brush inks the cells y-1..y+2, x-1..x+2 around it (ring without its
corners), so a stroke is 4 cells wide with its grey edge.

Three styles of every digit, because people do not draw like MNIST's scanned, size-normalised
digits: `neat` (centred, 18-19 cells tall), `small` (small and off-centre: 11 cells tall in a
corner or at an edge of the canvas) and `large` (23 cells tall and slanted to the right), in
cells of full ink (`ink_box`; the grey edge adds one cell on each side).
Beside them, shapes people write differently (`shape`): a 1 with a serif and a base line, a 7
with a bar across, open and closed 4s, a 9 with a straight tail. The digits were drawn to look
like the digit, never tuned to what a network answers: the set is a test, not training data.
Pure Python (no numpy): dodo.py's imports stay light.
"""

from __future__ import annotations

from dataclasses import dataclass

from nes.tools.screen import CANVAS_SIDE

Cell = tuple[int, int]
Stroke = list[Cell]

CURSOR_MAX = CANVAS_SIDE - 2  # ui.s's CUR_MAX: the 2x2 brush core stays on the canvas
STYLES = ("neat", "small", "large")
SHAPES = {(1, "serif and base"), (7, "bar"), (4, "open"), (4, "closed"), (9, "straight tail")}
"""The special shapes the set must hold: (digit, shape)."""


@dataclass(frozen=True)
class PadDigit:
    digit: int
    style: str  # one of STYLES
    strokes: list[Stroke]  # pen down along each, pen up between them
    shape: str = ""  # a special shape (see SHAPES), or "" for the usual one

    @property
    def name(self) -> str:
        """Unique in the set: '7 large', '4 neat, closed'."""
        return f"{self.digit} {self.style}" + (f", {self.shape}" if self.shape else "")


# fmt: off
PAD_DIGITS: tuple[PadDigit, ...] = (
    # neat: centred, cursor rows 5..22 (the first of each digit is DIGITS below)
    PadDigit(0, "neat", [[(5, 13), (7, 8), (13, 7), (19, 8), (22, 13), (19, 18), (13, 19), (7, 18), (5, 13)]]),
    PadDigit(1, "neat", [[(5, 14), (22, 13)]]),
    PadDigit(2, "neat", [[(8, 8), (5, 13), (8, 18), (12, 17), (21, 8), (21, 19)]]),
    PadDigit(3, "neat", [[(6, 8), (5, 13), (7, 18), (12, 16), (13, 11)],
                         [(13, 11), (14, 17), (19, 18), (22, 13), (20, 8)]]),
    PadDigit(4, "neat", [[(5, 9), (14, 7), (14, 19)], [(6, 16), (22, 16)]], "open"),
    PadDigit(5, "neat", [[(5, 18), (5, 9), (12, 8), (11, 14), (15, 18), (20, 16), (22, 11), (20, 7)]]),
    PadDigit(6, "neat", [[(5, 16), (11, 10), (18, 8), (22, 12), (20, 17), (15, 17), (13, 12), (17, 8)]]),
    PadDigit(7, "neat", [[(6, 7), (6, 19), (22, 12)], [(14, 10), (14, 18)]], "bar"),
    PadDigit(8, "neat", [[(9, 17), (5, 13), (8, 9), (12, 12), (16, 16), (20, 16), (22, 12), (20, 8), (16, 9),
                          (12, 13), (8, 17), (5, 13)]]),
    PadDigit(9, "neat", [[(11, 17), (6, 13), (8, 9), (12, 11), (11, 17), (5, 17), (22, 16)]], "straight tail"),
    # small and off-centre: cursor spans of 9-10 rows in the corners and at the left edge
    PadDigit(0, "small", [[(3, 8), (4, 5), (7, 3), (10, 4), (12, 7), (11, 10), (7, 11), (4, 10), (3, 8)]]),
    PadDigit(1, "small", [[(5, 20), (3, 22), (12, 22)]]),
    PadDigit(2, "small", [[(17, 16), (15, 19), (16, 22), (18, 22), (21, 19), (24, 16), (24, 23)]]),
    PadDigit(3, "small", [[(16, 3), (15, 6), (16, 9), (18, 9), (19, 6)],
                          [(19, 6), (21, 9), (23, 9), (24, 6), (23, 3)]]),
    PadDigit(4, "small", [[(3, 21), (6, 18), (9, 16), (9, 24)], [(3, 21), (12, 21)]], "closed"),
    PadDigit(5, "small", [[(15, 23), (15, 17), (19, 16), (18, 19), (20, 22), (23, 22), (24, 19), (23, 16)]]),
    PadDigit(6, "small", [[(3, 10), (6, 6), (10, 4), (12, 7), (11, 10), (8, 10), (8, 6)]]),
    PadDigit(7, "small", [[(15, 3), (15, 11), (19, 9), (24, 6)]]),
    PadDigit(8, "small", [[(5, 23), (3, 20), (5, 17), (7, 20), (9, 23), (11, 23), (12, 20), (11, 17), (9, 17),
                           (7, 20), (5, 23), (3, 20)]]),
    PadDigit(9, "small", [[(11, 9), (9, 7), (9, 4), (11, 3), (13, 4), (13, 8), (11, 9), (16, 9), (18, 8), (19, 5)]]),
    # large and slanted: cursor rows 2..23, the top about 6 cells right of the bottom
    PadDigit(0, "large", [[(2, 16), (3, 12), (6, 9), (10, 7), (15, 5), (19, 4), (22, 6), (23, 9), (22, 13),
                           (19, 17), (14, 19), (9, 21), (5, 20), (2, 16)]]),
    PadDigit(1, "large", [[(2, 17), (5, 16), (8, 15), (11, 14), (14, 13), (17, 12), (20, 11), (23, 10)]]),
    PadDigit(2, "large", [[(6, 9), (3, 13), (2, 17), (4, 20), (8, 20), (12, 17), (16, 12), (20, 7), (23, 4),
                           (23, 17)]]),
    PadDigit(3, "large", [[(4, 10), (2, 15), (3, 19), (6, 20), (10, 18), (12, 13)],
                          [(12, 13), (14, 17), (17, 18), (20, 16), (23, 11), (22, 6)]]),
    PadDigit(4, "large", [[(2, 12), (6, 10), (10, 8), (14, 6), (14, 12), (14, 20)],
                          [(3, 19), (8, 18), (13, 17), (18, 16), (23, 14)]], "open"),
    PadDigit(5, "large", [[(2, 23), (2, 14), (7, 13), (12, 11), (11, 15), (12, 19), (15, 21), (19, 20), (22, 16),
                           (23, 11), (21, 6)]]),
    PadDigit(6, "large", [[(2, 19), (5, 15), (9, 11), (13, 8), (17, 6), (21, 6), (23, 9), (22, 14), (19, 17),
                           (15, 17), (13, 14), (14, 10), (17, 7)]]),
    PadDigit(7, "large", [[(3, 7), (2, 14), (2, 21), (6, 19), (10, 17), (14, 14), (18, 12), (23, 9)]]),
    PadDigit(8, "large", [[(6, 20), (3, 18), (2, 15), (3, 12), (6, 11), (9, 13), (12, 15), (15, 17), (19, 16),
                           (22, 13), (23, 9), (21, 6), (17, 6), (14, 9), (11, 14), (8, 18), (6, 20), (3, 18)]]),
    PadDigit(9, "large", [[(9, 20), (4, 19), (3, 15), (5, 11), (9, 10), (12, 13), (11, 18), (9, 20), (3, 21),
                           (8, 20), (13, 18), (18, 16), (23, 14)]], "straight tail"),
    # the other shapes, neat: a 1 with a flag serif and a base line, a closed 4 (a triangle on the stem)
    PadDigit(1, "neat", [[(8, 10), (5, 14), (22, 14)], [(22, 10), (22, 18)]], "serif and base"),
    PadDigit(4, "neat", [[(5, 15), (10, 11), (15, 7), (15, 20)], [(5, 15), (22, 15)]], "closed"),
)
# fmt: on

DIGITS: dict[int, list[Stroke]] = {}
"""The first neat drawing of each digit: what the UI tests and the screenshot draw."""
for _entry in PAD_DIGITS:
    if _entry.style == "neat":
        DIGITS.setdefault(_entry.digit, _entry.strokes)


def pen_cells(stroke: Stroke) -> list[Cell]:
    """The cells the cursor passes with A held along `stroke`, as `Ui.move_to` moves it: each
    frame one cell diagonally towards the next point, straight once a row or column matches."""
    y, x = stroke[0]
    cells = [(y, x)]
    for ty, tx in stroke[1:]:
        while (y, x) != (ty, tx):
            y += (ty > y) - (ty < y)
            x += (tx > x) - (tx < x)
            cells.append((y, x))
    return cells


def ink_box(entry: PadDigit) -> tuple[int, int, int, int]:
    """The cells the drawing inks fully (top, bottom, left, right, inclusive): the brush core
    covers the cursor's cell and the cells right of and below it; the grey ring adds one more
    cell on each side."""
    cells = [cell for stroke in entry.strokes for cell in pen_cells(stroke)]
    ys, xs = [y for y, _ in cells], [x for _, x in cells]
    return min(ys), max(ys) + 1, min(xs), max(xs) + 1


def by_name(name: str) -> PadDigit:
    for entry in PAD_DIGITS:
        if entry.name == name:
            return entry
    raise KeyError(f"no pad-drawn digit named {name!r}")
