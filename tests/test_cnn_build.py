"""A tiny network with convolutions built through doit (issue 15): train, QAT, export (manifest
v2), drawn and metrics; the fake-quantized Keras model scores as `intnet.layers.run` on the
exported tables; the console's tasks refuse a CNN the engine cannot run with one message, and
build and evaluate one it can (bit-exact on the console)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import TINY_OVERRIDES, DoitRun, TinyBuild, run_doit, write_config

CNN_OVERRIDES = TINY_OVERRIDES.replace("teacher:\n  epochs: 1\n", "teacher:\n  epochs: 0\n") + """\
model:
  hidden: null
  layers:
    - {conv: 4, padding: valid, bias: false}
    - {pool: 2}
    - {conv: 6, padding: same, bias: true}
    - {pool: 2}
    - {dense: 12}
quantize:
  weight_bits: [4, 8, 4, 4]
  qat:
    epochs: 1
    learning_rate: 0.0005
"""


@pytest.fixture(scope="module")
def cnn_build(tmp_path_factory: pytest.TempPathFactory, mnist_dir: Path) -> TinyBuild:
    work = tmp_path_factory.mktemp("tinycnn")
    config = write_config(work / "tinycnn.yaml", "tinycnn", CNN_OVERRIDES)
    build = TinyBuild(config, work / "build", mnist_dir, None)  # type: ignore[arg-type]
    build.first_run = build.doit()
    assert build.first_run.returncode == 0, build.first_run.stdout + build.first_run.stderr
    return build


def out(build: TinyBuild) -> Path:
    return build.build_root / "tinycnn"


def test_default_tasks_stop_at_the_metrics(cnn_build: TinyBuild) -> None:
    ran = cnn_build.first_run.ran()
    assert {"train", "qat", "export", "drawn", "metrics"} <= ran
    assert not ran & {"nes_network", "nes_ui", "rom", "paddrawn", "evaluate", "screenshot", "report"}
    again = cnn_build.doit(report_name="again.json")
    assert again.returncode == 0 and again.ran() == set(), again.results


def test_console_tasks_fail_with_one_message(cnn_build: TinyBuild) -> None:
    for task in ("rom", "evaluate"):
        run: DoitRun = cnn_build.doit(task, report_name=f"{task}.json")
        text = run.stdout + run.stderr + "".join(run.outputs.values())
        assert run.returncode != 0
        assert "the console engine cannot run this network: model.layers[2]: padding 'same'" in text, text
        assert "quantize.weight_bits[1] = 8" in text and "quantize.activation_bits = 5" in text
        assert "drawn metrics" in text and "Traceback" not in text
    assert not (out(cnn_build) / "nes").exists()  # nothing generated or assembled


def test_manifest_v2_describes_the_tables(cnn_build: TinyBuild) -> None:
    from common.config import load
    from intnet import golden, layers

    cfg = load(cnn_build.config)
    export = out(cnn_build) / "export"
    manifest = json.loads((export / "manifest.json").read_text())
    assert manifest["format"] == 2 and manifest["input"]["shape"] == [14, 14, 1]
    assert "layer_sizes" not in manifest and manifest["layer_codes"] == cfg.layer_codes
    types = [entry["type"] for entry in manifest["layers"]]
    assert types == ["conv2d", "maxpool2d", "conv2d", "maxpool2d", "flatten", "dense", "dense"]
    for entry, placed in zip(manifest["layers"], cfg.plan.layers, strict=True):
        assert (tuple(entry["input_shape"]) if "input_shape" in entry else (entry["inputs"],)) in (
            placed.input_shape,
            (placed.fan_in,),
        )
    network = layers.load(export)
    weighted = [entry for entry in manifest["layers"] if "weights" in entry]
    assert [entry["index"] for entry in weighted] == [0, 1, 2, 3]
    assert [entry["weight_bits"] for entry in weighted] == [4, 8, 4, 4]
    offset = 0
    for entry, layer in zip(weighted, [x for x in network.layers if not isinstance(x, layers.MaxPool | layers.Flatten)],
                            strict=True):
        data = (export / entry["weights"]["file"]).read_bytes()
        matrix = layers.patch_matrix(layer) if isinstance(layer, layers.ConvLayer) else layer.weights
        assert matrix.shape == (entry["inputs"], entry["outputs"])
        assert data == golden.pack_weights(matrix, entry["weight_bits"])  # conv: the packed patch matrix
        assert entry["weights"]["offset"] == offset and entry["weights"]["bytes"] == len(data)
        offset += len(data) + entry["bias"]["bytes"]
        if entry["type"] == "conv2d":
            assert entry["kernel"] == [3, 3] and entry["stride"] == 1 and entry["shift"] >= 0
    assert manifest["tables_bytes"] == offset
    first = network.layers[0]
    assert isinstance(first, layers.ConvLayer) and not weighted[0]["use_bias"] and weighted[1]["use_bias"]
    assert (first.bias == (1 << (first.shift - 1) if first.shift else 0)).all()  # only the rounding constant
    with pytest.raises(ValueError, match=r"intnet\.layers\.load"):
        golden.load(export)


def test_fake_quant_model_scores_as_the_exported_tables(cnn_build: TinyBuild) -> None:
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    from common.config import load
    from common.fsutil import read_json
    from intnet import layers
    from training.qat import build_qat_model

    build = out(cnn_build)
    manifest = json.loads((build / "export" / "manifest.json").read_text())
    network = layers.load(build / "export")
    with np.load(build / "inputs.npz") as data:
        x_test, input_max = data["x_test"], int(data["input_max"])
    trace = layers.run(network.layers, x_test.reshape(-1, 14, 14, 1))
    model = build_qat_model(load(cnn_build.config), keras, read_json(build / "qat" / "qat.json")["layers"])
    fine_tuned = keras.models.load_model(build / "qat" / "model.h5", compile=False)
    for layer in fine_tuned.layers:
        if layer.weights:
            model.get_layer(layer.name).set_weights(layer.get_weights())
    logits = np.asarray(model(x_test.astype(np.float32) / input_max))
    acc_scale = manifest["layers"][-1]["quantization"]["accumulator_scale"]
    close = np.isclose(trace.scores * acc_scale, logits, rtol=0, atol=1e-3 * np.abs(logits).max())
    assert close.all(axis=1).mean() >= 0.99
    assert np.mean(trace.digits == logits.argmax(axis=1)) >= 0.99


def test_metrics_and_drawn_run_the_cnn(cnn_build: TinyBuild) -> None:
    build = out(cnn_build)
    metrics = json.loads((build / "metrics.json").read_text())
    integer = json.loads((build / "export" / "integer_eval.json").read_text())["accuracy"]
    assert metrics["layers"] == ["14x14x1", "conv4v", "pool2", "conv6s", "pool2", "dense12", "10"]
    assert metrics["weight_bits"] == [4, 8, 4, 4] and len(metrics["accumulator_bits"]) == 4
    assert "rom" not in metrics and "paddrawn" not in metrics
    assert abs(metrics["accuracy"]["qat"] - integer) <= 0.01  # the fake-quantized model is the integer one
    drawn = json.loads((build / "drawn.json").read_text())
    assert drawn["plain"]["accuracy"] == integer  # the same digits through the same layers
    assert "conv4v" in cnn_build.first_run.outputs["metrics"]


def test_a_bad_layer_list_stops_doit_with_one_line(tmp_path: Path) -> None:
    bad = write_config(
        tmp_path / "bad.yaml", "bad", "model:\n  hidden: null\n  layers:\n    - {conv: 8, padding: same, bias: false}\n"
        "    - {pool: 2}\n    - {conv: 8, padding: valid, bias: false}\n    - {pool: 2}\n",
    )
    run = run_doit(f"config={bad}", f"builddir={tmp_path / 'build'}", "list")
    assert run.returncode != 0 and "Traceback" not in run.stderr
    assert "model.layers[3]: pool 2 needs an even map, got 5x5" in run.stderr


ROM_OVERRIDES = TINY_OVERRIDES.replace("teacher:\n  epochs: 1\n", "teacher:\n  epochs: 0\n") + """\
model:
  hidden: null
  layers:
    - {conv: 4, padding: valid, bias: false}
    - {pool: 2}
    - {conv: 6, padding: valid, bias: false}
    - {pool: 2}
    - {dense: 12}
quantize:
  weight_bits: 4
  activation_bits: 4
  qat:
    epochs: 1
    learning_rate: 0.0005
"""


def test_a_cnn_the_engine_runs_builds_a_rom_bit_exact_on_the_console(
    tmp_path_factory: pytest.TempPathFactory, mnist_dir: Path
) -> None:
    """`doit evaluate` on a tiny CNN: its ROM (with the drawing UI) gives the golden model's
    scores on every test digit."""
    work = tmp_path_factory.mktemp("tinycnnrom")
    config = write_config(work / "tinycnnrom.yaml", "tinycnnrom", ROM_OVERRIDES)
    build = TinyBuild(config, work / "build", mnist_dir, None)  # type: ignore[arg-type]
    run = build.doit("evaluate", "paddrawn")
    assert run.returncode == 0, run.stdout + run.stderr
    result = json.loads((build.build_root / "tinycnnrom" / "console_eval.json").read_text())
    assert result["images"] == 300 and result["mismatches"] == 0
    assert result["accuracy"] == result["golden_accuracy"]
    assert (build.build_root / "tinycnnrom" / "nes" / "gen" / "ui.inc").read_text().count("UI_ENABLED = 1") == 1
    drawn = json.loads((build.build_root / "tinycnnrom" / "paddrawn.json").read_text())
    assert drawn["canvas"] and drawn["total"] >= 10  # drawn with the pad, answered on the screen
    metrics = json.loads((build.build_root / "tinycnnrom" / "metrics.json").read_text())
    assert metrics["layers"] == ["14x14x1", "conv4v", "pool2", "conv6v", "pool2", "dense12", "10"]
