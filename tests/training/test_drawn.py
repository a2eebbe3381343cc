"""The drawn evaluation: its transforms by hand cases, and the `drawn` task through doit."""

from __future__ import annotations

import json

import numpy as np
import pytest

from common.config import DrawnConfig, PreprocessConfig
from tests.conftest import TinyBuild
from training.drawn import PLAIN, DrawnError, check_preprocess
from training.variants import (
    VARIANTS,
    Change,
    apply,
    centre_of_mass,
    change_for,
    fit_shifts,
    ink_box,
    variant_images,
)

PRE = PreprocessConfig(size=14, resize="area", levels=3, deskew=True, center=True)
DRAWN = DrawnConfig(seed=5, offset=4, small=0.7, large=1.2, thin=1, thick=1, pad_step=3, coarse_grid=[7, 8])


def blank(count: int = 1) -> np.ndarray:
    return np.zeros((count, 28, 28), dtype=np.uint8)


def blobs(count: int, seed: int = 0) -> np.ndarray:
    """Random rectangles of ink (5..9 px a side, grey edges) anywhere on the field, edges included."""
    rng = np.random.default_rng(seed)
    images = blank(count)
    for image in images:
        height, width = rng.integers(5, 10, size=2)
        top, left = rng.integers(0, 29 - height), rng.integers(0, 29 - width)
        image[top : top + height, left : left + width] = 128
        image[top + 1 : top + height - 1, left + 1 : left + width - 1] = 255
    return images


def ring(size: int = 12) -> np.ndarray:
    """A centred square outline 2 px thick: ink spread out, like a drawn 0."""
    image = blank()
    lo, hi = 14 - size // 2, 14 + size // 2
    image[0, lo:hi, lo:hi] = 255
    image[0, lo + 2 : hi - 2, lo + 2 : hi - 2] = 0
    return image


def extent(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    top, bottom, left, right = ink_box(images)
    return bottom - top + 1, right - left + 1


def test_ink_box_by_hand() -> None:
    images = blank(2)
    images[0, 3:6, 20:27] = 1
    top, bottom, left, right = ink_box(images)
    assert (top[0], bottom[0], left[0], right[0]) == (3, 5, 20, 26)
    assert (top[1], bottom[1], left[1], right[1]) == (0, 27, 0, 27)  # blank: the whole field


def test_shifts_are_limited_to_the_field() -> None:
    images = blank(3)
    images[0, 0:3, 25:28] = 200  # top right corner
    images[1, 12:15, 12:15] = 200  # middle
    dy, dx = fit_shifts(images, np.array([-3, -4, 5]), np.array([3, 4, -6]))
    np.testing.assert_array_equal(dy, [0, -4, 0])  # the corner cannot go up; blank stays
    np.testing.assert_array_equal(dx, [0, 4, 0])


def test_offset_keeps_the_ink_on_the_field_and_moves_it_by_the_drawn_amount() -> None:
    images = blobs(400)
    change = change_for("offset", DRAWN, len(images))
    assert max(np.abs(change.dy).max(), np.abs(change.dx).max()) == DRAWN.offset
    moved = variant_images(images, "offset", DRAWN, PRE)
    # every pixel kept: the same ink, only elsewhere
    np.testing.assert_array_equal(moved.reshape(len(images), -1).sum(1), images.reshape(len(images), -1).sum(1))
    np.testing.assert_array_equal(np.sort(moved.reshape(len(images), -1)), np.sort(images.reshape(len(images), -1)))
    dy, dx = fit_shifts(images, change.dy, change.dx)
    (row0, col0), (row1, col1) = centre_of_mass(images), centre_of_mass(moved)
    np.testing.assert_allclose(row1 - row0, dy, atol=1e-9)
    np.testing.assert_allclose(col1 - col0, dx, atol=1e-9)
    assert np.mean((dy != change.dy) | (dx != change.dx)) > 0.1  # the edge blobs were held back...
    assert np.mean(np.maximum(np.abs(dy), np.abs(dx)) >= 3) > 0.3  # ...the others moved as drawn


def test_offset_of_a_centred_digit_is_exactly_the_drawn_shift() -> None:
    image = ring(10)
    change = Change(np.zeros(1, np.int64), np.ones(1), np.array([3]), np.array([-4]))
    moved = apply(image, change)
    np.testing.assert_array_equal(moved[0, 3:, :-4], image[0, :-3, 4:])
    assert moved.sum() == image.sum()


def test_small_and_large_change_the_extent_about_the_centre_of_mass() -> None:
    image = ring(12)
    (height, width), centre = extent(image), centre_of_mass(image)
    small, large = variant_images(image, "small", DRAWN, PRE), variant_images(image, "large", DRAWN, PRE)
    assert height == width == 12
    assert all(e <= 10 for e in extent(small)) and all(e >= 14 for e in extent(large))  # bilinear edges: +-1
    for scaled in (small, large):
        for before, after in zip(centre, centre_of_mass(scaled), strict=True):
            assert abs(after[0] - before[0]) < 0.5
    assert small.astype(int).sum() < image.astype(int).sum() < large.astype(int).sum()


def test_large_is_clipped_to_the_field() -> None:
    image = blank()
    image[0, 1:27, 1:27] = 255
    large = variant_images(image, "large", DRAWN, PRE)
    assert large.shape == image.shape and (large[0] == 255).all()  # fills the field, no error


def test_thin_and_thick_change_the_ink_mass() -> None:
    image = blank()
    image[0, 6:22, 11:16] = 255  # a bar 5 px wide
    mass = image.astype(int).sum()
    thin, thick = variant_images(image, "thin", DRAWN, PRE), variant_images(image, "thick", DRAWN, PRE)
    assert thin.astype(int).sum() < mass < thick.astype(int).sum()
    assert extent(thin) == (14, 3) and extent(thick) == (18, 7)


def test_same_seed_same_images_other_seed_other_images() -> None:
    images = blobs(300, seed=3)
    for variant in ("offset", "mixed", "pad"):
        first = variant_images(images, variant, DRAWN, PRE)
        np.testing.assert_array_equal(first, variant_images(images, variant, DRAWN, PRE))
        other = variant_images(images, variant, DRAWN.model_copy(update={"seed": 6}), PRE)
        assert not np.array_equal(first, other)


def test_each_variant_has_its_own_stream() -> None:
    """Changing one setting leaves the variants that do not read it as they were."""
    images = blobs(50, seed=4)
    wider = DRAWN.model_copy(update={"offset": 6})
    for variant in ("small", "large", "thin", "thick", "pad", "coarse"):
        same = variant_images(images, variant, wider, PRE)
        np.testing.assert_array_equal(variant_images(images, variant, DRAWN, PRE), same)
    moved = variant_images(images, "offset", wider, PRE)
    assert not np.array_equal(variant_images(images, "offset", DRAWN, PRE), moved)


def test_mixed_draws_every_kind_of_change() -> None:
    change = change_for("mixed", DRAWN, 2000)
    assert set(np.unique(change.stroke)) == {-1, 0, 1}
    assert DRAWN.small <= change.scale.min() < 0.75 and 1.15 < change.scale.max() <= DRAWN.large
    assert np.abs(change.dy).max() == np.abs(change.dx).max() == DRAWN.offset


def test_a_network_trained_on_other_preprocessing_is_refused() -> None:
    from common.config import PreprocessConfig

    cfg = PreprocessConfig(size=7, resize="area", levels=3, deskew=True, center=False)
    manifest = {"input": {"size": 7, "resize": "area", "levels": 3, "deskew": True, "center": False, "window": 28}}
    check_preprocess(manifest, cfg)
    manifest["input"]["center"] = True
    with pytest.raises(DrawnError, match="center True vs False"):
        check_preprocess(manifest, cfg)
    manifest["input"] |= {"center": False, "window": 21}  # trained on 3x3 blocks of the middle 21x21
    with pytest.raises(DrawnError, match="window 21 vs 28"):
        check_preprocess(manifest, cfg)
    manifest["input"] |= {"window": 28, "normalize": 20}  # trained on digits fitted to 20x20
    with pytest.raises(DrawnError, match="normalize 20 vs None"):
        check_preprocess(manifest, cfg)


def test_drawn_task_writes_drawn_json_and_metrics(tiny_build: TinyBuild) -> None:
    assert tiny_build.first_run.results.get("drawn") == "success"
    drawn = json.loads((tiny_build.out / "drawn.json").read_text())
    metrics = json.loads((tiny_build.out / "metrics.json").read_text())
    assert drawn["images"] == 300 and drawn["seed"] == 5
    assert set(drawn["variants"]) == set(VARIANTS)
    for entry in (drawn[PLAIN], *drawn["variants"].values()):
        assert entry["images"] == 300 and 0.0 <= entry["accuracy"] <= 1.0
    assert drawn[PLAIN]["accuracy"] == metrics["accuracy"]["integer"]  # the same digits, the same network
    for variant in VARIANTS:
        assert metrics["accuracy"][f"drawn_{variant}"] == drawn["variants"][variant]["accuracy"]
    assert metrics["drawn"] == drawn
    assert "drawn digits (golden model): offset" in tiny_build.first_run.outputs["metrics"]
    with np.load(tiny_build.out / "drawn_examples.npz") as examples:
        assert list(examples["rows"]) == [PLAIN, *VARIANTS]
        assert examples["images"].shape == (len(VARIANTS) + 1, 10, 28, 28)
        assert sorted(examples["labels"]) == list(range(10))


def test_the_tool_prints_the_table(tiny_build: TinyBuild, capsys: pytest.CaptureFixture[str]) -> None:
    from training.drawn import main

    cache = tiny_build.build_root / "mnist" / "mnist.npz"
    code = main([str(tiny_build.config), str(tiny_build.out / "export"), "--cache", str(cache)])
    printed = capsys.readouterr().out
    assert code == 0
    drawn = json.loads((tiny_build.out / "drawn.json").read_text())
    assert f"mixed   {drawn['variants']['mixed']['accuracy']:7.2%}" in printed
    assert "300 test digits" in printed
