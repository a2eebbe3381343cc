"""The one definition of how a 28x28 digit becomes the network's input.

Training applies these functions to MNIST and the console applies the same steps, in 6502
assembly, to the drawing canvas, so everything here is integer arithmetic that a 6502 can
mirror bit for bit (only `bilinear_resize`, kept for the origin preset, is not):

1. `to_levels`: each 0..255 pixel becomes one of `levels` grey levels 0..levels-1, the
   values a canvas cell on the NES can hold: `(p * (levels - 1) + 127) // 255` (the nearest
   level), or with `ink` set, level k from the pixel value `ink[k - 1]` on. This step maps a
   scanned digit onto the canvas; the console's canvas holds levels already and starts at 2.
2. `normalize_size` (optional, `normalize: B`): scale the bounding box of the ink (the cells of
   level > 0) by nearest-neighbour index maps so that its longer side becomes B pixels, the
   aspect kept, in a box centred on the field, as MNIST fitted its digits in 20x20
   (see its docstring for the exact maps).
3. `deskew` (optional): shear each row sideways so that the digit stands upright, the
   slope taken from the second moments of its mass, in 1/256 fixed point.
4. `center_by_mass` (optional): translate the level image so that its centre of mass lands
   on the middle of the 28x28 field, as MNIST itself was centred:
   `d = floor((14 * M - S) / M)` with `M` the total mass and `S` the mass-weighted index.
5. `area_sum`: sum each `f x f` block of the centred `window` square (`f = window / size`,
   the window 28 unless configured): an exact area average times `f*f`. A window smaller
   than the field crops the margin that holds no ink once the digit is centred, so the digit
   spans more inputs. Blocks of 1.5 pixels (and other odd multiples of half a pixel) sum
   quarter-pixel squares instead: exact area averages times `(2f)^2`.
6. `scale_to_byte`: if the largest possible sum exceeds 255, shift it right by the fewest
   bits that make it fit a byte (`input_shift`).

The network sees `input / input_max` as its float input; `input_max` is part of the
exported manifest so the quantizer knows the input scale.

Each image is processed on its own, so `preprocess` works through large batches `CHUNK` images
at a time (the same bytes as all at once): its temporaries never span the whole data set.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from common.config import MNIST_SIZE, PreprocessConfig

BYTE_MAX = 255
CHUNK = 512
"""Images per step of `preprocess`: bounds its temporaries (under 4 MB an array) and keeps them
in the CPU caches (measured: three times faster than 4,096 a step); whole batches of 300,000
images needed gigabytes."""


def to_levels(images: np.ndarray, levels: int, ink: list[int] | None = None) -> np.ndarray:
    """Map 0..255 pixels to grey levels 0..levels-1: a pixel reaches level k at `ink[k - 1]`
    (`preprocess.ink`), or, without `ink`, the nearest level."""
    if images.dtype == np.uint8:  # look the 256 results up instead of computing them per pixel
        return _levels_of(np.arange(256, dtype=np.uint32), levels, ink).take(images)
    return _levels_of(images.astype(np.uint32), levels, ink)


def _levels_of(wide: np.ndarray, levels: int, ink: list[int] | None) -> np.ndarray:
    if ink is None:
        return ((wide * (levels - 1) + 127) // 255).astype(np.uint8)
    return np.searchsorted(np.asarray(ink, dtype=np.uint32), wide, side="right").astype(np.uint8)


def level_pixels(levels: int, ink: list[int] | None = None) -> np.ndarray:
    """A 0..255 value for each level that `to_levels` maps back to it: the smallest such pixel,
    but 255 for full ink (canvas levels as pixels: `level_pixels(...)[canvas]`)."""
    mapped = _levels_of(np.arange(256, dtype=np.uint32), levels, ink)
    pixels = np.searchsorted(mapped, np.arange(levels)).astype(np.uint8)
    pixels[-1] = 255
    return pixels


@dataclass(frozen=True)
class _Moments:
    """Per image, the pixel mass by row and by column and the x moment of each row (int64)."""

    row_mass: np.ndarray  # (n, h): sum over x of p
    col_mass: np.ndarray  # (n, w): sum over y of p
    row_x: np.ndarray  # (n, h): sum over x of x * p

    @property
    def mass(self) -> np.ndarray:
        return self.row_mass.sum(axis=1)

    @property
    def sum_y(self) -> np.ndarray:
        return self.row_mass @ np.arange(self.row_mass.shape[1])

    @property
    def sum_x(self) -> np.ndarray:
        return self.col_mass @ np.arange(self.col_mass.shape[1])


def _moments(images: np.ndarray) -> _Moments:
    """The integer moments of (n, h, w) images. For bytes they are taken in float32 (a matrix
    product and a sum): every partial sum is an integer below 2^24 (at most 255 * 27 * 28 for a
    28-pixel row), so float32 holds each one exactly in any order, and it is several times faster
    than int64 arithmetic over every pixel."""
    n, height, width = images.shape
    weights = np.stack([np.ones(width), np.arange(width)], axis=1)  # (w, 2): mass, x moment
    if images.dtype == np.uint8 and max(height, width) <= MNIST_SIZE:
        pixels = images.astype(np.float32)
        per_row = (pixels.reshape(n * height, width) @ weights.astype(np.float32)).astype(np.int64)
        col_mass = pixels.sum(axis=1).astype(np.int64)
    else:
        wide = images.astype(np.int64)
        per_row = wide.reshape(n * height, width) @ weights.astype(np.int64)
        col_mass = wide.sum(axis=1)
    per_row = per_row.reshape(n, height, 2)
    return _Moments(per_row[:, :, 0], col_mass, per_row[:, :, 1])


def _axis_maps(ink: np.ndarray, extent: np.ndarray, scaled: np.ndarray) -> np.ndarray:
    """Per image and output index j (n, side): the source index `lo + ((2*(j - start) + 1) * n) //
    (2 * n')` for `start <= j < start + n'` (`start = (side - n') // 2`), -1 elsewhere; `ink` (n, side)
    says which rows (or columns) hold ink, `extent` is n, `scaled` n'."""
    side = ink.shape[1]
    lo = ink.argmax(axis=1)
    start = (side - scaled) // 2
    j = np.arange(side)[None, :] - start[:, None]
    inside = (j >= 0) & (j < scaled[:, None])
    source = lo[:, None] + ((2 * j + 1) * extent[:, None]) // (2 * scaled[:, None])
    return np.where(inside, source, -1)


def normalize_size(images: np.ndarray, box: int) -> np.ndarray:
    """Scale each image's ink to fit a `box` x `box` square in the middle of the field, the aspect
    ratio kept, by nearest-neighbour sampling (up or down), as MNIST fitted its digits in 20x20.

    The ink's bounding box (rows y0..y1, columns x0..x1 holding a non-zero value) is h = y1-y0+1
    rows by w = x1-x0+1 columns; with L = max(h, w) its sides become
    `h' = max(1, (h*box + L//2) // L)` and `w'` likewise (the longer one exactly `box`), placed
    from row `Y0 = (28 - h') // 2` and column `X0 = (28 - w') // 2`. Output pixel (Y, X) inside that
    box takes the input pixel of row `y0 + ((2*(Y-Y0) + 1) * h) // (2*h')` and column
    `x0 + ((2*(X-X0) + 1) * w) // (2*w')` (the source pixel under its centre), every other pixel
    is 0. A box of the same size maps each pixel to itself: the ink is only moved. Blank images stay.

    Why here, after the grey levels and before deskew: the console only holds the levels, and
    sampling commutes with the per-pixel level map, so only the bounding box depends on the
    order (it is that of the cells of level > 0). Before deskew, as MNIST did it (its digits were
    fitted to 20x20 slanted as written, then centred), so MNIST's own digits, whose level box is
    20 pixels long, come out only moved; deskew then sees digits of one size, and the 6502 takes
    the box from the canvas itself in one pass (after deskew it would need the sheared image's
    box: one more pass, and shifts inside the index maps). The price: a digit slanted so far that
    its box is wider than tall is fitted by its width, a little smaller than upright. Centring
    by mass, when on, then moves the digit from the box's placement to its mass's."""
    n, height, width = images.shape
    ink = images > 0
    rows, cols = ink.any(axis=2), ink.any(axis=1)
    h = height - rows.argmax(axis=1) - rows[:, ::-1].argmax(axis=1)
    w = width - cols.argmax(axis=1) - cols[:, ::-1].argmax(axis=1)
    longer = np.maximum(h, w)
    row_map = _axis_maps(rows, h, np.maximum(1, (h * box + longer // 2) // longer))
    col_map = _axis_maps(cols, w, np.maximum(1, (w * box + longer // 2) // longer))
    # (A blank image has no box: its maps come out of a 28x28 one, and it gathers only zeros.)
    keep = (row_map[:, :, None] >= 0) & (col_map[:, None, :] >= 0)
    picks = np.arange(n)[:, None, None], np.maximum(row_map, 0)[:, :, None], np.maximum(col_map, 0)[:, None, :]
    return np.where(keep, images[picks], 0).astype(images.dtype)


def center_shifts(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-image (dy, dx) that move the centre of mass to the middle; (0, 0) for blank images."""
    _n, height, width = images.shape
    moments = _moments(images)
    mass, sum_y, sum_x = moments.mass, moments.sum_y, moments.sum_x
    safe_mass = np.where(mass == 0, 1, mass)
    dy = np.where(mass == 0, 0, (height // 2 * mass - sum_y) // safe_mass)
    dx = np.where(mass == 0, 0, (width // 2 * mass - sum_x) // safe_mass)
    return dy.astype(np.int64), dx.astype(np.int64)


def _shift_rows(rows: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """Each row of `rows` (m, w) moved left by its `shift` (right when negative): `out[x] =
    row[x + shift]`, zero where that falls outside the row.

    Rows are grouped by shift and each group is copied as one slice: shifts take few distinct
    values, so this costs a copy of the rows instead of an index per pixel."""
    m, width = rows.shape
    out = np.zeros_like(rows)
    if m == 0:
        return out
    shift = np.clip(shift, -width, width)  # a larger shift empties the row just the same
    order = np.argsort(shift, kind="stable")
    values, starts = np.unique(shift[order], return_index=True)
    for value, first, last in zip(values.tolist(), starts, [*starts[1:], m], strict=True):
        group = order[first:last]
        if value >= 0:
            out[group, : width - value] = rows[group, value:]
        else:
            out[group, -value:] = rows[group, : width + value]
    return out


def translate(images: np.ndarray, dy: np.ndarray, dx: np.ndarray) -> np.ndarray:
    """Shift each image by its (dy, dx), filling with zeros; pixels shifted out are lost."""
    n, height, width = images.shape
    # Down by dy rows is right by dy * width in the flattened image (the zero fill lands on
    # whole rows), then right by dx within every row.
    down = _shift_rows(images.reshape(n, height * width), -np.asarray(dy) * width)
    moved = _shift_rows(down.reshape(n * height, width), np.repeat(-np.asarray(dx), height))
    return moved.reshape(images.shape)


def center_by_mass(images: np.ndarray) -> np.ndarray:
    dy, dx = center_shifts(images)
    return translate(images, dy, dx)


SKEW_ONE = 256
"""Fixed-point one of the deskew slope: the slope is kept in 1/256 steps, within +-1."""


def skew_slopes(images: np.ndarray) -> np.ndarray:
    """Per image, the slope x-per-y of the pixel mass in 1/256 units, clamped to +-256:
    `A = round(256 * Vxy / Vyy)` with `Vxy = M*Sxy - Sx*Sy`, `Vyy = M*Syy - Sy*Sy`."""
    return _slopes(_moments(images))


def _slopes(moments: _Moments) -> np.ndarray:
    ys = np.arange(moments.row_mass.shape[1])
    mass, sum_y, sum_x = moments.mass, moments.sum_y, moments.sum_x
    sum_yy = moments.row_mass @ (ys * ys)
    sum_xy = moments.row_x @ ys
    vxy = mass * sum_xy - sum_x * sum_y
    vyy = mass * sum_yy - sum_y * sum_y
    safe = np.where(vyy > 0, vyy, 1)
    slope = np.where(vyy > 0, (2 * SKEW_ONE * vxy + safe) // (2 * safe), 0)
    return np.clip(slope, -SKEW_ONE, SKEW_ONE)


def deskew(images: np.ndarray) -> np.ndarray:
    """Shear each image so that its mass stands upright: row y moves left by
    `s(y) = round(A * (M*y - Sy) / (256 * M))` pixels (A from `skew_slopes`), i.e. the
    row's offset from the centre-of-mass row times the slope. Zero fill; blank images stay."""
    n, height, width = images.shape
    moments = _moments(images)
    mass, sum_y = moments.mass, moments.sum_y
    slope = _slopes(moments)
    safe_mass = np.where(mass > 0, mass, 1)[:, None]
    offset = mass[:, None] * np.arange(height)[None, :] - sum_y[:, None]  # M*y - Sy
    shift = (2 * slope[:, None] * offset + SKEW_ONE * safe_mass) // (2 * SKEW_ONE * safe_mass)
    return _shift_rows(images.reshape(n * height, width), shift.reshape(-1)).reshape(images.shape)


def area_sum(images: np.ndarray, cfg: PreprocessConfig) -> np.ndarray:
    """Sum of each `cfg.block` x `cfg.block` block of the centred window square (from
    `cfg.window_start`, `cfg.window_side` pixels a side), as uint16; pixels outside it are
    dropped. With `cfg.half_pixels` (blocks of e.g. 1.5 pixels) each pixel counts as its four
    quarter-pixel squares and blocks are measured in them, so a pixel on a block edge gives each
    of its blocks its share (1, 2 or 4 quarters)."""
    start, side, block = cfg.window_start, cfg.window_side, cfg.block
    square = images[:, start : start + side, start : start + side]
    if cfg.half_pixels:
        square = square.repeat(2, axis=1).repeat(2, axis=2)  # quarter-pixel squares
    # Sum the k-th column of every block, then the k-th row: `block` strided slices each way
    # (exact in uint16: blocks of at most 8x8 (quarter) pixels; ten times faster than a
    # reduction over the two block axes).
    columns = square[:, :, 0::block].astype(np.uint16)
    for k in range(1, block):
        columns += square[:, :, k::block]
    sums = columns[:, 0::block, :].copy()
    for k in range(1, block):
        sums += columns[:, k::block, :]
    return sums


def input_shift(cfg: PreprocessConfig) -> int:
    """Right shift that brings the largest area sum into a byte (0 when it already fits)."""
    if cfg.resize == "bilinear":
        return 0
    largest = (cfg.levels - 1) * cfg.block**2
    return max(0, largest.bit_length() - 8)


def input_max(cfg: PreprocessConfig) -> int:
    """The largest value an input byte can take; the network's input scale is 1/input_max."""
    if cfg.resize == "bilinear":
        return BYTE_MAX
    return ((cfg.levels - 1) * cfg.block**2) >> input_shift(cfg)


def bilinear_resize(images: np.ndarray, size: int) -> np.ndarray:
    """The origin's resize: bilinear with half-pixel centres and no antialiasing, like
    `tf.image.resize(..., 'bilinear')`, rounded to bytes. Not mirrored on the console."""
    scale = MNIST_SIZE / size
    centres = (np.arange(size) + 0.5) * scale - 0.5
    low = np.clip(np.floor(centres).astype(int), 0, MNIST_SIZE - 1)
    high = np.clip(low + 1, 0, MNIST_SIZE - 1)
    frac = centres - np.floor(centres)
    data = images.astype(np.float64)
    rows = data[:, low, :] * (1 - frac)[None, :, None] + data[:, high, :] * frac[None, :, None]
    out = rows[:, :, low] * (1 - frac)[None, None, :] + rows[:, :, high] * frac[None, None, :]
    return np.floor(out + 0.5).astype(np.uint8)


def preprocess(images: np.ndarray, cfg: PreprocessConfig) -> np.ndarray:
    """(N, 28, 28) uint8 digits -> (N, size*size) uint8 network inputs in 0..input_max."""
    if images.ndim != 3 or images.shape[1:] != (MNIST_SIZE, MNIST_SIZE):
        raise ValueError(f"expected (N, 28, 28) images, got {images.shape}")
    out = np.empty((images.shape[0], cfg.size * cfg.size), dtype=np.uint8)
    for start in range(0, images.shape[0], CHUNK):
        part = slice(start, start + CHUNK)
        out[part] = _preprocess_chunk(images[part], cfg)
    return out


def _preprocess_chunk(images: np.ndarray, cfg: PreprocessConfig) -> np.ndarray:
    """`preprocess` for one chunk of images."""
    n = images.shape[0]
    if cfg.resize == "bilinear":
        return bilinear_resize(images, cfg.size).reshape(n, cfg.size * cfg.size)
    levels = to_levels(images, cfg.levels, cfg.ink)
    if cfg.normalize is not None:
        levels = normalize_size(levels, cfg.normalize)
    if cfg.deskew:
        levels = deskew(levels)
    if cfg.center:
        levels = center_by_mass(levels)
    sums = area_sum(levels, cfg) >> input_shift(cfg)
    return sums.astype(np.uint8).reshape(n, cfg.size * cfg.size)
