"""Digits redrawn the way people draw them on the cartridge: D-pad runs with the console's brush,
and blocky, coarse shapes.

A person drawing on the NES moves a cursor one canvas cell at a time (straight or diagonal)
and the console stamps its brush (common/brush.py: a 2x2 core of full ink, a grey ring) at
every cell it passes. Whatever the hand meant, the canvas holds strokes of one fixed width made
of straight runs. MNIST's scanned pen strokes vary in width and curve smoothly. Two renderings
close that gap, for training copies (training/augment.py) and for the drawn evaluation
(training/variants.py):

- `redraw`: the digit's strokes thinned to a one-pixel skeleton (Zhang-Suen thinning), traced
  as a D-pad would: with a `step` of 1 the cursor follows the skeleton cell by cell; with a
  larger step the skeleton is snapped to a grid of that pitch (at a given phase) and adjacent
  grid points are joined by straight or diagonal runs, the blocky polylines of a person who
  holds a direction; then the brush is stamped at every cell of the path.
- `coarsen`: the digit averaged over a `side` x `side` grid (7 or 8 blocks of 3 to 4 pixels),
  its contrast stretched to full ink, and scaled back up by repeating each block: a digit
  drawn with big square cells.

Both take 0..255 images (n, 28, 28), vectorised over the batch. `redraw` returns canvas levels
(which `intnet.prep.level_pixels` turns into pixels that the preprocessing maps back to exactly
those levels), `coarsen` 0..255 images.
"""

from __future__ import annotations

import numpy as np

from common import brush
from common.config import MNIST_SIZE

INK = 128
"""A 0..255 pixel at or above this is ink when thinning (the middle grey: where a scanned
pen stroke's soft edge is half covered)."""
_NEIGHBOURS = ((-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1))
"""P2..P9 of Zhang-Suen thinning: north, then clockwise."""
_FORWARD = ((0, 1), (1, -1), (1, 0), (1, 1))
"""Half of the 8 neighbour directions: each adjacent pair of skeleton cells is met once."""


def _shifted(mask: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """`mask` moved by (dy, dx) cells: out[y, x] = mask[y - dy, x - dx], blank where it comes
    from off the field."""
    out = np.zeros_like(mask)
    height, width = mask.shape[-2:]
    ys, yd = slice(max(0, -dy), height - max(0, dy)), slice(max(0, dy), height - max(0, -dy))
    xs, xd = slice(max(0, -dx), width - max(0, dx)), slice(max(0, dx), width - max(0, -dx))
    out[..., yd, xd] = mask[..., ys, xs]
    return out


def skeleton(images: np.ndarray) -> np.ndarray:
    """The one-pixel-wide skeleton (bool, n x 28 x 28) of each image's ink (pixels >= INK):
    Zhang-Suen thinning, both sub-steps repeated until nothing changes."""
    ink = np.asarray(images) >= INK
    while True:
        before = ink.copy()
        for sub_step in (0, 1):
            ink &= ~_removable(ink, sub_step)
        if np.array_equal(ink, before):
            return ink


def _removable(ink: np.ndarray, sub_step: int) -> np.ndarray:
    """The border cells Zhang-Suen removes in this sub-step: 2..6 ink neighbours, exactly one
    blank-to-ink transition around them, and (sub-step 0) not both N/E/S and E/S/W inked,
    (sub-step 1) not both N/E/W and N/S/W inked."""
    p = [_shifted(ink, -dy, -dx) for dy, dx in _NEIGHBOURS]  # p[k][y, x] = ink[y + dy, x + dx]
    count = np.sum(p, axis=0)
    transitions = np.sum([~p[k] & p[(k + 1) % 8] for k in range(8)], axis=0)
    north, east, south, west = p[0], p[2], p[4], p[6]
    if sub_step == 0:
        keep_shape = ~(north & east & south) & ~(east & south & west)
    else:
        keep_shape = ~(north & east & west) & ~(north & south & west)
    return ink & (count >= 2) & (count <= 6) & (transitions == 1) & keep_shape


def trace(path_cells: np.ndarray, step: np.ndarray, phase_y: np.ndarray, phase_x: np.ndarray) -> np.ndarray:
    """The cursor path (bool, n x 28 x 28) a D-pad would take along each skeleton.

    Each skeleton cell is snapped to the nearest point of a grid of pitch `step` whose points
    sit at `phase + k * step`; every two adjacent skeleton cells then join their grid points
    by a straight or diagonal run of `step` cells (a step of 1 keeps the skeleton as it is)."""
    height, width = path_cells.shape[1:]
    out = np.zeros_like(path_cells)
    out[path_cells & (step == 1)[:, None, None]] = True
    last = np.array([height - 1, width - 1])
    for pitch in np.unique(step[step > 1]):
        chosen = np.flatnonzero(step == pitch)
        cells = path_cells[chosen]
        phase = np.stack([phase_y[chosen], phase_x[chosen]], axis=1)  # (m, 2)
        for dy, dx in ((0, 0), *_FORWARD):
            pairs = cells & _shifted(cells, -dy, -dx)  # cell and its (dy, dx) neighbour both ink
            image, y, x = np.nonzero(pairs)
            start = _snap(np.stack([y, x], axis=1), phase[image], int(pitch))
            end = _snap(np.stack([y + dy, x + dx], axis=1), phase[image], int(pitch))
            run = np.sign(end - start)  # adjacent skeleton cells snap to the same or adjacent points
            for t in range(int(pitch) + 1):
                at = np.clip(start + run * t, 0, last)
                out[chosen[image], at[:, 0], at[:, 1]] = True
    return out


def _snap(cells: np.ndarray, phase: np.ndarray, pitch: int) -> np.ndarray:
    """Each (y, x) moved to the nearest grid point `phase + k * pitch` (ties to the lower k)."""
    return phase + ((cells - phase + (pitch - 1) // 2) // pitch) * pitch


def stamp(path_cells: np.ndarray, levels: int) -> np.ndarray:
    """The canvas levels (uint8) after stamping the console's brush at every path cell: each
    cell keeps the darkest level any stamp gives it, as on the console."""
    canvas = np.zeros(path_cells.shape, dtype=np.uint8)
    for dy, dx, level in brush.cells(levels):
        if level:
            np.maximum(canvas, _shifted(path_cells, dy, dx).astype(np.uint8) * level, out=canvas)
    return canvas


def redraw(images: np.ndarray, levels: int, step: np.ndarray, phase_y: np.ndarray, phase_x: np.ndarray) -> np.ndarray:
    """Each image redrawn with the console's brush along its skeleton traced in D-pad runs
    (`trace`): the canvas levels (uint8, 0..levels-1) the cartridge would hold."""
    return stamp(trace(skeleton(images), step, phase_y, phase_x), levels)


def coarsen(images: np.ndarray, side: np.ndarray) -> np.ndarray:
    """Each image averaged over a `side` x `side` grid of blocks (pixel y belongs to block
    y * side // 28) and scaled back up, each pixel taking its block's mean, stretched so that
    the darkest block is full ink (rounded): a digit drawn with big cells, those that the
    stroke only grazes grey, as a person filling the cells the stroke mostly covers would."""
    out = np.empty_like(images)
    for grid in np.unique(side):
        chosen = np.flatnonzero(side == grid)
        member = (np.arange(MNIST_SIZE) * int(grid) // MNIST_SIZE)[None, :] == np.arange(int(grid))[:, None]
        spread = member.astype(np.float64)  # (grid, 28): block b holds pixel p
        sums = spread @ images[chosen].astype(np.float64) @ spread.T
        means = sums / np.outer(spread.sum(axis=1), spread.sum(axis=1))
        darkest = means.max(axis=(1, 2), keepdims=True)
        stretched = means * (255.0 / np.where(darkest > 0, darkest, 1.0))
        out[chosen] = np.rint(spread.T @ stretched @ spread).astype(np.uint8)
    return out
