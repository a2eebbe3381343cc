"""The convolutional layers of the integer contract (intnet/layers.py) against plain loops,
golden's dense layers, and (slow) Keras's own convolution, padding and flatten."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from intnet import golden, layers
from intnet.golden import IntLayer
from intnet.layers import ConvLayer, Flatten, LayerShapeError, MaxPool
from intnet.quantize import QuantizationError


def random_conv(
    rng: np.random.Generator,
    cin: int,
    cout: int,
    kernel: tuple[int, int] = (3, 3),
    weight_bits: int = 4,
    padding: layers.Padding = "same",
    shift: int = 3,
    accumulator_bits: int = 16,
    activation_max: int = 15,
    bias_range: int = 200,
    stride: int = 1,
) -> ConvLayer:
    low, high = (-8, 7) if weight_bits == 4 else (-127, 127)
    weights = rng.integers(low, high + 1, size=(*kernel, cin, cout)).astype(np.int8)
    bias = rng.integers(-bias_range, bias_range + 1, size=cout).astype(np.int64)
    return ConvLayer(weights, bias, accumulator_bits, shift, activation_max, weight_bits, padding, stride)


def random_map(rng: np.random.Generator, shape: tuple[int, ...], high: int, zeros: float = 0.5) -> np.ndarray:
    """uint8 values in 0..high, about `zeros` of them 0 (ReLU outputs and blank pixels)."""
    values = rng.integers(0, high + 1, size=shape)
    values[rng.random(shape) < zeros] = 0
    return values.astype(np.uint8)


def loop_conv_sums(layer: ConvLayer, x: np.ndarray) -> np.ndarray:
    """Exact sums by the definition, in Python integers: out[n,y,x,o] = b[o] + sum over the
    kernel of in[s*y+dy-pt, s*x+dx-pl, c] * w[dy,dx,c,o], zero outside the input; output sides
    and `same`'s zeros before (pt, pl) by TensorFlow's rule, written out apart from layers.py."""
    kh, kw = layer.kernel
    s = layer.stride
    n, height, width, cin = x.shape
    if layer.padding == "same":
        out_h, out_w = math.ceil(height / s), math.ceil(width / s)
        pt = max((out_h - 1) * s + kh - height, 0) // 2
        pl = max((out_w - 1) * s + kw - width, 0) // 2
    else:
        out_h, out_w = (height - kh) // s + 1, (width - kw) // s + 1
        pt = pl = 0
    cout = layer.channels[1]
    out = np.zeros((n, out_h, out_w, cout), dtype=np.int64)
    for i in range(n):
        for y in range(out_h):
            for xx in range(out_w):
                for o in range(cout):
                    total = int(layer.bias[o])
                    for dy in range(kh):
                        for dx in range(kw):
                            sy, sx = s * y + dy - pt, s * xx + dx - pl
                            if 0 <= sy < height and 0 <= sx < width:
                                for c in range(cin):
                                    total += int(x[i, sy, sx, c]) * int(layer.weights[dy, dx, c, o])
                    out[i, y, xx, o] = total
    return out


def reference_requantize(sums: np.ndarray, bits: int, shift: int, activation_max: int) -> np.ndarray:
    """Wrap to `bits` two's complement, floor-divide by 2^shift, clamp: written out apart from golden."""
    modulus = 1 << bits
    wrapped = [((int(v) + modulus // 2) % modulus) - modulus // 2 for v in sums.ravel()]
    return np.array([min(max(v // (1 << shift), 0), activation_max) for v in wrapped]).reshape(sums.shape)


CASES = [
    # cin, cout, kernel, padding, weight bits, shape (N, H, W)
    (1, 4, (3, 3), "same", 4, (3, 6, 5)),
    (3, 5, (3, 3), "valid", 4, (2, 5, 7)),
    (2, 3, (3, 3), "same", 8, (2, 4, 4)),
    (4, 2, (1, 1), "same", 8, (2, 3, 3)),
    (1, 2, (5, 5), "same", 4, (2, 6, 6)),
    (2, 2, (2, 2), "same", 4, (2, 5, 4)),  # even kernel: Keras pads 0 before, 1 after
    (2, 3, (2, 3), "valid", 8, (1, 4, 5)),
]


@pytest.mark.parametrize(("cin", "cout", "kernel", "padding", "bits", "shape"), CASES)
def test_conv_sums_match_loops(cin, cout, kernel, padding, bits, shape) -> None:
    rng = np.random.default_rng(cin * 100 + cout * 10 + kernel[0])
    layer = random_conv(rng, cin, cout, kernel, bits, padding)
    x = random_map(rng, (*shape, cin), 31)
    expected = loop_conv_sums(layer, x)
    np.testing.assert_array_equal(layers.conv2d_raw(layer, x), expected)
    np.testing.assert_array_equal(layers.conv2d_accumulators(layer, x), golden.wrap(expected, 16))
    assert layers.conv2d(layer, x).dtype == np.uint8
    np.testing.assert_array_equal(layers.conv2d(layer, x), reference_requantize(expected, 16, 3, 15))


STRIDED_CASES = [
    # cin, cout, kernel, padding, weight bits, shape (N, H, W): stride 2
    (1, 4, (3, 3), "valid", 4, (3, 14, 14)),  # the console's first conv: 6x6, the last row and column unread
    (3, 5, (3, 3), "valid", 4, (2, 7, 5)),  # odd sides: every row and column read
    (2, 3, (3, 3), "valid", 8, (2, 12, 9)),
    (1, 4, (3, 3), "same", 4, (3, 6, 6)),  # even side: 0 zeros before, 1 after
    (3, 2, (3, 3), "same", 4, (2, 7, 5)),  # odd side: 1 and 1
    (2, 3, (2, 2), "same", 8, (2, 5, 4)),  # even kernel, odd side: 0 and 1; even side: 0 and 0
    (2, 2, (5, 5), "same", 4, (1, 6, 7)),
]


@pytest.mark.parametrize(("cin", "cout", "kernel", "padding", "bits", "shape"), STRIDED_CASES)
def test_strided_conv_sums_match_loops(cin, cout, kernel, padding, bits, shape) -> None:
    rng = np.random.default_rng(cin * 100 + cout * 10 + kernel[0] + shape[1])
    layer = random_conv(rng, cin, cout, kernel, bits, padding, stride=2)
    x = random_map(rng, (*shape, cin), 31)
    expected = loop_conv_sums(layer, x)
    _, height, width = shape
    side = (lambda n, k: -(-n // 2)) if padding == "same" else (lambda n, k: (n - k) // 2 + 1)
    assert expected.shape[1:] == (side(height, kernel[0]), side(width, kernel[1]), cout)
    assert layer.output_shape(height, width) == expected.shape[1:]
    np.testing.assert_array_equal(layers.conv2d_raw(layer, x), expected)
    np.testing.assert_array_equal(layers.conv2d(layer, x), reference_requantize(expected, 16, 3, 15))


def test_a_valid_strided_conv_is_every_second_stride_1_output() -> None:
    rng = np.random.default_rng(14)
    layer = random_conv(rng, 2, 3, padding="valid", stride=2)
    x = random_map(rng, (2, 11, 8, 2), 15)
    whole = layers.conv2d_raw(dataclasses.replace(layer, stride=1), x)
    np.testing.assert_array_equal(layers.conv2d_raw(layer, x), whole[:, ::2, ::2])


def test_same_padding_at_stride_2_is_tensorflows() -> None:
    """TensorFlow pads `same` for ceil(n / s) outputs, the odd zero after: at stride 2 an even
    side gets none before (unlike stride 1's one), an odd side one each way."""
    assert layers.pads(3, "same", 6, 2) == (0, 1) and layers.pads(3, "same", 7, 2) == (1, 1)
    assert layers.pads(3, "same", 6) == layers.pads(3, "same", 7) == (1, 1)
    assert layers.pads(2, "same", 4, 2) == (0, 0) and layers.pads(3, "valid", 7, 2) == (0, 0)


@pytest.mark.parametrize("shift", [0, 1, 4, 7, 9])
def test_requantization_wraps_shifts_and_clamps_like_dense_layers(shift: int) -> None:
    """Large 8-bit weights and inputs overflow 16 bits on purpose: the wrap happens before the
    shift, exactly as golden's dense layers (and the console) do it."""
    rng = np.random.default_rng(shift)
    layer = random_conv(rng, 8, 6, weight_bits=8, shift=shift, activation_max=200, bias_range=30000)
    x = random_map(rng, (3, 5, 5, 8), 255, zeros=0.1)
    sums = loop_conv_sums(layer, x)
    assert np.abs(sums).max() > 32767  # some sums really wrap
    np.testing.assert_array_equal(layers.conv2d(layer, x), reference_requantize(sums, 16, shift, 200))


def test_same_padding_places_a_lone_pixel() -> None:
    """One pixel at a corner: each output near it sees it through one tap, the padding adds nothing."""
    w = np.arange(1, 10, dtype=np.int8).reshape(3, 3, 1, 1) - 5  # -4..4
    layer = ConvLayer(w, np.zeros(1, np.int64), 16, 0, 255, 8, "same")
    x = np.zeros((1, 4, 4, 1), np.uint8)
    x[0, 0, 0, 0] = 2
    sums = layers.conv2d_raw(layer, x)[0, :, :, 0]
    # Output (y, x) reads input (y + dy - 1, x + dx - 1): the pixel (0, 0) is tap (1 - y, 1 - x).
    expected = np.zeros((4, 4), np.int64)
    expected[0, 0], expected[0, 1], expected[1, 0], expected[1, 1] = 2 * w[1, 1, 0, 0], 2 * w[1, 0, 0, 0], \
        2 * w[0, 1, 0, 0], 2 * w[0, 0, 0, 0]
    np.testing.assert_array_equal(sums, expected)


def test_same_padding_on_a_one_pixel_map_uses_the_centre_tap_only() -> None:
    rng = np.random.default_rng(3)
    layer = random_conv(rng, 2, 3, weight_bits=8)
    x = np.array([[[[5, 7]]]], np.uint8)
    centre = layer.weights[1, 1].astype(np.int64)  # (cin, cout)
    expected = layer.bias + 5 * centre[0] + 7 * centre[1]
    np.testing.assert_array_equal(layers.conv2d_raw(layer, x)[0, 0, 0], expected)


def test_valid_padding_shapes_and_errors() -> None:
    rng = np.random.default_rng(4)
    layer = random_conv(rng, 1, 2, padding="valid")
    assert layers.conv2d(layer, random_map(rng, (1, 14, 14, 1), 8)).shape == (1, 12, 12, 2)
    assert layers.conv2d(layer, random_map(rng, (1, 3, 3, 1), 8)).shape == (1, 1, 1, 2)
    with pytest.raises(LayerShapeError, match=r"3x3 'valid' convolution does not fit a 2x5 input"):
        layers.conv2d(layer, random_map(rng, (1, 2, 5, 1), 8))
    with pytest.raises(LayerShapeError, match="takes 1 input channels, the input has 2"):
        layers.conv2d(layer, random_map(rng, (1, 5, 5, 2), 8))
    with pytest.raises(LayerShapeError, match=r"feature maps \(N, H, W, C\)"):
        layers.conv2d(layer, random_map(rng, (1, 25), 8))
    with pytest.raises(TypeError, match="uint8"):
        layers.conv2d(layer, np.zeros((1, 5, 5, 1), np.int32))


def test_layer_checks_its_own_fields() -> None:
    w4 = np.zeros((3, 3, 1, 2), np.int8)
    with pytest.raises(LayerShapeError, match=r"4-bit weights must lie in -8\.\.7"):
        ConvLayer(w4 + 8, np.zeros(2, np.int64), 16, 2, 15, 4)
    with pytest.raises(LayerShapeError, match="bias has shape"):
        ConvLayer(w4, np.zeros(3, np.int64), 16, 2, 15, 4)
    with pytest.raises(LayerShapeError, match="padding 'full'"):
        ConvLayer(w4, np.zeros(2, np.int64), 16, 2, 15, 4, "full")  # type: ignore[arg-type]
    with pytest.raises(LayerShapeError, match="stride 3: only 1 and 2"):
        ConvLayer(w4, np.zeros(2, np.int64), 16, 2, 15, 4, "valid", 3)
    with pytest.raises(LayerShapeError, match="right shift"):
        ConvLayer(w4, np.zeros(2, np.int64), 16, None, 15, 4)  # type: ignore[arg-type]
    with pytest.raises(LayerShapeError, match=r"\(kh, kw, cin, cout\)"):
        ConvLayer(np.zeros((9, 2), np.int8), np.zeros(2, np.int64), 16, 2, 15, 4)


def test_maxpool_matches_loops_on_signed_values() -> None:
    rng = np.random.default_rng(5)
    values = rng.integers(-40000, 40000, size=(2, 6, 4, 3))
    pooled = layers.maxpool2x2(values)
    assert pooled.shape == (2, 3, 2, 3)
    for n, y, x, c in np.ndindex(pooled.shape):
        assert pooled[n, y, x, c] == max(values[n, 2 * y + a, 2 * x + b, c] for a in (0, 1) for b in (0, 1))


@pytest.mark.parametrize("shape", [(1, 7, 7, 2), (1, 6, 5, 1), (1, 1, 2, 1)])
def test_maxpool_rejects_odd_sizes(shape) -> None:
    with pytest.raises(LayerShapeError, match=rf"even height and width, got {shape[1]}x{shape[2]}"):
        layers.maxpool2x2(np.zeros(shape, np.uint8))


def test_requantize_never_decreases() -> None:
    """The reason pooling may move before the requantization: f(max) = max(f) for a non-decreasing f."""
    sums = np.arange(-70000, 70000, 7, dtype=np.int64)
    for shift, top in ((0, 255), (3, 15), (5, 31), (12, 7)):
        out = golden.requantize(IntLayer(np.zeros((1, 1), np.int8), np.zeros(1), 24, shift, top), sums)
        assert np.all(np.diff(out.astype(np.int64)) >= 0)


@pytest.mark.parametrize(("bits", "wbits", "shift", "high"), [(16, 4, 2, 8), (16, 8, 6, 255), (24, 8, 9, 255)])
def test_fused_pool_is_bit_exact(bits: int, wbits: int, shift: int, high: int) -> None:
    """Pooling the wrapped accumulators, then requantizing once (the console's order) gives the
    bytes of requantizing every position, then pooling; also when sums wrap and are negative."""
    rng = np.random.default_rng(bits + shift)
    for trial in range(5):
        layer = random_conv(rng, 3, 8, weight_bits=wbits, shift=shift, accumulator_bits=bits,
                            activation_max=15 if trial % 2 else 255, bias_range=3000)
        x = random_map(rng, (4, 6, 8, 3), high, zeros=0.3 + 0.1 * trial)
        fused = layers.conv2d_pooled(layer, x)
        np.testing.assert_array_equal(fused, layers.maxpool2x2(layers.conv2d(layer, x)))
        assert fused.shape == (4, 3, 4, 8)


def test_flatten_is_channels_last() -> None:
    values = np.arange(2 * 3 * 4 * 5).reshape(2, 3, 4, 5)
    flat = layers.flatten(values)
    assert flat.shape == (2, 60)
    for n, y, x, c in np.ndindex(values.shape):
        assert flat[n, (y * 4 + x) * 5 + c] == values[n, y, x, c]


def test_a_one_pixel_conv_is_the_dense_layer() -> None:
    """A 1x1 kernel on a 1x1 map is golden's dense layer on the channel vector, byte for byte."""
    rng = np.random.default_rng(6)
    conv = random_conv(rng, 12, 7, kernel=(1, 1), weight_bits=4, shift=2, activation_max=15)
    dense = IntLayer(conv.weights.reshape(12, 7), conv.bias, 16, 2, 15, 4)
    x = random_map(rng, (50, 12), 15)
    np.testing.assert_array_equal(
        layers.conv2d(conv, x.reshape(50, 1, 1, 12)).reshape(50, 7),
        golden.requantize(dense, golden.wrap(golden.raw_accumulators(dense, x), 16)),
    )


def test_a_valid_conv_over_its_own_size_is_a_dense_network_layer() -> None:
    """A 'valid' 3x3 convolution of a 3x3xC map is the dense layer of `patch_matrix` on the
    channels-last flattened map: the whole network agrees with golden.run's dense network."""
    rng = np.random.default_rng(7)
    conv = random_conv(rng, 4, 6, padding="valid", shift=3, activation_max=15)
    out = IntLayer(rng.integers(-8, 8, size=(6, 10)).astype(np.int8), rng.integers(-50, 50, 10), 16, None, 255, 4)
    x = random_map(rng, (40, 3, 3, 4), 8)
    trace = layers.run([conv, Flatten(), out], x)
    dense_net = golden.IntNetwork(8, (layers.as_dense(conv), out))
    expected = golden.run(dense_net, layers.flatten(x))
    np.testing.assert_array_equal(trace.outputs[0].reshape(40, 6), expected.activations[0])
    np.testing.assert_array_equal(trace.scores, expected.scores)
    np.testing.assert_array_equal(trace.digits, expected.digits)


def test_a_1x1_kernel_is_the_dense_layer_at_every_pixel() -> None:
    rng = np.random.default_rng(8)
    conv = random_conv(rng, 5, 4, kernel=(1, 1), weight_bits=8, shift=5, activation_max=31)
    x = random_map(rng, (3, 4, 6, 5), 31)
    per_pixel = golden.requantize(layers.as_dense(conv),
                                  golden.wrap(golden.raw_accumulators(layers.as_dense(conv), x.reshape(-1, 5)), 16))
    np.testing.assert_array_equal(layers.conv2d(conv, x), per_pixel.reshape(3, 4, 6, 4))


def test_conv_weights_pack_like_dense_weights() -> None:
    rng = np.random.default_rng(9)
    conv = random_conv(rng, 3, 5)
    matrix = layers.patch_matrix(conv)
    assert matrix.shape == (27, 5)
    assert matrix[(2 * 3 + 1) * 3 + 2, 4] == conv.weights[2, 1, 2, 4]  # row (dy*kw + dx)*cin + c
    data = golden.pack_weights(matrix, 4)
    assert len(data) == golden.weight_bytes(27, 5, 4) == 27 * 3
    np.testing.assert_array_equal(golden.unpack_weights(data, 27, 5, 4), matrix)


def test_accumulator_range_and_width() -> None:
    w = np.full((3, 3, 2, 2), 7, np.int8)
    w[..., 1] = -8
    conv = ConvLayer(w, np.array([100, -100], np.int64), 16, 0, 255, 4)
    x = np.zeros((2, 4, 4, 2), np.uint8)
    x[0] = 8  # a full map: interior positions see 18 inputs of 8
    r = layers.accumulator_range(conv, x, input_max=8)
    assert r.high == 100 + 18 * 8 * 7 and r.low == -100 - 18 * 8 * 8
    assert r.bound == 100 + 18 * 8 * 8  # channel 1: |b| + sum |w| * 8
    assert r.observed == 100 + 18 * 8 * 8 <= r.bound
    assert r.width(0) == 16
    big = layers.accumulator_range(conv, x, input_max=255)
    assert big.bound == 100 + 18 * 8 * 255
    blank = layers.accumulator_range(conv, np.zeros((1, 4, 4, 2), np.uint8), 8)
    assert (blank.low, blank.high) == (-100, 100)  # the bias alone: accumulation starts there


def test_accumulator_width_widens_or_fails_like_dense_layers() -> None:
    w = np.full((3, 3, 4, 1), 127, np.int8)
    conv = ConvLayer(w, np.zeros(1, np.int64), 24, 0, 255, 8)
    x = np.full((1, 3, 3, 4), 255, np.uint8)
    r = layers.accumulator_range(conv, x, 255)
    assert r.high == 36 * 255 * 127 > 32767
    assert r.width(2) == 24
    with pytest.raises(QuantizationError, match=r"layer 2: accumulators reach .* beyond the 16-bit range"):
        r.width(2, 16)
    dense = IntLayer(np.full((36, 1), 127, np.int8), np.zeros(1, np.int64), 24, None, 255)
    assert layers.accumulator_range(dense, layers.flatten(x), 255) == r


def test_run_chains_conv_pool_flatten_dense() -> None:
    rng = np.random.default_rng(10)
    c1 = random_conv(rng, 1, 4, shift=2, activation_max=15)
    c2 = random_conv(rng, 4, 6, shift=4, activation_max=15)
    hidden = IntLayer(rng.integers(-8, 8, size=(54, 8)).astype(np.int8), rng.integers(-99, 99, 8), 16, 3, 15, 4)
    out = IntLayer(rng.integers(-8, 8, size=(8, 10)).astype(np.int8), rng.integers(-99, 99, 10), 16, None, 255, 4)
    x = random_map(rng, (20, 12, 12, 1), 8)
    trace = layers.run([c1, MaxPool(), c2, MaxPool(), Flatten(), hidden, out], x)
    p1 = layers.maxpool2x2(layers.conv2d(c1, x))
    p2 = layers.maxpool2x2(layers.conv2d(c2, p1))
    expected = golden.run(golden.IntNetwork(8, (hidden, out)), layers.flatten(p2))
    assert [o.shape for o in trace.outputs] == [(20, 12, 12, 4), (20, 6, 6, 4), (20, 6, 6, 6), (20, 3, 3, 6),
                                                (20, 54), (20, 8), (20, 10)]
    np.testing.assert_array_equal(trace.outputs[1], p1)
    np.testing.assert_array_equal(trace.outputs[3], p2)
    np.testing.assert_array_equal(trace.scores, expected.scores)
    np.testing.assert_array_equal(trace.digits, expected.digits)


def test_run_rejects_what_does_not_chain() -> None:
    rng = np.random.default_rng(11)
    c1 = random_conv(rng, 1, 2)
    out = IntLayer(np.zeros((8, 10), np.int8), np.zeros(10, np.int64), 16, None, 255)
    x = random_map(rng, (1, 2, 2, 1), 8)
    with pytest.raises(LayerShapeError, match="needs a flattened input"):
        layers.run([c1, out], x)
    with pytest.raises(LayerShapeError, match="takes 8 inputs, the previous layer gives 18"):
        layers.run([c1, MaxPool(), Flatten(), out], random_map(rng, (1, 6, 6, 1), 8))
    with pytest.raises(LayerShapeError, match="last layer must be a dense output layer"):
        layers.run([c1, Flatten()], x)
    with pytest.raises(LayerShapeError, match="even height and width, got 3x3"):
        layers.run([c1, MaxPool(), Flatten(), out], random_map(rng, (1, 3, 3, 1), 8))


@pytest.mark.slow
def test_keras_convolution_padding_and_flatten_agree() -> None:
    """Keras's Conv2D ('same' and 'valid', stride 1 and 2) and Flatten, run in float on integer
    weights and inputs (exact in float32 at these sizes), give conv2d_raw's sums and flatten's
    order: the contract is the trained network's own arithmetic."""
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    rng = np.random.default_rng(12)
    for kernel, padding, stride in (
        ((3, 3), "same", 1), ((3, 3), "valid", 1), ((2, 2), "same", 1), ((3, 3), "same", 2), ((3, 3), "valid", 2),
        ((2, 2), "same", 2),
    ):
        conv = random_conv(rng, 3, 4, kernel=kernel, padding=padding, weight_bits=8, stride=stride)
        x = random_map(rng, (2, 5, 6, 3), 31)  # an odd and an even side
        inputs = keras.Input((5, 6, 3))
        conv_layer = keras.layers.Conv2D(4, kernel, strides=stride, padding=padding)
        model = keras.Model(inputs, keras.layers.Flatten()(conv_layer(inputs)))
        conv_layer.set_weights([conv.weights.astype(np.float32), conv.bias.astype(np.float32)])
        got = np.asarray(model(x.astype(np.float32)))
        np.testing.assert_array_equal(got.astype(np.int64), layers.flatten(layers.conv2d_raw(conv, x)))


def test_sums_in_slices_equal_sums_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """`conv2d_raw` bounds its memory by gathering a few images' patches at a time."""
    rng = np.random.default_rng(13)
    layer = random_conv(rng, 3, 4)
    x = random_map(rng, (7, 5, 5, 3), 15)
    whole = layers.conv2d_raw(layer, x)
    monkeypatch.setattr(layers, "PATCH_VALUES_PER_STEP", 2 * 25 * 27)  # two images a step
    np.testing.assert_array_equal(layers.conv2d_raw(layer, x), whole)
    np.testing.assert_array_equal(whole, loop_conv_sums(layer, x))
