"""Seeded variations of 28x28 digits: the differences between MNIST and console drawings.

Three operations, all on 0..255 images and vectorised over a batch:

- `affine`: rotate, scale and translate each image about the middle of the field, sampling
  bilinearly (a zero rotation, unit scale and whole-pixel shift is an exact translation);
- `stroke`: make the strokes thicker (grey dilation) or thinner (grey erosion) by whole
  pixels, with a plus-shaped footprint so that one step changes a stroke's width by ~2 px;
- `elastic_fields`: smooth random displacement fields (a coarse grid of random offsets,
  upsampled bilinearly) that `affine` adds to its sampling positions: the wobble of a hand.

`augmented_chunks` draws the parameters for the training copies (`augment` in config.yaml)
and yields the copies a chunk at a time, so that the caller can preprocess each chunk before
the next is made (`augmented_copies` gathers them all); the drawn evaluation
(`training/drawn.py`) applies fixed ones to the test digits.

Every image is transformed on its own, so splitting a batch into chunks changes no value:
the float64 sampling arithmetic below is elementwise and keeps one fixed operation order.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from common.config import MNIST_SIZE, AugmentConfig, PreprocessConfig
from intnet.prep import level_pixels
from training import padlike

AUGMENT_SEED_OFFSET = 7919
"""Keeps the augmentation stream apart from the training seed's other uses."""
CHUNK = 256
"""Images per vectorised step. It bounds the memory of the float64 sampling grids and
displacement fields (1.6 MB an array), small enough to stay in the CPU caches between steps:
measured, twice as fast as 2,048 images a step, while whole batches of 240,000 copies needed
gigabytes."""
CENTRE = (MNIST_SIZE - 1) / 2.0
_BORDER = 2  # blank pixels around each image while sampling: corners off the field read zero
_PADDED = MNIST_SIZE + 2 * _BORDER


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
    sampler = _Sampler(min(len(images), CHUNK))
    for start in range(0, len(images), CHUNK):
        part = slice(start, start + CHUNK)
        part_warp = None if warp is None else (warp[0][part], warp[1][part])
        sampler.affine(images[part], angle_deg[part], scale[part], dy[part], dx[part], part_warp, out[part])
    return out


def elastic_fields(rng: np.random.Generator, count: int, amplitude: float, grid: int = 4) -> np.ndarray:
    """`count` smooth displacement fields (2, count, 28, 28), at most `amplitude` pixels: random
    offsets on a `grid` x `grid` lattice over the field, interpolated bilinearly between."""
    return _upsample(_coarse_offsets(rng, count, amplitude, grid))


def _coarse_offsets(rng: np.random.Generator, count: int, amplitude: float, grid: int = 4) -> np.ndarray:
    """The random lattice offsets (2, count, grid, grid) behind `elastic_fields`: all drawn in
    one call, so the stream is the same however the fields are later upsampled in chunks."""
    return rng.uniform(-amplitude, amplitude, size=(2, count, grid, grid))


def _upsample(coarse: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Lattice offsets (2, n, grid, grid) -> fields (2, n, 28, 28) (into `out` if given), bilinear:
    rows first, then columns (this order and these expressions fix the float64 rounding)."""
    grid = coarse.shape[-1]
    position = np.linspace(0, grid - 1, MNIST_SIZE)
    low = np.minimum(np.floor(position).astype(np.int64), grid - 2)
    frac = position - low
    rows = coarse[:, :, low, :] * (1 - frac)[None, None, :, None] + coarse[:, :, low + 1, :] * frac[None, None, :, None]
    # Columns: rows[..., low] * (1 - frac) + rows[..., low + 1] * frac, a column at a time with
    # scalar weights: faster than gathering the lattice columns for every pixel.
    lattice = np.moveaxis(rows, 3, 0).copy()  # (grid, 2, n, 28): one lattice column contiguous
    if out is None:
        out = np.empty((*rows.shape[:3], MNIST_SIZE))
    left, right = np.empty(rows.shape[:3]), np.empty(rows.shape[:3])
    for column in range(MNIST_SIZE):
        np.multiply(lattice[low[column]], 1 - frac[column], out=left)
        np.multiply(lattice[low[column] + 1], frac[column], out=right)
        np.add(left, right, out=out[..., column])
    return out


class _Sampler:
    """Bilinear resampling (`affine`) of up to `capacity` images at a time, in float64 work
    arrays kept from one chunk to the next.

    Why keep them: arrays of a few MB allocated afresh every chunk come back from the kernel
    as new pages each time (measured: 3.8 million page faults, 40 % of the run); reused ones
    stay mapped and mostly in the CPU caches."""

    def __init__(self, capacity: int) -> None:
        shape = (2, capacity, MNIST_SIZE, MNIST_SIZE)
        self._frac = np.empty(shape)  # (y, x) sampling positions, then their fractional parts
        self._whole = np.empty(shape)  # elastic fields, then the positions' floors, then 1 - frac
        self._value = np.empty(shape)  # the interpolated value and one term of it
        self._corner = np.empty(shape[1:], dtype=np.intp)
        # The images with a two-pixel blank border (the border is never written), as float64:
        # bytes convert exactly, and the products below then need no mixed-type conversion.
        self._padded = np.zeros((capacity, _PADDED, _PADDED))

    def fields(self, coarse: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """`elastic_fields` of these lattice offsets, in the sampler's own memory: valid until
        the next `affine` (which may take them as its `warp`)."""
        fields = _upsample(coarse, self._whole[:, : coarse.shape[1]])
        return fields[0], fields[1]

    def affine(
        self,
        images: np.ndarray,
        angle_deg: np.ndarray,
        scale: np.ndarray,
        dy: np.ndarray,
        dx: np.ndarray,
        warp: tuple[np.ndarray, np.ndarray] | None,
        out: np.ndarray,
    ) -> None:
        """`affine` of at most `capacity` images, written into `out` (uint8; may be `images`
        itself: they are read before it is written)."""
        n, height, width = images.shape
        src_y, src_x = self._frac[0, :n], self._frac[1, :n]
        y0, x0 = self._whole[0, :n], self._whole[1, :n]
        value, term = self._value[0, :n], self._value[1, :n]
        corner = self._corner[:n]
        padded = self._padded[:n]
        theta = np.deg2rad(angle_deg.astype(np.float64))
        cos, sin = np.cos(theta) / scale, np.sin(theta) / scale
        # Output pixel (y, x) samples the source at the inverse transform of (y - dy, x - dx). The
        # row term depends on y only and the column term on x only: (n, h, 1) and (n, 1, w) arrays,
        # broadcast when they meet, give the same values as full grids at a fraction of the work.
        oy = (np.arange(height, dtype=np.float64)[None, :] - dy[:, None] - CENTRE)[:, :, None]
        ox = (np.arange(width, dtype=np.float64)[None, :] - dx[:, None] - CENTRE)[:, None, :]
        np.subtract(cos[:, None, None] * oy, sin[:, None, None] * ox, out=src_y)
        src_y += CENTRE
        np.add(sin[:, None, None] * oy, cos[:, None, None] * ox, out=src_x)
        src_x += CENTRE
        if warp is not None:
            src_y += warp[0]
            src_x += warp[1]
        np.floor(src_y, out=y0)
        np.floor(src_x, out=x0)
        fy = np.subtract(src_y, y0, out=src_y)
        fx = np.subtract(src_x, x0, out=src_x)
        # The flat index of each sample's top-left neighbour in the bordered images; its right,
        # lower and lower-right neighbours are 1, _PADDED and _PADDED + 1 further. A corner
        # clamped onto the border's outer ring reads zero for all four, as any point off the
        # field does. (Integer-valued float64 arithmetic: exact, and one conversion at the end.)
        np.clip(y0, -_BORDER, MNIST_SIZE, out=y0)
        np.clip(x0, -_BORDER, MNIST_SIZE, out=x0)
        y0 *= _PADDED
        y0 += x0
        y0 += (np.arange(n, dtype=np.float64) * _PADDED * _PADDED + _BORDER * (_PADDED + 1))[:, None, None]
        corner[...] = y0
        gy = np.subtract(1, fy, out=y0)
        gx = np.subtract(1, fx, out=x0)
        padded[:, _BORDER:-_BORDER, _BORDER:-_BORDER] = images
        flat = padded.reshape(-1)
        # value = s00 * gy * gx + s01 * gy * fx + s10 * fy * gx + s11 * fy * fx, left to right
        # (each in-place step rounds exactly as the written-out expression does). The corners
        # are always inside `flat`: mode "clip" only skips the slower per-index range check.
        flat.take(corner, out=value, mode="clip")
        value *= gy
        value *= gx
        flat[1:].take(corner, out=term, mode="clip")
        term *= gy
        term *= fx
        value += term
        flat[_PADDED:].take(corner, out=term, mode="clip")
        term *= fy
        term *= gx
        value += term
        flat[_PADDED + 1 :].take(corner, out=term, mode="clip")
        term *= fy
        term *= fx
        value += term
        np.rint(value, out=value)
        np.clip(value, 0, 255, out=value)
        out[...] = value


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
        combine(result, padded[:, 1 + dy : padded.shape[1] - 1 + dy, 1 + dx : padded.shape[2] - 1 + dx], out=result)
    return result


@dataclass(frozen=True)
class CopyPlan:
    """The random parameters of every augmented copy, one entry per copy (see `plan_copies`)."""

    source: np.ndarray  # index of the training image each copy is made from
    dy: np.ndarray  # whole-pixel shift, float64
    dx: np.ndarray
    angle: np.ndarray  # degrees
    scale: np.ndarray
    thickness: np.ndarray  # stroke change, pixels
    coarse: np.ndarray | None  # elastic lattice offsets (2, copies, 4, 4), or None without elastic
    kind: np.ndarray  # PLAIN, PAD (redrawn with the console's brush) or BLOCKY (coarse grid)
    step: np.ndarray  # PAD copies: the D-pad runs' grid pitch (1 elsewhere)
    phase: np.ndarray  # PAD copies: (2, copies) the grid's phase in y and x
    grid: np.ndarray  # BLOCKY copies: blocks a side (0 elsewhere)


PLAIN, PAD, BLOCKY = 0, 1, 2
"""Kinds of copy: the geometry alone; then redrawn as on the cartridge; then made blocky."""


def copy_count(augment: AugmentConfig) -> int:
    """Copies made of each training image: plain, pad and blocky ones."""
    return augment.copies + augment.pad + augment.coarse


def copy_sources(count: int, augment: AugmentConfig) -> np.ndarray:
    """The source image of each copy of `count` images, in the order `plan_copies` makes them."""
    return np.tile(np.arange(count), copy_count(augment))


def plan_copies(count: int, augment: AugmentConfig, seed: int) -> CopyPlan:
    """Draw the parameters of the copies of each of `count` images: `augment.copies` plain
    ones, then `augment.pad` redrawn with the console's brush, then `augment.coarse` blocky
    ones (all of them get the random geometry first).

    Everything is drawn up front in one fixed order: the plain copies' geometry (shifts,
    angles, scales, thicknesses, elastic lattices), then the pad copies' geometry and runs,
    then the blocky copies' geometry and grids. That order is the random stream, so the same
    seed gives the same copies however they are produced later, and adding pad or blocky
    copies leaves the plain ones as they were. ~300 bytes a copy."""
    rng = np.random.default_rng(seed + AUGMENT_SEED_OFFSET)
    plain = _geometry(rng, count * augment.copies, augment)
    pad = _geometry(rng, count * augment.pad, augment)
    step = rng.integers(1, augment.pad_step + 1, size=count * augment.pad)
    phase = rng.integers(0, 1 << 30, size=(2, step.size)) % step
    blocky = _geometry(rng, count * augment.coarse, augment)
    grid = rng.choice(augment.coarse_grid, size=count * augment.coarse)
    parts = (plain, pad, blocky)
    kind = np.repeat([PLAIN, PAD, BLOCKY], [len(part[0]) for part in parts])
    coarse = None if augment.elastic <= 0 else np.concatenate([part[5] for part in parts], axis=1)
    return CopyPlan(
        copy_sources(count, augment),
        *(np.concatenate([part[k] for part in parts]) for k in range(5)),
        coarse,
        kind,
        np.concatenate([np.ones(plain[0].size, np.int64), step, np.ones(blocky[0].size, np.int64)]),
        np.concatenate([np.zeros((2, plain[0].size), np.int64), phase, np.zeros((2, blocky[0].size), np.int64)], 1),
        np.concatenate([np.zeros(plain[0].size + pad[0].size, np.int64), grid]),
    )


def _geometry(rng: np.random.Generator, total: int, augment: AugmentConfig) -> tuple[np.ndarray, ...]:
    """The random geometry of `total` copies, drawn in a fixed order: whole-pixel shifts
    (float64), angles, scales, stroke changes, elastic lattice offsets ((2, total, 4, 4); None
    without elastic warps)."""
    dy = rng.integers(-augment.shift, augment.shift + 1, size=total).astype(np.float64)
    dx = rng.integers(-augment.shift, augment.shift + 1, size=total).astype(np.float64)
    angle = rng.uniform(-augment.rotate, augment.rotate, size=total)
    scale = rng.uniform(1.0 - augment.scale, 1.0 + augment.scale, size=total)
    thickness = rng.integers(-augment.thickness, augment.thickness + 1, size=total)
    coarse = _coarse_offsets(rng, total, augment.elastic) if augment.elastic > 0 else None
    return dy, dx, angle, scale, thickness, coarse


def augmented_chunks(
    images: np.ndarray, augment: AugmentConfig, seed: int, pre: PreprocessConfig, chunk: int = CHUNK
) -> Iterator[tuple[slice, np.ndarray]]:
    """The copies of `augmented_copies`, `chunk` at a time: (their slice of all copies, the
    uint8 images). Only one chunk's copies, fields and sampling grids exist at once. `pre`: the
    preprocessing, whose canvas levels the pad copies are drawn in."""
    plan = plan_copies(images.shape[0], augment, seed)
    canvas_pixels = level_pixels(pre.levels, pre.ink)
    sampler = _Sampler(min(chunk, plan.source.size))
    for start in range(0, plan.source.size, chunk):
        part = slice(start, start + chunk)
        warp = None if plan.coarse is None else sampler.fields(plan.coarse[:, part])
        copies = stroke(images[plan.source[part]], plan.thickness[part])
        sampler.affine(copies, plan.angle[part], plan.scale[part], plan.dy[part], plan.dx[part], warp, copies)
        kind = plan.kind[part]
        pad = kind == PAD
        if pad.any():
            step, phase = plan.step[part][pad], plan.phase[:, part][:, pad]
            copies[pad] = canvas_pixels[padlike.redraw(copies[pad], pre.levels, step, phase[0], phase[1])]
        blocky = kind == BLOCKY
        if blocky.any():
            copies[blocky] = padlike.coarsen(copies[blocky], plan.grid[part][blocky])
        yield part, copies


def augmented_copies(
    images: np.ndarray, augment: AugmentConfig, seed: int, pre: PreprocessConfig
) -> tuple[np.ndarray, np.ndarray]:
    """The copies of each image (`plan_copies`) and the index of each copy's source.

    Per copy: a whole-pixel shift up to `augment.shift` each way, a rotation up to
    `augment.rotate` degrees, a size factor within 1 +- `augment.scale`, a stroke change
    of up to `augment.thickness` pixels, and an elastic wobble of up to `augment.elastic`
    pixels; pad copies then redrawn with the console's brush (`training.padlike.redraw`), blocky
    ones averaged over a coarse grid (`training.padlike.coarsen`). The same seed gives the same
    copies. All copies at once: the preprocess step uses `augmented_chunks` instead, to
    preprocess them as they are made."""
    source = copy_sources(images.shape[0], augment)
    out = np.empty((source.size, *images.shape[1:]), dtype=np.uint8)
    for part, copies in augmented_chunks(images, augment, seed, pre):
        out[part] = copies
    return out, source
