"""The training augmentation (training/augment.py): seeded, and each knob does what it says."""

from __future__ import annotations

import numpy as np

from common.config import AugmentConfig, PreprocessConfig
from intnet.prep import translate
from training.augment import affine, augmented_copies, stroke

PRE = PreprocessConfig(size=14, resize="area", levels=3, deskew=True, center=True)
"""The canvas the pad copies are drawn in: 3 levels."""
NO_PADLIKE = {"pad": 0, "pad_step": 1, "coarse": 0, "coarse_grid": [7]}
"""Settings of the pad-like copies, off (tests/training/test_padlike.py covers them)."""


def bar_image() -> np.ndarray:
    """One 28x28 image with a vertical bar 2 pixels wide, 12 tall, in the middle."""
    image = np.zeros((1, 28, 28), dtype=np.uint8)
    image[0, 8:20, 13:15] = 255
    return image


def test_identity_transform_keeps_the_image() -> None:
    image = bar_image()
    same = affine(image, np.zeros(1), np.ones(1), np.zeros(1), np.zeros(1))
    assert np.array_equal(same, image)


def test_whole_pixel_shift_is_an_exact_translation() -> None:
    rng = np.random.default_rng(3)
    images = rng.integers(0, 256, size=(20, 28, 28), dtype=np.uint8)
    dy, dx = rng.integers(-3, 4, size=20), rng.integers(-3, 4, size=20)
    moved = affine(images, np.zeros(20), np.ones(20), dy.astype(float), dx.astype(float))
    assert np.array_equal(moved, translate(images, dy, dx))


def test_rotation_by_90_degrees_turns_a_vertical_bar_horizontal() -> None:
    turned = affine(bar_image(), np.array([90.0]), np.ones(1), np.zeros(1), np.zeros(1))[0]
    rows = np.nonzero(turned.sum(axis=1))[0]
    cols = np.nonzero(turned.sum(axis=0))[0]
    assert rows.size <= 3 and cols.size >= 11  # was 12 rows x 2 columns


def test_scale_changes_the_extent_of_the_ink() -> None:
    image = bar_image()
    big = affine(image, np.zeros(1), np.array([1.5]), np.zeros(1), np.zeros(1))[0]
    small = affine(image, np.zeros(1), np.array([0.5]), np.zeros(1), np.zeros(1))[0]
    height = {name: np.nonzero(img.sum(axis=1))[0].size for name, img in (("big", big), ("small", small))}
    assert height["big"] >= 17 and height["small"] <= 7


def test_stroke_thickens_and_thins() -> None:
    image = np.repeat(bar_image(), 3, axis=0)
    changed = stroke(image, np.array([1, 0, -1]))
    mass = changed.astype(int).sum(axis=(1, 2))
    original = int(image[0].astype(int).sum())
    assert mass[0] > original and mass[1] == original and mass[2] < original
    assert np.array_equal(changed[1], image[1])


def test_elastic_fields_are_smooth_and_bounded() -> None:
    from training.augment import elastic_fields

    fields = elastic_fields(np.random.default_rng(0), 50, 2.0)
    assert fields.shape == (2, 50, 28, 28)
    assert np.abs(fields).max() <= 2.0 and np.abs(fields).max() > 1.0
    assert np.abs(np.diff(fields, axis=2)).max() < 0.5 and np.abs(np.diff(fields, axis=3)).max() < 0.5


def test_copies_are_seeded_and_cover_every_image() -> None:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(10, 28, 28), dtype=np.uint8)
    settings = AugmentConfig(copies=3, shift=2, rotate=10.0, scale=0.1, thickness=1, elastic=1.5, **NO_PADLIKE)
    first, source = augmented_copies(images, settings, seed=1, pre=PRE)
    again, _ = augmented_copies(images, settings, seed=1, pre=PRE)
    other, _ = augmented_copies(images, settings, seed=2, pre=PRE)
    assert first.shape == (30, 28, 28) and np.array_equal(np.sort(source), np.repeat(np.arange(10), 3))
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)


def plain_affine(
    images: np.ndarray,
    angle: np.ndarray,
    scale: np.ndarray,
    dy: np.ndarray,
    dx: np.ndarray,
    warp: tuple[np.ndarray, np.ndarray],
) -> np.ndarray:
    """The sampling written out over full grids (as it was before `affine` was optimised): the
    optimised one must round every pixel the same way."""
    from training.augment import CENTRE

    n = len(images)
    theta = np.deg2rad(angle)
    cos, sin = np.cos(theta) / scale, np.sin(theta) / scale
    ys, xs = np.meshgrid(np.arange(28.0), np.arange(28.0), indexing="ij")
    oy = ys[None] - dy[:, None, None] - CENTRE
    ox = xs[None] - dx[:, None, None] - CENTRE
    src_y = cos[:, None, None] * oy - sin[:, None, None] * ox + CENTRE + warp[0]
    src_x = sin[:, None, None] * oy + cos[:, None, None] * ox + CENTRE + warp[1]
    y0, x0 = np.floor(src_y), np.floor(src_x)
    fy, fx = src_y - y0, src_x - x0
    padded = np.zeros((n, 30, 30), dtype=np.float32)
    padded[:, 1:-1, 1:-1] = images
    index = np.arange(n)[:, None, None]

    def sample(yy: np.ndarray, xx: np.ndarray) -> np.ndarray:
        return padded[index, np.clip(yy.astype(int) + 1, 0, 29), np.clip(xx.astype(int) + 1, 0, 29)]

    value = (
        sample(y0, x0) * (1 - fy) * (1 - fx)
        + sample(y0, x0 + 1) * (1 - fy) * fx
        + sample(y0 + 1, x0) * fy * (1 - fx)
        + sample(y0 + 1, x0 + 1) * fy * fx
    )
    return np.clip(np.rint(value), 0, 255).astype(np.uint8)


def test_affine_rounds_like_the_plain_computation() -> None:
    """Random rotations, scales, fractional shifts (some far off the field) and warps, over more
    images than one chunk."""
    from training.augment import CHUNK, elastic_fields

    rng = np.random.default_rng(4)
    n = CHUNK + 37
    images = (rng.integers(0, 256, size=(n, 28, 28)) * (rng.random((n, 28, 28)) < 0.3)).astype(np.uint8)
    angle, scale = rng.uniform(-40, 40, n), rng.uniform(0.5, 1.5, n)
    dy, dx = rng.uniform(-8, 8, n), rng.uniform(-40, 40, n)
    fields = elastic_fields(rng, n, 3.0)
    warp = (fields[0], fields[1])
    assert np.array_equal(affine(images, angle, scale, dy, dx, warp), plain_affine(images, angle, scale, dy, dx, warp))


def test_copies_do_not_depend_on_the_chunk_size() -> None:
    from training.augment import augmented_chunks

    rng = np.random.default_rng(5)
    images = rng.integers(0, 256, size=(10, 28, 28), dtype=np.uint8)
    settings = AugmentConfig(copies=3, shift=1, rotate=10.0, scale=0.1, thickness=2, elastic=1.5, **NO_PADLIKE)
    whole, _ = augmented_copies(images, settings, seed=1, pre=PRE)
    pieces = [(part, copies.copy()) for part, copies in augmented_chunks(images, settings, seed=1, pre=PRE, chunk=7)]
    assert [part.start for part, _ in pieces] == [0, 7, 14, 21, 28]
    assert np.array_equal(np.concatenate([copies for _, copies in pieces]), whole)


def test_pad_and_blocky_copies_follow_the_plain_ones() -> None:
    """Pad and blocky copies come after the plain ones, leave the plain copies as they were
    (the random stream of plain copies is unchanged), are seeded, and look as they should: pad
    copies hold only the canvas's levels, blocky ones are constant over their grid's blocks."""
    from intnet.prep import level_pixels
    from training.augment import BLOCKY, PAD, PLAIN, plan_copies

    images = np.zeros((6, 28, 28), dtype=np.uint8)
    images[:, 6:22, 12:16] = 255  # a thick upright bar
    plain = AugmentConfig(copies=2, shift=1, rotate=10.0, scale=0.1, thickness=1, elastic=1.5, **NO_PADLIKE)
    mixed = plain.model_copy(update={"pad": 2, "pad_step": 3, "coarse": 1, "coarse_grid": [7]})
    only_plain, _ = augmented_copies(images, plain, seed=1, pre=PRE)
    copies, source = augmented_copies(images, mixed, seed=1, pre=PRE)
    assert copies.shape == (30, 28, 28) and np.array_equal(source, np.tile(np.arange(6), 5))
    np.testing.assert_array_equal(copies[:12], only_plain)
    plan = plan_copies(6, mixed, seed=1)
    assert list(plan.kind) == [PLAIN] * 12 + [PAD] * 12 + [BLOCKY] * 6
    assert set(plan.step[plan.kind == PAD]) <= {1, 2, 3} and set(plan.grid[plan.kind == BLOCKY]) == {7}
    assert set(np.unique(copies[12:24])) <= set(level_pixels(3)) and copies[12:24].any(axis=(1, 2)).all()
    blocks = np.arange(28) * 7 // 28
    for blocky in copies[24:]:
        for block in range(7):
            assert (blocky[blocks == block] == blocky[blocks == block][0]).all()
    again, _ = augmented_copies(images, mixed, seed=1, pre=PRE)
    np.testing.assert_array_equal(copies, again)
