"""Convolution, max pooling and flatten in the integer contract: numpy references of what the
6502 will compute, bit for bit, for convolutional networks (issue 15).

The contract that training (QAT), export (`format: 2` manifests, read back by `load`) and the
drawn evaluation run convolutional networks by (the cartridge does not yet), in the same terms
as the dense layers of `golden.py`:

- Feature maps are channels-last, `(N, H, W, C)` uint8, each value 0..activation_max (or
  0..input_max for the network input). Channels-last (HWC) because the console streams a map
  row by row and wants the C values of one position next to each other: a 3x3 patch is then
  three runs of 3*C consecutive bytes, one per kernel row. It is also Keras's own order, so
  `flatten` hands a following dense layer its inputs in the order Keras trained it with.
- A convolution is a dense layer over the patch ("im2col"): output (y, x, o) is
  `b[o] + sum over (dy, dx, c) of in[s*y+dy-pt, s*x+dx-pl, c] * w[dy, dx, c, o]` (stride s,
  1 or 2: a strided conv is the stride-1 one at every s-th row and column), i.e. the
  patch flattened in (dy, dx, c) order times `weights.reshape(kh*kw*cin, cout)`
  (`patch_matrix`). The accumulation, wrap-around, requantization and clamp are golden's own
  functions applied to that matrix (`as_dense`), so a convolution rounds exactly like a dense
  layer: `clamp(wrap(acc) >> shift, 0, activation_max)`, the rounding constant 2^(shift-1)
  folded into the stored bias. This is also the 6502 plan (docs/cnn-plan.md): for each output
  position the patch is gathered into a small buffer and the dense kernel runs over it.
- Output sides as Keras's: 'valid' `(n-k)//s + 1`, 'same' `ceil(n/s)`. `same` padding adds
  zeros as Keras/TensorFlow do: `total = max((out-1)*s + k - n, 0)` along an axis, `total//2`
  before and the rest after (1 and 1 for a 3x3 kernel at stride 1; at stride 2 an even side
  gets 0 before and 1 after); `valid` adds none.
- 2x2 max pooling (stride 2) needs even heights and widths. It may be fused into the
  convolution (`conv2d_pooled`): pooling the wrapped accumulators and requantizing the four-way
  maximum gives the same bytes as requantizing every position and then pooling, because
  `requantize` (arithmetic shift, clamp) never decreases when its argument grows, and a
  non-decreasing f satisfies f(max(a, b)) = max(f(a), f(b)). The wrap must come first: it is
  not monotone, and the console pools what its accumulators hold.

Nothing here uses floating point for the result (the patch product runs in float64 through
`golden.raw_accumulators`, exact far below 2^53).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from common import layout
from common.architecture import conv_output_side
from intnet import golden
from intnet.quantize import choose_width, weight_range

Padding = Literal["same", "valid"]
PADDINGS: tuple[Padding, ...] = ("same", "valid")
STRIDES = (1, 2)


class LayerShapeError(ValueError):
    """A layer does not fit the shape it is given; the message says which and what to change."""


@dataclass(frozen=True)
class ConvLayer:
    """A 2-D convolution, stride 1 or 2, with ReLU, requantization and clamp (always a hidden
    layer: the scores come from a dense layer)."""

    weights: np.ndarray  # (kh, kw, cin, cout) int8: Keras's kernel layout
    bias: np.ndarray  # (cout,) int64, rounding constant included
    accumulator_bits: int  # 16 or 24
    shift: int  # right shift of the requantization
    activation_max: int  # clamp of the output, <= 255
    weight_bits: int = 8  # 8: int8 weights; 4: -8..7, stored two to a byte
    padding: Padding = "same"
    stride: int = 1  # 1, or 2: every second row and column

    def __post_init__(self) -> None:
        if self.weights.ndim != 4:
            raise LayerShapeError(f"conv weights must be (kh, kw, cin, cout), got shape {self.weights.shape}")
        if self.bias.shape != (self.weights.shape[3],):
            raise LayerShapeError(f"conv bias has shape {self.bias.shape}, expected ({self.weights.shape[3]},)")
        if self.padding not in PADDINGS:
            raise LayerShapeError(f"padding {self.padding!r}: only 'same' and 'valid'")
        if self.stride not in STRIDES:
            raise LayerShapeError(f"stride {self.stride}: only 1 and 2")
        if self.shift is None or self.shift < 0:
            raise LayerShapeError(f"a convolution needs a right shift >= 0, got {self.shift}")
        if not 0 <= self.activation_max <= 255:
            raise LayerShapeError(f"activation_max {self.activation_max}: outputs are bytes (0..255)")
        low, high = weight_range(self.weight_bits)
        if self.weights.size and (self.weights.min() < low or self.weights.max() > high):
            raise LayerShapeError(f"{self.weight_bits}-bit weights must lie in {low}..{high}")

    @property
    def kernel(self) -> tuple[int, int]:
        return int(self.weights.shape[0]), int(self.weights.shape[1])

    @property
    def channels(self) -> tuple[int, int]:
        """(input channels, output channels)."""
        return int(self.weights.shape[2]), int(self.weights.shape[3])

    def output_shape(self, height: int, width: int) -> tuple[int, int, int]:
        """(H', W', cout) for an input of height x width; raises if the kernel does not fit."""
        kh, kw = self.kernel
        if self.padding == "valid" and (height < kh or width < kw):
            raise LayerShapeError(
                f"a {kh}x{kw} 'valid' convolution does not fit a {height}x{width} input: use padding 'same' "
                "or a larger input"
            )
        return (
            conv_output_side(height, kh, self.stride, self.padding),
            conv_output_side(width, kw, self.stride, self.padding),
            self.channels[1],
        )


def pads(kernel: int, padding: Padding, side: int, stride: int = 1) -> tuple[int, int]:
    """Zeros added before and after along one axis of `side` values, as Keras's (TensorFlow's)
    `same` does: enough for ceil(side / stride) outputs, the odd one after."""
    if padding == "valid":
        return 0, 0
    out = -(-side // stride)
    total = max((out - 1) * stride + kernel - side, 0)
    return total // 2, total - total // 2


def patch_matrix(layer: ConvLayer) -> np.ndarray:
    """The kernel as a dense weight matrix (kh*kw*cin, cout), rows in (dy, dx, c) order: what the
    exported `.bin` holds (`golden.pack_weights` of it) and what the console's dense kernel reads."""
    kh, kw = layer.kernel
    cin, cout = layer.channels
    return layer.weights.reshape(kh * kw * cin, cout)


def as_dense(layer: ConvLayer) -> golden.IntLayer:
    """The convolution as golden's dense layer over one patch: same bias, width, shift, clamp."""
    return golden.IntLayer(
        weights=patch_matrix(layer),
        bias=layer.bias,
        accumulator_bits=layer.accumulator_bits,
        shift=layer.shift,
        activation_max=layer.activation_max,
        weight_bits=layer.weight_bits,
    )


def _check_map(values: np.ndarray, what: str) -> None:
    if values.ndim != 4:
        raise LayerShapeError(f"{what} takes feature maps (N, H, W, C), got shape {values.shape}")


def patches(layer: ConvLayer, inputs: np.ndarray) -> np.ndarray:
    """(N, H', W', kh*kw*cin): every output position's patch, zeros where `same` pads, in the
    row order of `patch_matrix` (what the console gathers before each position's MACs)."""
    _check_map(inputs, "a convolution")
    _, height, width, cin = inputs.shape
    if cin != layer.channels[0]:
        raise LayerShapeError(f"the convolution takes {layer.channels[0]} input channels, the input has {cin}")
    out_h, out_w, _ = layer.output_shape(height, width)
    kh, kw = layer.kernel
    s = layer.stride
    rows, cols = pads(kh, layer.padding, height, s), pads(kw, layer.padding, width, s)
    padded = np.pad(inputs, ((0, 0), rows, cols, (0, 0)))
    # tap (dy, dx) of output (y, x) is padded[s*y + dy, s*x + dx]
    taps = [
        padded[:, dy : dy + s * (out_h - 1) + 1 : s, dx : dx + s * (out_w - 1) + 1 : s, :]
        for dy in range(kh)
        for dx in range(kw)
    ]
    return np.concatenate(taps, axis=3)


PATCH_VALUES_PER_STEP = 1 << 23
"""Patch values gathered at a time by `conv2d_raw` (64 MB as float64): all 70,000 digits' patches of
a 16-channel map at once would take gigabytes, so the images go through in slices."""


def conv2d_raw(layer: ConvLayer, inputs: np.ndarray) -> np.ndarray:
    """The exact (unwrapped) sums (N, H', W', cout), int64: for proving the accumulator width."""
    _check_map(inputs, "a convolution")
    n, height, width, _ = inputs.shape
    out_h, out_w, cout = layer.output_shape(height, width)
    dense = as_dense(layer)
    size = dense.weights.shape[0]
    step = max(1, PATCH_VALUES_PER_STEP // max(1, out_h * out_w * size))
    out = np.empty((n, out_h, out_w, cout), dtype=np.int64)
    for start in range(0, n, step):
        p = patches(layer, inputs[start : start + step])
        out[start : start + step] = golden.raw_accumulators(dense, p.reshape(-1, size)).reshape((*p.shape[:3], cout))
    return out


def conv2d_accumulators(layer: ConvLayer, inputs: np.ndarray) -> np.ndarray:
    """What the console's accumulators hold: the sums wrapped to the layer's width."""
    return golden.wrap(conv2d_raw(layer, inputs), layer.accumulator_bits)


def conv2d(layer: ConvLayer, inputs: np.ndarray) -> np.ndarray:
    """The layer's output map (N, H', W', cout) uint8: golden's requantization of each position."""
    if inputs.dtype != np.uint8:
        raise TypeError(f"inputs must be uint8, got {inputs.dtype}")
    return golden.requantize(as_dense(layer), conv2d_accumulators(layer, inputs))


def maxpool2x2(values: np.ndarray) -> np.ndarray:
    """2x2 max pooling, stride 2, of (N, H, W, C) maps of any integer type (activations, or
    wrapped accumulators for the fused form). H and W must be even: a ragged last row or column
    would be a rule of its own on the console, so it is refused rather than dropped silently."""
    _check_map(values, "max pooling")
    n, height, width, c = values.shape
    if height % 2 or width % 2:
        raise LayerShapeError(
            f"2x2 max pooling needs an even height and width, got {height}x{width}: use padding 'same' on an "
            "even-sized input, or move the pooling (a 'valid' 3x3 convolution takes 2 rows and columns off)"
        )
    return values.reshape(n, height // 2, 2, width // 2, 2, c).max(axis=(2, 4))


def conv2d_pooled(layer: ConvLayer, inputs: np.ndarray) -> np.ndarray:
    """Convolution with the 2x2 max pooling fused in, the console's order: pool the wrapped
    accumulators of the four positions, then requantize once. Equal to
    `maxpool2x2(conv2d(layer, inputs))` (module docstring; tests/intnet/test_layers.py)."""
    if inputs.dtype != np.uint8:
        raise TypeError(f"inputs must be uint8, got {inputs.dtype}")
    return golden.requantize(as_dense(layer), maxpool2x2(conv2d_accumulators(layer, inputs)))


def flatten(values: np.ndarray) -> np.ndarray:
    """(N, H, W, C) -> (N, H*W*C), channels-last: index (y*W + x)*C + c, the order the console
    writes a map and Keras's Flatten of a channels-last tensor, so a following dense layer's
    weight rows are the trained ones, unpermuted."""
    _check_map(values, "flatten")
    return values.reshape(values.shape[0], -1)


@dataclass(frozen=True)
class AccumulatorRange:
    """How large a layer's sums get: the proof behind its accumulator width, as for dense layers
    in quantize.py (the console's partial sums may wrap; only the bias, where accumulation
    starts, and every final sum must fit)."""

    low: int  # smallest final sum observed (or bias), <= 0
    high: int  # largest, >= 0
    bound: int  # largest |sum| any input could reach: max over outputs of |b| + sum |w| * input_max

    @property
    def observed(self) -> int:
        """The largest |sum| seen on the data."""
        return max(-self.low, self.high)

    def width(self, index: int, setting: str | int = "auto") -> int:
        """16 or 24 bits, by quantize's own rule and error message (`choose_width`)."""
        return choose_width(index, self.low, self.high, setting)


def accumulator_range(layer: ConvLayer | golden.IntLayer, inputs: np.ndarray, input_max: int) -> AccumulatorRange:
    """The observed range of a convolution's (every position) or dense layer's exact sums over
    `inputs` (maps for a convolution, (N, inputs) for a dense layer), and the worst case for
    inputs in 0..input_max."""
    if isinstance(layer, ConvLayer):
        exact = conv2d_raw(layer, inputs)
        weights = patch_matrix(layer)
    else:
        exact = golden.raw_accumulators(layer, inputs)
        weights = layer.weights
    bias = layer.bias.astype(np.int64)
    low = int(min(exact.min(initial=0), bias.min(initial=0)))
    high = int(max(exact.max(initial=0), bias.max(initial=0)))
    bound = int(np.max(np.abs(bias) + np.abs(weights.astype(np.int64)).sum(axis=0) * input_max, initial=0))
    return AccumulatorRange(low, high, bound)


@dataclass(frozen=True)
class MaxPool:
    """2x2 max pooling, stride 2, as a layer of a sequence (`run`)."""


@dataclass(frozen=True)
class Flatten:
    """Channels-last flatten, as a layer of a sequence (`run`)."""


Layer = ConvLayer | MaxPool | Flatten | golden.IntLayer


@dataclass(frozen=True)
class LayerTrace:
    """Every layer's output for a batch: maps (N, H, W, C) or vectors (N, n) of uint8, and the
    last dense layer's scores (its accumulators) and digits, as golden.Trace has them."""

    outputs: list[np.ndarray]
    scores: np.ndarray
    digits: np.ndarray


def run(layers: list[Layer], inputs: np.ndarray) -> LayerTrace:
    """Run a sequence of layers on uint8 maps (N, H, W, C); the last layer is a dense output
    layer (no shift). A pooling right after a convolution is computed fused, as the console
    will (pool the wrapped accumulators, then requantize); the bytes are the same either way.
    `outputs` has one entry per layer: a fused convolution's entry is its whole unpooled map."""
    if inputs.dtype != np.uint8:
        raise TypeError(f"inputs must be uint8, got {inputs.dtype}")
    if not layers or not isinstance(layers[-1], golden.IntLayer) or not layers[-1].is_output:
        raise LayerShapeError("the last layer must be a dense output layer (shift None)")
    outputs: list[np.ndarray] = []
    values = inputs
    scores = np.zeros((len(inputs), 0), dtype=np.int64)
    index = 0
    while index < len(layers):
        layer = layers[index]
        if isinstance(layer, ConvLayer):
            if values.dtype != np.uint8:
                raise LayerShapeError(f"layer {index}: a convolution needs a uint8 map, got {values.dtype}")
            acc = conv2d_accumulators(layer, values)
            values = golden.requantize(as_dense(layer), acc)
            if index + 1 < len(layers) and isinstance(layers[index + 1], MaxPool):
                outputs.append(values)  # the whole map, for inspection (the console never holds it)
                values = golden.requantize(as_dense(layer), maxpool2x2(acc))  # fused: pool, then requantize
                index += 1
        elif isinstance(layer, MaxPool):
            values = maxpool2x2(values)
        elif isinstance(layer, Flatten):
            values = flatten(values)
        else:
            if values.ndim != 2:
                raise LayerShapeError(f"layer {index}: a dense layer needs a flattened input, got shape {values.shape}")
            if values.shape[1] != layer.weights.shape[0]:
                raise LayerShapeError(
                    f"layer {index}: the dense layer takes {layer.weights.shape[0]} inputs, the previous layer "
                    f"gives {values.shape[1]}"
                )
            if layer.is_output and index != len(layers) - 1:
                raise LayerShapeError(f"layer {index}: only the last layer may be an output layer (shift None)")
            acc = golden.wrap(golden.raw_accumulators(layer, values), layer.accumulator_bits)
            if layer.is_output:
                scores = acc
                values = acc
            else:
                values = golden.requantize(layer, acc)
        outputs.append(values)
        index += 1
    return LayerTrace(outputs, scores, np.argmax(scores, axis=1))


@dataclass(frozen=True)
class Network:
    """A network read from an export folder: v1 (dense layers only) or v2 (`format: 2`, with
    convolutions, pools and a flatten); `input_shape` is (H, W, C) for v2, (inputs,) for v1."""

    input_max: int
    input_shape: tuple[int, ...]
    layers: list[Layer]


def _weighted_entry(export_dir: Path, entry: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    bits = entry["weight_bits"]
    data = (export_dir / entry["weights"]["file"]).read_bytes()
    if len(data) != golden.weight_bytes(entry["inputs"], entry["outputs"], bits):
        raise ValueError(f"{entry['weights']['file']}: {len(data)} bytes, not what the manifest says")
    weights = golden.unpack_weights(data, entry["inputs"], entry["outputs"], bits)
    bias = golden.read_bias(
        (export_dir / entry["bias"]["file"]).read_bytes(), entry["outputs"], entry["accumulator_bits"]
    )
    return weights, bias


def load(export_dir: Path) -> Network:
    """Read the network back from an export folder's manifest and `.bin` tables (v1 or v2). A
    convolution's table is its `patch_matrix` ((dy*kw + dx)*cin + c rows, cout columns)."""
    manifest = json.loads((export_dir / layout.MANIFEST).read_text())
    if manifest.get("format", 1) == 1:
        network = golden.load(export_dir)
        return Network(network.input_max, (manifest["input"]["count"],), list(network.layers))
    if manifest["format"] != 2:
        raise ValueError(f"{export_dir}: manifest format {manifest['format']}: this code reads 1 and 2")
    result: list[Layer] = []
    for entry in manifest["layers"]:
        kind = entry["type"]
        if kind == "maxpool2d":
            result.append(MaxPool())
        elif kind == "flatten":
            result.append(Flatten())
        elif kind == "conv2d":
            weights, bias = _weighted_entry(export_dir, entry)
            kh, kw = entry["kernel"]
            cin, cout = entry["input_shape"][2], entry["outputs"]
            result.append(
                ConvLayer(
                    weights=weights.reshape(kh, kw, cin, cout),
                    bias=bias,
                    accumulator_bits=entry["accumulator_bits"],
                    shift=entry["shift"],
                    activation_max=entry["activation_max"],
                    weight_bits=entry["weight_bits"],
                    padding=entry["padding"],
                    stride=entry.get("stride", 1),  # manifests written before strides: 1
                )
            )
        elif kind == "dense":
            weights, bias = _weighted_entry(export_dir, entry)
            result.append(
                golden.IntLayer(
                    weights, bias, entry["accumulator_bits"], entry["shift"], entry["activation_max"],
                    entry["weight_bits"],
                )
            )
        else:
            raise ValueError(f"{export_dir}: layer type {kind!r} is not one of conv2d, maxpool2d, flatten, dense")
    return Network(manifest["input"]["max"], tuple(manifest["input"]["shape"]), result)


def predict(network: Network, inputs: np.ndarray, batch: int = 4096) -> np.ndarray:
    """The digits of `run` for inputs (N, ...) of any shape holding input_shape's values
    (the flat preprocessed inputs are reshaped to the map), a batch at a time."""
    shaped = inputs.reshape(len(inputs), *network.input_shape)
    return np.concatenate(
        [run(network.layers, shaped[i : i + batch]).digits for i in range(0, len(shaped), batch)]
        or [np.zeros(0, dtype=np.int64)]
    )
