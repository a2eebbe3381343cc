"""The integer preprocessing against hand-computed cases."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from common.config import PreprocessConfig
from intnet.prep import (
    area_sum,
    bilinear_resize,
    center_by_mass,
    center_shifts,
    deskew,
    input_max,
    input_shift,
    normalize_size,
    preprocess,
    skew_slopes,
    to_levels,
    translate,
)


def cfg(
    size: int = 7, levels: int = 3, center: bool = False, resize: str = "area", deskew: bool = False
) -> PreprocessConfig:
    return PreprocessConfig(size=size, resize=resize, levels=levels, deskew=deskew, center=center)


def test_levels_round_to_nearest() -> None:
    pixels = np.array([[0, 63, 64, 127, 128, 191, 192, 255]], dtype=np.uint8)
    # 3 levels: p*2/255 rounded: 63->0.49->0, 64->0.50->1 (rounded half up: (128+127)//255=1)
    np.testing.assert_array_equal(to_levels(pixels, 3), [[0, 0, 1, 1, 1, 1, 2, 2]])
    # 4 levels: p*3/255: 42.5 boundaries
    np.testing.assert_array_equal(to_levels(pixels, 4), [[0, 1, 1, 1, 2, 2, 2, 3]])
    np.testing.assert_array_equal(to_levels(pixels, 256), pixels)
    np.testing.assert_array_equal(to_levels(pixels, 2), [[0, 0, 0, 0, 1, 1, 1, 1]])


def area(size: int, window: int | None = None) -> PreprocessConfig:
    """Area sums to `size` x `size` over the centred `window` (None: all 28 pixels)."""
    return PreprocessConfig(size=size, resize="area", levels=3, deskew=False, center=False, window=window)


def test_area_sum_of_blocks() -> None:
    image = np.zeros((1, 28, 28), dtype=np.uint8)
    image[0, 0:4, 0:4] = 2  # the whole top-left 4x4 block
    image[0, 27, 27] = 1  # one pixel of the bottom-right block
    image[0, 5, 9] = 2  # block (1, 2)
    sums = area_sum(image, area(7))
    assert sums.shape == (1, 7, 7)
    assert sums[0, 0, 0] == 32 and sums[0, 6, 6] == 1 and sums[0, 1, 2] == 2
    assert sums.sum() == 35
    assert area_sum(image, area(14))[0, 0, 0] == 8 and area_sum(image, area(28))[0, 27, 27] == 1


def test_window_sums_the_centred_square_only() -> None:
    image = np.zeros((1, 28, 28), dtype=np.uint8)
    image[0, 3, 10] = 2  # above a 21x21 window (rows and columns 4..24)
    image[0, 4:7, 4:7] = 1  # the window's whole first 3x3 block
    image[0, 24, 24] = 2  # its last pixel
    image[0, 14, 25] = 2  # right of it
    sums = area_sum(image, area(7, 21))
    assert sums.shape == (1, 7, 7)
    assert sums[0, 0, 0] == 9 and sums[0, 6, 6] == 2 and sums.sum() == 11
    config = PreprocessConfig(size=12, resize="area", levels=3, deskew=False, center=False, window=24)
    assert (config.window_start, config.block, input_max(config)) == (2, 2, 8)
    full = np.full((1, 28, 28), 255, dtype=np.uint8)
    assert preprocess(full, config).shape == (1, 144) and preprocess(full, config).max() == 8


def test_half_pixel_blocks_share_the_pixels_on_their_edges() -> None:
    """Size 14 over the middle 21x21 (pixels 4..24): blocks of 1.5 pixels, i.e. 3x3 quarter-pixel
    squares. Pixel 4 lies in block 0, pixel 5 straddles blocks 0 and 1, pixel 6 lies in block 1."""
    image = np.zeros((1, 28, 28), dtype=np.uint8)
    image[0, 4, 4] = 1  # 4 quarters into block (0, 0)
    image[0, 5, 6] = 2  # row straddles block rows 0 and 1: 2 quarters x 2 into (0, 1) and (1, 1)
    image[0, 5, 5] = 1  # straddles both ways: 1 quarter into each of (0..1, 0..1)
    sums = area_sum(image, area(14, 21))
    assert sums[0, :2, :2].tolist() == [[4 + 1, 4 + 1], [1, 4 + 1]]
    assert sums.sum() == 4 * (1 + 2 + 1)  # every pixel's quarters are counted once
    config = PreprocessConfig(size=14, resize="area", levels=3, deskew=False, center=False, window=21)
    assert (config.half_pixels, config.block, input_max(config)) == (True, 3, 18)
    full = np.full((1, 28, 28), 255, dtype=np.uint8)
    assert preprocess(full, config).min() == preprocess(full, config).max() == 18


@pytest.mark.parametrize(
    ("size", "levels", "shift", "largest"),
    [(7, 3, 0, 32), (7, 4, 0, 48), (14, 3, 0, 8), (28, 3, 0, 2), (7, 256, 4, 255), (14, 256, 2, 255), (28, 256, 0, 255),
     (7, 17, 1, 128)],
)
def test_input_range(size: int, levels: int, shift: int, largest: int) -> None:
    config = cfg(size=size, levels=levels)
    assert input_shift(config) == shift and input_max(config) == largest
    full = np.full((1, 28, 28), 255, dtype=np.uint8)
    assert preprocess(full, config).max() == largest


def test_centre_of_mass_moves_a_dot_to_the_middle() -> None:
    image = np.zeros((2, 28, 28), dtype=np.uint8)
    image[0, 2, 5] = 1
    dy, dx = center_shifts(image)
    assert (dy[0], dx[0]) == (12, 9) and (dy[1], dx[1]) == (0, 0)  # blank image: no shift
    moved = center_by_mass(image)
    assert moved[0, 14, 14] == 1 and moved[0].sum() == 1


def test_centre_rounds_half_up() -> None:
    image = np.zeros((1, 28, 28), dtype=np.uint8)
    image[0, 13, 13] = 1
    image[0, 13, 14] = 1  # centre x = 13.5 -> floor(14 - 13.5) = 0 shift; y = 13 -> +1
    dy, dx = center_shifts(image)
    assert (dy[0], dx[0]) == (1, 0)


def test_translate_fills_with_zero_and_drops_outside() -> None:
    image = np.arange(28 * 28, dtype=np.int64).reshape(1, 28, 28) % 7 + 1
    moved = translate(image, np.array([-2]), np.array([3]))
    np.testing.assert_array_equal(moved[0, :26, 3:], image[0, 2:, :25])
    assert not moved[0, 26:, :].any() and not moved[0, :, :3].any()


def test_preprocess_chains_levels_center_and_area() -> None:
    image = np.zeros((1, 28, 28), dtype=np.uint8)
    image[0, 0:4, 0:4] = 255  # a bright 4x4 square in the corner
    plain = preprocess(image, cfg())
    assert plain.shape == (1, 49) and plain[0, 0] == 32 and plain.sum() == 32
    centred = preprocess(image, cfg(center=True)).reshape(7, 7)
    # mass centre (1.5, 1.5) -> shift by floor(14 - 1.5) = 12: square covers rows/cols 12..15
    assert centred[3, 3] == 32 and centred.sum() == 32


def test_bilinear_matches_half_pixel_interpolation() -> None:
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, size=(3, 28, 28)).astype(np.uint8)
    # 28 -> 7: each output sits between source pixels 4k+1 and 4k+2 (weights 1/2, 1/2)
    expected = images.astype(float).reshape(3, 7, 4, 7, 4)[:, :, 1:3, :, 1:3].mean(axis=(2, 4))
    np.testing.assert_array_equal(bilinear_resize(images, 7), np.floor(expected + 0.5).astype(np.uint8))
    np.testing.assert_array_equal(bilinear_resize(images, 28), images)


def test_rejects_wrong_shape() -> None:
    with pytest.raises(ValueError, match="28, 28"):
        preprocess(np.zeros((1, 14, 14), dtype=np.uint8), cfg())


@pytest.mark.parametrize("resize", ["area", "bilinear"])
def test_empty_batch(resize: str) -> None:
    config = cfg(levels=256 if resize == "bilinear" else 3, resize=resize)
    assert preprocess(np.zeros((0, 28, 28), dtype=np.uint8), config).shape == (0, 49)


def test_skew_slope_by_hand() -> None:
    image = np.zeros((3, 28, 28), dtype=np.uint8)
    image[0, 10, 10] = image[0, 12, 12] = 1  # x grows with y by 1: slope +1 -> 256
    image[1, 10, 12] = image[1, 12, 10] = 1  # slope -1 -> -256
    image[2, 5:20, 7] = 2  # upright: slope 0
    np.testing.assert_array_equal(skew_slopes(image), [256, -256, 0])
    # M=2, Sy=22, Syy=244, Sx=22, Sxy=244 -> Vxy = 2*244 - 22*22 = 4, Vyy = 4 -> 256 * 4/4


def test_deskew_stands_a_slanted_stroke_upright() -> None:
    image = np.zeros((1, 28, 28), dtype=np.uint8)
    for y in range(6, 22):
        image[0, y, 14 + (14 - y) // 2] = 2  # leans right, half a pixel per row
    upright = deskew(image)
    columns = {int(np.flatnonzero(upright[0, y])[0]) for y in range(6, 22)}
    assert columns == {14}
    assert upright.sum() == image.sum()


def test_deskew_leaves_upright_and_blank_images() -> None:
    image = np.zeros((2, 28, 28), dtype=np.uint8)
    image[0, 4:24, 12:15] = 2
    np.testing.assert_array_equal(deskew(image), image)


def plain_shift(images: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """`out[n, y, x] = images[n, rows[n, y, x], cols[n, y, x]]`, zero where that is off the field:
    the per-pixel definition that `translate` and `deskew` implement by moving whole rows."""
    inside = (rows >= 0) & (rows < 28) & (cols >= 0) & (cols < 28)
    gathered = images[np.arange(len(images))[:, None, None], np.clip(rows, 0, 27), np.clip(cols, 0, 27)]
    return np.where(inside, gathered, 0).astype(images.dtype)


def random_digits(count: int, seed: int) -> np.ndarray:
    """Sparse random 28x28 level images (0..2), a few of them blank."""
    rng = np.random.default_rng(seed)
    images = (rng.integers(0, 3, size=(count, 28, 28)) * (rng.random((count, 28, 28)) < 0.2)).astype(np.uint8)
    images[::17] = 0
    return images


def test_translate_matches_the_per_pixel_definition() -> None:
    images = random_digits(200, 6)
    rng = np.random.default_rng(7)
    dy, dx = rng.integers(-35, 36, 200), rng.integers(-35, 36, 200)
    rows = np.arange(28)[None, :, None] - dy[:, None, None]
    cols = np.arange(28)[None, None, :] - dx[:, None, None]
    expected = plain_shift(images, np.broadcast_to(rows, (200, 28, 28)), np.broadcast_to(cols, (200, 28, 28)))
    assert np.array_equal(translate(images, dy, dx), expected)


def test_deskew_matches_the_per_pixel_definition() -> None:
    """Row y takes its pixels from column x + s(y), s as `deskew`'s docstring defines it."""
    images = random_digits(300, 8)
    wide = images.astype(np.int64)
    mass = wide.sum(axis=(1, 2))
    sum_y = (wide.sum(axis=2) * np.arange(28)).sum(axis=1)
    safe = np.maximum(mass, 1)[:, None]
    offset = mass[:, None] * np.arange(28) - sum_y[:, None]
    shift = (2 * skew_slopes(images)[:, None] * offset + 256 * safe) // (512 * safe)
    rows = np.broadcast_to(np.arange(28)[None, :, None], (300, 28, 28))
    expected = plain_shift(images, rows, np.arange(28)[None, None, :] + shift[:, :, None])
    assert np.array_equal(deskew(images), expected)


def test_skew_slopes_of_bytes_match_wide_integers() -> None:
    """Byte images take their moments in float32: exact, so the same as with int64 pixels."""
    images = np.random.default_rng(9).integers(0, 256, size=(100, 28, 28), dtype=np.uint8)
    assert np.array_equal(skew_slopes(images), skew_slopes(images.astype(np.int64)))
    assert [a.tolist() for a in center_shifts(images)] == [a.tolist() for a in center_shifts(images.astype(np.int64))]


@pytest.mark.parametrize(("size", "window"), [(7, None), (14, None), (28, None), (7, 21), (14, 21), (12, 24)])
def test_area_sum_matches_block_reduction(size: int, window: int | None) -> None:
    images = np.random.default_rng(10).integers(0, 256, size=(20, 28, 28), dtype=np.uint8)
    config = PreprocessConfig(size=size, resize="area", levels=256, deskew=False, center=False, window=window)
    start, side, block = config.window_start, config.window_side, config.block
    square = images[:, start : start + side, start : start + side].astype(np.uint16)
    if config.half_pixels:
        square = square.repeat(2, axis=1).repeat(2, axis=2)
    expected = square.reshape(20, size, block, size, block).sum(axis=(2, 4))
    assert np.array_equal(area_sum(images, config), expected)


def test_preprocess_does_not_depend_on_the_chunk_size(monkeypatch: pytest.MonkeyPatch) -> None:
    from intnet import prep as module

    images = np.random.default_rng(11).integers(0, 256, size=(50, 28, 28), dtype=np.uint8)
    config = cfg(size=14, deskew=True, center=True)
    whole = preprocess(images, config)
    monkeypatch.setattr(module, "CHUNK", 7)
    assert np.array_equal(preprocess(images, config), whole)


def reference_normalize(image: np.ndarray, box: int) -> np.ndarray:
    """`normalize_size`'s docstring, pixel by pixel in plain Python."""
    ys, xs = np.nonzero(image)
    if len(ys) == 0:
        return image.copy()
    y0, x0 = int(ys.min()), int(xs.min())
    h, w = int(ys.max()) - y0 + 1, int(xs.max()) - x0 + 1
    longer = max(h, w)
    h2, w2 = max(1, (h * box + longer // 2) // longer), max(1, (w * box + longer // 2) // longer)
    top, left = (28 - h2) // 2, (28 - w2) // 2
    out = np.zeros_like(image)
    for yy in range(top, top + h2):
        for xx in range(left, left + w2):
            out[yy, xx] = image[y0 + (2 * (yy - top) + 1) * h // (2 * h2), x0 + (2 * (xx - left) + 1) * w // (2 * w2)]
    return out


@pytest.mark.parametrize("box", [8, 13, 20, 28])
def test_normalize_matches_the_per_pixel_definition(box: int) -> None:
    images = random_digits(40, 12)
    rng = np.random.default_rng(13)
    for k in range(1, 40, 3):  # small blobs too: boxes of a few pixels, scaled up the most
        images[k] = 0
        y, x, h, w = rng.integers(0, 28), rng.integers(0, 28), rng.integers(1, 6), rng.integers(1, 9)
        images[k, y : y + h, x : x + w] = rng.integers(0, 3, (28, 28))[y : y + h, x : x + w] | 1
    expected = np.array([reference_normalize(image, box) for image in images])
    assert np.array_equal(normalize_size(images, box), expected)


def ink_box(image: np.ndarray) -> tuple[int, int, int, int]:
    """(top, left, height, width) of the non-zero pixels."""
    ys, xs = np.nonzero(image)
    return int(ys.min()), int(xs.min()), int(np.ptp(ys)) + 1, int(np.ptp(xs)) + 1


@pytest.mark.parametrize(
    ("height", "width", "box", "scaled"),
    [(10, 5, 20, (20, 10)), (28, 28, 20, (20, 20)), (3, 28, 20, (2, 20)), (28, 1, 20, (20, 1)), (1, 1, 20, (20, 20)),
     (7, 4, 20, (20, 11)), (1, 28, 8, (1, 8)), (20, 13, 20, (20, 13))],
)
def test_normalize_fits_a_solid_block_in_the_middle_aspect_kept(
    height: int, width: int, box: int, scaled: tuple[int, int]
) -> None:
    """A solid block comes out solid: its longer side `box`, the other rounded to the same scale
    (half up, at least 1), placed from (28 - side) // 2 on each axis."""
    image = np.zeros((1, 28, 28), dtype=np.uint8)
    image[0, 28 - height :, :width] = 2  # in the bottom-left corner
    out = normalize_size(image, box)[0]
    top, left, h, w = ink_box(out)
    assert (h, w) == scaled and max(h, w) == box
    assert (top, left) == ((28 - h) // 2, (28 - w) // 2)
    assert out[top : top + h, left : left + w].min() == 2 and out.sum() == 2 * h * w


def test_normalize_doubles_each_pixel_of_a_half_size_box() -> None:
    rng = np.random.default_rng(14)
    image = np.zeros((1, 28, 28), dtype=np.uint8)
    patch = rng.integers(0, 3, (10, 7)).astype(np.uint8)
    patch[0, 0] = patch[-1, -1] = 2  # the patch's corners are inked: its box is 10x7
    image[0, 3:13, 15:22] = patch
    out = normalize_size(image, 20)[0]
    assert np.array_equal(out[4:24, 7:21], patch.repeat(2, axis=0).repeat(2, axis=1))
    assert out.sum() == 4 * patch.sum()


def test_normalize_leaves_a_blank_image_and_is_off_by_default() -> None:
    blank = np.zeros((2, 28, 28), dtype=np.uint8)
    assert np.array_equal(normalize_size(blank, 20), blank)
    assert cfg().normalize is None


def test_normalize_option_is_validated() -> None:
    from pydantic import ValidationError

    assert PreprocessConfig(size=14, resize="area", levels=3, deskew=True, center=True, normalize=20).normalize == 20
    for bad in (7, 29, 0):
        with pytest.raises(ValidationError):
            PreprocessConfig(size=14, resize="area", levels=3, deskew=True, center=True, normalize=bad)
    with pytest.raises(ValidationError, match="normalize needs resize 'area'"):
        PreprocessConfig(size=28, resize="bilinear", levels=256, deskew=False, center=False, normalize=20)


@pytest.fixture(scope="module")
def mnist_train(mnist_dir: Path) -> np.ndarray:
    from training.dataset import load_split

    return load_split(mnist_dir, "train", allow_download=False, mirrors=[])[0][:6000]


def test_normalize_on_mnist_digits(mnist_train: np.ndarray) -> None:
    """MNIST fitted its digits in 20x20: at 3 levels nearly all keep a 20-pixel box, which
    normalize 20 only moves, so with centring (no deskew) the network input does not change;
    normalising twice gives what normalising once does."""
    levels = to_levels(mnist_train, 3)
    boxes = np.array([ink_box(image) for image in levels])
    longer = boxes[:, 2:].max(axis=1)
    assert (longer == 20).mean() > 0.99 and longer.max() == 20
    once = normalize_size(levels, 20)
    fits = longer == 20
    for image, out, (top, left, h, w) in zip(levels[fits][:500], once[fits][:500], boxes[fits][:500], strict=True):
        t, lf = (28 - h) // 2, (28 - w) // 2
        assert np.array_equal(out[t : t + h, lf : lf + w], image[top : top + h, left : left + w])
        assert out.sum() == image.sum()
    assert np.array_equal(normalize_size(once, 20), once)
    centred = PreprocessConfig(size=14, resize="area", levels=3, deskew=False, center=True)
    normalised = centred.model_copy(update={"normalize": 20})
    assert np.array_equal(preprocess(mnist_train[fits], normalised), preprocess(mnist_train[fits], centred))
