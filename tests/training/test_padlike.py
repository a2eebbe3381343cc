"""Pad-like digits (training/padlike.py): thinning, D-pad tracing, the console's brush, coarse grids."""

from __future__ import annotations

import numpy as np

from common import brush
from intnet.prep import level_pixels, to_levels
from training.padlike import coarsen, redraw, skeleton, stamp, trace


def field(*boxes: tuple[int, int, int, int], value: int = 255) -> np.ndarray:
    """A 28x28 image with ink in the given (top, bottom, left, right) boxes, inclusive."""
    image = np.zeros((1, 28, 28), dtype=np.uint8)
    for top, bottom, left, right in boxes:
        image[0, top : bottom + 1, left : right + 1] = value
    return image


def test_level_pixels_map_back_to_their_levels() -> None:
    for levels, ink in ((2, None), (3, None), (4, None), (16, None), (256, None), (3, [16, 160]), (2, [1])):
        values = level_pixels(levels, ink)
        np.testing.assert_array_equal(to_levels(values, levels, ink), np.arange(levels))
        assert values[0] == 0 and values[-1] == 255


def test_a_thick_bar_thins_to_a_one_pixel_line_inside_it() -> None:
    bar = field((10, 14, 4, 23))
    thin = skeleton(bar)[0]
    assert thin.sum() > 10
    assert not (thin & (bar[0] == 0)).any()  # never outside the ink
    rows = np.flatnonzero(thin.any(axis=1))
    assert len(rows) <= 2 and rows.min() >= 10 and rows.max() <= 14
    assert thin.sum(axis=0).max() == 1  # one pixel wide


def test_thinning_keeps_a_ring_closed_and_a_dot() -> None:
    ring = field((6, 21, 6, 21))
    ring[0, 10:18, 10:18] = 0
    loop = skeleton(ring)[0]
    assert loop[13, 6:10].any() and loop[13, 18:22].any() and loop[6:10, 13].any() and loop[18:22, 13].any()
    assert not loop[10:18, 10:18].any()
    dot = field((5, 5, 5, 5))
    np.testing.assert_array_equal(skeleton(dot), dot > 0)
    assert not skeleton(np.zeros((2, 28, 28), np.uint8)).any()


def test_grey_below_half_is_not_ink() -> None:
    assert not skeleton(field((5, 20, 5, 20), value=127)).any()
    assert skeleton(field((5, 20, 5, 20), value=128)).any()


def test_step_one_follows_the_skeleton() -> None:
    cells = np.random.default_rng(1).random((4, 28, 28)) < 0.1
    ones, zeros = np.ones(4, np.int64), np.zeros(4, np.int64)
    np.testing.assert_array_equal(trace(cells, ones, zeros, zeros), cells)


def test_larger_steps_run_along_the_grid() -> None:
    """A slanted skeleton line, traced with pitch 3 at phase (1, 2): the path lies on the grid's
    rows or columns (a D-pad run between grid points), and is 8-connected from end to end."""
    cells = np.zeros((1, 28, 28), dtype=bool)
    for x in range(3, 25):
        cells[0, 5 + x // 3, x] = True
    path = trace(cells, np.array([3]), np.array([1]), np.array([2]))[0]
    ys, xs = np.nonzero(path)
    assert np.all(((ys - 1) % 3 == 0) | ((xs - 2) % 3 == 0))
    assert _connected(path)


def _connected(mask: np.ndarray) -> bool:
    """Whether the cells of `mask` form one 8-connected piece."""
    cells = set(zip(*np.nonzero(mask), strict=True))
    todo, seen = [next(iter(cells))], set()
    while todo:
        y, x = todo.pop()
        if (y, x) in seen:
            continue
        seen.add((y, x))
        todo += [(y + dy, x + dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1) if (y + dy, x + dx) in cells]
    return seen == cells


def test_one_stamp_paints_the_brush() -> None:
    path = np.zeros((1, 28, 28), dtype=bool)
    path[0, 10, 12] = True
    canvas = stamp(path, 3)[0]
    expected = np.zeros((28, 28), np.uint8)
    for dy, dx, level in brush.cells(3):
        expected[10 + dy, 12 + dx] = level
    np.testing.assert_array_equal(canvas, expected)
    assert canvas.sum() == 4 * 2 + 8 * 1


def test_stamps_keep_the_darkest_level_and_stay_on_the_field() -> None:
    path = np.zeros((1, 28, 28), dtype=bool)
    path[0, 0, 0] = path[0, 0, 2] = path[0, 27, 27] = True  # rings overlap cores; edges clip
    canvas = stamp(path, 3)[0]
    assert canvas[0, 2] == 2 and canvas[0, 1] == 2 and canvas[0, 3] == 2 and canvas[1, 4] == 1
    assert canvas[27, 27] == 2 and canvas[26, 27] == 1


def test_redraw_gives_canvas_levels_of_one_width() -> None:
    """A scanned stroke of any width comes back in the brush's width: 2 core cells + 2 ring."""
    for width in (3, 6):
        bar = field((12, 11 + width, 4, 23))
        levels = redraw(bar, 3, np.array([1]), np.array([0]), np.array([0]))[0]
        assert set(np.unique(levels)) == {0, 1, 2}
        column = levels[:, 14]
        assert (column == 2).sum() == 2 and (column == 1).sum() == 2


def test_coarsen_makes_blocks_and_stretches_to_full_ink() -> None:
    images = np.random.default_rng(2).integers(0, 100, size=(3, 28, 28)).astype(np.uint8)
    for grid in (7, 8):
        blocky = coarsen(images, np.full(3, grid))
        edges = np.arange(28) * grid // 28
        for image in blocky:
            assert image.max() == 255
            for block in range(grid):
                rows = image[edges == block]
                assert (rows == rows[0]).all()  # constant down each block
                cols = image[:, edges == block]
                assert (cols == cols[:, :1]).all()
    assert not coarsen(np.zeros((1, 28, 28), np.uint8), np.array([7])).any()
