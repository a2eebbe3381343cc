"""The packed canvas format (nes/tools/canvas.py): 4 cells a byte, the left cell in bits 0-1."""

from __future__ import annotations

import numpy as np
import pytest

from nes.tools import canvas


def test_pack_layout_and_round_trip() -> None:
    cells = np.zeros((28, 28), np.uint8)
    cells[0, 1] = 2  # byte 0, bits 2-3
    cells[0, 4] = 3  # byte 1, bits 0-1
    cells[27, 27] = 1  # the last byte, bits 6-7
    packed = canvas.pack(cells)
    assert packed.shape == (canvas.BYTES,) == (196,)
    assert (packed[0], packed[1], packed[-1]) == (0b1000, 0b11, 0b01000000)
    assert np.count_nonzero(packed) == 3
    rng = np.random.default_rng(0)
    levels = rng.integers(0, 4, (28, 28)).astype(np.uint8)
    np.testing.assert_array_equal(canvas.unpack(canvas.pack(levels)), levels)


def test_bad_canvases_are_refused() -> None:
    with pytest.raises(ValueError):
        canvas.pack(np.full((28, 28), 4))
    with pytest.raises(ValueError):
        canvas.unpack(np.zeros(784, np.uint8))
