"""Knowledge distillation: the teacher's scores belong to the training images they are used
with, and the loss mixes labels and softened scores as documented."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from common import config as config_module
from tests.conftest import ROOT, TinyBuild
from training import fitting


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@pytest.mark.parametrize(("temperature", "weight"), [(4.0, 0.0), (4.0, 0.9), (2.0, 1.0)])
def test_distillation_loss_is_labels_plus_softened_scores(temperature: float, weight: float) -> None:
    keras = pytest.importorskip("keras")
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 10, size=64)
    teacher = rng.normal(0, 3, size=(64, 10)).astype(np.float32)
    logits = rng.normal(0, 3, size=(64, 10)).astype(np.float32)
    targets = np.concatenate([np.eye(10, dtype=np.float32)[labels], teacher], axis=1)
    got = np.asarray(fitting.distillation_loss(keras, temperature, weight)(targets, logits))

    hard = -np.log(softmax(logits)[np.arange(64), labels])
    soft = -(softmax(teacher / temperature) * np.log(softmax(logits / temperature))).sum(axis=1)
    expected = (1 - weight) * hard + weight * temperature**2 * soft
    assert np.allclose(got, expected, rtol=1e-4)


def test_scores_for_other_images_are_refused(tmp_path: Path) -> None:
    labels = np.arange(20) % 10
    arrays = fitting.TrainingArrays(np.zeros((20, 4), np.float32), labels, None, np.zeros((0, 4)), labels[:0])
    scores = tmp_path / "scores.npz"
    logits = np.ones((20, 10), np.float16)
    np.savez(scores, logits=logits, labels=labels, val_logits=logits[:0], val_labels=labels[:0])
    data = fitting.fit_data(arrays, scores)
    assert data.y.shape == (20, 20)
    assert np.array_equal(data.y[:, :10].argmax(axis=1), labels) and np.all(data.y[:, 10:] == 1)

    np.savez(scores, logits=logits, labels=np.roll(labels, 1), val_logits=logits[:0], val_labels=labels[:0])
    with pytest.raises(fitting.TeacherScoresError, match="rerun the teacher task"):
        fitting.fit_data(arrays, scores)


def test_distillation_without_scores_is_one_clear_error(tiny_build: TinyBuild, tmp_path: Path) -> None:
    inputs = tiny_build.out / "inputs.npz"
    command = [sys.executable, "-m", "training.train", str(tiny_build.config), str(inputs), str(tmp_path)]
    run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 1
    assert "distillation is on (teacher.epochs > 0) but no --teacher-scores file was given" in run.stderr
    assert "Traceback" not in run.stderr and not (tmp_path / "model.h5").exists()


def test_teacher_scores_follow_the_training_images(tiny_build: TinyBuild) -> None:
    cfg = config_module.load(tiny_build.config)
    arrays = fitting.training_arrays(cfg, tiny_build.out / "inputs.npz")
    with np.load(tiny_build.out / "teacher" / "scores.npz") as data:
        assert data["logits"].shape == (len(arrays.y_fit), 10)
        assert np.array_equal(data["labels"], arrays.y_fit)
        assert arrays.validation is not None and np.array_equal(data["val_labels"], arrays.validation[1])
        assert np.isfinite(data["logits"].astype(np.float32)).all()
    teacher = json.loads((tiny_build.out / "teacher" / "teacher_eval.json").read_text())
    metrics = json.loads((tiny_build.out / "metrics.json").read_text())
    assert metrics["accuracy"]["teacher"] == teacher["accuracy"] and teacher["test_images"] == 300
    assert "distilled from the teacher's scores" in tiny_build.first_run.outputs["train"]


def test_teacher_settings_are_checked(tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text(f"base: {ROOT / 'config.yaml'}\nteacher:\n  filters: [16]\n  weight: 1.5\n")
    with pytest.raises(config_module.ConfigError) as error:
        config_module.load(config)
    assert "teacher.filters" in str(error.value) and "teacher.weight = 1.5" in str(error.value)


def test_grouped_steps_train_the_same_weights() -> None:
    """fitting.STEPS_PER_EXECUTION only saves Keras' per-step overhead: the same seed gives the
    same weights as one step per call (an epoch of 7 steps is not a multiple of the group)."""
    pytest.importorskip("keras")
    rng = np.random.default_rng(5)
    x = rng.random((1700, 49), dtype=np.float32)
    y = rng.integers(0, 10, size=1700)
    weights = []
    for steps in (1, fitting.STEPS_PER_EXECUTION):
        keras, _ = fitting.start_keras(11)
        layers = [keras.Input((49,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(10)]
        model = keras.Sequential(layers)
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        model.compile(optimizer="adam", loss=loss, steps_per_execution=steps)
        model.fit(x, y, batch_size=256, epochs=3, shuffle=True, verbose=0)
        weights.append(model.get_weights())
    assert fitting.STEPS_PER_EXECUTION > 1
    assert all(np.array_equal(a, b) for a, b in zip(*weights, strict=True))
