"""Seeded variations of 28x28 digits: the differences between MNIST and console drawings.

Two operations, both on 0..255 images and vectorised over a batch:

- `affine`: rotate, scale and translate each image about the middle of the field, sampling
  bilinearly (a zero rotation, unit scale and whole-pixel shift is an exact translation);
- `stroke`: make the strokes thicker (grey dilation) or thinner (grey erosion) by whole
  pixels, with a plus-shaped footprint so that one step changes a stroke's width by ~2 px;
- `elastic_fields`: smooth random displacement fields (a coarse grid of random offsets,
  upsampled bilinearly) that `affine` adds to its sampling positions: the wobble of a hand.

`augmented_copies` draws the parameters for the training copies (`augment` in config.yaml);
the drawn evaluation (`training/drawn.py`) applies fixed ones to the test digits.
"""

from __future__ import annotations

import numpy as np

from common.config import MNIST_SIZE, AugmentConfig

AUGMENT_SEED_OFFSET = 7919
"""Keeps the augmentation stream apart from the training seed's other uses."""
CHUNK = 8192  # images per vectorised step (bounds the memory of the sampling grids)
CENTRE = (MNIST_SIZE - 1) / 2.0


def affine(
    images: np.ndarray,
    angle_deg: np.ndarray,
    scale: np.ndarray,
    dy: np.ndarray,
    dx: np.ndarray,
    warp: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """Each image rotated by `angle_deg` (counter-clockwise), scaled by `scale` about the
    middle of the field, then moved by (`dy`, `dx`) pixels; uint8, zeros outside. `warp`:
    per-image (y, x) displacement fields (N, 28, 28) added to the sampling positions."""
    out = np.empty_like(images)
    for start in range(0, len(images), CHUNK):
        part = slice(start, start + CHUNK)
        part_warp = None if warp is None else (warp[0][part], warp[1][part])
        out[part] = _affine_chunk(images[part], angle_deg[part], scale[part], dy[part], dx[part], part_warp)
    return out


def elastic_fields(rng: np.random.Generator, count: int, amplitude: float, grid: int = 4) -> np.ndarray:
    """`count` smooth displacement fields (2, count, 28, 28), at most `amplitude` pixels: random
    offsets on a `grid` x `grid` lattice over the field, interpolated bilinearly between."""
    coarse = rng.uniform(-amplitude, amplitude, size=(2, count, grid, grid))
    position = np.linspace(0, grid - 1, MNIST_SIZE)
    low = np.minimum(np.floor(position).astype(np.int64), grid - 2)
    frac = position - low
    rows = coarse[:, :, low, :] * (1 - frac)[None, None, :, None] + coarse[:, :, low + 1, :] * frac[None, None, :, None]
    return rows[:, :, :, low] * (1 - frac) + rows[:, :, :, low + 1] * frac


def _affine_chunk(
    images: np.ndarray,
    angle_deg: np.ndarray,
    scale: np.ndarray,
    dy: np.ndarray,
    dx: np.ndarray,
    warp: tuple[np.ndarray, np.ndarray] | None,
) -> np.ndarray:
    n, height, width = images.shape
    theta = np.deg2rad(angle_deg.astype(np.float64))
    cos, sin = np.cos(theta) / scale, np.sin(theta) / scale
    ys, xs = np.meshgrid(np.arange(height, dtype=np.float64), np.arange(width, dtype=np.float64), indexing="ij")
    # Output pixel (y, x) samples the source at the inverse transform of (y - dy, x - dx).
    oy = ys[None] - dy[:, None, None] - CENTRE
    ox = xs[None] - dx[:, None, None] - CENTRE
    src_y = cos[:, None, None] * oy - sin[:, None, None] * ox + CENTRE
    src_x = sin[:, None, None] * oy + cos[:, None, None] * ox + CENTRE
    if warp is not None:
        src_y = src_y + warp[0]
        src_x = src_x + warp[1]
    y0 = np.floor(src_y)
    x0 = np.floor(src_x)
    fy = src_y - y0
    fx = src_x - x0
    y0 = y0.astype(np.int64)
    x0 = x0.astype(np.int64)
    padded = np.zeros((n, height + 2, width + 2), dtype=np.float32)
    padded[:, 1:-1, 1:-1] = images
    index = np.arange(n)[:, None, None]

    def sample(yy: np.ndarray, xx: np.ndarray) -> np.ndarray:
        return padded[index, np.clip(yy + 1, 0, height + 1), np.clip(xx + 1, 0, width + 1)]

    value = (
        sample(y0, x0) * (1 - fy) * (1 - fx)
        + sample(y0, x0 + 1) * (1 - fy) * fx
        + sample(y0 + 1, x0) * fy * (1 - fx)
        + sample(y0 + 1, x0 + 1) * fy * fx
    )
    return np.clip(np.rint(value), 0, 255).astype(np.uint8)


def stroke(images: np.ndarray, pixels: np.ndarray) -> np.ndarray:
    """Each image dilated (`pixels` > 0) or eroded (< 0) `|pixels|` times, plus-shaped."""
    out = images.copy()
    for step in range(int(np.max(np.abs(pixels), initial=0))):
        grow = pixels > step
        shrink = pixels < -step
        if grow.any():
            out[grow] = _neighbours(out[grow], np.maximum)
        if shrink.any():
            out[shrink] = _neighbours(out[shrink], np.minimum)
    return out


def _neighbours(images: np.ndarray, combine: np.ufunc) -> np.ndarray:
    """Combine each pixel with its four neighbours (outside the field counts as blank)."""
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1)))
    result = images.copy()
    for dy, dx in ((-1, 0), (1, 0), (0, -1), (0, 1)):
        result = combine(result, padded[:, 1 + dy : padded.shape[1] - 1 + dy, 1 + dx : padded.shape[2] - 1 + dx])
    return result


def augmented_copies(images: np.ndarray, augment: AugmentConfig, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """`augment.copies` random variations of each image and the index of each copy's source.

    Per copy: a whole-pixel shift up to `augment.shift` each way, a rotation up to
    `augment.rotate` degrees, a size factor within 1 +- `augment.scale`, and a stroke change
    of up to `augment.thickness` pixels, and an elastic wobble of up to `augment.elastic`
    pixels. The same seed gives the same copies."""
    rng = np.random.default_rng(seed + AUGMENT_SEED_OFFSET)
    n = images.shape[0]
    source = np.tile(np.arange(n), augment.copies)
    count = source.size
    dy = rng.integers(-augment.shift, augment.shift + 1, size=count)
    dx = rng.integers(-augment.shift, augment.shift + 1, size=count)
    angle = rng.uniform(-augment.rotate, augment.rotate, size=count)
    scale = rng.uniform(1.0 - augment.scale, 1.0 + augment.scale, size=count)
    thickness = rng.integers(-augment.thickness, augment.thickness + 1, size=count)
    warp = None
    if augment.elastic > 0:
        fields = elastic_fields(rng, count, augment.elastic)
        warp = (fields[0], fields[1])
    copies = stroke(images[source], thickness)
    return affine(copies, angle, scale, dy.astype(np.float64), dx.astype(np.float64), warp), source
