"""The integer network, exactly as the 6502 computes it: the golden model.

For each dense layer, with uint8 inputs `a`, integer weights `w` (int8, or int4 packed two to a
byte: see `pack_weights`) and integer biases `b`:

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

from common import layout


@dataclass(frozen=True)
class IntLayer:
    weights: np.ndarray  # (inputs, outputs) int8, row-major: one row of outputs per input
    bias: np.ndarray  # (outputs,) int64, rounding constant included
    accumulator_bits: int  # 16 or 24
    shift: int | None  # right shift of a hidden layer; None for the output layer
    activation_max: int  # clamp of a hidden layer's output (unused for the output layer)
    weight_bits: int = 8  # 8: int8 weights; 4: -8..7, stored two to a byte

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


def pack_weights(weights: np.ndarray, bits: int) -> bytes:
    """The `.bin` bytes of a weight matrix (inputs, outputs), row-major [input][output].

    8 bits: one int8 per weight. 4 bits: each row packed two weights to a byte, output 2k in
    the low nibble and output 2k+1 in the high nibble, two's complement; a row with an odd
    number of outputs ends with a zero high nibble."""
    if bits == 8:
        return weights.astype(np.int8).tobytes()
    if bits != 4:
        raise ValueError(f"weight_bits {bits}: only 4 and 8 are supported")
    if weights.size and (weights.min() < -8 or weights.max() > 7):
        raise ValueError("4-bit weights must lie in -8..7")
    inputs, outputs = weights.shape
    padded = np.zeros((inputs, outputs + outputs % 2), dtype=np.int64)
    padded[:, :outputs] = weights
    nibbles = (padded & 0xF).astype(np.uint8)
    return (nibbles[:, 0::2] | (nibbles[:, 1::2] << 4)).astype(np.uint8).tobytes()


def unpack_weights(data: bytes, inputs: int, outputs: int, bits: int) -> np.ndarray:
    """Inverse of `pack_weights`: an int8 array (inputs, outputs)."""
    if bits == 8:
        return np.frombuffer(data, dtype=np.int8).reshape(inputs, outputs)
    if bits != 4:
        raise ValueError(f"weight_bits {bits}: only 4 and 8 are supported")
    packed = np.frombuffer(data, dtype=np.uint8).reshape(inputs, -(-outputs // 2))
    nibbles = np.empty((inputs, packed.shape[1] * 2), dtype=np.int16)
    nibbles[:, 0::2] = packed & 0xF
    nibbles[:, 1::2] = packed >> 4
    return (((nibbles + 8) & 0xF) - 8)[:, :outputs].astype(np.int8)


def weight_bytes(inputs: int, outputs: int, bits: int) -> int:
    """Size of a layer's packed weight table."""
    return inputs * outputs if bits == 8 else inputs * -(-outputs // 2)


def encode_bias(bias: np.ndarray, accumulator_bits: int) -> bytes:
    """Encode biases as the planar little-endian table `read_bias` decodes (all low bytes first)."""
    unsigned = bias.astype(np.int64) & ((1 << accumulator_bits) - 1)
    planes = [((unsigned >> (8 * k)) & 0xFF).astype(np.uint8) for k in range(accumulator_bits // 8)]
    return b"".join(plane.tobytes() for plane in planes)


def read_bias(data: bytes, outputs: int, accumulator_bits: int) -> np.ndarray:
    """Decode a planar little-endian bias table (all low bytes, then the next bytes...)."""
    width = accumulator_bits // 8
    planes = np.frombuffer(data, dtype=np.uint8).reshape(width, outputs).astype(np.int64)
    unsigned = sum(planes[k] << (8 * k) for k in range(width))
    return wrap(unsigned, accumulator_bits)


def load(export_dir: Path) -> IntNetwork:
    """Read the network back from the exported manifest and `.bin` tables."""
    manifest = json.loads((export_dir / layout.MANIFEST).read_text())
    if manifest.get("format", 1) != 1:
        raise ValueError(
            f"{export_dir}: manifest format {manifest['format']} (a network with convolutions): "
            "read it with intnet.layers.load"
        )
    layers = []
    for entry in manifest["layers"]:
        bits = entry["weight_bits"]
        data = (export_dir / entry["weights"]["file"]).read_bytes()
        if len(data) != weight_bytes(entry["inputs"], entry["outputs"], bits):
            raise ValueError(f"{entry['weights']['file']}: {len(data)} bytes, not what the manifest says")
        bias = read_bias((export_dir / entry["bias"]["file"]).read_bytes(), entry["outputs"], entry["accumulator_bits"])
        layers.append(
            IntLayer(
                weights=unpack_weights(data, entry["inputs"], entry["outputs"], bits),
                bias=bias,
                accumulator_bits=entry["accumulator_bits"],
                shift=entry["shift"],
                activation_max=entry["activation_max"],
                weight_bits=bits,
            )
        )
    return IntNetwork(input_max=manifest["input"]["max"], layers=tuple(layers))
