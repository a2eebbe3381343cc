"""Turn an exported network (manifest.json + .bin tables) into ca65 sources.

    python -m nes.tools.gen_network MANIFEST OUTDIR

Writes into OUTDIR:
- network.inc: sizes, shifts, widths and one `nn_dense` macro call per layer (inference.s);
- network.s: the tables, `.incbin`'d by path, with exported labels;
- layer<i>_weights.rom.bin: the weights re-laid for the kernel: offset-binary (w ^ $80),
  column per output, chunked by 256 inputs. The shared row-major .bin stays unchanged
  (the golden model reads it); the bias .bin is included as it is.

Everything comes from the manifest and the templates in nes/templates/; nothing is retyped.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from string import Template

from training.fsutil import write_bytes, write_text

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
INC_TEMPLATE = TEMPLATES / "network.inc.tmpl"
ASM_TEMPLATE = TEMPLATES / "network.s.tmpl"
ZP_ACC_BUDGET = 192  # zero-page bytes for the accumulator planes (the rest: pointers, system)
CHUNK = 256  # inputs per X-indexed chunk
PRG_SIZE = 0x8000
PRODUCT_INPUT_MAX = 64  # first-layer product tables only for inputs up to this (2 pages per value)
FIXED_PRG = 2048 + 512  # quarter-square tables + init/nmi/pads/main/argmax (~450)
PRG_MARGIN = 0  # the estimate is already high by ~150-200 bytes (measured on 3 nets)


class NetworkError(ValueError):
    """The manifest describes a network the engine cannot run."""


@dataclass(frozen=True)
class LayerPlan:
    index: int
    inputs: int
    outputs: int
    width: int  # accumulator bytes
    shift: int  # -1 for the output layer
    activation_max: int
    tiles: int
    weights_file: Path
    bias_file: Path


def rom_weights(weights) -> bytes:
    """Row-major int8 [input][output] -> offset-binary columns per 256-input chunk."""
    import numpy as np

    offset = (weights.astype(np.int16) + 128).astype(np.uint8)  # == w ^ 0x80
    parts = [offset[start : start + CHUNK].T.tobytes() for start in range(0, weights.shape[0], CHUNK)]
    return b"".join(parts)


def plan(manifest: dict, export_dir: Path, zp_budget: int = ZP_ACC_BUDGET) -> tuple[list[LayerPlan], int]:
    layers = manifest["layers"]
    if not layers:
        raise NetworkError("the manifest has no layers")
    widths = []
    for entry in layers:
        bits = entry["accumulator_bits"]
        if bits not in (16, 24):
            raise NetworkError(f"layer {entry['index']}: accumulator_bits {bits} (the engine does 16 or 24)")
        widths.append(bits // 8)
    # No wider than the widest layer: zero page left over goes to the UI.
    tile_max = min(128, zp_budget // max(widths), max(entry["outputs"] for entry in layers))
    plans = []
    expected_inputs = manifest["input"]["count"]
    for position, (entry, width) in enumerate(zip(layers, widths, strict=True)):
        last = position == len(layers) - 1
        if entry["inputs"] != expected_inputs:
            raise NetworkError(f"layer {position} takes {entry['inputs']} inputs, previous gives {expected_inputs}")
        if last and (entry["outputs"] != 10 or entry["shift"] is not None):
            raise NetworkError("the last layer must have 10 outputs and no shift")
        if not last and entry["shift"] is None:
            raise NetworkError(f"hidden layer {position} has no shift")
        if not last and not 0 <= entry["activation_max"] <= 255:
            raise NetworkError(f"layer {position}: activation_max must fit a byte")
        tiles = -(-entry["outputs"] // tile_max)
        plans.append(
            LayerPlan(
                index=position,
                inputs=entry["inputs"],
                outputs=entry["outputs"],
                width=width,
                shift=-1 if last else int(entry["shift"]),
                activation_max=int(entry["activation_max"]),
                tiles=tiles,
                weights_file=export_dir / entry["weights"]["file"],
                bias_file=export_dir / entry["bias"]["file"],
            )
        )
        expected_inputs = entry["outputs"]
    return plans, tile_max


def code_bytes(p: LayerPlan, product: bool) -> int:
    """Bytes of unrolled code for one layer (an over-estimate: see the macros in inference.s)."""
    mac = (16 if product else 27) + (4 if p.width == 3 else 0)
    chunks = -(-p.inputs // CHUNK)
    per_tile = 140  # bias init, sum, finish loop
    return 20 + p.tiles * (per_tile + chunks * 50) + chunks * p.outputs * mac


def prg_estimate(plans: list[LayerPlan], product_layers: set[int], reserved: int = 0) -> int:
    tables = sum(p.inputs * p.outputs + p.outputs * p.width for p in plans)
    code = sum(code_bytes(p, p.index in product_layers) for p in plans)
    return FIXED_PRG + reserved + tables + code


def input_ranges(plans: list[LayerPlan], input_max: int) -> list[int]:
    """The largest value each layer reads: input.max, then the previous activation_max."""
    return [input_max, *(p.activation_max for p in plans[:-1])]


def choose_products(plans: list[LayerPlan], input_max: int, reserved: int = 0) -> tuple[int, set[int]]:
    """Product tables (a*w' in one lookup per byte: ~30 instead of ~52 cycles per MAC) for the
    layers whose inputs never exceed a limit T <= PRODUCT_INPUT_MAX; they cost 512 bytes per
    input value. Picks the T that covers the most MACs and still fits the PRG (estimate)."""
    ranges = input_ranges(plans, input_max)
    best: tuple[int, int, set[int]] = (0, 0, set())
    for limit in sorted({r for r in ranges if 1 <= r <= PRODUCT_INPUT_MAX}):
        layers = {p.index for p, r in zip(plans, ranges, strict=True) if r <= limit}
        if prg_estimate(plans, layers, reserved) + 512 * limit + PRG_MARGIN > PRG_SIZE:
            continue
        covered = sum(plans[i].inputs * plans[i].outputs for i in layers)
        if covered > best[0]:
            best = (covered, limit, layers)
    return best[1], best[2]


def rom_weights_name(index: int) -> str:
    return f"layer{index}_weights.rom.bin"


def outputs_for(out_dir: Path, layer_count: int) -> list[Path]:
    """Every file `generate` writes, for build systems."""
    return [
        out_dir / "network.inc",
        out_dir / "network.s",
        *(out_dir / rom_weights_name(i) for i in range(layer_count)),
    ]


def _asm_path(path: Path) -> str:
    text = path.resolve().as_posix()
    if '"' in text:
        raise NetworkError(f"path {text!r} cannot be quoted for ca65")
    return text


def generate(
    manifest_path: Path, out_dir: Path, zp_budget: int = ZP_ACC_BUDGET, product_tables: bool = True
) -> list[Path]:
    manifest_path = Path(manifest_path)
    out_dir = Path(out_dir)
    manifest = json.loads(manifest_path.read_text())
    plans, tile_max = plan(manifest, manifest_path.parent, zp_budget)
    from nes.tools.gen_ui import UI_PRG, support

    reserved = UI_PRG if support(manifest)[0] else 0  # the drawing UI's code and data
    product_max, product_layers = (
        choose_products(plans, int(manifest["input"]["max"]), reserved) if product_tables else (0, set())
    )

    constants, imports, calls, exports, tables = [], [], [], [], []
    import numpy as np

    for p in plans:
        weights = np.frombuffer(p.weights_file.read_bytes(), dtype=np.int8)
        if weights.size != p.inputs * p.outputs:
            raise NetworkError(f"{p.weights_file}: {weights.size} bytes, expected {p.inputs * p.outputs}")
        if p.bias_file.stat().st_size != p.outputs * p.width:
            raise NetworkError(f"{p.bias_file}: expected {p.outputs * p.width} bytes")
        rom = out_dir / rom_weights_name(p.index)
        write_bytes(rom, rom_weights(weights.reshape(p.inputs, p.outputs)))

        name = f"nn_l{p.index}"
        constants.append(
            f"{name.upper()}_INPUTS = {p.inputs}\n{name.upper()}_OUTPUTS = {p.outputs}\n"
            f"{name.upper()}_ACC_BYTES = {p.width}\n{name.upper()}_SHIFT = {p.shift}"
        )
        imports.append(f".import {name}_weights, {name}_bias")
        source = "nn_input" if p.index == 0 else f"nn_act{(p.index - 1) % 2}"
        dest = "nn_scores" if p.shift < 0 else f"nn_act{p.index % 2}"
        calls.append(
            f"  nn_dense {p.index}, {p.inputs}, {p.outputs}, {p.width}, {p.shift}, {p.activation_max}, "
            f"{p.tiles}, {name}_weights, {name}_bias, {source}, {dest}, {int(p.index in product_layers)}"
        )
        exports.append(f".export {name}_weights, {name}_bias")
        tables.append(
            f'{name}_weights:  ; {p.inputs} x {p.outputs}\n  .incbin "{_asm_path(rom)}"\n'
            f'{name}_bias:     ; {p.outputs} x {p.width} bytes, planar\n  .incbin "{_asm_path(p.bias_file)}"'
        )

    hidden = [p.outputs for p in plans[:-1]]
    fields = {
        "manifest": manifest_path.as_posix(),
        "layer_count": len(plans),
        "input_count": manifest["input"]["count"],
        "input_max": manifest["input"]["max"],
        "act_max": max(hidden, default=1),
        "score_bytes": plans[-1].width,
        "tile_max": tile_max,
        "any_24": int(any(p.width == 3 for p in plans)),
        "product_max": product_max,
        "layer_constants": "\n".join(constants),
        "imports": "\n".join(imports),
        "layer_calls": "\n".join(calls),
        "exports": "\n".join(exports),
        "tables": "\n".join(tables),
    }
    write_text(out_dir / "network.inc", Template(INC_TEMPLATE.read_text()).substitute(fields))
    write_text(out_dir / "network.s", Template(ASM_TEMPLATE.read_text()).substitute(fields))
    return outputs_for(out_dir, len(plans))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("manifest", type=Path)
    parser.add_argument("outdir", type=Path)
    parser.add_argument(
        "--no-product-tables", action="store_true", help="quarter squares only (smaller PRG, slower first layer)"
    )
    args = parser.parse_args(argv)
    try:
        for path in generate(args.manifest, args.outdir, product_tables=not args.no_product_tables):
            print(path)
    except (NetworkError, OSError, KeyError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
