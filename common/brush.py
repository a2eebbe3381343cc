"""The console's brush: which canvas cells one stamp of the cursor paints, and how dark.

The one definition of the brush. The cartridge stamps it at the cursor while A is held
(nes/src/ui.s reads these tables through the generated ui.inc), the pad-like training digits
are redrawn with it (training/padlike.py), and the browser page paints the same cells.

The cursor is the top-left cell of a 2x2 core of full ink; a ring of lighter cells (the core's
four sides, no corners) softens the stroke like a scanned pen line. Stamping never lowers a
cell: overlapping stamps keep the darker level, as ink adds up.
"""

from __future__ import annotations

CORE: tuple[tuple[int, int], ...] = ((0, 0), (0, 1), (1, 0), (1, 1))
"""(dy, dx) of the core's cells from the cursor."""
RING: tuple[tuple[int, int], ...] = ((-1, 0), (-1, 1), (2, 0), (2, 1), (0, -1), (1, -1), (0, 2), (1, 2))
"""(dy, dx) of the ring's cells: above, below, left and right of the core."""
SPAN = 2
"""Cells a side of the core: the cursor's last position is the canvas side minus this."""


def core_level(levels: int) -> int:
    """The core's grey level on a canvas of `levels` levels: full ink."""
    return levels - 1


def ring_level(levels: int) -> int:
    """The ring's level: the middle grey on a 3-level canvas; none (0) otherwise, where a
    middle level would be no softer than one step below full or would not exist."""
    return 1 if levels == 3 else 0


def cells(levels: int) -> list[tuple[int, int, int]]:
    """Every painted cell as (dy, dx, level): the core first, then the ring."""
    return [(dy, dx, core_level(levels)) for dy, dx in CORE] + [(dy, dx, ring_level(levels)) for dy, dx in RING]
