"""What the Keras programs (train, teacher, qat) share: seeded start-up, the training arrays,
the loss (plain labels, or labels plus a teacher's softened scores), the eval files and the
command line.

TensorFlow is imported inside the functions: importing this module stays cheap.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from common import config as config_module
from common.config import NUM_CLASSES, Config
from common.errors import BuildError
from common.fsutil import write_json


def start_keras(seed: int) -> tuple[Any, Any]:
    """Import Keras and TensorFlow quietly, seeded and with deterministic ops: (keras, tf)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # TensorFlow's C++ start-up chatter
    import absl.logging
    import keras
    import tensorflow as tf

    absl.logging.set_verbosity(absl.logging.ERROR)  # not the warning that .h5 is a legacy format
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    return keras, tf


def split_train_validation(n: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the training and validation parts, a seeded random split."""
    order = np.random.default_rng(seed).permutation(n)
    n_val = round(n * fraction)
    return np.sort(order[n_val:]), np.sort(order[:n_val])


@dataclass(frozen=True)
class TrainingArrays:
    """The float arrays Keras fits and evaluates on (inputs scaled to 0..1)."""

    x_fit: np.ndarray
    y_fit: np.ndarray
    validation: tuple[np.ndarray, np.ndarray] | None
    x_test: np.ndarray
    y_test: np.ndarray


def training_arrays(cfg: Config, inputs_path: Path) -> TrainingArrays:
    """Training images plus their augmented copies, minus the held-out validation images.
    The order is fixed by the inputs and the seed: the teacher's scores follow it."""
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


class TeacherScoresError(BuildError, ValueError):
    """The teacher's scores do not belong to these training images."""


def distill_settings(cfg: Config) -> tuple[float, float] | None:
    """(temperature, weight) of the distillation loss, or None for plain labels."""
    return (cfg.teacher.temperature, cfg.teacher.weight) if cfg.teacher.epochs else None


def scores_for(cfg: Config, teacher_scores: Path | None) -> Path | None:
    """The teacher's scores file when distillation is on (it is then required), else None."""
    if not cfg.teacher.epochs:
        return None
    if teacher_scores is None:
        raise TeacherScoresError("distillation is on (teacher.epochs > 0) but no --teacher-scores file was given")
    if not teacher_scores.is_file():
        raise TeacherScoresError(f"{teacher_scores}: no teacher scores; run the teacher task first (doit teacher)")
    return teacher_scores


@dataclass(frozen=True)
class FitData:
    """What `fit` gets: inputs and targets, and the validation pair (or None)."""

    x: np.ndarray
    y: np.ndarray
    validation: tuple[np.ndarray, np.ndarray] | None


def fit_data(arrays: TrainingArrays, teacher_scores: Path | None) -> FitData:
    """The labels, or with a teacher (training/teacher.py) one-hot labels followed by its
    logits (columns 0-9, 10-19) for `distillation_loss`, for training and validation images."""
    if teacher_scores is None:
        return FitData(arrays.x_fit, arrays.y_fit, arrays.validation)
    y_val = arrays.validation[1] if arrays.validation else np.zeros(0, dtype=arrays.y_fit.dtype)
    with np.load(teacher_scores) as data:
        parts = {key: data[key] for key in ("logits", "labels", "val_logits", "val_labels")}
    if not (np.array_equal(parts["labels"], arrays.y_fit) and np.array_equal(parts["val_labels"], y_val)):
        raise TeacherScoresError(
            f"{teacher_scores} holds teacher scores for other images ({len(parts['labels'])} training, "
            f"{len(parts['val_labels'])} validation) than these ({len(arrays.y_fit)}, {len(y_val)}); "
            "rerun the teacher task (doit teacher)"
        )

    def targets(labels: np.ndarray, logits: np.ndarray) -> np.ndarray:
        one_hot = np.eye(NUM_CLASSES, dtype=np.float32)[labels]
        return np.concatenate([one_hot, logits.astype(np.float32)], axis=1)

    validation = None
    if arrays.validation:
        validation = (arrays.validation[0], targets(y_val, parts["val_logits"]))
    return FitData(arrays.x_fit, targets(arrays.y_fit, parts["logits"]), validation)


def distillation_loss(keras: Any, temperature: float, weight: float) -> Callable[[Any, Any], Any]:
    """Knowledge distillation (Hinton et al. 2015): (1 - weight) x cross-entropy with the
    labels + weight x T^2 x cross-entropy between the teacher's and the model's scores, both
    softened by the temperature T. Targets come from `fit_targets`."""
    ops = keras.ops
    ce = keras.losses.categorical_crossentropy

    def loss(target: Any, logits: Any) -> Any:
        labels, teacher = target[:, :NUM_CLASSES], target[:, NUM_CLASSES:]
        hard = ce(labels, logits, from_logits=True)
        soft = ce(ops.softmax(teacher / temperature), logits / temperature, from_logits=True)
        return (1.0 - weight) * hard + weight * temperature * temperature * soft

    return loss


def distilled_accuracy(keras: Any) -> Callable[[Any, Any], Any]:
    """Accuracy against the labels part of `fit_targets`'s distillation targets."""
    ops = keras.ops

    def accuracy(target: Any, logits: Any) -> Any:
        labels = ops.argmax(target[:, :NUM_CLASSES], axis=-1)
        return ops.cast(ops.equal(labels, ops.argmax(logits, axis=-1)), "float32")

    return accuracy


# Training steps per call into TensorFlow: Keras' per-step Python overhead dominates these
# small models on a CPU. Grouping 16 steps took the default MLP's epoch of 300,000 images from
# ~6 s to ~2.3 s and the CNN teacher's from ~52 s to ~40 s on the 2-core machine. The same
# batches in the same order: the weights are bit-identical to one step per call
# (tests/test_teacher.py checks it).
STEPS_PER_EXECUTION = 16


def compile_model(model: Any, keras: Any, optimizer: Any, distill: tuple[float, float] | None) -> None:
    """Compile for plain labels, or for distillation with (temperature, weight)."""
    if distill is None:
        loss: Any = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        metric: Any = "accuracy"
    else:
        loss, metric = distillation_loss(keras, *distill), distilled_accuracy(keras)
        metric.__name__ = "accuracy"  # the name Keras logs (history.json: accuracy, val_accuracy)
    model.compile(optimizer=optimizer, loss=loss, metrics=[metric], steps_per_execution=STEPS_PER_EXECUTION)


def evaluate_test(model: Any, arrays: TrainingArrays, keras: Any) -> tuple[float, float]:
    """Test accuracy and mean cross-entropy with the labels."""
    logits = model.predict(arrays.x_test, batch_size=4096, verbose=0)
    accuracy = float(np.mean(np.argmax(logits, axis=1) == arrays.y_test))
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(arrays.y_test, logits)
    return accuracy, float(loss)


def write_eval(path: Path, accuracy: float, loss: float, test_images: int) -> dict[str, float]:
    result = {"accuracy": accuracy, "loss": loss, "test_images": test_images}
    write_json(path, result)
    return result


def verbosity() -> int:
    """Keras progress bars on a terminal, one line per epoch in logs."""
    return 1 if sys.stdout.isatty() else 2


def command_line(
    doc: str, extra: list[tuple[str, str]], action: Callable[..., Any], argv: list[str] | None, teacher: bool = False
) -> int:
    """The shared command line: CONFIG INPUTS_NPZ, the `extra` (name, help) paths, OUT_DIR and,
    with `teacher`, the option --teacher-scores; loads the config (a bad one exits 2 with its
    message) and calls action(cfg, inputs, *extra, out_dir[, teacher_scores=...])."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("config", type=Path)
    parser.add_argument("inputs", type=Path, help="preprocessed inputs (.npz) from the preprocess task")
    for name, text in extra:
        parser.add_argument(name, type=Path, help=text)
    parser.add_argument("out_dir", type=Path)
    if teacher:
        parser.add_argument("--teacher-scores", type=Path, help="the teacher task's scores.npz (distillation)")
    args = parser.parse_args(argv)
    try:
        cfg = config_module.load(args.config)
    except config_module.ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    options = {"teacher_scores": args.teacher_scores} if teacher else {}
    try:
        action(cfg, args.inputs, *(getattr(args, name) for name, _ in extra), args.out_dir, **options)
    except TeacherScoresError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0
