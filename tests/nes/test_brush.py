"""The console's brush is common/brush.py's: the canvas after a pad stroke equals the Python
stamp (training/padlike.py, which draws the pad-like training digits) along the cursor's path."""

from __future__ import annotations

import json

import numpy as np

from common import layout
from nes.tools.ui_driver import DOWN, LEFT, RIGHT, UP, A, Ui
from tests.conftest import TinyBuild
from training.padlike import stamp


def test_console_strokes_equal_the_python_brush(tiny_build: TinyBuild) -> None:
    ui = Ui(tiny_build.out / "tiny.nes")
    levels = json.loads((tiny_build.out / "export" / layout.MANIFEST).read_text())["input"]["levels"]
    path = np.zeros((1, 28, 28), dtype=bool)
    # Pen-down runs the way a thumb makes them: right, diagonal, down, up-left, to the edges.
    for buttons, frames in ((RIGHT, 40), (RIGHT | DOWN, 30), (DOWN, 60), (UP | LEFT, 50), (LEFT, 90), (UP, 90)):
        for _ in range(frames):
            ui.step(A | buttons)
            y, x = ui.cursor()
            path[0, y, x] = True
    ui.step(0, 2)
    canvas = ui.canvas()
    assert set(np.unique(canvas)) == set(range(levels))
    np.testing.assert_array_equal(canvas, stamp(path, levels)[0])
    assert path.sum() > 40 and path[0, 0].any()  # a long path that reached the top edge
