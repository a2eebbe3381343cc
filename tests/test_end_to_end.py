"""Slow: the default config built from scratch on the full dataset, as a user runs it."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from common import config as config_module
from tests.conftest import ROOT, run_doit
from training.variants import VARIANTS

pytestmark = pytest.mark.slow


def test_default_build_writes_metrics(default_build: Path) -> None:
    metrics = json.loads((default_build / "default" / "metrics.json").read_text())
    manifest = json.loads((default_build / "default" / "export" / "manifest.json").read_text())
    sizes = config_module.load(ROOT / "config.yaml").layer_sizes  # 196-144-32-10 now
    assert metrics["test_images"] == 10000
    assert metrics["layers"] == manifest["layer_sizes"] == sizes and sizes[0] == 196
    assert metrics["params"] == sum(n * m + m for n, m in itertools.pairwise(sizes))
    assert metrics["weight_bits"] == [4] * (len(sizes) - 1)
    tables = sum(layer["weights"]["bytes"] + layer["bias"]["bytes"] for layer in manifest["layers"])
    assert metrics["weights"]["bytes"] == tables
    # Quantization-aware training: the integer network is the fine-tuned fake-quantized one...
    assert abs(metrics["accuracy"]["integer"] - metrics["accuracy"]["qat"]) <= 0.0005
    # ...and 4-bit weights and activations cost little against float.
    assert abs(metrics["accuracy"]["integer"] - metrics["accuracy"]["float"]) <= 0.005
    assert metrics["accuracy"]["float"] > 0.95
    assert metrics["accuracy"]["teacher"] > 0.98  # the distillation CNN, trained first
    assert set(metrics["drawn"]["variants"]) == set(VARIANTS)  # every way of drawing is measured
    # Every step recorded its peak memory; a cold build fits 2.5 GB (measured ~1.7 GB, in the teacher).
    memory = metrics["memory"]
    assert {"dataset", "preprocess", "teacher", "train", "qat", "export", "drawn", "rom"} <= set(memory["tasks_mib"])
    assert memory["peak_mib"] == max(memory["tasks_mib"].values()) <= 2560
    assert memory["tasks_mib"]["preprocess"] < 1024  # the augmented copies are made a chunk at a time


def test_default_rebuild_does_nothing(default_build: Path, mnist_dir: Path) -> None:
    report = default_build / "again.json"
    run = run_doit(f"builddir={default_build}", env={"MNIST_DIR": str(mnist_dir)}, report=report)
    assert run.returncode == 0
    assert all(result == "up-to-date" for result in run.results.values()), run.results


def test_training_is_reproducible(default_build: Path, mnist_dir: Path, tmp_path: Path) -> None:
    """Same config and seed, same weights: a second build from scratch gives identical tables."""
    config = tmp_path / "again.yaml"
    config.write_text(
        f"base: {ROOT / 'config.yaml'}\nname: default\ntrain:\n  epochs: 2\naugment:\n  copies: 1\n"
        "quantize:\n  qat:\n    epochs: 1\n"  # QAT included: its fine-tuning must be deterministic too
        "teacher:\n  epochs: 1\n"  # and the distillation teacher's scores
    )
    first, second = tmp_path / "a", tmp_path / "b"
    for build_root in (first, second):
        run = run_doit(f"config={config}", f"builddir={build_root}", "export", env={"MNIST_DIR": str(mnist_dir)})
        assert run.returncode == 0, run.stderr[-2000:]
    for table in sorted((first / "default" / "export").glob("*.bin")):
        assert table.read_bytes() == (second / "default" / "export" / table.name).read_bytes(), table.name


def test_console_evaluation_of_all_test_images(default_build: Path, mnist_dir: Path) -> None:
    """`doit evaluate`: all 10,000 test images on the emulated console, bit-exact."""
    run = run_doit(f"builddir={default_build}", "evaluate", env={"MNIST_DIR": str(mnist_dir)})
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    metrics = json.loads((default_build / "default" / "metrics.json").read_text())
    assert metrics["console"] == {"images": 10000, "mismatches": 0}
    assert metrics["accuracy"]["console"] == metrics["accuracy"]["integer"]
    assert 0 < metrics["inference"]["cycles"]["mean"] <= metrics["inference"]["cycles"]["max"]
    # The default answers within 10 frames for every test image (emulated cycles, deterministic).
    assert metrics["inference"]["frames"]["max"] <= 10
    assert metrics["rom"]["prg"]["free"] >= 0
