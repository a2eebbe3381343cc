"""Configuration errors stop the build before any work, with one clear message."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from common import config as config_module
from common.config import ConfigError
from pipeline import console
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
        (
            "quantize:\n  weight_bits: [4, 8]\n",
            ["quantize.weight_bits lists 2 widths for 3 weighted layers (dense, dense, output)", "one per layer"],
        ),
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


CNN = "model:\n  hidden: null\n  layers:\n"


def layers(*entries: str) -> str:
    return CNN + "".join(f"    - {entry}\n" for entry in entries)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (
            layers("{conv: 8, padding: same, bias: false}", "{pool: 2}", "{conv: 8, padding: valid, bias: false}",
                   "{pool: 2}"),
            "model.layers[3]: pool 2 needs an even map, got 5x5 (layer 2, conv 'valid', makes 7x7 -> 5x5): "
            "drop this pool, or change the layers before it so the map is even",
        ),
        (
            layers("{conv: 8, padding: valid, bias: false}", "{pool: 2}", "{conv: 8, padding: same, bias: false}",
                   "{pool: 2}", "{conv: 8, padding: same, bias: false}", "{pool: 2}"),
            "model.layers[5]: pool 2 needs an even map, got 3x3 (layer 4, conv 'same', makes 3x3 -> 3x3): "
            "drop this pool, or change the layers before it so the map is even",
        ),
        (
            layers("{conv: 8, kernel: 5, padding: same, bias: false}"),
            "model.layers[0].kernel = 5: the console runs 3x3 convolutions (the golden model takes any)",
        ),
        (
            layers("{conv: 8, padding: same, bias: false}", "{dense: 16}", "{conv: 8, padding: same, bias: false}"),
            "model.layers[2]: conv after a dense layer: convolutions and pools must come first",
        ),
        (
            layers("{dense: 16}", "{pool: 2}"),
            "model.layers[1]: pool after a dense layer: convolutions and pools must come first",
        ),
        (
            layers("{conv: 8, padding: valid, bias: false}", "{pool: 2}", "{conv: 64, padding: valid, bias: false}",
                   "{pool: 2}"),
            "model.layers[2].conv = 64: a pooled conv keeps 2 accumulator and 2 maximum bytes per channel in the "
            "166 bytes of zero page that the UI and the engine's pointers leave: at most 41 channels",
        ),
        (
            layers("{conv: 100, padding: valid, bias: false}"),
            "model.layers[0].conv = 100: a conv keeps 2 accumulator bytes per channel in the 166 bytes of zero "
            "page that the UI and the engine's pointers leave: at most 83 channels",
        ),
        (
            layers("{conv: 8, padding: valid, bias: false}", "{pool: 2}", "{conv: 8, padding: valid, bias: false}",
                   "{pool: 2}", "{conv: 8, padding: valid, bias: false}"),
            "model.layers[4]: a 3x3 'valid' convolution does not fit a 2x2 map: use padding same, or fewer layers "
            "or pools before it",
        ),
        (
            layers("{pool: 2}"),
            "model.layers[0]: pool 2 must follow a convolution (the console fuses it into the conv before it)",
        ),
        (
            layers("{conv: 8, padding: valid, bias: false}", "{pool: 2}", "{pool: 2}"),
            "model.layers[2]: pool 2 must follow a convolution (the console fuses it into the conv before it): "
            "drop this pool or put a conv before it",
        ),
        (
            layers("{conv: 8, padding: valid, bias: false}", "{dense: 32}") + "quantize:\n  weight_bits: [4, 4]\n",
            "quantize.weight_bits lists 2 widths for 3 weighted layers (conv, dense, output); give one per layer in "
            "that order, or a single 4 or 8",
        ),
        (
            layers("{conv: 16, padding: same, bias: false}", "{dense: 64}"),
            "layers 14x14x1-conv16s-dense64-10 need about 101014 bytes of weight tables",
        ),
        (
            layers("{conv: 8, padding: same}"),
            "model.layers[0].bias: missing",
        ),
        (
            layers("{conv: 8, pool: 2, padding: same, bias: true}"),
            "model.layers[0]: a layer is one of {conv: channels, kernel: 3, padding: same|valid, bias: true|false}, "
            "{pool: 2} or {dense: units}",
        ),
        (
            layers("{conv: 8, padding: full, bias: true}"),
            "model.layers[0].padding = 'full': Input should be 'same' or 'valid'",
        ),
        (
            layers("{conv: 8, padding: valid, bias: false, stride: 3}"),
            "model.layers[0].stride = 3: Input should be 1 or 2",
        ),
        (
            layers("{conv: 8, padding: valid, bias: false}", "{conv: 8, padding: valid, bias: false, stride: 2}",
                   "{pool: 2}"),
            "model.layers[2]: pool 2 needs an even map, got 5x5 (layer 1, conv 'valid' stride 2, makes 12x12 -> "
            "5x5): drop this pool, or change the layers before it so the map is even",
        ),
        (
            "model:\n  layers:\n    - {dense: 16}\n",
            "model: give model.hidden (dense layers) or model.layers, not both; a config based on config.yaml sets "
            "`hidden: null` to use layers",
        ),
        ("model:\n  hidden: null\n", "model: give model.layers, or model.hidden for a network of dense layers only"),
    ],
)
def test_bad_layers_get_one_line_each(tmp_path: Path, overrides: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_with(tmp_path, overrides)
    lines = str(caught.value).splitlines()[1:]
    assert len(lines) == 1, lines  # one problem, one line
    assert expected in lines[0], lines[0]


def test_several_layer_problems_give_one_line_each(tmp_path: Path) -> None:
    overrides = layers(
        "{conv: 8, kernel: 5, padding: same, bias: false}", "{dense: 16}", "{conv: 8, padding: same, bias: false}"
    )
    with pytest.raises(ConfigError) as caught:
        load_with(tmp_path, overrides)
    lines = str(caught.value).splitlines()[1:]
    assert [line.split(":")[0].strip() for line in lines] == ["model.layers[0].kernel = 5", "model.layers[2]"]


def test_cnn_layers_and_shapes(tmp_path: Path) -> None:
    cfg = load_with(
        tmp_path,
        layers("{conv: 16, padding: valid, bias: false}", "{pool: 2}", "{conv: 32, padding: valid, bias: false}",
               "{pool: 2}", "{dense: 32}"),
    )
    assert cfg.model.convolutional
    assert cfg.layer_codes == ["14x14x1", "conv16v", "pool2", "conv32v", "pool2", "dense32", "10"]
    shapes = [(layer.kind, layer.input_shape, layer.output_shape) for layer in cfg.plan.layers]
    assert shapes == [
        ("conv", (14, 14, 1), (12, 12, 16)),
        ("pool", (12, 12, 16), (6, 6, 16)),
        ("conv", (6, 6, 16), (4, 4, 32)),
        ("pool", (4, 4, 32), (2, 2, 32)),
        ("flatten", (2, 2, 32), (128,)),
        ("dense", (128,), (32,)),
        ("output", (32,), (10,)),
    ]
    assert [layer.fan_in for layer in cfg.plan.weighted] == [9, 144, 128, 32]
    with pytest.raises(AttributeError, match="layer_codes"):
        _ = cfg.layer_sizes


def test_strided_convs_and_their_shapes(tmp_path: Path) -> None:
    """Stride 2 takes Keras's sides ('valid' (n - 3) // 2 + 1, 'same' ceil(n / 2)), names its
    layer with s2 (stride 1 names as before) and is left out of the model's dump at stride 1,
    so the tasks of configs written before strides stay up to date."""
    cfg = config_module.load(ROOT / "training" / "presets" / "sweep" / "cnn-s16-s64.yaml")
    assert cfg.layer_codes == ["14x14x1", "conv16vs2", "conv64vs2", "dense32", "10"]
    shapes = [(layer.kind, layer.input_shape, layer.output_shape) for layer in cfg.plan.layers]
    assert shapes == [
        ("conv", (14, 14, 1), (6, 6, 16)),
        ("conv", (6, 6, 16), (2, 2, 64)),
        ("flatten", (2, 2, 64), (256,)),
        ("dense", (256,), (32,)),
        ("output", (32,), (10,)),
    ]
    macs = sum(layer.fan_in * layer.outputs * math.prod(layer.output_shape[:-1]) for layer in cfg.plan.weighted)
    assert macs == 50560
    assert console.unsupported(cfg) is None
    assert [spec.get("stride") for spec in cfg.model.model_dump()["layers"]] == [2, 2, None]
    same = load_with(tmp_path, layers("{conv: 8, padding: same, bias: false, stride: 2}",
                                      "{conv: 8, padding: valid, bias: false, stride: 2}", "{dense: 16}"))
    assert [layer.output_shape for layer in same.plan.layers[:2]] == [(7, 7, 8), (3, 3, 8)]
    assert same.layer_codes[1:3] == ["conv8ss2", "conv8vs2"]
    stride_1 = config_module.load(ROOT / "training" / "presets" / "cnn.yaml")
    assert all("stride" not in spec for spec in stride_1.model.model_dump()["layers"])


def test_the_console_runs_strided_convs_unpooled(tmp_path: Path) -> None:
    cfg = load_with(
        tmp_path,
        layers("{conv: 8, padding: valid, bias: false, stride: 2}", "{pool: 2}", "{dense: 16}")
        + "quantize:\n  activation_bits: 4\n",
    )
    assert [layer.output_shape for layer in cfg.plan.layers[:2]] == [(6, 6, 8), (3, 3, 8)]  # the golden model's
    assert console.unsupported(cfg) == (
        "model.layers[0]: stride 2 before a pool (the console runs strided convolutions unpooled: drop the pool, "
        "or use stride 1)"
    )


def test_hidden_means_dense_layers(tmp_path: Path) -> None:
    default = config_module.load(ROOT / "config.yaml")
    same = load_with(tmp_path, layers("{dense: 144}", "{dense: 32}"))
    assert not same.model.convolutional and same.layer_sizes == default.layer_sizes
    assert same.model.layer_specs == default.model.layer_specs
    assert [layer.fan_in for layer in default.plan.weighted] == [196, 144, 32]
    # what the tasks compare (doit's config_changed) is what it was before `layers` existed
    assert default.model.model_dump(exclude_none=True) == {"hidden": [144, 32], "activation": "relu", "dropout": 0.0}


@pytest.mark.parametrize(("preset", "second"), [("cnn.yaml", "conv32v"), ("cnn24.yaml", "conv24v")])
def test_cnn_presets_are_valid(preset: str, second: str) -> None:
    cfg = config_module.load(ROOT / "training" / "presets" / preset)
    assert cfg.model.convolutional and cfg.model.hidden is None
    assert cfg.layer_codes == ["14x14x1", "conv16v", "pool2", second, "pool2", "dense32", "10"]
    assert all(not spec.bias for spec in cfg.model.layer_specs if hasattr(spec, "bias"))
