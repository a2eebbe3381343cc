"""Quantization of a network with convolutions (`model.layers`) into the layers of `intnet.layers`.

The rules are `quantize.py`'s, per weighted layer (convolution or dense): a power-of-two weight
step (4 or 8 bits), the bias rounded to the accumulator step, the shift that brings the
calibration percentile of the layer's ReLU'd sums under activation_max (its rounding constant
folded into the bias), and the accumulator width proven over every training and test image.
What differs:

- a convolution's sums are counted at every output position; a convolution followed by a pool
  is calibrated on the pooled sums (the maxima the console stores), and its output is computed
  fused (pool the wrapped accumulators, then requantize), as `layers.run` does;
- the widths are proven with `layers.accumulator_range` a slice of images at a time, and the
  percentile comes from a histogram of the integer sums, so no layer's sums for all 70,000
  images are ever held at once (a 12x12x16 map would take 1.3 GB as int64);
- a convolution without a trained bias (`bias: false`) gets a zero bias plus the rounding constant.

Dense-only networks keep `quantize.quantize` (their tables are byte-identical to before).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from common.architecture import Plan
from common.config import QuantizeConfig
from intnet import golden, layers
from intnet.h5weights import FloatLayer
from intnet.quantize import Choice, LayerReport, QuantizationError, choose_width, weight_exponent, weight_range

IMAGES_PER_SLICE = 4096


@dataclass(frozen=True)
class QuantizedNet:
    """The integer layers (`layers.run` runs them), the input's largest value, and per weighted
    layer the quantization report."""

    input_max: int
    layers: list[layers.Layer]
    reports: list[LayerReport]

    @property
    def weighted(self) -> list[layers.ConvLayer | golden.IntLayer]:
        return [layer for layer in self.layers if isinstance(layer, layers.ConvLayer | golden.IntLayer)]


def percentile_of_counts(counts: np.ndarray, percentile: float) -> float:
    """np.percentile (linear interpolation) of the values 0..len(counts)-1 counted in `counts`."""
    total = int(counts.sum())
    rank = (total - 1) * percentile / 100.0
    cumulative = np.cumsum(counts)
    low, high = math.floor(rank), math.ceil(rank)
    value_low = int(np.searchsorted(cumulative, low, side="right"))
    value_high = int(np.searchsorted(cumulative, high, side="right"))
    return value_low + (value_high - value_low) * (rank - low)


def shift_for(top: float, activation_max: int) -> int:
    """quantize.choose_shift's rule for a given percentile value."""
    return 0 if top <= activation_max else math.ceil(math.log2(top / activation_max))


def _raw(layer: layers.ConvLayer | golden.IntLayer, values: np.ndarray, pooled: bool) -> np.ndarray:
    exact = layers.conv2d_raw(layer, values) if isinstance(layer, layers.ConvLayer) else golden.raw_accumulators(
        layer, values
    )
    return layers.maxpool2x2(exact) if pooled else exact


def _slices(n: int) -> list[slice]:
    return [slice(start, min(n, start + IMAGES_PER_SLICE)) for start in range(0, n, IMAGES_PER_SLICE)]


def _make(kind: str, weights: np.ndarray, bias: np.ndarray, bits: int, shift: int | None, amax: int, wbits: int,
          padding: str, stride: int) -> layers.ConvLayer | golden.IntLayer:
    if kind == "conv":
        return layers.ConvLayer(weights, bias, bits, shift or 0, amax, wbits, padding, stride)  # type: ignore[arg-type]
    return golden.IntLayer(weights, bias, bits, shift, amax, wbits)


@dataclass
class _State:
    values: np.ndarray  # train then test inputs of the next layer
    scale: float  # real value of one input unit
    peak: int  # largest input value


def _quantize_layer(
    placed_kind: str,
    padding: str,
    stride: int,
    pooled: bool,
    index: int,
    float_layer: FloatLayer,
    choice: Choice,
    weight_bits: int,
    state: _State,
    n_train: int,
    cfg: QuantizeConfig,
) -> tuple[layers.ConvLayer | golden.IntLayer, LayerReport, _State]:
    activation_max = (1 << cfg.activation_bits) - 1
    is_output = placed_kind == "output"
    low_w, high_w = weight_range(weight_bits)
    weights = np.clip(np.rint(float_layer.kernel * 2.0**choice.exponent), low_w, high_w).astype(np.int8)
    acc_scale = state.scale * 2.0**-choice.exponent
    bias = np.rint(float_layer.bias / acc_scale).astype(np.int64)
    shift: int | None = None
    if not is_output and choice.shift is not None:
        shift = choice.shift
    elif not is_output:
        probe = _make(placed_kind, weights, bias, 64, 0, activation_max, weight_bits, padding, stride)
        counts = np.zeros(1, dtype=np.int64)
        for part in _slices(n_train):
            sums = np.maximum(_raw(probe, state.values[part], pooled), 0).ravel()
            found = np.bincount(sums, minlength=len(counts))
            if len(found) > len(counts):
                found[: len(counts)] += counts
                counts = found
            else:
                counts += found
        shift = max(0, shift_for(percentile_of_counts(counts, cfg.calibration_percentile), activation_max)
                    + choice.shift_adjust)
    if shift:
        bias = bias + (1 << (shift - 1))
    exact_layer = _make(placed_kind, weights, bias, 64, shift, activation_max, weight_bits, padding, stride)
    parts = _slices(len(state.values))
    ranges = [layers.accumulator_range(exact_layer, state.values[part], state.peak) for part in parts]
    low = min(r.low for r in ranges)
    high = max(r.high for r in ranges)
    width = choose_width(index, low, high, cfg.accumulator_bits)
    layer = _make(placed_kind, weights, bias, width, shift, activation_max, weight_bits, padding, stride)
    output_scale = None if shift is None else acc_scale * 2.0**shift
    report = LayerReport(choice.exponent, state.scale, acc_scale, output_scale, low, high, ranges[0].bound)
    if is_output:
        return layer, report, state
    dense = layers.as_dense(layer) if isinstance(layer, layers.ConvLayer) else layer
    outputs = [
        golden.requantize(dense, _pool(golden.wrap(_raw(layer, state.values[part], False), width), pooled))
        for part in _slices(len(state.values))
    ]
    return layer, report, _State(np.concatenate(outputs), output_scale or 1.0, activation_max)


def _pool(values: np.ndarray, pooled: bool) -> np.ndarray:
    return layers.maxpool2x2(values) if pooled else values


def _quantize_from(
    plan: Plan,
    float_layers: list[FloatLayer],
    choices: list[Choice],
    start: int,
    state: _State,
    n_train: int,
    cfg: QuantizeConfig,
    cache: dict[int, _State] | None = None,
    stop: int | None = None,
) -> tuple[list[layers.Layer], list[LayerReport]]:
    """Quantize the weighted layers from number `start` on (up to, not including, number `stop`),
    `state` being the input of that one; with `cache`, record the input state of every weighted
    layer reached."""
    bits = cfg.bits_per_layer(len(float_layers))
    out: list[layers.Layer] = []
    reports: list[LayerReport] = []
    weighted = -1
    placed = plan.layers
    for position, item in enumerate(placed):
        if item.weighted:
            weighted += 1
        if weighted < start:
            continue
        if item.kind == "pool":
            if not (position and placed[position - 1].kind == "conv"):
                out.append(layers.MaxPool())
                state = _State(layers.maxpool2x2(state.values), state.scale, state.peak)
            else:
                out.append(layers.MaxPool())  # fused into the convolution before it
            continue
        if item.kind == "flatten":
            out.append(layers.Flatten())
            state = _State(layers.flatten(state.values), state.scale, state.peak)
            continue
        if cache is not None:
            cache[weighted] = state
        if stop is not None and weighted >= stop:
            break
        pooled = item.kind == "conv" and position + 1 < len(placed) and placed[position + 1].kind == "pool"
        padding = getattr(item.spec, "padding", "valid")
        stride = getattr(item.spec, "stride", 1)
        layer, report, state = _quantize_layer(
            item.kind, padding, stride, pooled, weighted, float_layers[weighted], choices[weighted], bits[weighted],
            state, n_train, cfg,
        )
        out.append(layer)
        reports.append(report)
    return out, reports


def quantize_net(
    plan: Plan,
    float_layers: list[FloatLayer],
    input_max: int,
    cfg: QuantizeConfig,
    train_inputs: np.ndarray,
    test_inputs: np.ndarray,
    train_labels: np.ndarray | None = None,
    fixed: list[Choice] | None = None,
) -> QuantizedNet:
    """Quantize the network of `plan` (inputs: maps (N, H, W, 1)); calibrate on the training
    images, prove widths on all. `search` and `fixed` as in `quantize.quantize`: with search, each
    weighted layer in turn tries a finer weight step and the shifts beside the calibrated one,
    keeping the best accuracy on the training images; the later layers then follow it."""
    if len(float_layers) != len(plan.weighted):
        raise QuantizationError(f"the model has {len(float_layers)} weighted layers, the config {len(plan.weighted)}")
    n_train = len(train_inputs)
    start = _State(np.concatenate([train_inputs, test_inputs]), 1.0 / input_max, input_max)
    bits = cfg.bits_per_layer(len(float_layers))
    if fixed is not None:
        net, reports = _quantize_from(plan, float_layers, fixed, 0, start, n_train, cfg)
        return QuantizedNet(input_max, net, reports)
    choices = [Choice(weight_exponent(layer.kernel, b), 0) for layer, b in zip(float_layers, bits, strict=True)]
    if cfg.search and train_labels is not None:
        state = start
        for index in range(len(float_layers)):
            base = choices[index]
            adjusts = (0,) if index == len(float_layers) - 1 else (0, -1, 1)
            finer = (0, 1, 2) if bits[index] == 4 else (0, 1)
            candidates = [Choice(base.exponent + e, a) for e in finer for a in adjusts]
            best: tuple[float, int] | None = None
            for order, candidate in enumerate(candidates):
                trial = [*choices[:index], candidate, *choices[index + 1 :]]
                try:
                    suffix, _ = _quantize_from(plan, float_layers, trial, index, state, n_train, cfg)
                except QuantizationError:
                    continue
                digits = predict(suffix, state.values[:n_train])  # the earlier layers' outputs are cached
                accuracy = float(np.mean(digits == train_labels))
                if best is None or accuracy > best[0]:
                    best = (accuracy, order)
            if best is not None:
                choices[index] = candidates[best[1]]
            if index + 1 < len(float_layers):  # the chosen layer's output is the next layer's input
                cache: dict[int, _State] = {}
                _quantize_from(plan, float_layers, choices, index, state, n_train, cfg, cache, stop=index + 1)
                state = cache[index + 1]
    net, reports = _quantize_from(plan, float_layers, choices, 0, start, n_train, cfg)
    return QuantizedNet(input_max, net, reports)


def predict(net: list[layers.Layer], inputs: np.ndarray, batch: int = IMAGES_PER_SLICE) -> np.ndarray:
    """The digits `layers.run` gives, a batch at a time."""
    return np.concatenate([layers.run(net, inputs[i : i + batch]).digits for i in range(0, len(inputs), batch)])
