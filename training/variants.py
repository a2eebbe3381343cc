"""The drawn variants: MNIST test digits changed the way people draw on the canvas.

A digit drawn on the console's canvas differs from MNIST's scanned, centred digits: it is
off-centre, smaller or larger, with thinner or thicker strokes. Each variant below changes
every MNIST test digit (28x28, 0..255) in one of those ways, seeded by `drawn.seed`; the
config's preprocessing and the golden model (which the console matches bit for bit) then
give the accuracy a person drawing that way would see (training/drawn.py):

- `offset`: moved by a random whole-pixel (dy, dx), each in -offset..offset, but never off
  the canvas: the shift of each digit is limited so that all of its ink stays on the field;
- `small` / `large`: scaled by `drawn.small` / `drawn.large` about the digit's own centre of
  mass (so size is changed alone, not position; MNIST centred that point on the field
  anyway). Ink scaled past the edge of the field is lost;
- `thin` / `thick`: strokes eroded by `drawn.thin` / dilated by `drawn.thick` pixels;
- `mixed`: each digit a random combination: a stroke change in -thin..thick, a size in
  small..large, then a random offset as in `offset` (limited to the field).
- `pad`: redrawn as on the cartridge: the skeleton traced in D-pad runs snapped to a grid of
  1..`drawn.pad_step` cells (random per digit, as its phase) and stamped with the console's
  brush (`training.padlike.redraw`);
- `coarse`: blocky: averaged over a grid of `drawn.coarse_grid` blocks a side (one chosen at
  random per digit), stretched to full ink and scaled back up (`training.padlike.coarsen`).

The geometry is `training.augment`'s `affine` and `stroke`, the redrawing `training.padlike`'s; whole-pixel moves use
`intnet.prep.translate`. The same seed gives the same images; each variant draws
from its own random stream, so changing one setting leaves the other variants as they were.

training/drawn.py measures the integer network on them (the `drawn` task).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from common.config import MNIST_SIZE, DrawnConfig, PreprocessConfig
from intnet.prep import level_pixels, translate
from training.augment import CENTRE, affine, stroke
from training.padlike import coarsen, redraw

VARIANTS = ("offset", "small", "large", "thin", "thick", "mixed", "pad", "coarse")
GEOMETRIC = VARIANTS[:6]
"""The variants that `Change` describes: moves, sizes and stroke widths."""


@dataclass(frozen=True)
class Change:
    """What one variant does to each image: all arrays have one entry per image."""

    stroke: np.ndarray  # pixels of dilation (> 0) or erosion (< 0)
    scale: np.ndarray  # size factor about the digit's centre of mass
    dy: np.ndarray  # wanted whole-pixel move down (limited to the field when applied)
    dx: np.ndarray  # wanted whole-pixel move right

    def take(self, index: np.ndarray) -> Change:
        return Change(self.stroke[index], self.scale[index], self.dy[index], self.dx[index])


def describe(variant: str, drawn: DrawnConfig) -> str:
    """One line saying what a variant does, for tables."""
    return {
        "offset": f"moved up to {drawn.offset} px each way, kept on the field",
        "small": f"scaled by {drawn.small:g} about the centre of mass",
        "large": f"scaled by {drawn.large:g} about the centre of mass, clipped to the field",
        "thin": f"strokes eroded by {drawn.thin} px",
        "thick": f"strokes dilated by {drawn.thick} px",
        "mixed": (
            f"random: stroke {-drawn.thin:+d}..{drawn.thick:+d} px, size {drawn.small:g}..{drawn.large:g}, "
            f"moved up to {drawn.offset} px"
        ),
        "pad": f"redrawn with the console's brush along the skeleton, D-pad runs of 1..{drawn.pad_step} cells",
        "coarse": f"averaged over {' or '.join(f'{g}x{g}' for g in drawn.coarse_grid)} blocks, scaled back up",
    }[variant]


def _stream(drawn: DrawnConfig, variant: str) -> np.random.Generator:
    """The variant's own random stream, from the seed and the variant's place in VARIANTS."""
    return np.random.default_rng([drawn.seed, VARIANTS.index(variant)])


def change_for(variant: str, drawn: DrawnConfig, count: int) -> Change:
    """The per-image parameters of geometric `variant` for `count` images (seeded by `drawn.seed`)."""
    if variant not in GEOMETRIC:
        raise ValueError(f"unknown geometric variant {variant!r}; one of {', '.join(GEOMETRIC)}")
    rng = _stream(drawn, variant)
    zeros = np.zeros(count, dtype=np.int64)
    ones = np.ones(count, dtype=np.float64)
    if variant == "offset":
        dy, dx = (rng.integers(-drawn.offset, drawn.offset + 1, size=count) for _ in range(2))
        return Change(zeros, ones, dy, dx)
    if variant in ("small", "large"):
        return Change(zeros, ones * getattr(drawn, variant), zeros, zeros)
    if variant in ("thin", "thick"):
        pixels = -drawn.thin if variant == "thin" else drawn.thick
        return Change(zeros + pixels, ones, zeros, zeros)
    strokes = rng.integers(-drawn.thin, drawn.thick + 1, size=count)
    scale = rng.uniform(drawn.small, drawn.large, size=count)
    dy, dx = (rng.integers(-drawn.offset, drawn.offset + 1, size=count) for _ in range(2))
    return Change(strokes, scale, dy, dx)


def ink_box(images: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per image, the first and last row and column holding ink (any non-zero pixel):
    (top, bottom, left, right). A blank image gives the whole field."""
    last = MNIST_SIZE - 1
    rows = images.any(axis=2)
    cols = images.any(axis=1)
    blank = ~rows.any(axis=1)
    top = np.where(blank, 0, rows.argmax(axis=1))
    bottom = np.where(blank, last, last - rows[:, ::-1].argmax(axis=1))
    left = np.where(blank, 0, cols.argmax(axis=1))
    right = np.where(blank, last, last - cols[:, ::-1].argmax(axis=1))
    return top, bottom, left, right


def fit_shifts(images: np.ndarray, dy: np.ndarray, dx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The wanted moves limited so that each digit's ink stays on the 28x28 field."""
    top, bottom, left, right = ink_box(images)
    last = MNIST_SIZE - 1
    return np.clip(dy, -top, last - bottom), np.clip(dx, -left, last - right)


def centre_of_mass(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per image, the mass-weighted mean row and column (the field middle for a blank image)."""
    wide = images.astype(np.float64)
    mass = wide.sum(axis=(1, 2))
    safe = np.where(mass > 0, mass, 1.0)
    index = np.arange(MNIST_SIZE, dtype=np.float64)
    row = np.where(mass > 0, (wide.sum(axis=2) @ index) / safe, CENTRE)
    col = np.where(mass > 0, (wide.sum(axis=1) @ index) / safe, CENTRE)
    return row, col


def rescale(images: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Each image scaled by its factor about its own centre of mass (bilinear, clipped to the field).

    `affine` scales about the field middle m; moving by (1 - s) * (c - m) afterwards makes the
    centre of mass c the fixed point instead: s * (p - m) + m + (1 - s) * (c - m) = s * (p - c) + c."""
    if np.all(scale == 1.0):
        return images.copy()
    row, col = centre_of_mass(images)
    dy = (1.0 - scale) * (row - CENTRE)
    dx = (1.0 - scale) * (col - CENTRE)
    return affine(images, np.zeros(len(images)), scale, dy, dx)


def apply(images: np.ndarray, change: Change) -> np.ndarray:
    """Stroke change, then size about the centre of mass, then the move limited to the field."""
    changed = stroke(images, change.stroke)
    changed = rescale(changed, change.scale)
    dy, dx = fit_shifts(changed, change.dy, change.dx)
    return translate(changed, dy, dx)


def variant_images(images: np.ndarray, variant: str, drawn: DrawnConfig, pre: PreprocessConfig) -> np.ndarray:
    """The test digits as `variant` changes them (`pre`: the preprocessing, whose canvas
    levels the pad variant is drawn in)."""
    count = len(images)
    if variant == "pad":
        rng = _stream(drawn, variant)
        step = rng.integers(1, drawn.pad_step + 1, size=count)
        phase = rng.integers(0, 1 << 30, size=(2, count)) % step
        return level_pixels(pre.levels, pre.ink)[redraw(images, pre.levels, step, phase[0], phase[1])]
    if variant == "coarse":
        return coarsen(images, _stream(drawn, variant).choice(drawn.coarse_grid, size=count))
    return apply(images, change_for(variant, drawn, count))
