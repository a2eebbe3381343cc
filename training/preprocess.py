"""The one definition of how a 28x28 digit becomes the network's input.

Training applies these functions to MNIST and the console applies the same steps, in 6502
assembly, to the drawing canvas, so everything here is integer arithmetic that a 6502 can
mirror bit for bit (only `bilinear_resize`, kept for the origin preset, is not):

1. `to_levels`: each 0..255 pixel becomes one of `levels` grey levels 0..levels-1, the
   values a canvas cell on the NES can hold: `(p * (levels - 1) + 127) // 255`.
2. `deskew` (optional): shear each row sideways so that the digit stands upright, the
   slope taken from the second moments of its mass, in 1/256 fixed point.
3. `center_by_mass` (optional): translate the level image so that its centre of mass lands
   on the middle of the 28x28 field, as MNIST itself was centred:
   `d = floor((14 * M - S) / M)` with `M` the total mass and `S` the mass-weighted index.
4. `area_sum`: sum each `f x f` block of the centred `window` square (`f = window / size`,
   the window 28 unless configured): an exact area average times `f*f`. A window smaller
   than the field crops the margin that holds no ink once the digit is centred, so the digit
   spans more inputs. Blocks of 1.5 pixels (and other odd multiples of half a pixel) sum
   quarter-pixel squares instead: exact area averages times `(2f)^2`.
5. `scale_to_byte`: if the largest possible sum exceeds 255, shift it right by the fewest
   bits that make it fit a byte (`input_shift`).

The network sees `input / input_max` as its float input; `input_max` is part of the
exported manifest so the quantizer knows the input scale.

Each image is processed on its own, so `preprocess` works through large batches `CHUNK` images
at a time: the int64 moments and gather indices then never span the whole data set.
"""

from __future__ import annotations

import numpy as np

from training.config import MNIST_SIZE, PreprocessConfig

BYTE_MAX = 255
CHUNK = 4096
"""Images per step of `preprocess`: bounds its int64 temporaries (~25 MB an array) and keeps
them near the CPU caches; whole batches of 300,000 images needed gigabytes."""


def to_levels(images: np.ndarray, levels: int) -> np.ndarray:
    """Map 0..255 pixels to grey levels 0..levels-1 (round to nearest)."""
    if images.dtype == np.uint8:  # look the formula's 256 results up instead of computing it per pixel
        return _levels_of(np.arange(256, dtype=np.uint32), levels)[images]
    return _levels_of(images.astype(np.uint32), levels)


def _levels_of(wide: np.ndarray, levels: int) -> np.ndarray:
    return ((wide * (levels - 1) + 127) // 255).astype(np.uint8)


def center_shifts(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-image (dy, dx) that move the centre of mass to the middle; (0, 0) for blank images."""
    _n, height, width = images.shape
    row_mass = images.sum(axis=2, dtype=np.int64)  # exact integer sums, no int64 copy of the images
    mass = row_mass.sum(axis=1)
    sum_y = row_mass @ np.arange(height)
    sum_x = images.sum(axis=1, dtype=np.int64) @ np.arange(width)
    safe_mass = np.where(mass == 0, 1, mass)
    dy = np.where(mass == 0, 0, (height // 2 * mass - sum_y) // safe_mass)
    dx = np.where(mass == 0, 0, (width // 2 * mass - sum_x) // safe_mass)
    return dy.astype(np.int64), dx.astype(np.int64)


def translate(images: np.ndarray, dy: np.ndarray, dx: np.ndarray) -> np.ndarray:
    """Shift each image by its (dy, dx), filling with zeros; pixels shifted out are lost."""
    n, height, width = images.shape
    rows = np.arange(height)[None, :, None] - dy[:, None, None]  # (n, h, 1)
    cols = np.arange(width)[None, None, :] - dx[:, None, None]  # (n, 1, w)
    inside = ((rows >= 0) & (rows < height)) & ((cols >= 0) & (cols < width))
    # One flat index per output pixel, from per-row and per-column parts (cheaper than 3 indices).
    start = (np.arange(n) * (height * width))[:, None, None]
    index = (np.clip(rows, 0, height - 1) * width + start) + np.clip(cols, 0, width - 1)
    gathered = images.reshape(-1)[index]
    return np.where(inside, gathered, 0).astype(images.dtype)


def center_by_mass(images: np.ndarray) -> np.ndarray:
    dy, dx = center_shifts(images)
    return translate(images, dy, dx)


SKEW_ONE = 256
"""Fixed-point one of the deskew slope: the slope is kept in 1/256 steps, within +-1."""


def skew_slopes(images: np.ndarray) -> np.ndarray:
    """Per image, the slope x-per-y of the pixel mass in 1/256 units, clamped to +-256:
    `A = round(256 * Vxy / Vyy)` with `Vxy = M*Sxy - Sx*Sy`, `Vyy = M*Syy - Sy*Sy`."""
    ys = np.arange(images.shape[1])
    xs = np.arange(images.shape[2])
    row_mass = images.sum(axis=2, dtype=np.int64)
    mass = row_mass.sum(axis=1)
    sum_y = row_mass @ ys
    sum_x = images.sum(axis=1, dtype=np.int64) @ xs
    sum_yy = row_mass @ (ys * ys)
    sum_xy = (images.astype(np.int64) @ xs) @ ys  # per row the x moment, then weighted by y
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
    row_mass = images.sum(axis=2, dtype=np.int64)
    mass = row_mass.sum(axis=1)
    sum_y = row_mass @ np.arange(height)
    slope = skew_slopes(images)
    safe_mass = np.where(mass > 0, mass, 1)[:, None]
    offset = mass[:, None] * np.arange(height)[None, :] - sum_y[:, None]  # M*y - Sy
    shift = (2 * slope[:, None] * offset + SKEW_ONE * safe_mass) // (2 * SKEW_ONE * safe_mass)
    cols = np.arange(width)[None, None, :] + shift[:, :, None]
    inside = (cols >= 0) & (cols < width)
    # One flat index per output pixel: the row's start plus the clamped source column.
    row_start = (np.arange(n * height) * width).reshape(n, height, 1)
    gathered = images.reshape(-1)[row_start + np.clip(cols, 0, width - 1)]
    return np.where(inside, gathered, 0).astype(images.dtype)


def area_sum(images: np.ndarray, cfg: PreprocessConfig) -> np.ndarray:
    """Sum of each `cfg.block` x `cfg.block` block of the centred window square (from
    `cfg.window_start`, `cfg.window_side` pixels a side), as uint16; pixels outside it are
    dropped. With `cfg.half_pixels` (blocks of e.g. 1.5 pixels) each pixel counts as its four
    quarter-pixel squares and blocks are measured in them, so a pixel on a block edge gives each
    of its blocks its share (1, 2 or 4 quarters)."""
    start, side, size = cfg.window_start, cfg.window_side, cfg.size
    square = images[:, start : start + side, start : start + side]
    if cfg.half_pixels:
        square = square.repeat(2, axis=1).repeat(2, axis=2)  # quarter-pixel squares
    blocks = square.reshape(images.shape[0], size, cfg.block, size, cfg.block)
    return blocks.sum(axis=(2, 4), dtype=np.uint16)  # exact: blocks of at most 8x8 (quarter) pixels


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
    levels = to_levels(images, cfg.levels)
    if cfg.deskew:
        levels = deskew(levels)
    if cfg.center:
        levels = center_by_mass(levels)
    sums = area_sum(levels, cfg) >> input_shift(cfg)
    return sums.astype(np.uint8).reshape(n, cfg.size * cfg.size)
