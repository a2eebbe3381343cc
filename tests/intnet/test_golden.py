"""The integer golden model and the quantizer: arithmetic, table encoding, overflow proof."""

from __future__ import annotations

import json

import numpy as np
import pytest

from common.config import QuantizeConfig
from intnet import golden
from intnet.golden import IntLayer, IntNetwork, encode_bias
from intnet.h5weights import FloatLayer
from intnet.quantize import QuantizationError, quantize
from tests.conftest import TinyBuild, quantize_settings


def qcfg(accumulator_bits: str | int = "auto", activation_bits: int = 8, weight_bits: int = 8) -> QuantizeConfig:
    return quantize_settings(weight_bits, activation_bits, accumulator_bits, calibration_percentile=99.99, qat_epochs=0)


def test_wrap_is_twos_complement() -> None:
    values = np.array([0, 32767, 32768, -32768, -32769, 65535, 70000, -70000])
    np.testing.assert_array_equal(golden.wrap(values, 16), [0, 32767, -32768, -32768, 32767, -1, 4464, -4464])
    assert golden.wrap(np.array([1 << 23]), 24)[0] == -(1 << 23)


@pytest.mark.parametrize("bits", [16, 24])
def test_bias_tables_round_trip(bits: int) -> None:
    bias = np.array([0, 1, -1, 300, -300, (1 << (bits - 1)) - 1, -(1 << (bits - 1))])
    data = encode_bias(bias, bits)
    assert len(data) == len(bias) * bits // 8
    assert data[: len(bias)] == bytes(int(b) & 0xFF for b in bias)  # the low-byte plane comes first
    np.testing.assert_array_equal(golden.read_bias(data, len(bias), bits), bias)


def test_layer_arithmetic_by_hand() -> None:
    hidden = IntLayer(np.array([[2, -3], [1, 4]], dtype=np.int8), np.array([2, -1]), 16, 2, 255)
    output = IntLayer(np.array([[1, 1], [-1, 1]], dtype=np.int8), np.array([0, 0]), 16, None, 255)
    net = IntNetwork(input_max=255, layers=(hidden, output))
    trace = golden.run(net, np.array([[10, 3]], dtype=np.uint8))
    # acc = [2 + 20 + 3, -1 - 30 + 12] = [25, -19]; >> 2 = [6, -5] -> relu [6, 0]
    np.testing.assert_array_equal(trace.accumulators[0], [[25, -19]])
    np.testing.assert_array_equal(trace.activations[0], [[6, 0]])
    np.testing.assert_array_equal(trace.scores, [[6, 6]])
    assert trace.digits[0] == 0  # ties go to the lowest index


def test_clamp_and_wrap_in_a_layer() -> None:
    hidden = IntLayer(np.full((4, 1), 127, dtype=np.int8), np.array([0]), 16, 0, 255)
    trace = golden.run(IntNetwork(255, (hidden,
                                        IntLayer(np.ones((1, 1), np.int8), np.array([0]), 16, None, 255))),
                       np.array([[1, 1, 0, 0], [255, 255, 0, 0]], dtype=np.uint8))
    assert trace.activations[0][0, 0] == 254  # 254 >> 0, under the clamp
    assert trace.accumulators[0][1, 0] == golden.wrap(np.array([2 * 255 * 127]), 16)[0]  # 64770 wraps negative
    assert trace.activations[0][1, 0] == 0


def constructed_overflow() -> tuple[list[FloatLayer], np.ndarray]:
    """One dense layer whose sums exceed int16 on some inputs (127 * 255 * 49 > 32767)."""
    kernel = np.full((49, 10), 1.0, dtype=np.float32)
    inputs = np.zeros((4, 49), dtype=np.uint8)
    inputs[0] = 255
    return [FloatLayer(kernel, np.zeros(10, np.float32))], inputs


def test_overflow_proof_rejects_too_narrow_width() -> None:
    layers, inputs = constructed_overflow()
    with pytest.raises(QuantizationError, match=r"layer 0: accumulators reach .* beyond the 16-bit range") as caught:
        quantize(layers, 255, qcfg(16), inputs, inputs)
    assert "accumulator_bits" in str(caught.value)


def test_overflow_proof_widens_when_auto() -> None:
    layers, inputs = constructed_overflow()
    network, reports = quantize(layers, 255, qcfg("auto"), inputs, inputs)
    assert network.layers[0].accumulator_bits == 24
    assert reports[0].accumulator_max == 255 * int(network.layers[0].weights[0, 0]) * 49 > 32767


def test_overflow_beyond_24_bits_is_an_error() -> None:
    layer = FloatLayer(np.full((784, 10), 1.0, np.float32), np.zeros(10, np.float32))
    inputs = np.full((2, 784), 255, dtype=np.uint8)  # 784 * 255 * 64 > 2^23
    with pytest.raises(QuantizationError, match=r"layer 0: .* 24-bit range") as caught:
        quantize([layer], 255, qcfg("auto"), inputs, inputs)
    assert "activation_bits" in str(caught.value)


def test_exported_tables_match_golden_and_keras(tiny_build: TinyBuild) -> None:
    """The golden model read back from the .bin files agrees with the float Keras model."""
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    out = tiny_build.out
    manifest = json.loads((out / "export" / "manifest.json").read_text())
    network = golden.load(out / "export")
    with np.load(out / "inputs.npz") as data:
        x_test, input_max = data["x_test"], int(data["input_max"])
    trace = golden.run(network, x_test)
    acc_scale = manifest["layers"][-1]["quantization"]["accumulator_scale"]
    if (out / "qat" / "qat.json").exists():
        # After quantization-aware training the fake-quantized Keras model is the integer network.
        from common.config import load
        from common.fsutil import read_json
        from training.qat import build_qat_model

        model = build_qat_model(load(tiny_build.config), keras, read_json(out / "qat" / "qat.json")["layers"])
        fine_tuned = keras.models.load_model(out / "qat" / "model.h5", compile=False)
        for layer in fine_tuned.layers[1:]:
            model.get_layer(layer.name).set_weights(layer.get_weights())
        logits = np.asarray(model(x_test.astype(np.float32) / input_max))
        close = np.isclose(trace.scores * acc_scale, logits, rtol=0, atol=1e-3 * np.abs(logits).max())
        assert close.all(axis=1).mean() >= 0.99
        assert np.mean(trace.digits == logits.argmax(axis=1)) >= 0.99
    else:
        model = keras.models.load_model(out / "model.h5", compile=False)
        logits = np.asarray(model(x_test.astype(np.float32) / input_max))
        # Dequantized integer scores track the float logits within the quantization error.
        error = np.abs(trace.scores * acc_scale - logits)
        assert np.median(error) < 0.1 * np.abs(logits).max()
        assert np.mean(trace.digits == logits.argmax(axis=1)) >= 0.9
    # Every layer fits its proven accumulator width, so nothing wrapped.
    for layer, acc in zip(manifest["layers"], trace.accumulators, strict=True):
        report = layer["quantization"]
        assert report["accumulator_min"] <= acc.min() and acc.max() <= report["accumulator_max"]
        assert layer["weights"]["bytes"] == (out / "export" / layer["weights"]["file"]).stat().st_size


def test_search_never_loses_training_accuracy(tiny_build: TinyBuild) -> None:
    from intnet.h5weights import read_dense_layers

    out = tiny_build.out
    layers = read_dense_layers(out / "model.h5", ["dense_0", "dense_1", "dense_2"])
    with np.load(out / "inputs.npz") as data:
        x_train, y_train, x_test, input_max = data["x_train"], data["y_train"], data["x_test"], int(data["input_max"])
    plain, plain_reports = quantize(layers, input_max, qcfg(), x_train, x_test, y_train)
    searched_cfg = qcfg().model_copy(update={"search": True})
    searched, searched_reports = quantize(layers, input_max, searched_cfg, x_train, x_test, y_train)
    for before, after in zip(plain_reports, searched_reports, strict=True):
        assert after.weight_exponent in (before.weight_exponent, before.weight_exponent + 1)
    accuracy = [np.mean(golden.predict(net, x_train) == y_train) for net in (plain, searched)]
    assert accuracy[1] >= accuracy[0]
