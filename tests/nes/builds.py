"""Synthetic networks for the NES tests, written in export/tables.py's exact format and built
into ROMs through the steps doit's NES tasks run (no trained model needed); inputs to run them
on. The fixtures that build them are in conftest.py beside this file."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from common import layout
from common.layout import bias_file, weights_file
from intnet import golden
from intnet.golden import encode_bias
from tests.conftest import ROOT


@dataclass(frozen=True)
class LayerSpec:
    inputs: int
    outputs: int
    bits: int
    shift: int | None
    activation_max: int = 255


@dataclass
class NesBuild:
    export_dir: Path
    rom: Path
    network: golden.IntNetwork

    def console(self):
        from nes.tools.console import Console

        return Console(self.rom)


def write_network(
    out: Path,
    specs: list[LayerSpec],
    input_max: int,
    seed: int,
    weights: list[np.ndarray] | None = None,
    biases: list[np.ndarray] | None = None,
) -> Path:
    """Random int8 weights and biases as layer<i>_weights.bin / layer<i>_bias.bin + manifest.json."""
    rng = np.random.default_rng(seed)
    out.mkdir(parents=True, exist_ok=True)
    layers = []
    for i, spec in enumerate(specs):
        w = weights[i] if weights else rng.integers(-128, 128, (spec.inputs, spec.outputs)).astype(np.int8)
        limit = 1 << min(spec.bits - 2, (spec.shift if spec.shift is not None else 10) + 4)
        b = biases[i] if biases else rng.integers(-limit, limit, spec.outputs)
        (out / weights_file(i)).write_bytes(np.asarray(w, dtype=np.int8).tobytes())
        (out / bias_file(i)).write_bytes(encode_bias(np.asarray(b), spec.bits))
        layers.append(
            {
                "index": i,
                "inputs": spec.inputs,
                "outputs": spec.outputs,
                "relu": spec.shift is not None,
                "weight_bits": 8,
                "accumulator_bits": spec.bits,
                "shift": spec.shift,
                "activation_max": spec.activation_max,
                "weights": {"file": weights_file(i), "bytes": spec.inputs * spec.outputs},
                "bias": {"file": bias_file(i), "bytes": spec.outputs * spec.bits // 8},
            }
        )
    manifest = {
        "format": 1,
        "name": out.name,
        "input": {"count": specs[0].inputs, "max": input_max},
        "layer_sizes": [specs[0].inputs, *(s.outputs for s in specs)],
        "layers": layers,
    }
    (out / layout.MANIFEST).write_text(json.dumps(manifest, indent=2))
    return out


def default_ui() -> dict:
    """The `ui` settings of the repository's config.yaml."""
    from common.config import load

    return load(ROOT / "config.yaml").ui.model_dump()


def build_rom(
    manifest: Path,
    out_dir: Path,
    name: str = "nnrom",
    ui: dict | None = None,
    network_options: dict | None = None,
):
    """A ROM from an export folder through the steps that doit's NES tasks run, in task order:
    gen_network, gen_ui, gen_chr, each source's nes_asm step (its include check included), the
    rom step. `out_dir` gets gen/, obj/, <name>.nes (+ .dbg/.map/.labels) and rom_budget.json.
    `ui` defaults to config.yaml's ui section; `network_options` are keyword arguments of
    gen_network.generate (e.g. forced multipliers). Returns ld65's outputs."""
    from nes.tools import assemble, cc65, files, gen_chr, gen_network, gen_ui, link

    manifest, out_dir = Path(manifest), Path(out_dir)
    gen_dir, obj_dir = out_dir / "gen", out_dir / "obj"
    entries = json.loads(manifest.read_text())["layers"]
    layer_count = sum("weights" in entry for entry in entries)  # the layers with tables
    gen_network.generate(manifest, gen_dir, **(network_options or {}))
    gen_ui.generate(manifest, gen_dir, ui if ui is not None else default_ui())
    gen_chr.generate(gen_dir)
    chr_file = gen_dir / "chr.bin"
    for source, obj in zip(cc65.SOURCES, cc65.objects(obj_dir), strict=True):
        declared = files.source_deps(source, gen_dir, chr_file, manifest.parent, layer_count)
        assemble.run(source, obj, gen_dir, chr_file, declared)
    return link.run(obj_dir, out_dir / f"{name}.nes", out_dir / "rom_budget.json")


def build(tmp: Path, name: str, specs: list[LayerSpec], input_max: int = 255, seed: int = 0, **kw) -> NesBuild:
    export_dir = write_network(tmp / name / "export", specs, input_max, seed, **kw)
    outputs = build_rom(export_dir / layout.MANIFEST, tmp / name / "nes", name=name)
    return NesBuild(export_dir, outputs.rom, golden.load(export_dir))


def structured_inputs(count: int, n: int, input_max: int, seed: int) -> np.ndarray:
    """All-zero, all-max, single pixels, random noise, and sparse digit-like blobs."""
    rng = np.random.default_rng(seed)
    side = round(n**0.5)
    rows = [np.zeros(n), np.full(n, input_max), np.full(n, 1)]
    for k in (0, n // 2, n - 1):
        one = np.zeros(n)
        one[k] = input_max
        rows.append(one)
    while len(rows) < count:
        kind = len(rows) % 3
        if kind == 0:  # dense noise
            rows.append(rng.integers(0, input_max + 1, n))
        elif kind == 1:  # sparse noise
            rows.append(rng.integers(0, input_max + 1, n) * (rng.random(n) < 0.15))
        else:  # a thick random stroke on the square canvas, like a digit
            img = np.zeros((side, side))
            y, x = rng.integers(side // 4, 3 * side // 4, 2)
            for _ in range(3 * side):
                y = int(np.clip(y + rng.integers(-1, 2), 0, side - 1))
                x = int(np.clip(x + rng.integers(-1, 2), 0, side - 1))
                img[y, x] = rng.integers(input_max // 2, input_max + 1)
            rows.append(img.ravel()[:n])
    return np.array(rows[:count], dtype=np.int64).clip(0, input_max).astype(np.uint8)


@dataclass(frozen=True)
class ConvSpec:
    channels: int
    shift: int
    pool: bool = True
    stride: int = 1


PREPROCESSING = {  # the default config's 14x14 inputs (3 levels, sums 0..8), so the canvas UI goes in
    "size": 14, "count": 196, "max": 8, "levels": 3, "ink": [16, 160], "resize": "area", "deskew": True,
    "center": True, "normalize": 20, "window": 28, "window_start": 0, "half_pixels": False, "block": 2,
    "shift": 0, "shape": [14, 14, 1],
}  # fmt: skip


def write_cnn(out: Path, convs: list[ConvSpec], dense: list[LayerSpec], seed: int) -> Path:
    """A random format-2 network (export/manifest_v2.py's fields that the engine and
    intnet.layers.load read): 3x3 'valid' 4-bit convolutions on the 14x14x1 input, each pooled
    or not, stride 1 or 2, a flatten (HWC), then dense layers (`LayerSpec.inputs` is ignored for the first:
    the flattened map). 4-bit weights, 16-bit accumulators, activations 0..15."""
    rng = np.random.default_rng(seed)
    out.mkdir(parents=True, exist_ok=True)
    entries: list[dict] = []
    shape = (14, 14, 1)
    index = 0

    def tables(matrix: np.ndarray, bias: np.ndarray, bits: int) -> dict:
        (out / weights_file(index)).write_bytes(golden.pack_weights(matrix, 4))
        (out / bias_file(index)).write_bytes(encode_bias(bias, bits))
        return {
            "index": index,
            "weight_bits": 4,
            "accumulator_bits": bits,
            "weights": {"file": weights_file(index), "bytes": golden.weight_bytes(*matrix.shape, 4)},
            "bias": {"file": bias_file(index), "bytes": matrix.shape[1] * bits // 8},
        }

    for spec in convs:
        h, w, cin = shape
        matrix = rng.integers(-8, 8, (9 * cin, spec.channels))
        bias = rng.integers(-3 << spec.shift, 2 << spec.shift, spec.channels)  # some blank outputs > 0
        conv_shape = ((h - 3) // spec.stride + 1, (w - 3) // spec.stride + 1, spec.channels)
        entries.append(
            {
                "position": len(entries), "type": "conv2d", "kernel": [3, 3], "stride": spec.stride,
                "padding": "valid",
                "input_shape": list(shape), "output_shape": list(conv_shape), "use_bias": True,
                "inputs": 9 * cin, "outputs": spec.channels, "relu": True, "shift": spec.shift,
                "activation_max": 15, **tables(matrix, bias, 16),
            }
        )  # fmt: skip
        index += 1
        shape = conv_shape
        if spec.pool:
            pooled = (shape[0] // 2, shape[1] // 2, shape[2])
            entries.append(
                {"position": len(entries), "type": "maxpool2d", "size": 2, "input_shape": list(shape),
                 "output_shape": list(pooled)}
            )  # fmt: skip
            shape = pooled
    flat = int(np.prod(shape))
    entries.append(
        {"position": len(entries), "type": "flatten", "order": "hwc", "input_shape": list(shape),
         "output_shape": [flat]}
    )  # fmt: skip
    inputs = flat
    for spec in dense:
        last = spec.shift is None
        matrix = rng.integers(-8, 8, (inputs, spec.outputs))
        bias = rng.integers(-32, 32, spec.outputs)
        entries.append(
            {
                "position": len(entries), "type": "dense", "inputs": inputs, "outputs": spec.outputs,
                "relu": not last, "shift": spec.shift, "activation_max": 15, **tables(matrix, bias, spec.bits),
            }
        )  # fmt: skip
        index += 1
        inputs = spec.outputs
    manifest = {"format": 2, "name": out.name, "input": dict(PREPROCESSING), "layers": entries}
    (out / layout.MANIFEST).write_text(json.dumps(manifest, indent=2))
    return out
