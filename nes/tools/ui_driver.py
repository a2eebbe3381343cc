"""Use the drawing cartridge like a person, in cynes: hold buttons, draw strokes, read the screen.

Only buttons drive it (`nes.controller`); RAM is read to know where the cursor is (as a person
looks at the screen) and to check results. Symbols come from the .dbg file, screen positions
from nes/tools/screen.py (the layout ui.s draws).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np

from nes.tools import canvas
from nes.tools.console import Console
from nes.tools.screen import BAR_PIXELS, BAR_PX, BAR_PY, CANVAS_PX, CANVAS_PY, CELL, DIGIT_PX, DIGIT_PY, TILE
from nes.tools.screen import CANVAS_SIDE as SIDE

RIGHT, LEFT, DOWN, UP, START, SELECT, B, A = (1 << k for k in range(8))


class Ui:
    def __init__(self, rom: Path):
        self.console = Console(rom)
        self.nes = self.console.nes
        self.sym = self.console.symbols.address
        self.frame = self.nes.step(1).copy()

    def reset(self) -> None:
        """Back to the state just after construction: the console as booted, nothing drawn
        (as good as a new Ui, without reading the ROM and its symbols again)."""
        self.nes.load(self.console.ready_state)
        self.nes.controller = 0
        self.frame = self.nes.step(1).copy()

    def byte(self, name: str) -> int:
        return self.nes[self.sym(name)]

    def cursor(self) -> tuple[int, int]:
        return self.byte("cur_y"), self.byte("cur_x")

    def canvas(self) -> np.ndarray:
        """The drawing as (28, 28) levels (the RAM holds it packed: nes/tools/canvas.py)."""
        return canvas.read(self.console)

    def step(self, buttons: int = 0, frames: int = 1) -> np.ndarray:
        self.nes.controller = buttons
        for _ in range(frames):
            self.frame = self.nes.step(1).copy()
            if self.nes.has_crashed:
                raise RuntimeError("the CPU crashed")
        return self.frame

    def press(self, buttons: int) -> None:
        """Press and release (2 frames each way, like a quick thumb)."""
        self.step(buttons, 2)
        self.step(0, 2)

    def move_to(self, y: int, x: int, draw: bool = False, max_frames: int = 600) -> None:
        """Hold the D-pad (and A when drawing) until the cursor is at (y, x)."""
        for _ in range(max_frames):
            cy, cx = self.cursor()
            if (cy, cx) == (y, x):
                return
            bits = A if draw else 0
            bits |= DOWN if y > cy else UP if y < cy else 0
            bits |= RIGHT if x > cx else LEFT if x < cx else 0
            self.step(bits)
        raise RuntimeError(f"cursor stuck at {self.cursor()} on the way to {(y, x)}")

    def stroke(self, points: list[tuple[int, int]]) -> None:
        """Move to the first point pen-up, then draw through the others; pen up at the end."""
        self.move_to(*points[0])
        self.step(A, 1)
        for y, x in points[1:]:
            self.move_to(y, x, draw=True)
        self.step(A, 1)
        self.step(0, 1)

    def draw(self, strokes: list[list[tuple[int, int]]]) -> None:
        for points in strokes:
            self.stroke(points)

    def wait_answer(self, max_frames: int = 300) -> int:
        """Frames until the classification of the final canvas is published and its big digit
        is on the screen (the NMI draws it from the buffer the frame after publishing)."""
        for frame in range(1, max_frames + 1):
            self.step(0)
            settled = self.byte("ui_dirty") == 0 and self.byte("ui_go") == 0 and self.byte("res_stage") == 0
            answered = self.byte("nn_state") == self.console.NN_DONE and self.byte("ui_have") == 1
            if settled and answered and shown_digit(self.frame) == self.byte("ui_winner"):
                return frame
        raise RuntimeError("no answer on the screen")

    def scores(self) -> np.ndarray:
        return self.console.read_result().scores

    def save(self, path: Path) -> None:
        from PIL import Image

        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(self.frame).save(path)


def lit(region: np.ndarray) -> np.ndarray:
    """Pixels that are not the background colour (the top-left pixel's colour)."""
    return np.any(region != region[0, 0], axis=-1) if region.size else np.zeros((0, 0), bool)


@cache  # read once: wait_answer compares the screen with them every frame
def glyph_masks() -> list[np.ndarray]:
    """The expected big-digit renderings (24x40 booleans) from nes/art/bigdigits.png."""
    from PIL import Image

    from nes.tools.gen_chr import ART_DIR, BIG_W

    with Image.open(ART_DIR / "bigdigits.png") as image:
        glyphs = np.array(image) != 0
    return [np.kron(glyphs[:, BIG_W * d : BIG_W * (d + 1)], np.ones((CELL, CELL), bool)) for d in range(10)]


def shown_digit(frame: np.ndarray) -> int | None:
    """Which digit the big-digit area shows exactly (None: blank or anything else)."""
    masks = glyph_masks()
    height, width = masks[0].shape
    region = frame[DIGIT_PY : DIGIT_PY + height, DIGIT_PX : DIGIT_PX + width]
    mask = np.any(region != frame[0, 0], axis=-1)
    for digit, want in enumerate(masks):
        if np.array_equal(mask, want):
            return digit
    return None


def bar_lengths(frame: np.ndarray) -> tuple[list[int], list[tuple[int, int, int]]]:
    """Per bar, its lit length in pixels (row 3 of the tile) and its colour."""
    lengths, colours = [], []
    for j in range(10):
        row = frame[BAR_PY + TILE * j + 3, BAR_PX : BAR_PX + BAR_PIXELS]
        on = np.any(row != frame[0, 0], axis=-1)
        lengths.append(int(on.sum()))
        colours.append(tuple(int(c) for c in row[0]) if on.any() else (0, 0, 0))
    return lengths, colours


def canvas_region(frame: np.ndarray) -> np.ndarray:
    return frame[CANVAS_PY : CANVAS_PY + SIDE * CELL, CANVAS_PX : CANVAS_PX + SIDE * CELL]


def expected_bars(scores: np.ndarray, shift: int) -> list[int]:
    best = int(scores.max())
    return [max(0, BAR_PIXELS - ((best - int(s)) >> shift)) for s in scores]
