"""Quantization of networks with convolutions (intnet/netquant.py): the rules of quantize.py per
layer, streamed over the images (tests/training/test_qat.py: the fake-quantized Keras model
computes the same scores)."""

from __future__ import annotations

import numpy as np
import pytest

from common.architecture import ConvSpec, DenseSpec, PoolSpec, place
from common.config import Config, QuantizeConfig, load
from intnet import golden, layers, netquant
from intnet.h5weights import FloatLayer
from intnet.quantize import Choice, choose_shift
from tests.conftest import ROOT, quantize_settings


def qcfg(weight_bits: list[int] | int, activation_bits: int = 5, search: bool = False) -> QuantizeConfig:
    return quantize_settings(weight_bits, activation_bits, search=search)


SPECS = [
    ConvSpec(conv=4, padding="valid", bias=False),
    PoolSpec(pool=2),
    ConvSpec(conv=6, padding="same", bias=True),
    PoolSpec(pool=2),
    DenseSpec(dense=12),
]
STRIDED_SPECS = [  # 14x14 -> 6x6 ('valid', stride 2) -> 3x3 ('same', stride 2: TensorFlow's zeros) -> 12
    ConvSpec(conv=4, padding="valid", bias=False, stride=2),
    ConvSpec(conv=6, padding="same", bias=True, stride=2),
    DenseSpec(dense=12),
]


def cnn_config(specs: list[ConvSpec | PoolSpec | DenseSpec], weight_bits: list[int] | int) -> Config:
    raw = load(ROOT / "config.yaml").model_dump()
    raw["model"]["hidden"] = None
    raw["model"]["layers"] = [spec.model_dump() for spec in specs]
    raw["quantize"]["weight_bits"] = weight_bits
    return Config.model_validate(raw)


def random_float_layers(rng: np.random.Generator, cfg: Config) -> list[FloatLayer]:
    result = []
    for placed in cfg.plan.weighted:
        if isinstance(placed.spec, ConvSpec):
            shape: tuple[int, ...] = (3, 3, placed.input_shape[2], placed.outputs)
            bias = rng.normal(0, 0.1, placed.outputs) if placed.spec.bias else np.zeros(placed.outputs)
        else:
            shape = (placed.fan_in, placed.outputs)
            bias = rng.normal(0, 0.1, placed.outputs)
        kernel = rng.normal(0, 1.0 / np.sqrt(shape[0] if len(shape) == 2 else 9 * shape[2]), shape)
        result.append(FloatLayer(kernel.astype(np.float32), bias.astype(np.float32)))
    return result


def random_digits(rng: np.random.Generator, n: int) -> np.ndarray:
    maps = rng.integers(0, 9, size=(n, 14, 14, 1))
    maps[rng.random(maps.shape) < 0.7] = 0
    return maps.astype(np.uint8)


@pytest.mark.parametrize("percentile", [50.0, 99.0, 99.9, 100.0])
def test_percentile_of_counts_is_numpys(percentile: float) -> None:
    values = np.random.default_rng(3).geometric(0.01, size=5001) - 1
    counts = np.bincount(values)
    assert netquant.percentile_of_counts(counts, percentile) == pytest.approx(np.percentile(values, percentile))
    assert netquant.shift_for(float(np.percentile(values, percentile)), 31) == choose_shift(values, percentile, 31)


@pytest.mark.parametrize("specs", [SPECS, STRIDED_SPECS], ids=["pooled", "strided"])
def test_plan_shapes_are_the_integer_layers_shapes(specs: list[ConvSpec | PoolSpec | DenseSpec]) -> None:
    rng = np.random.default_rng(5)
    cfg = cnn_config(specs, 4)
    net = netquant.quantize_net(cfg.plan, random_float_layers(rng, cfg), 8, qcfg(4), random_digits(rng, 200),
                                random_digits(rng, 50))
    trace = layers.run(net.layers, random_digits(rng, 3))
    shapes = [out.shape[1:] for out in trace.outputs]
    # a fused conv's entry is its unpooled map, the pool's the pooled one (layers.run)
    assert shapes == [placed.output_shape for placed in cfg.plan.layers]


def test_layers_that_do_not_fit_are_found_before_any_array() -> None:
    plan = place([ConvSpec(conv=4, padding="valid", bias=False), PoolSpec(pool=2)] * 3, 14)
    assert plan.problems == [
        "model.layers[4]: a 3x3 'valid' convolution does not fit a 2x2 map: use padding same, or fewer layers "
        "or pools before it"
    ]
    with pytest.raises(layers.LayerShapeError, match="does not fit a 2x2"):
        zeros = np.zeros((4, 4, 4, 4), np.int8)
        layers.conv2d(layers.ConvLayer(zeros[:3, :3], np.zeros(4, np.int64), 16, 0, 15, 4, "valid"),
                      np.zeros((1, 2, 2, 4), np.uint8))


def test_widths_are_proven_on_every_image_and_position() -> None:
    rng = np.random.default_rng(7)
    cfg = cnn_config(SPECS, [4, 8, 4, 4])
    train, test = random_digits(rng, 300), random_digits(rng, 100)
    net = netquant.quantize_net(cfg.plan, random_float_layers(rng, cfg), 8, qcfg([4, 8, 4, 4]), train, test)
    everything = np.concatenate([train, test])
    values = everything
    weighted = iter(net.reports)
    for layer in net.layers:  # unfused, position by position: the exact sums stay inside the reported range
        if isinstance(layer, layers.ConvLayer):
            exact = layers.conv2d_raw(layer, values)
            values = layers.conv2d(layer, values)
        elif isinstance(layer, layers.MaxPool):
            values = layers.maxpool2x2(values)
            continue
        elif isinstance(layer, layers.Flatten):
            values = layers.flatten(values)
            continue
        else:
            exact = golden.raw_accumulators(layer, values)
            if not layer.is_output:
                values = golden.requantize(layer, golden.wrap(exact, layer.accumulator_bits))
        report = next(weighted)
        assert report.accumulator_min == min(int(exact.min()), int(layer.bias.min()), 0)
        assert report.accumulator_max == max(int(exact.max()), int(layer.bias.max()), 0)
    # the conv without bias has only the rounding constant as its bias
    first = net.weighted[0]
    assert isinstance(first, layers.ConvLayer) and first.shift > 0
    assert (first.bias == 1 << (first.shift - 1)).all()


def test_search_never_loses_training_accuracy() -> None:
    rng = np.random.default_rng(9)
    cfg = cnn_config(SPECS, 4)
    float_layers = random_float_layers(rng, cfg)
    train, test = random_digits(rng, 400), random_digits(rng, 50)
    labels = rng.integers(0, 10, 400)
    plain = netquant.quantize_net(cfg.plan, float_layers, 8, qcfg(4), train, test, labels)
    searched = netquant.quantize_net(cfg.plan, float_layers, 8, qcfg(4, search=True), train, test, labels)
    accuracy = [np.mean(netquant.predict(net.layers, train) == labels) for net in (plain, searched)]
    assert accuracy[1] >= accuracy[0]
    fixed = [Choice(r.weight_exponent, 0, layer.shift) for r, layer in zip(searched.reports, searched.weighted,
                                                                            strict=True)]
    again = netquant.quantize_net(cfg.plan, float_layers, 8, qcfg(4), train, test, fixed=fixed)
    for a, b in zip(searched.weighted, again.weighted, strict=True):  # fixed choices rebuild the same network
        assert np.array_equal(a.weights, b.weights) and np.array_equal(a.bias, b.bias) and a.shift == b.shift
