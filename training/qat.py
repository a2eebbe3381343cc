"""Quantization-aware training: fine-tune the float model through the integer network's rounding.

Run as a program so TensorFlow stays out of the doit process:

    python -m training.qat CONFIG INPUTS_NPZ FLOAT_MODEL_H5 OUT_DIR [--teacher-scores SCORES_NPZ]

1. The float model is quantized as usual (intnet/quantize.py, with its search): that fixes,
   per layer, the power-of-two weight step 2^-e and, for hidden layers, the shift, i.e. the
   activation step. They stay fixed while fine-tuning.
2. Each Dense layer becomes a `FakeQuantDense`: the forward pass uses the weights rounded to
   the layer's grid and clipped to its 4- or 8-bit range, the bias rounded to the accumulator
   step, and hidden outputs rounded half up to the activation step and clamped to
   0..activation_max, exactly what the integer network does. The backward pass treats the
   rounding as identity (straight-through estimator), inside the clamp.
3. After `quantize.qat.epochs` epochs the float weights go back into a plain model, saved as
   `model.h5`, and the fixed steps into `qat.json`; the export step quantizes the weights with
   those steps, so the integer network is the one that was fine-tuned.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np

from common import layout
from common.config import Config
from common.fsutil import atomic_path, write_json
from intnet.golden import IntNetwork
from intnet.h5weights import dense_name, read_dense_layers
from intnet.quantize import LayerReport, quantize, weight_range
from training import fitting
from training.train import build_model


def fake_quant_layer_class(keras: Any) -> type:
    """The Keras layer class (built lazily: TensorFlow is imported only when training)."""
    ops = keras.ops

    class FakeQuantDense(keras.layers.Layer):
        """Dense layer that computes through the integer network's rounding (see module doc)."""

        def __init__(
            self,
            units: int,
            weight_exponent: int,
            weight_bits: int,
            accumulator_step: float,
            activation_step: float | None,
            activation_max: int,
            **kwargs: Any,
        ) -> None:
            super().__init__(**kwargs)
            self.units = units
            self.weight_scale = float(2.0**weight_exponent)
            self.weight_low, self.weight_high = (float(v) for v in weight_range(weight_bits))
            self.accumulator_step = accumulator_step
            self.activation_step = activation_step
            self.activation_max = float(activation_max)

        def build(self, input_shape: Any) -> None:
            self.kernel = self.add_weight(name="kernel", shape=(input_shape[-1], self.units))
            self.bias = self.add_weight(name="bias", shape=(self.units,), initializer="zeros")

        def call(self, x: Any) -> Any:
            k = self.kernel
            k_q = ops.clip(ops.round(k * self.weight_scale), self.weight_low, self.weight_high) / self.weight_scale
            b = self.bias
            b_q = ops.round(b / self.accumulator_step) * self.accumulator_step
            y = ops.matmul(x, k + ops.stop_gradient(k_q - k)) + (b + ops.stop_gradient(b_q - b))
            if self.activation_step is None:
                return y
            step = self.activation_step
            top = self.activation_max * step
            y_clamped = ops.clip(y, 0.0, top)
            y_q = ops.clip(ops.floor(y / step + 0.5), 0.0, self.activation_max) * step
            return y_clamped + ops.stop_gradient(y_q - y_clamped)

    return FakeQuantDense


def fixed_steps(cfg: Config, float_model: Path, inputs_path: Path) -> list[dict[str, Any]]:
    """Per layer, the weight exponent and shift that post-training quantization picks, and the
    real-valued steps they mean (accumulator step; activation step of hidden layers)."""
    names = [dense_name(i) for i in range(len(cfg.model.hidden) + 1)]
    layers = read_dense_layers(float_model, names)
    with np.load(inputs_path) as data:
        x_train, y_train, x_test = data["x_train"], data["y_train"], data["x_test"]
        input_max = int(data["input_max"])
    network, reports = quantize(layers, input_max, cfg.quantize, x_train, x_test, y_train)
    return steps_of(network, reports)


def steps_of(network: IntNetwork, reports: list[LayerReport]) -> list[dict[str, Any]]:
    """Per layer: the integer network's weight exponent, width and shift, and the real-valued
    accumulator and activation steps they imply."""
    steps = []
    for layer, report in zip(network.layers, reports, strict=True):
        steps.append(
            {
                "weight_exponent": report.weight_exponent,
                "weight_bits": layer.weight_bits,
                "shift": layer.shift,
                "accumulator_step": report.accumulator_scale,
                "activation_step": report.output_scale,
                "activation_max": layer.activation_max,
            }
        )
    return steps


def build_qat_model(cfg: Config, keras: Any, steps: list[dict[str, Any]]) -> Any:
    layer_class = fake_quant_layer_class(keras)
    inputs = keras.Input(shape=(cfg.input_count,), name="pixels")
    x = inputs
    sizes = [*cfg.model.hidden, 10]
    for index, (units, step) in enumerate(zip(sizes, steps, strict=True)):
        x = layer_class(
            units,
            step["weight_exponent"],
            step["weight_bits"],
            step["accumulator_step"],
            step["activation_step"],
            step["activation_max"],
            name=dense_name(index),
        )(x)
    return keras.Model(inputs, x, name=f"{cfg.name}_qat")


def finetune(
    cfg: Config, inputs_path: Path, float_model: Path, out_dir: Path, teacher_scores: Path | None = None
) -> dict[str, float]:
    """Fine-tune `float_model` through the integer rounding (with the teacher's scores too
    when distillation is on) and write model.h5, qat.json and qat_eval.json into `out_dir`."""
    keras, _ = fitting.start_keras(cfg.train.seed + 1)
    steps = fixed_steps(cfg, float_model, inputs_path)
    arrays = fitting.training_arrays(cfg, inputs_path)
    data = fitting.fit_data(arrays, fitting.scores_for(cfg, teacher_scores))
    model = build_qat_model(cfg, keras, steps)
    names = [dense_name(i) for i in range(len(steps))]
    for name, layer in zip(names, read_dense_layers(float_model, names), strict=True):
        model.get_layer(name).set_weights([layer.kernel, layer.bias])

    qat = cfg.quantize.qat
    steps_per_epoch = -(-len(data.x) // cfg.train.batch_size)
    rate = keras.optimizers.schedules.CosineDecay(qat.learning_rate, decay_steps=qat.epochs * steps_per_epoch)
    optimizer = keras.optimizers.Adam(learning_rate=rate)
    fitting.compile_model(model, keras, optimizer, fitting.distill_settings(cfg))
    print(f"quantization-aware fine-tuning: {qat.epochs} epochs, weight bits "
          f"{[s['weight_bits'] for s in steps]}, activation max {steps[0]['activation_max']}", flush=True)
    model.fit(
        data.x,
        data.y,
        batch_size=cfg.train.batch_size,
        epochs=qat.epochs,
        validation_data=data.validation,
        shuffle=True,
        verbose=fitting.verbosity(),
    )
    accuracy, loss = fitting.evaluate_test(model, arrays, keras)

    plain = build_model(cfg, keras)
    for name in names:
        plain.get_layer(name).set_weights(model.get_layer(name).get_weights())
    with atomic_path(out_dir / layout.MODEL) as tmp:
        plain.save(tmp)
    write_json(out_dir / layout.QAT_STEPS, {"layers": steps})
    print(f"fake-quantized model: test accuracy {accuracy:.4f} on {len(arrays.y_test)} images", flush=True)
    return fitting.write_eval(out_dir / layout.QAT_EVAL, accuracy, loss, len(arrays.y_test))


def main(argv: list[str] | None = None) -> int:
    extra = [("float_model", "model.h5 from the train task")]
    return fitting.command_line(__doc__, extra, finetune, argv, teacher=True)


if __name__ == "__main__":
    sys.exit(main())
