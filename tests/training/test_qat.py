"""Quantization-aware training: the fake-quantized Keras layers compute what the integer
network computes, so the exported integer model is the one that was fine-tuned."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from intnet import golden, layers, netquant
from intnet.h5weights import FloatLayer
from intnet.quantize import Choice, quantize
from tests.intnet.test_netquant import SPECS, STRIDED_SPECS, cnn_config, qcfg, random_digits, random_float_layers


@pytest.mark.parametrize(("weight_bits", "activation_bits"), [([8, 8, 8], 8), ([4, 8, 4], 5), ([4, 4, 4], 4)])
def test_fake_quant_forward_pass_is_the_integer_network(weight_bits: list[int], activation_bits: int) -> None:
    keras = pytest.importorskip("keras")
    from common.config import Config, load
    from tests.conftest import ROOT
    from training.qat import build_qat_model, steps_of

    rng = np.random.default_rng(11)
    sizes = [49, 24, 16, 10]
    layers = [
        FloatLayer(rng.normal(0, 0.4, size=(a, b)).astype(np.float32), rng.normal(0, 0.1, size=b).astype(np.float32))
        for a, b in itertools.pairwise(sizes)
    ]
    input_max = 8
    inputs = rng.integers(0, input_max + 1, size=(2000, 49)).astype(np.uint8)
    inputs[rng.random(inputs.shape) < 0.6] = 0
    settings = qcfg(weight_bits, activation_bits)
    network, reports = quantize(layers, input_max, settings, inputs[:1000], inputs[1000:])
    steps = steps_of(network.layers, reports)
    fixed = [Choice(s["weight_exponent"], 0, s["shift"]) for s in steps]
    again, _ = quantize(layers, input_max, settings, inputs[:1000], inputs[1000:], fixed=fixed)
    for a, b in zip(network.layers, again.layers, strict=True):  # fixed choices rebuild the same network
        assert np.array_equal(a.weights, b.weights) and np.array_equal(a.bias, b.bias) and a.shift == b.shift

    base = load(ROOT / "config.yaml").model_dump()
    base["model"]["hidden"] = sizes[1:-1]
    base["preprocess"]["size"] = 7
    cfg = Config.model_validate(base)
    model = build_qat_model(cfg, keras, steps)
    for index, layer in enumerate(layers):
        model.get_layer(f"dense_{index}").set_weights([layer.kernel, layer.bias])
    logits = np.asarray(model.predict(inputs.astype(np.float32) / input_max, verbose=0))
    trace = golden.run(network, inputs)
    expected = trace.scores * reports[-1].accumulator_scale
    close = np.isclose(logits, expected, rtol=0, atol=1e-3 * np.abs(expected).max()).all(axis=1)
    assert close.mean() >= 0.99  # a rare float rounding tie may land one step apart
    assert (np.argmax(logits, axis=1) == trace.digits).mean() >= 0.99


@pytest.mark.parametrize(
    ("specs", "weight_bits"), [(SPECS, 4), (SPECS, [8, 4, 8, 4]), (STRIDED_SPECS, 4)], ids=["4", "8-4", "strided"]
)
def test_fake_quant_cnn_is_the_integer_network(specs: list, weight_bits: list[int] | int) -> None:
    keras = pytest.importorskip("keras")
    from training.qat import build_qat_model, steps_of

    rng = np.random.default_rng(11)
    cfg = cnn_config(specs, weight_bits)
    float_layers = random_float_layers(rng, cfg)
    train, test = random_digits(rng, 1000), random_digits(rng, 500)
    net = netquant.quantize_net(cfg.plan, float_layers, 8, qcfg(weight_bits), train, test)
    model = build_qat_model(cfg, keras, steps_of(net.weighted, net.reports))
    names = [layer.name for layer in model.layers if layer.weights]
    for name, layer in zip(names, float_layers, strict=True):
        target = model.get_layer(name)
        target.set_weights([layer.kernel, layer.bias][: len(target.weights)])
    logits = np.asarray(model.predict(test.reshape(len(test), -1).astype(np.float32) / 8, verbose=0))
    trace = layers.run(net.layers, test)
    expected = trace.scores * net.reports[-1].accumulator_scale
    close = np.isclose(logits, expected, rtol=0, atol=1e-3 * np.abs(expected).max()).all(axis=1)
    assert close.mean() >= 0.99  # a rare float rounding tie may land one step apart
    assert (np.argmax(logits, axis=1) == trace.digits).mean() >= 0.99
