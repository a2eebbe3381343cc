"""Train the configured MLP in Keras and save `model.h5`, its history and its test accuracy.

Run as a program so TensorFlow stays out of the doit process:

    python -m training.train CONFIG INPUTS_NPZ OUT_DIR [--teacher-scores SCORES_NPZ]

With `teacher.epochs` > 0 the MLP learns the teacher's scores besides the labels
(knowledge distillation, training/teacher.py); the scores file is then required.

Same config and seed give the same weights (seeded Keras, deterministic TensorFlow ops).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from common import layout
from common.architecture import ConvSpec, PoolSpec
from common.config import NUM_CLASSES, Config
from common.fsutil import atomic_path, write_json
from intnet.h5weights import layer_names
from training import fitting


def build_model(cfg: Config, keras: Any) -> Any:
    """The float model: dense layers on the flat input, or for `model.layers` with convolutions
    the input reshaped to its map, 3x3 convolutions (stride 1 or 2) with ReLU (no bias when
    `bias: false`), 2x2 max pools and a flatten (channels-last) before the dense layers. Weighted
    layers are named by their position among the weighted layers (`h5weights.layer_names`)."""
    inputs = keras.Input(shape=(cfg.input_count,), name="pixels")
    x = inputs
    if cfg.model.convolutional:
        x = keras.layers.Reshape(cfg.input_shape, name="map")(x)
    names = layer_names(cfg.plan)
    weighted = -1
    for position, placed in enumerate(cfg.plan.layers):
        if placed.weighted:
            weighted += 1
        spec = placed.spec
        if isinstance(spec, ConvSpec):
            x = keras.layers.Conv2D(
                spec.conv, spec.kernel, strides=spec.stride, padding=spec.padding, use_bias=spec.bias,
                activation=cfg.model.activation, activity_regularizer=activity_penalty(spec, keras),
                name=names[weighted],
            )(x)
        elif isinstance(spec, PoolSpec):
            x = keras.layers.MaxPooling2D(spec.pool, name=f"pool_{position}")(x)
        elif placed.kind == "flatten":
            x = keras.layers.Flatten(name="flatten")(x)
        elif placed.kind == "dense":
            x = keras.layers.Dense(placed.outputs, activation=cfg.model.activation, name=names[weighted])(x)
            if cfg.model.dropout > 0:
                x = keras.layers.Dropout(cfg.model.dropout, name=f"dropout_{weighted}")(x)
    logits = keras.layers.Dense(NUM_CLASSES, name=names[-1])(x)
    return keras.Model(inputs, logits, name=cfg.name)


def activity_penalty(spec: ConvSpec, keras: Any) -> Any:
    """The conv's `l1` as a Keras activity regularizer on its (ReLU) output, or None."""
    return keras.regularizers.L1(spec.l1) if spec.l1 else None


def make_optimizer(cfg: Config, steps_per_epoch: int, keras: Any) -> Any:
    rate: Any = cfg.train.learning_rate
    if cfg.train.lr_schedule == "cosine":
        rate = keras.optimizers.schedules.CosineDecay(rate, decay_steps=cfg.train.epochs * steps_per_epoch)
    optimizers = {
        "adam": keras.optimizers.Adam,
        "sgd": keras.optimizers.SGD,
        "rmsprop": keras.optimizers.RMSprop,
    }
    return optimizers[cfg.train.optimizer](learning_rate=rate)


def train(cfg: Config, inputs_path: Path, out_dir: Path, teacher_scores: Path | None = None) -> dict[str, float]:
    """Fit the MLP (distilled from `teacher_scores` when `teacher.epochs` > 0) and write
    model.h5, history.json and float_eval.json into `out_dir`."""
    keras, _ = fitting.start_keras(cfg.train.seed)
    arrays = fitting.training_arrays(cfg, inputs_path)
    data = fitting.fit_data(arrays, fitting.scores_for(cfg, teacher_scores))
    held_out = 0 if arrays.validation is None else len(arrays.validation[1])

    model = build_model(cfg, keras)
    steps_per_epoch = -(-len(data.x) // cfg.train.batch_size)
    fitting.compile_model(model, keras, make_optimizer(cfg, steps_per_epoch, keras), fitting.distill_settings(cfg))
    print(
        f"training {cfg.shape_text} on {len(data.x)} images "
        f"({held_out} held out for validation), {cfg.train.epochs} epochs"
        + (", distilled from the teacher's scores" if cfg.teacher.epochs else ""),
        flush=True,
    )
    history = model.fit(
        data.x,
        data.y,
        batch_size=cfg.train.batch_size,
        epochs=cfg.train.epochs,
        validation_data=data.validation,
        shuffle=True,
        verbose=fitting.verbosity(),
    )
    accuracy, loss = fitting.evaluate_test(model, arrays, keras)

    with atomic_path(out_dir / layout.MODEL) as tmp:
        model.save(tmp)
    write_json(out_dir / layout.HISTORY, {key: [float(v) for v in values] for key, values in history.history.items()})
    print(f"float model: test accuracy {accuracy:.4f} on {len(arrays.y_test)} images", flush=True)
    return fitting.write_eval(out_dir / layout.FLOAT_EVAL, accuracy, loss, len(arrays.y_test))


def main(argv: list[str] | None = None) -> int:
    return fitting.command_line(__doc__, [], train, argv, teacher=True)


if __name__ == "__main__":
    sys.exit(main())
