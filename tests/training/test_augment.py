"""The training augmentation (training/augment.py): seeded, and each knob does what it says."""

from __future__ import annotations

import numpy as np

from common.config import AugmentConfig
from intnet.prep import translate
from training.augment import affine, augmented_copies, stroke


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
    settings = AugmentConfig(copies=3, shift=2, rotate=10.0, scale=0.1, thickness=1, elastic=1.5)
    first, source = augmented_copies(images, settings, seed=1)
    again, _ = augmented_copies(images, settings, seed=1)
    other, _ = augmented_copies(images, settings, seed=2)
    assert first.shape == (30, 28, 28) and np.array_equal(np.sort(source), np.repeat(np.arange(10), 3))
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)
