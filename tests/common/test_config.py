"""Configuration errors stop the build before any work, with one clear message."""

from __future__ import annotations

from pathlib import Path

import pytest

from common import config as config_module
from common.config import ConfigError
from tests.conftest import ROOT, run_doit, write_config


def load_with(tmp_path: Path, overrides: str) -> config_module.Config:
    return config_module.load(write_config(tmp_path / "c.yaml", "c", overrides))


def test_default_and_presets_are_valid() -> None:
    default = config_module.load(ROOT / "config.yaml")
    assert default.layer_sizes == [196, 144, 32, 10]
    assert default.quantize.bits_per_layer(3) == [4, 4, 4] and default.quantize.qat.epochs > 0
    shape = config_module.load(ROOT / "training" / "presets" / "origin-shape.yaml")
    assert shape.layer_sizes == [49, 49, 24, 10] and shape.preprocess.size == 7
    assert sum(a * b + b for a, b in zip(shape.layer_sizes, shape.layer_sizes[1:], strict=False)) == 3900
    for path in config_module.load(ROOT / "config.yaml").sweep.configs:
        config_module.load(ROOT / path)  # every sweep entry is a valid config
    origin = config_module.load(ROOT / "training" / "presets" / "origin.yaml")
    assert origin.layer_sizes == [49, 49, 24, 10]
    assert (origin.preprocess.resize, origin.model.dropout, origin.train.epochs) == ("bilinear", 0.5, 50)
    assert origin.train.batch_size == 64
    assert origin.name != default.name  # its own folder under build/
    scanned = config_module.load(ROOT / "training" / "presets" / "scanned.yaml")
    assert default.preprocess.normalize == 20 and default.preprocess.ink is not None
    assert (scanned.preprocess.normalize, scanned.preprocess.ink, scanned.augment.coarse) == (None, None, 0)
    assert scanned.layer_sizes == default.layer_sizes and scanned.name != default.name


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ("model:\n  hidden: [49, 0]\n", ["model.hidden[1] = 0", "greater than or equal to 1"]),
        ("preprocess:\n  size: 9\n", ["preprocess", "size 9 does not split the 28-pixel window", "7, 8, 14 or 28"]),
        ("preprocess:\n  window: 20\n", ["size 14 does not split the 20-pixel window", "a multiple of size / 2"]),
        ("preprocess:\n  window: 29\n", ["preprocess.window = 29", "less than or equal to 28"]),
        (
            "preprocess:\n  resize: bilinear\n  levels: 256\n  deskew: false\n  center: false\n  window: 14\n",
            ["window needs resize 'area'"],
        ),
        ("train:\n  epochs: ten\n", ["train.epochs = 'ten'", "integer"]),
        ("train:\n  learning_rate: -1.0\n", ["train.learning_rate = -1.0", "greater than 0"]),
        ("model:\n  activation: tanh\n", ["model.activation = 'tanh'", "'relu'"]),
        ("quantize:\n  accumulator_bits: 12\n", ["quantize.accumulator_bits = 12", "'auto', 16 or 24"]),
        ("preprocess:\n  levels: 1\n", ["preprocess.levels = 1", "greater than or equal to 2"]),
        ("train:\n  validation_split: 0.9\n", ["train.validation_split = 0.9", "less than 0.5"]),
        ("modle:\n  hidden: [3]\n", ["modle: unknown setting"]),
        ("train:\n  epoch: 3\n", ["train.epoch: unknown setting"]),
        ("data:\n  train_limit: 5\n", ["data.train_limit = 5", "greater than or equal to 100"]),
        ("preprocess:\n  resize: bilinear\n", ["preprocess", "normalize needs resize 'area'"]),
        (
            "preprocess:\n  resize: bilinear\n  normalize: null\n  ink: null\n",
            ["preprocess", "bilinear", "levels 256", "normalize null and ink null"],
        ),
        (
            "preprocess:\n  size: 28\nmodel:\n  hidden: [256]\nquantize:\n  weight_bits: 8\n",
            ["layers 784-256-10 need about 204062 bytes", "179486 more than the 24576 bytes", "model.hidden"],
        ),
        (  # 4-bit weights halve the tables: 784*256/2 + 256*10/2 + 3*(256+10)
            "preprocess:\n  size: 28\nmodel:\n  hidden: [256]\nquantize:\n  weight_bits: 4\n",
            ["layers 784-256-10 need about 102430 bytes"],
        ),
        ("quantize:\n  weight_bits: [4, 8]\n", ["weight_bits lists 2 widths for 3 layers", "one per layer"]),
        ("quantize:\n  weight_bits: 6\n", ["quantize.weight_bits", "4 or 8"]),
        ("augment:\n  rotate: 90.0\n", ["augment.rotate = 90.0", "less than or equal to 45"]),
        ("quantize:\n  qat:\n    epochs: -1\n", ["quantize.qat.epochs = -1", "greater than or equal to 0"]),
    ],
)
def test_bad_values_name_key_value_and_what_is_allowed(tmp_path: Path, overrides: str, expected: list[str]) -> None:
    with pytest.raises(ConfigError) as caught:
        load_with(tmp_path, overrides)
    message = str(caught.value)
    for fragment in expected:
        assert fragment in message, message


def test_missing_setting_is_named(tmp_path: Path) -> None:
    path = tmp_path / "partial.yaml"
    path.write_text("name: partial\n")
    with pytest.raises(ConfigError, match=r"data: missing"):
        config_module.load(path)


def test_malformed_yaml_gives_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("name: x\nmodel:\n  hidden: [49, 24\n")
    with pytest.raises(ConfigError, match=r"not valid YAML at line \d+, column \d+"):
        config_module.load(path)


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "list.yaml"
    path.write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="must be a mapping"):
        config_module.load(path)


def test_missing_file_and_base_loop(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such config file"):
        config_module.load(tmp_path / "nope.yaml")
    (tmp_path / "a.yaml").write_text("base: b.yaml\n")
    (tmp_path / "b.yaml").write_text("base: a.yaml\n")
    with pytest.raises(ConfigError, match="loop"):
        config_module.load(tmp_path / "a.yaml")


def test_base_merges_key_by_key(tmp_path: Path) -> None:
    cfg = load_with(tmp_path, "train:\n  epochs: 3\n")
    default = config_module.load(ROOT / "config.yaml")
    assert cfg.train.epochs == 3
    assert cfg.train.batch_size == default.train.batch_size
    assert cfg.model == default.model


@pytest.mark.parametrize("command", [[], ["list"]])
def test_doit_stops_before_any_work_without_traceback(tmp_path: Path, command: list[str]) -> None:
    bad = write_config(tmp_path / "bad.yaml", "bad", "model:\n  hidden: [0]\n")
    run = run_doit(f"config={bad}", f"builddir={tmp_path / 'build'}", *command)
    assert run.returncode != 0
    assert "model.hidden[0] = 0" in run.stderr
    assert "Traceback" not in run.stderr + run.stdout
    assert not (tmp_path / "build" / "bad" / "model.h5").exists()
