"""The export task: quantize `model.h5` into `.bin` tables and a manifest, then check them.

Outputs, in the export folder:

- `layer<i>_weights.bin`: row-major `[input][output]` (one row of all outputs per input);
  int8, or for 4-bit layers two weights a byte (`golden.pack_weights`);
- `layer<i>_bias.bin`: the biases in the layer's accumulator width, planar little-endian
  (all low bytes, then all middle bytes, then all high bytes) so the 6502 indexes each
  byte plane with one index register;
- `manifest.json`: shapes, shifts, widths, table sizes and offsets, scales, and the proven
  accumulator ranges;
- `integer_eval.json`: the golden model's accuracy on the test images, computed from the
  files just written (so the check covers the files, not only the arrays in memory).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from common import layout
from common.config import Config
from common.fsutil import write_bytes, write_json
from common.layout import bias_file, weights_file
from export import manifest_v2
from intnet import golden, layers
from intnet.golden import encode_bias
from intnet.h5weights import layer_names, read_dense_layers
from intnet.netquant import quantize_net
from intnet.prep import input_shift
from intnet.quantize import Choice, LayerReport, choices_from, quantize

MANIFEST_FORMAT = 1


def build_manifest(cfg: Config, network: golden.IntNetwork, reports: list[LayerReport]) -> dict[str, Any]:
    layers = []
    offset = 0
    for index, (layer, report) in enumerate(zip(network.layers, reports, strict=True)):
        inputs, outputs = layer.weights.shape
        weight_bytes = golden.weight_bytes(inputs, outputs, layer.weight_bits)
        bias_bytes = outputs * layer.accumulator_bits // 8
        layers.append(
            {
                "index": index,
                "inputs": inputs,
                "outputs": outputs,
                "relu": not layer.is_output,
                "weight_bits": layer.weight_bits,
                "accumulator_bits": layer.accumulator_bits,
                "shift": layer.shift,
                "activation_max": layer.activation_max,
                "weights": {"file": weights_file(index), "offset": offset, "bytes": weight_bytes,
                            "layout": "int8 row-major [input][output]" if layer.weight_bits == 8 else
                            "int4 row-major [input][output], two per byte: even output in the low nibble"},
                "bias": {"file": bias_file(index), "offset": offset + weight_bytes, "bytes": bias_bytes,
                         "layout": "planar little-endian two's complement: low bytes, then higher bytes"},
                "quantization": report.as_dict(),
            }
        )
        offset += weight_bytes + bias_bytes
    return {
        "format": MANIFEST_FORMAT,
        "name": cfg.name,
        "input": input_info(cfg, network.input_max),
        "layer_sizes": cfg.layer_sizes,
        "params": sum(int(np.prod(layer.weights.shape)) + layer.weights.shape[1] for layer in network.layers),
        "tables_bytes": offset,
        "layers": layers,
    }


def input_info(cfg: Config, input_max: int) -> dict[str, Any]:
    """The manifest's `input` block: the preprocessing the console mirrors."""
    return {
        "size": cfg.preprocess.size,
        "count": cfg.input_count,
        "max": input_max,
        "levels": cfg.preprocess.levels,
        "ink": cfg.preprocess.ink,  # how MNIST's greys became levels in training (not used on the console)
        "resize": cfg.preprocess.resize,
        "deskew": cfg.preprocess.deskew,
        "center": cfg.preprocess.center,
        "normalize": cfg.preprocess.normalize,
        "window": cfg.preprocess.window_side,
        "window_start": cfg.preprocess.window_start,
        "half_pixels": cfg.preprocess.half_pixels,
        "block": cfg.preprocess.block,
        "shift": input_shift(cfg.preprocess),
    }


def export(
    cfg: Config, model_path: Path, inputs_path: Path, out_dir: Path, fixed: list[Choice] | None = None
) -> dict[str, Any]:
    """Quantize, write the tables and manifest, and evaluate the golden model on them.
    `fixed`: the per-layer steps a quantization-aware fine-tuning used (training/qat.py)."""
    if cfg.model.convolutional:
        return export_cnn(cfg, model_path, inputs_path, out_dir, fixed)
    float_layers = read_dense_layers(model_path, layer_names(cfg.plan))
    with np.load(inputs_path) as data:
        x_train, y_train, x_test, y_test = data["x_train"], data["y_train"], data["x_test"], data["y_test"]
        input_max = int(data["input_max"])
    network, reports = quantize(float_layers, input_max, cfg.quantize, x_train, x_test, y_train, fixed)

    for index, layer in enumerate(network.layers):
        write_bytes(out_dir / weights_file(index), golden.pack_weights(layer.weights, layer.weight_bits))
        write_bytes(out_dir / bias_file(index), encode_bias(layer.bias, layer.accumulator_bits))
    manifest = build_manifest(cfg, network, reports)
    write_json(out_dir / layout.MANIFEST, manifest)

    reloaded = golden.load(out_dir)
    digits = golden.predict(reloaded, x_test)
    result = {"accuracy": float(np.mean(digits == y_test)), "test_images": len(y_test)}
    write_json(out_dir / layout.INTEGER_EVAL, result)
    widths = ", ".join(f"{layer['accumulator_bits']}" for layer in manifest["layers"])
    print(
        f"integer network {cfg.shape_text}: {manifest['tables_bytes']} bytes of tables, "
        f"accumulators {widths} bits, test accuracy {result['accuracy']:.4f}"
    )
    return result


def export_cnn(
    cfg: Config, model_path: Path, inputs_path: Path, out_dir: Path, fixed: list[Choice] | None = None
) -> dict[str, Any]:
    """`export` for a network with convolutions: `intnet.netquant`'s quantization, the tables
    (a conv's `.bin` packs its patch matrix), a `format: 2` manifest (export/manifest_v2.py),
    and the accuracy of `intnet.layers.run` on the tables read back."""
    float_layers = read_dense_layers(model_path, layer_names(cfg.plan))
    shape = (-1, *cfg.input_shape)
    with np.load(inputs_path) as data:
        x_train, y_train = data["x_train"].reshape(shape), data["y_train"]
        x_test, y_test = data["x_test"].reshape(shape), data["y_test"]
        input_max = int(data["input_max"])
    net = quantize_net(cfg.plan, float_layers, input_max, cfg.quantize, x_train, x_test, y_train, fixed)
    for index, layer in enumerate(net.weighted):
        matrix = manifest_v2.table_matrix(layer)
        write_bytes(out_dir / weights_file(index), golden.pack_weights(matrix, layer.weight_bits))
        write_bytes(out_dir / bias_file(index), encode_bias(layer.bias, layer.accumulator_bits))
    manifest = manifest_v2.build(cfg, net, input_info(cfg, input_max))
    write_json(out_dir / layout.MANIFEST, manifest)

    digits = layers.predict(layers.load(out_dir), x_test)
    result = {"accuracy": float(np.mean(digits == y_test)), "test_images": len(y_test)}
    write_json(out_dir / layout.INTEGER_EVAL, result)
    widths = ", ".join(f"{entry['accumulator_bits']}" for entry in manifest["layers"] if "accumulator_bits" in entry)
    print(
        f"integer network {cfg.shape_text}: {manifest['tables_bytes']} bytes of tables, "
        f"accumulators {widths} bits, test accuracy {result['accuracy']:.4f}"
    )
    return result


def run(cfg: Config, model: Path, inputs: Path, out_dir: Path, qat_steps: Path | None = None) -> None:
    """The `export` step; `qat_steps`: the qat.json of a quantization-aware fine-tuning, if any."""
    export(cfg, model, inputs, out_dir, choices_from(qat_steps) if qat_steps is not None else None)
