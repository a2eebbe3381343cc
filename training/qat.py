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
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from common import layout
from common.architecture import ConvSpec, PoolSpec
from common.config import Config
from common.fsutil import atomic_path, write_json
from intnet.golden import IntLayer
from intnet.h5weights import layer_names, read_dense_layers
from intnet.layers import ConvLayer
from intnet.netquant import quantize_net
from intnet.quantize import LayerReport, quantize, weight_range
from training import fitting
from training.train import activity_penalty, build_model


def fake_quant_classes(keras: Any) -> tuple[type, type]:
    """`(FakeQuantDense, FakeQuantConv2D)`, built lazily (TensorFlow is imported only when
    training). Both share one rounding: the kernel rounded to the layer's grid and clipped to its
    4- or 8-bit range, the bias (if any) rounded to the accumulator step, and hidden outputs
    rounded half up to the activation step and clamped to 0..activation_max, exactly what the
    integer network does (for a convolution, at every position). A max pool after a convolution
    then gives the integer network's fused pool: requantizing never decreases, so the maximum of
    the rounded outputs is the rounded maximum."""
    ops = keras.ops

    class FakeQuantBase(keras.layers.Layer):
        """The integer network's rounding, straight-through in the backward pass."""

        def __init__(
            self,
            weight_exponent: int,
            weight_bits: int,
            accumulator_step: float,
            activation_step: float | None,
            activation_max: int,
            **kwargs: Any,
        ) -> None:
            super().__init__(**kwargs)
            self.weight_scale = float(2.0**weight_exponent)
            self.weight_low, self.weight_high = (float(v) for v in weight_range(weight_bits))
            self.accumulator_step = accumulator_step
            self.activation_step = activation_step
            self.activation_max = float(activation_max)

        def quantized_kernel(self) -> Any:
            k = self.kernel
            k_q = ops.clip(ops.round(k * self.weight_scale), self.weight_low, self.weight_high) / self.weight_scale
            return k + ops.stop_gradient(k_q - k)

        def quantized_bias(self) -> Any:
            b = self.bias
            b_q = ops.round(b / self.accumulator_step) * self.accumulator_step
            return b + ops.stop_gradient(b_q - b)

        def requantize(self, y: Any) -> Any:
            """Hidden outputs to the activation grid; the output layer's scores stay as they are."""
            if self.activation_step is None:
                return y
            step = self.activation_step
            y_clamped = ops.clip(y, 0.0, self.activation_max * step)
            y_q = ops.clip(ops.floor(y / step + 0.5), 0.0, self.activation_max) * step
            return y_clamped + ops.stop_gradient(y_q - y_clamped)

    class FakeQuantDense(FakeQuantBase):
        def __init__(self, units: int, *quant: Any, **kwargs: Any) -> None:
            super().__init__(*quant, **kwargs)
            self.units = units

        def build(self, input_shape: Any) -> None:
            self.kernel = self.add_weight(name="kernel", shape=(input_shape[-1], self.units))
            self.bias = self.add_weight(name="bias", shape=(self.units,), initializer="zeros")

        def call(self, x: Any) -> Any:
            return self.requantize(ops.matmul(x, self.quantized_kernel()) + self.quantized_bias())

    class FakeQuantConv2D(FakeQuantBase):
        def __init__(
            self, filters: int, kernel_size: int, padding: str, use_bias: bool, *quant: Any, strides: int = 1,
            **kwargs: Any,
        ) -> None:
            super().__init__(*quant, **kwargs)
            self.filters = filters
            self.kernel_size = kernel_size
            self.padding = padding
            self.strides = strides  # Keras's Conv2D strides: TensorFlow's 'same' zeros, as intnet.layers.pads
            self.use_bias = use_bias

        def build(self, input_shape: Any) -> None:
            shape = (self.kernel_size, self.kernel_size, input_shape[-1], self.filters)
            self.kernel = self.add_weight(name="kernel", shape=shape)
            if self.use_bias:
                self.bias = self.add_weight(name="bias", shape=(self.filters,), initializer="zeros")

        def call(self, x: Any) -> Any:
            y = ops.conv(x, self.quantized_kernel(), strides=self.strides, padding=self.padding)
            if self.use_bias:
                y = y + self.quantized_bias()
            return self.requantize(y)

    return FakeQuantDense, FakeQuantConv2D


def fixed_steps(cfg: Config, float_model: Path, inputs_path: Path) -> list[dict[str, Any]]:
    """Per layer, the weight exponent and shift that post-training quantization picks, and the
    real-valued steps they mean (accumulator step; activation step of hidden layers)."""
    names = layer_names(cfg.plan)
    layers = read_dense_layers(float_model, names)
    with np.load(inputs_path) as data:
        x_train, y_train, x_test = data["x_train"], data["y_train"], data["x_test"]
        input_max = int(data["input_max"])
    if cfg.model.convolutional:
        shape = (-1, *cfg.input_shape)
        net = quantize_net(
            cfg.plan, layers, input_max, cfg.quantize, x_train.reshape(shape), x_test.reshape(shape), y_train
        )
        return steps_of(net.weighted, net.reports)
    network, reports = quantize(layers, input_max, cfg.quantize, x_train, x_test, y_train)
    return steps_of(network.layers, reports)


def steps_of(layers: Sequence[IntLayer | ConvLayer], reports: list[LayerReport]) -> list[dict[str, Any]]:
    """Per weighted layer: the integer network's weight exponent, width and shift, and the
    real-valued accumulator and activation steps they imply."""
    steps = []
    for layer, report in zip(layers, reports, strict=True):
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
    """The model of `train.build_model` with every weighted layer fake-quantized by `steps`
    (same names, so the float weights load into it and back); no dropout."""
    dense_class, conv_class = fake_quant_classes(keras)
    inputs = keras.Input(shape=(cfg.input_count,), name="pixels")
    x = inputs
    if cfg.model.convolutional:
        x = keras.layers.Reshape(cfg.input_shape, name="map")(x)
    names = layer_names(cfg.plan)
    weighted = -1
    for position, placed in enumerate(cfg.plan.layers):
        spec = placed.spec
        if placed.weighted:
            weighted += 1
            step = steps[weighted]
            quant = (step["weight_exponent"], step["weight_bits"], step["accumulator_step"])
        if isinstance(spec, ConvSpec):
            x = conv_class(
                spec.conv, spec.kernel, spec.padding, spec.bias, *quant, step["activation_step"],
                step["activation_max"], strides=spec.stride, name=names[weighted],
                activity_regularizer=activity_penalty(spec, keras),
            )(x)
        elif isinstance(spec, PoolSpec):
            x = keras.layers.MaxPooling2D(spec.pool, name=f"pool_{position}")(x)
        elif placed.kind == "flatten":
            x = keras.layers.Flatten(name="flatten")(x)
        else:  # dense or output
            x = dense_class(
                placed.outputs, *quant, step["activation_step"], step["activation_max"], name=names[weighted]
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
    names = layer_names(cfg.plan)
    for name, layer in zip(names, read_dense_layers(float_model, names), strict=True):
        target = model.get_layer(name)  # a conv trained without bias has only its kernel
        target.set_weights([layer.kernel, layer.bias][: len(target.weights)])

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
