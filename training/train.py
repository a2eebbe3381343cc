"""Train the configured MLP in Keras and save `model.h5`, its history and its test accuracy.

Run as a program so TensorFlow stays out of the doit process:

    python -m training.train CONFIG INPUTS_NPZ OUT_DIR

Same config and seed give the same weights (seeded Keras, deterministic TensorFlow ops).
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from training import config as config_module
from training.config import NUM_CLASSES, Config
from training.fsutil import atomic_path, write_json

MODEL_FILE = "model.h5"
HISTORY_FILE = "history.json"
FLOAT_EVAL_FILE = "float_eval.json"


def dense_name(index: int) -> str:
    """Name of the index-th Dense layer; the exporter finds the weights by these names."""
    return f"dense_{index}"


def split_train_validation(
    n: int, fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the training and validation parts, a seeded random split."""
    order = np.random.default_rng(seed).permutation(n)
    n_val = round(n * fraction)
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def build_model(cfg: Config, keras: Any) -> Any:
    inputs = keras.Input(shape=(cfg.input_count,), name="pixels")
    x = inputs
    for index, units in enumerate(cfg.model.hidden):
        x = keras.layers.Dense(units, activation=cfg.model.activation, name=dense_name(index))(x)
        if cfg.model.dropout > 0:
            x = keras.layers.Dropout(cfg.model.dropout, name=f"dropout_{index}")(x)
    logits = keras.layers.Dense(NUM_CLASSES, name=dense_name(len(cfg.model.hidden)))(x)
    return keras.Model(inputs, logits, name=cfg.name)


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


@dataclass(frozen=True)
class TrainingArrays:
    """The float arrays Keras fits and evaluates on (inputs scaled to 0..1)."""

    x_fit: np.ndarray
    y_fit: np.ndarray
    validation: tuple[np.ndarray, np.ndarray] | None
    x_test: np.ndarray
    y_test: np.ndarray


def training_arrays(cfg: Config, inputs_path: Path) -> TrainingArrays:
    """Training images plus their augmented copies, minus the held-out validation images."""
    with np.load(inputs_path) as data:
        scale = 1.0 / float(data["input_max"])
        x_all, y_all = data["x_train"], data["y_train"]
        x_aug, aug_source = data["x_aug"], data["aug_source"]
        x_test, y_test = data["x_test"], data["y_test"]

    train_idx, val_idx = split_train_validation(len(x_all), cfg.train.validation_split, cfg.train.seed)
    keep_aug = np.isin(aug_source, train_idx)  # no copy of a validation image trains the model
    x_fit = np.concatenate([x_all[train_idx], x_aug[keep_aug]]).astype(np.float32) * scale
    y_fit = np.concatenate([y_all[train_idx], y_all[aug_source[keep_aug]]])
    validation = None
    if len(val_idx):
        validation = (x_all[val_idx].astype(np.float32) * scale, y_all[val_idx])
    return TrainingArrays(x_fit, y_fit, validation, x_test.astype(np.float32) * scale, y_test)


def train(cfg: Config, inputs_path: Path, out_dir: Path) -> dict[str, float]:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # TensorFlow's C++ start-up chatter
    import absl.logging
    import keras
    import tensorflow as tf

    absl.logging.set_verbosity(absl.logging.ERROR)  # not the warning that .h5 is a legacy format

    keras.utils.set_random_seed(cfg.train.seed)
    tf.config.experimental.enable_op_determinism()

    arrays = training_arrays(cfg, inputs_path)
    x_fit, y_fit, validation = arrays.x_fit, arrays.y_fit, arrays.validation
    held_out = 0 if validation is None else len(validation[1])

    model = build_model(cfg, keras)
    steps_per_epoch = -(-len(x_fit) // cfg.train.batch_size)
    model.compile(
        optimizer=make_optimizer(cfg, steps_per_epoch, keras),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    print(
        f"training {'-'.join(map(str, cfg.layer_sizes))} on {len(x_fit)} images "
        f"({held_out} held out for validation), {cfg.train.epochs} epochs",
        flush=True,
    )
    history = model.fit(
        x_fit,
        y_fit,
        batch_size=cfg.train.batch_size,
        epochs=cfg.train.epochs,
        validation_data=validation,
        shuffle=True,
        verbose=1 if sys.stdout.isatty() else 2,
    )
    loss, accuracy = model.evaluate(arrays.x_test, arrays.y_test, verbose=0)

    with atomic_path(out_dir / MODEL_FILE) as tmp:
        model.save(tmp)
    write_json(out_dir / HISTORY_FILE, {key: [float(v) for v in values] for key, values in history.history.items()})
    result = {"accuracy": float(accuracy), "loss": float(loss), "test_images": len(arrays.y_test)}
    write_json(out_dir / FLOAT_EVAL_FILE, result)
    print(f"float model: test accuracy {accuracy:.4f} on {len(arrays.y_test)} images", flush=True)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", type=Path)
    parser.add_argument("inputs", type=Path, help="preprocessed inputs (.npz) from the preprocess task")
    parser.add_argument("out_dir", type=Path)
    args = parser.parse_args(argv)
    try:
        cfg = config_module.load(args.config)
    except config_module.ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    train(cfg, args.inputs, args.out_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
