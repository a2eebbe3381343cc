"""The integer network, exactly as the 6502 computes it: the golden model.

For each dense layer, with uint8 inputs `a`, int8 weights `w` and integer biases `b`:

    acc = wrap(b + sum_i a[i] * w[i][j], accumulator_bits)      # two's complement, wraps
    hidden layers:  out[j] = clamp(acc >> shift, 0, activation_max)   # arithmetic shift
    last layer:     scores[j] = acc;  digit = first j with the largest score

`wrap` is what an n-bit two's-complement accumulator does on the console: the sum is exact
modulo 2^n, whatever the order of the additions, so the golden model can add in any order.
The rounding of the requantization is folded into the stored bias (+2^(shift-1)), so the
console only shifts. Nothing here uses floating point.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MANIFEST_FILE = "manifest.json"


@dataclass(frozen=True)
class IntLayer:
    weights: np.ndarray  # (inputs, outputs) int8, row-major: one row of outputs per input
    bias: np.ndarray  # (outputs,) int64, rounding constant included
    accumulator_bits: int  # 16 or 24
    shift: int | None  # right shift of a hidden layer; None for the output layer
    activation_max: int  # clamp of a hidden layer's output (unused for the output layer)

    @property
    def is_output(self) -> bool:
        return self.shift is None


@dataclass(frozen=True)
class IntNetwork:
    input_max: int
    layers: tuple[IntLayer, ...]


@dataclass(frozen=True)
class Trace:
    """Every intermediate value of a batch: what the console's RAM holds at each stage."""

    accumulators: list[np.ndarray]  # per layer, (N, outputs) int64, wrapped to the layer's width
    activations: list[np.ndarray]  # per hidden layer, (N, outputs) uint8
    scores: np.ndarray  # (N, 10) int64: the output layer's accumulators
    digits: np.ndarray  # (N,) the predicted digit


def wrap(values: np.ndarray, bits: int) -> np.ndarray:
    """Reduce to `bits`-bit two's complement, as an n-bit register does."""
    half = 1 << (bits - 1)
    return ((values + half) & ((1 << bits) - 1)) - half


def raw_accumulators(layer: IntLayer, inputs: np.ndarray) -> np.ndarray:
    """The exact (unwrapped) sums, int64: for proving that no accumulator overflows.

    The product runs in float64 for speed (BLAS); it is exact because every product and
    partial sum is an integer far below 2^53 (255 * 127 * 1024 inputs < 2^25)."""
    products = inputs.astype(np.float64) @ layer.weights.astype(np.float64)
    return products.astype(np.int64) + layer.bias


def requantize(layer: IntLayer, accumulators: np.ndarray) -> np.ndarray:
    assert layer.shift is not None
    return np.clip(accumulators >> layer.shift, 0, layer.activation_max).astype(np.uint8)


def run(network: IntNetwork, inputs: np.ndarray) -> Trace:
    """Run a batch (N, inputs) of uint8 inputs through the integer network."""
    if inputs.dtype != np.uint8:
        raise TypeError(f"inputs must be uint8, got {inputs.dtype}")
    accumulators, activations = [], []
    values = inputs
    for layer in network.layers:
        acc = wrap(raw_accumulators(layer, values), layer.accumulator_bits)
        accumulators.append(acc)
        if layer.is_output:
            break
        values = requantize(layer, acc)
        activations.append(values)
    scores = accumulators[-1]
    return Trace(accumulators, activations, scores, np.argmax(scores, axis=1))


def predict(network: IntNetwork, inputs: np.ndarray, batch: int = 8192) -> np.ndarray:
    """Predicted digits for many inputs, in batches to bound memory."""
    return np.concatenate([run(network, inputs[i : i + batch]).digits for i in range(0, len(inputs), batch)])


def read_bias(data: bytes, outputs: int, accumulator_bits: int) -> np.ndarray:
    """Decode a planar little-endian bias table (all low bytes, then the next bytes...)."""
    width = accumulator_bits // 8
    planes = np.frombuffer(data, dtype=np.uint8).reshape(width, outputs).astype(np.int64)
    unsigned = sum(planes[k] << (8 * k) for k in range(width))
    return wrap(unsigned, accumulator_bits)


def load(export_dir: Path) -> IntNetwork:
    """Read the network back from the exported manifest and `.bin` tables."""
    manifest = json.loads((export_dir / MANIFEST_FILE).read_text())
    layers = []
    for entry in manifest["layers"]:
        weights = np.frombuffer((export_dir / entry["weights"]["file"]).read_bytes(), dtype=np.int8)
        bias = read_bias((export_dir / entry["bias"]["file"]).read_bytes(), entry["outputs"], entry["accumulator_bits"])
        layers.append(
            IntLayer(
                weights=weights.reshape(entry["inputs"], entry["outputs"]),
                bias=bias,
                accumulator_bits=entry["accumulator_bits"],
                shift=entry["shift"],
                activation_max=entry["activation_max"],
            )
        )
    return IntNetwork(input_max=manifest["input"]["max"], layers=tuple(layers))
