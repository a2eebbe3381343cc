"""Turn an exported network (manifest.json + .bin tables) into ca65 sources.

    python -m nes.tools.gen_network MANIFEST OUTDIR

Writes into OUTDIR:
- network.inc: sizes, shifts, widths and one `nn_dense` macro call per layer (inference.s);
- network.s: the tables, `.incbin`'d by path, with exported labels;
- layer<i>_weights.rom.bin: the weights re-laid for the kernel, chunked by 256 inputs:
  8-bit layers offset-binary (w ^ $80), one column per output; 4-bit layers offset nibbles
  (w + 8), one column of packed bytes per output pair (see `rom_weights`). The shared
  row-major .bin stays unchanged (the golden model reads it); the bias .bin is included as it is.

Each layer's multiplier and accumulator tiles come from the planner (nes/tools/plan.py); the
RAM places of the activation buffers from nes/tools/budget.py.

Everything comes from the manifest and the templates in nes/templates/; nothing is retyped.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from string import Template

from common.architecture import CONV_WORK_BYTES
from common.fsutil import write_bytes, write_text
from common.layout import NETWORK_INC, NETWORK_S, rom_weights_name
from intnet import golden
from nes.tools.budget import buffer_plan, ram_layout, ui_prg
from nes.tools.files import ASM_TEMPLATE, INC_TEMPLATE, network_outputs
from nes.tools.plan import (
    CHUNK,
    NIBBLE_INPUT_MAX,
    ZP_ACC_BUDGET,
    Multipliers,
    NetworkError,
    assign,
    check_multipliers,
    choose_multipliers,
    conv_plans,
    input_ranges,
    layer_plans,
)


def rom_weights(weights, bits: int = 8) -> bytes:
    """Row-major [input][output] weights (any integer dtype, unpacked) -> the ROM layout.

    Chunks of 256 inputs; in each chunk one column per output (8 bits: w' = w + 128 = w ^ $80)
    or per output pair (4 bits: byte (w[2k] + 8) | (w[2k+1] + 8) << 4, an odd last output
    padded with w = 0), so `ldy column,x` with X = input index within the chunk reaches it."""
    import numpy as np

    weights = np.asarray(weights, dtype=np.int16)
    if bits == 8:
        columns = (weights + 128).astype(np.uint8)
    elif bits == 4:
        if weights.size and (weights.min() < -8 or weights.max() > 7):
            raise NetworkError("4-bit weights must lie in -8..7")
        inputs, outputs = weights.shape
        nibbles = np.full((inputs, outputs + outputs % 2), 8, dtype=np.uint8)
        nibbles[:, :outputs] = weights + 8
        columns = nibbles[:, 0::2] | (nibbles[:, 1::2] << 4)
    else:
        raise NetworkError(f"weight_bits {bits}: the engine does 8 or 4")
    parts = [columns[start : start + CHUNK].T.tobytes() for start in range(0, weights.shape[0], CHUNK)]
    return b"".join(parts)


def blank_output(matrix, bias_data: bytes, shift: int, activation_max: int) -> bytes:
    """requantize(bias) of a conv (16-bit accumulators): the Cout bytes an all-zero patch
    gives, since its accumulators are the bias (conv.inc's BLANK table)."""
    import numpy as np

    outputs = matrix.shape[1]
    bias = golden.wrap(golden.read_bias(bias_data, outputs, 16).astype(np.int64), 16)
    layer = golden.IntLayer(np.asarray(matrix), bias, 16, shift, activation_max, 4)
    return golden.requantize(layer, bias[None, :])[0].astype(np.uint8).tobytes()


def _asm_path(path: Path) -> str:
    text = path.resolve().as_posix()
    if '"' in text:
        raise NetworkError(f"path {text!r} cannot be quoted for ca65")
    return text


def generate(
    manifest_path: Path,
    out_dir: Path,
    zp_budget: int = ZP_ACC_BUDGET,
    product_tables: bool = True,
    multipliers: Multipliers | None = None,
) -> list[Path]:
    """Write the generated sources; `multipliers` overrides `choose_multipliers` (tests)."""
    manifest_path = Path(manifest_path)
    out_dir = Path(out_dir)
    manifest = json.loads(manifest_path.read_text())
    convs, head = conv_plans(manifest, manifest_path.parent)
    pooled_cout = max((c.cout for c in convs if c.pool), default=0)  # cv_max planes share the budget,
    conv_work = CONV_WORK_BYTES if convs else 0  # and so do conv.inc's work variables
    plans, tile_max = layer_plans(
        head,
        manifest_path.parent,
        zp_budget - conv_work - 2 * pooled_cout,
        len(convs),
        max((c.cout for c in convs), default=0),
    )

    reserved = ui_prg(manifest)  # the drawing UI's code and data
    ram = ram_layout(manifest, canvas=bool(reserved))  # the activation buffers' sizes and places
    routes = buffer_plan(manifest).routes  # each layer's source and destination buffer
    input_max = int(head["input"]["max"])  # the dense part's input: the last conv's activation_max
    if multipliers is None and convs:
        # The convs need the nibble tables up to their inputs; the dense layers use them too.
        ranges = input_ranges(plans, input_max)
        four_bit = [r for p, r in zip(plans, ranges, strict=True) if p.weight_bits == 4]
        nibble_max = max([*(c.input_max for c in convs), *four_bit])
        multipliers = assign(plans, ranges, 0, min(nibble_max, NIBBLE_INPUT_MAX))
        multipliers = Multipliers(multipliers.product_max, min(nibble_max, NIBBLE_INPUT_MAX), multipliers.layers)
    elif multipliers is None:
        multipliers = choose_multipliers(plans, input_max, reserved, product_tables)
    check_multipliers(plans, input_max, multipliers)

    constants, imports, calls, exports, tables = [], [], [], [], []
    conv_procs, conv_calls = [], []
    from intnet.golden import unpack_weights

    for c in convs:
        data = c.weights_file.read_bytes()
        expected = golden.weight_bytes(c.inputs, c.cout, 4)
        if len(data) != expected:
            raise NetworkError(f"{c.weights_file}: {len(data)} bytes, expected {expected}")
        if c.bias_file.stat().st_size != 2 * c.cout:
            raise NetworkError(f"{c.bias_file}: expected {2 * c.cout} bytes")
        matrix = unpack_weights(data, c.inputs, c.cout, 4)  # layers.patch_matrix: (dy*3+dx)*Cin+c rows
        rom = out_dir / rom_weights_name(c.index)
        write_bytes(rom, rom_weights(matrix, 4))
        blank = blank_output(matrix, c.bias_file.read_bytes(), c.shift, c.activation_max)
        name = f"nn_l{c.index}"
        source, dest = routes[c.index]
        imports.append(f".import {name}_weights, {name}_bias, {name}_blank")
        exports.append(f".export {name}_weights, {name}_bias, {name}_blank")
        tables.append(
            f'{name}_weights:  ; 3x3x{c.cin} -> {c.cout} conv, 4-bit, a column per output pair\n'
            f'  .incbin "{_asm_path(rom)}"\n'
            f'{name}_bias:     ; {c.cout} x 2 bytes, planar\n  .incbin "{_asm_path(c.bias_file)}"\n'
            f'{name}_blank:    ; {c.cout} bytes: requantize(bias), an all-zero patch\n'
            f'  .byte {", ".join(str(b) for b in blank)}'
        )
        conv_calls.append(
            f"  nn_stop_before {c.index}\n"
            f"  jsr {name}_conv               ; {c.height}x{c.width}x{c.cin} -> {c.output_shape}"
            f"{f' (a window of the {c.row_width}-wide source)' if c.row_width != c.width else ''}"
        )
        conv_procs.append(
            f";; Layer {c.index}: 3x3 'valid' conv {c.cin} -> {c.cout} channels"
            f"{f', stride {c.stride}' if c.stride != 1 else ''}{', 2x2 max pool fused' if c.pool else ''}, "
            f"{source} -> {dest}.\n"
            f".proc {name}_conv\n"
            f"  .assert {c.cout} <= ::NN_TILE_MAX, error, \"the conv's accumulators must fit the zero-page planes\"\n"
            f"  nn_conv {c.height}, {c.width}, {c.row_width}, {c.cin}, {c.cout}, {int(c.pool)}, {c.stride}, {c.shift}, "
            f"{c.activation_max}, "
            f"{name}_weights, {name}_bias, {name}_blank, {source}, {dest}, {255 // max(1, c.input_max)}\n"
            ".endproc"
        )

    for p, mul in zip(plans, multipliers.layers, strict=True):
        data = p.weights_file.read_bytes()
        if len(data) != p.weight_bytes:
            raise NetworkError(
                f"{p.weights_file}: {len(data)} bytes, expected {p.weight_bytes} ({p.weight_bits}-bit weights)"
            )
        if p.bias_file.stat().st_size != p.outputs * p.width:
            raise NetworkError(f"{p.bias_file}: expected {p.outputs * p.width} bytes")
        rom = out_dir / rom_weights_name(p.index)
        write_bytes(rom, rom_weights(unpack_weights(data, p.inputs, p.outputs, p.weight_bits), p.weight_bits))

        name = f"nn_l{p.index}"
        constants.append(
            f"{name.upper()}_INPUTS = {p.inputs}\n{name.upper()}_OUTPUTS = {p.outputs}\n"
            f"{name.upper()}_ACC_BYTES = {p.width}\n{name.upper()}_SHIFT = {p.shift}\n"
            f"{name.upper()}_WEIGHT_BITS = {p.weight_bits}\n{name.upper()}_MUL = {mul}"
        )
        imports.append(f".import {name}_weights, {name}_bias")
        source, dest = routes[p.index]
        calls.append(
            f"  nn_stop_before {p.index}\n"
            f"  nn_dense {p.index}, {p.inputs}, {p.outputs}, {p.width}, {p.shift}, {p.activation_max}, "
            f"{p.tiles}, {name}_weights, {name}_bias, {source}, {dest}, {p.weight_bits}, {mul}"
        )
        exports.append(f".export {name}_weights, {name}_bias")
        tables.append(
            f'{name}_weights:  ; {p.inputs} x {p.outputs}, {p.weight_bits}-bit\n  .incbin "{_asm_path(rom)}"\n'
            f'{name}_bias:     ; {p.outputs} x {p.width} bytes, planar\n  .incbin "{_asm_path(p.bias_file)}"'
        )

    fields = {
        "manifest": manifest_path.as_posix(),
        "layer_count": len(plans),
        "input_count": manifest["input"]["count"],
        "input_max": manifest["input"]["max"],
        "act0": ram.reserved("nn_act0"),  # (with prep.s's temporaries, if it shares them)
        "act1": ram.reserved("nn_act1"),
        "act0_segment": ram.segments[0],
        "act1_segment": ram.segments[1],
        "score_bytes": plans[-1].width,
        "tile_max": tile_max,
        "any_24": int(any(p.width == 3 for p in plans)),
        "product_max": multipliers.product_max,
        "nibble_max": multipliers.nibble_max,
        "squares": int(multipliers.squares),
        "unpack": int(multipliers.unpack(plans)),
        "layer_constants": "\n".join(constants),
        "imports": "\n".join(imports),
        "layer_calls": "\n".join(conv_calls + calls),
        "conv_count": len(convs),
        "conv_cout_max": max((c.cout for c in convs), default=0),
        "pool_cout_max": pooled_cout,
        "conv_work_bytes": CONV_WORK_BYTES,
        "patch_bytes": ram.reserved("cv_patch"),
        "patch_segment": ram.patch_segment,
        "conv_procs": "\n".join(conv_procs),
        "exports": "\n".join(exports),
        "tables": "\n".join(tables),
    }
    write_text(out_dir / NETWORK_INC, Template(INC_TEMPLATE.read_text()).substitute(fields))
    write_text(out_dir / NETWORK_S, Template(ASM_TEMPLATE.read_text()).substitute(fields))
    return network_outputs(out_dir, len(convs) + len(plans))


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
