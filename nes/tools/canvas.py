"""The packed drawing canvas: the one place its RAM format is defined for Python.

The `canvas` RAM symbol holds the 28x28 cells at 2 bits each (levels 0..3, the UI draws 0..2),
4 cells a byte, row-major: cell (y, x) is bits 2*(x % 4) and 2*(x % 4) + 1 of byte
`ROW_BYTES * y + x // 4`, i.e. the leftmost cell of a byte in its low bits. That order makes
the 6502 cheapest: a canvas tile (2x2 cells) is one nibble of a row's byte and the same nibble
of the next row's (ui.s looks each nibble up in a 16-entry table), and prep.s unpacks a byte
by `and #3` / `lsr lsr` from the left cell on.

Everything that reads or writes the symbol (ui_driver, the tests, console tools) goes through
`pack` / `unpack` (or `read` / `write` on a console); gen_ui.py writes `asm_constants()` into
ui.inc for ui.s and prep.s. numpy is imported only by the functions that need it, so budget.py
and gen_ui.py can take the sizes without it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nes.tools.screen import CANVAS_SIDE

if TYPE_CHECKING:
    import numpy as np

    from nes.tools.console import Console

SYMBOL = "canvas"
BITS = 2  # bits per cell
CELLS_PER_BYTE = 8 // BITS
ROW_BYTES = CANVAS_SIDE // CELLS_PER_BYTE  # 7
BYTES = CANVAS_SIDE * ROW_BYTES  # 196 (784 cells at one byte each before)
MAX_LEVEL = (1 << BITS) - 1
assert CANVAS_SIDE % CELLS_PER_BYTE == 0


def pack(cells: np.ndarray) -> np.ndarray:
    """(28, 28) levels 0..3 -> the 196 bytes of the RAM format."""
    import numpy as np

    cells = np.asarray(cells)
    if cells.shape != (CANVAS_SIDE, CANVAS_SIDE) or cells.min(initial=0) < 0 or cells.max(initial=0) > MAX_LEVEL:
        raise ValueError(f"a canvas is {CANVAS_SIDE}x{CANVAS_SIDE} levels 0..{MAX_LEVEL}, got {cells.shape}")
    fields = cells.astype(np.uint8).reshape(CANVAS_SIDE, ROW_BYTES, CELLS_PER_BYTE)
    shifts = np.arange(CELLS_PER_BYTE, dtype=np.uint8) * BITS
    return np.bitwise_or.reduce(fields << shifts, axis=2).astype(np.uint8).ravel()


def unpack(packed: np.ndarray) -> np.ndarray:
    """The 196 bytes of the RAM format -> (28, 28) levels (uint8)."""
    import numpy as np

    packed = np.asarray(packed, dtype=np.uint8)
    if packed.shape != (BYTES,):
        raise ValueError(f"a packed canvas is {BYTES} bytes, got {packed.shape}")
    shifts = np.arange(CELLS_PER_BYTE, dtype=np.uint8) * BITS
    cells = (packed.reshape(CANVAS_SIDE, ROW_BYTES, 1) >> shifts) & MAX_LEVEL
    return cells.reshape(CANVAS_SIDE, CANVAS_SIDE).astype(np.uint8)


def read(console: Console) -> np.ndarray:
    """The console's canvas as (28, 28) levels."""
    return unpack(console.peek(console.symbols.address(SYMBOL), BYTES))


def write(console: Console, cells: np.ndarray) -> None:
    """Put (28, 28) levels into the console's canvas (the UI redraws nothing by itself)."""
    console.poke(console.symbols.address(SYMBOL), pack(cells))


def asm_constants() -> list[str]:
    """The format's sizes as ca65 lines for ui.inc."""
    return [
        f"CANVAS_ROW_BYTES = {ROW_BYTES}   ; packed canvas: bytes a row ({CELLS_PER_BYTE} cells a byte)",
        f"CANVAS_BYTES = {BYTES}      ; the whole packed canvas",
    ]
