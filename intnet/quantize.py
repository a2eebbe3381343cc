"""Post-training quantization of the float MLP into the integer network of `golden.py`.

Per layer, with `s_in` the real value of one input unit (1/input_max for the pixels):

- weights: 8 or 4 bits (`quantize.weight_bits`, per layer), one power-of-two scale per layer:
  `w = round(W * 2^e)` with the largest `e` that keeps every |w| <= 127 (or 7), clipped to
  -127..127 (or -8..7) (`search` may pick one finer step, see `quantize`);
- accumulator scale `s_acc = s_in * 2^-e`; bias `round(b / s_acc)`;
- hidden layers: the shift is the smallest one that brings the calibration percentile of the
  layer's (ReLU) activations on the training set under `activation_max`; its rounding
  constant 2^(shift-1) is added to the bias; the next layer's `s_in = s_acc * 2^shift`;
- accumulator width: proven over every training and test image: `auto` takes 16 bits when
  all sums fit int16, else 24; a fixed width that some image overflows is an error.

After quantization-aware training (`training/qat.py`) the exponents and shifts the model was
fine-tuned with are given as `fixed` choices, so the integer network is the one it learned.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from common.config import QuantizeConfig
from common.errors import BuildError
from common.fsutil import read_json
from intnet.golden import IntLayer, IntNetwork, predict, raw_accumulators, requantize, wrap
from intnet.h5weights import FloatLayer

WEIGHT_MAX = 127  # of 8-bit weights


def weight_range(bits: int) -> tuple[int, int]:
    """Smallest and largest weight of a `bits`-bit layer (int8 stays symmetric)."""
    return (-WEIGHT_MAX, WEIGHT_MAX) if bits == 8 else (-(1 << (bits - 1)), (1 << (bits - 1)) - 1)
ACCUMULATOR_WIDTHS = (16, 24)


class QuantizationError(BuildError):
    """The network cannot be quantized as configured; the message says what to change."""


@dataclass(frozen=True)
class LayerReport:
    weight_exponent: int
    input_scale: float
    accumulator_scale: float
    output_scale: float | None
    accumulator_min: int  # over all training and test images
    accumulator_max: int
    accumulator_bound: int  # largest |sum| any input could reach, for information

    def as_dict(self) -> dict[str, float | int | None]:
        return dict(self.__dict__)


def weight_exponent(kernel: np.ndarray, bits: int = 8) -> int:
    """Largest e with max|W| * 2^e <= the largest weight of `bits` bits."""
    largest = float(np.max(np.abs(kernel)))
    if largest == 0.0:
        return 0
    return math.floor(math.log2(weight_range(bits)[1] / largest))


def choose_shift(accumulators: np.ndarray, percentile: float, activation_max: int) -> int:
    """Smallest right shift that brings the `percentile` of the ReLU'd sums under activation_max."""
    top = float(np.percentile(np.maximum(accumulators, 0), percentile))
    if top <= activation_max:
        return 0
    return math.ceil(math.log2(top / activation_max))


def fits(low: int, high: int, bits: int) -> bool:
    return -(1 << (bits - 1)) <= low and high < (1 << (bits - 1))


def choose_width(index: int, low: int, high: int, setting: str | int) -> int:
    candidates = ACCUMULATOR_WIDTHS if setting == "auto" else (int(setting),)
    for bits in candidates:
        if fits(low, high, bits):
            return bits
    widest = candidates[-1]
    raise QuantizationError(
        f"layer {index}: accumulators reach {low}..{high} on the training and test images, beyond "
        f"the {widest}-bit range {-(1 << (widest - 1))}..{(1 << (widest - 1)) - 1}; "
        + (
            "set quantize.accumulator_bits to auto (or 24)"
            if setting != "auto" and widest < ACCUMULATOR_WIDTHS[-1]
            else "lower quantize.activation_bits or the input levels (preprocess.levels), or use fewer inputs"
        )
    )


def quantize(
    layers: list[FloatLayer],
    input_max: int,
    cfg: QuantizeConfig,
    train_inputs: np.ndarray,
    test_inputs: np.ndarray,
    train_labels: np.ndarray | None = None,
    fixed: list[Choice] | None = None,
) -> tuple[IntNetwork, list[LayerReport]]:
    """Quantize `layers`; calibrate on `train_inputs`, prove widths on train and test.

    With `cfg.search` (and `train_labels`), each layer also tries a weight step one finer
    (two for 4-bit layers; the largest weights clipped) and, for hidden layers, a shift one smaller or
    larger than calibrated; layer by layer, the choice with the best accuracy on the
    training images is kept (ties keep the plain choice). Test images never influence it.
    `fixed` choices (from quantization-aware training) are used as they are."""
    if fixed is not None:
        return _quantize(layers, fixed, input_max, cfg, train_inputs, test_inputs)
    bits = cfg.bits_per_layer(len(layers))
    choices = [Choice(weight_exponent(layer.kernel, b), 0) for layer, b in zip(layers, bits, strict=True)]
    if cfg.search and train_labels is not None:
        for index in range(len(layers)):
            base = choices[index]
            adjusts = (0,) if index == len(layers) - 1 else (0, -1, 1)
            finer = (0, 1, 2) if bits[index] == 4 else (0, 1)  # 4 bits: clipping the tails pays more
            candidates = [Choice(base.exponent + e, a) for e in finer for a in adjusts]
            best: tuple[float, int] | None = None
            for order, candidate in enumerate(candidates):
                trial = [*choices[:index], candidate, *choices[index + 1 :]]
                try:
                    network, _ = _quantize(layers, trial, input_max, cfg, train_inputs, test_inputs)
                except QuantizationError:
                    continue  # a choice that overflows an accumulator is no candidate
                accuracy = float(np.mean(predict(network, train_inputs) == train_labels))
                if best is None or accuracy > best[0]:
                    best = (accuracy, order)
            if best is not None:
                choices[index] = candidates[best[1]]
    return _quantize(layers, choices, input_max, cfg, train_inputs, test_inputs)


@dataclass(frozen=True)
class Choice:
    """Per layer: the weight exponent, and a step added to the calibrated shift (or, from
    quantization-aware training, the shift itself)."""

    exponent: int
    shift_adjust: int
    shift: int | None = None


def _quantize(
    layers: list[FloatLayer],
    choices: list[Choice],
    input_max: int,
    cfg: QuantizeConfig,
    train_inputs: np.ndarray,
    test_inputs: np.ndarray,
) -> tuple[IntNetwork, list[LayerReport]]:
    activation_max = (1 << cfg.activation_bits) - 1
    bits_per_layer = cfg.bits_per_layer(len(layers))
    n_train = len(train_inputs)
    values = np.concatenate([train_inputs, test_inputs])
    input_scale = 1.0 / input_max
    int_layers: list[IntLayer] = []
    reports: list[LayerReport] = []
    for index, layer in enumerate(layers):
        is_output = index == len(layers) - 1
        exponent = choices[index].exponent
        weight_bits = bits_per_layer[index]
        low_w, high_w = weight_range(weight_bits)
        weights = np.clip(np.rint(layer.kernel * 2.0**exponent), low_w, high_w).astype(np.int8)
        acc_scale = input_scale * 2.0**-exponent
        bias = np.rint(layer.bias / acc_scale).astype(np.int64)
        shift = None
        if not is_output and choices[index].shift is not None:
            shift = choices[index].shift
        elif not is_output:
            probe = IntLayer(weights, bias, 64, 0, activation_max)
            shift = choose_shift(raw_accumulators(probe, values[:n_train]), cfg.calibration_percentile, activation_max)
            shift = max(0, shift + choices[index].shift_adjust)
        if shift:
            bias = bias + (1 << (shift - 1))
        exact = raw_accumulators(IntLayer(weights, bias, 64, shift, activation_max), values)
        low = int(min(exact.min(initial=0), bias.min(initial=0)))
        high = int(max(exact.max(initial=0), bias.max(initial=0)))
        bits = choose_width(index, low, high, cfg.accumulator_bits)
        peak_input = input_max if index == 0 else activation_max
        bound = int(np.max(np.abs(bias) + np.abs(weights.astype(np.int64)).sum(axis=0) * peak_input))
        int_layer = IntLayer(weights, bias, bits, shift, activation_max, weight_bits)
        int_layers.append(int_layer)
        output_scale = None if shift is None else acc_scale * 2.0**shift
        reports.append(LayerReport(exponent, input_scale, acc_scale, output_scale, low, high, bound))
        if not is_output:
            values = requantize(int_layer, wrap(exact, bits))
            input_scale = output_scale
    return IntNetwork(input_max=input_max, layers=tuple(int_layers)), reports


def choices_from(path: Path) -> list[Choice]:
    """The fixed per-layer steps that a quantization-aware fine-tuning saved (its qat.json,
    written by training/qat.py), for `quantize(..., fixed=...)`."""
    return [Choice(s["weight_exponent"], 0, s["shift"]) for s in read_json(path)["layers"]]
