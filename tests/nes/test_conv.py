"""The 6502 convolution kernel (nes/src/conv.inc) is bit-exact with intnet/layers.py.

Each case builds the convolution test cartridge (nes/src/conv_bench.s) for one random layer
(4-bit weights, 16-bit accumulators) and runs it in cynes on random maps: an all-zero map
(every position blank), all-maximum, dense and sparse noise (sparse maps give pooled cells
with blank and live positions), and compares every output byte with `layers.conv2d` or
`layers.conv2d_pooled` (fused pooling). Shapes: Cin 1 and > 1, odd Cout, pooled and not,
'valid' and 'same' (the zero border in the source map), requantize shifts on every code
path, and accumulators that wrap around 16 bits."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from intnet import golden, layers
from nes.tools.conv_bench import Bench, ConvCase, blank_output, build, random_layer, random_maps


@dataclass(frozen=True)
class Spec:
    size: int
    cin: int
    cout: int
    pooled: bool
    padding: layers.Padding
    shift: int
    input_max: int = 15
    activation_max: int = 15
    bias: tuple[int, int] = (-64, 64)
    wrap: bool = False  # biases +-(26000..32767), weights of the same sign: sums leave int16 both ways


SPECS = {  # shifts cover every requantize path: 0, right shifts <= 4, left shifts 5..7, whole bytes 8..15
    "c1_8_pool_valid_14": Spec(14, 1, 8, True, "valid", 2, input_max=8),
    "c3_7_valid_8": Spec(8, 3, 7, False, "valid", 4),
    "c2_5_pool_same_6": Spec(6, 2, 5, True, "same", 5, activation_max=7),
    "c16_9_pool_valid_6": Spec(6, 16, 9, True, "valid", 5),
    "c2_1_same_5_shift0": Spec(5, 2, 1, False, "same", 0, activation_max=255, bias=(-30, 30)),
    "c4_3_pool_valid_6_shift3": Spec(6, 4, 3, True, "valid", 3, activation_max=12),
    "c5_6_valid_6_shift9": Spec(6, 5, 6, False, "valid", 9, activation_max=9, bias=(-9000, 9000)),
    "c8_10_pool_valid_6_wrap": Spec(6, 8, 10, True, "valid", 11, activation_max=13, wrap=True),
    "c12_5_valid_5_wrap": Spec(5, 12, 5, False, "valid", 12, activation_max=7, wrap=True),
}


def make_layer(spec: Spec, rng: np.random.Generator) -> layers.ConvLayer:
    layer = random_layer(rng, spec.cin, spec.cout, spec.shift, spec.activation_max, spec.padding, spec.bias)
    if spec.wrap:  # biases near the int16 limits, columns pushing the same way: sums leave int16
        signs = np.resize([1, -1], spec.cout)
        bias = signs * rng.integers(26000, 32768, spec.cout)
        weights = np.where(
            signs > 0, rng.choice([7, 5], layer.weights.shape), rng.choice([-8, -5], layer.weights.shape)
        )
        weights[..., -1] = rng.choice([7, -8], weights.shape[:3])  # and one mixed column
        layer = layers.ConvLayer(weights.astype(np.int8), bias, 16, spec.shift, spec.activation_max, 4, spec.padding)
    return layer


def make_maps(spec: Spec, rng: np.random.Generator, count: int) -> np.ndarray:
    shape = (spec.size, spec.size, spec.cin)
    fixed = [np.zeros(shape), np.full(shape, spec.input_max), np.full(shape, 1)]
    maps = [np.array(fixed, dtype=np.uint8)]
    for density in (0.01, 0.08, 0.3, 0.7):  # 0.01: blank patches even at 16 channels
        maps.append(random_maps(rng, (count - 3) // 4, shape, spec.input_max, density))
    return np.concatenate(maps)


@dataclass
class Built:
    spec: Spec
    case: ConvCase
    bench: Bench
    maps: np.ndarray


@pytest.fixture(scope="module", params=list(SPECS))
def built(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Built:
    spec = SPECS[request.param]
    rng = np.random.default_rng(sum(map(ord, request.param)))
    layer = make_layer(spec, rng)
    case = ConvCase(layer, spec.size, spec.size, spec.pooled, spec.input_max)
    rom = build(case, Path(tmp_path_factory.mktemp("conv")) / request.param)
    return Built(spec, case, Bench(case, rom), make_maps(spec, rng, 24))


def test_bit_exact(built: Built) -> None:
    expected = built.case.reference(built.maps)
    problems = []
    for k, one in enumerate(built.maps):
        got = built.bench.run(one).output
        if not np.array_equal(got, expected[k]):
            where = np.argwhere(got != expected[k])
            problems.append(f"map {k}: {len(where)} bytes differ, first at {where[0].tolist()}")
    assert problems == []


def test_all_zero_map_gives_requantized_bias(built: Built) -> None:
    """Every patch blank: each output cell is requantize(bias), the BLANK table."""
    shape = (built.spec.size, built.spec.size, built.spec.cin)
    got = built.bench.run(np.zeros(shape, dtype=np.uint8)).output
    assert np.array_equal(got, np.broadcast_to(blank_output(built.case.layer), got.shape))


def test_cases_exercise_the_paths(built: Built) -> None:
    """The random layers really hit what the kernel has special code for: zero and saturated
    outputs, values in between (but in wrap cases), accumulators that wrap both ways (wrap
    cases), pooled cells mixing blank and live positions (pooled cases)."""
    spec, layer = built.spec, built.case.layer
    out = built.case.reference(built.maps)
    assert (out == 0).any() and (out == spec.activation_max).any()
    if not spec.wrap:  # (wrapped sums land near the int16 limits: 0 or saturated)
        assert ((out > 0) & (out < spec.activation_max)).any()
    raw = layers.conv2d_raw(layer, built.maps)
    if spec.wrap:
        assert (raw > 32767).any() and (raw < -32768).any()
        acc = golden.wrap(raw, 16)
        assert ((acc > 0) & (raw < 0)).any() or ((acc < 0) & (raw > 0)).any()
    if spec.pooled:
        blank = layers.patches(layer, built.maps).max(axis=3) == 0  # (N, H', W')
        n, h, w = blank.shape
        cells = blank.reshape(n, h // 2, 2, w // 2, 2).sum(axis=(2, 4))
        assert ((cells > 0) & (cells < 4)).any(), "no pooled cell mixes blank and live positions"
