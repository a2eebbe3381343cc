"""Plan the network for the 6502: per-layer sizes and accumulator tiles (`layer_plans`), and
each layer's multiplier (`choose_multipliers`) by a cost model of cycles and PRG bytes.

Multipliers (the MUL argument of nn_dense in inference.s): quarter squares, product tables or,
for 4-bit layers with small inputs, nibble product tables (SPLIT: in parts), as the PRG allows.
`prg_estimate` is the PRG model: fixed code, the UI's reserve, tables, weights and unrolled code.
gen_network.py writes the sources from what this module decides. No numpy here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from common import ldcfg
from common.architecture import ZERO_PAGE_ACCUMULATOR_BYTES, conv_output_side
from intnet import golden

ZP_ACC_BUDGET = ZERO_PAGE_ACCUMULATOR_BYTES  # zero-page bytes for the accumulator planes (the rest: pointers, system)
CHUNK = 256  # inputs per X-indexed chunk
PRG_SIZE = ldcfg.memory()["PRG"].size  # nrom256.cfg
PRODUCT_INPUT_MAX = 64  # first-layer product tables only for inputs up to this (2 pages per value)
NIBBLE_INPUT_MAX = 17  # nibble products a*n (n <= 15) fit a byte up to a = 17 (2 pages per value)
FIXED_PRG = 512  # init/nmi/pads/main/argmax (~450)
SQUARE_TABLES = 2048  # quarter squares, only when some layer uses them
UNPACK_TABLES = 512  # 4-bit layers on the 8-bit kernels

# Multipliers (the MUL argument of nn_dense in inference.s). SPLIT: nibble tables for a 4-bit
# layer whose inputs exceed nibble_max, each input taken in parts of at most nibble_max.
SQUARES, PRODUCTS, NIBBLES, SPLIT = 0, 1, 2, 3
# Cycles per non-zero MAC, 16-bit accumulators (measured in cynes, see nes/README.md): the
# cost model `choose_multipliers` minimises. Keys: (weight bits, multiplier).
MAC_CYCLES = {(8, SQUARES): 54, (8, PRODUCTS): 29, (4, SQUARES): 60, (4, PRODUCTS): 35, (4, NIBBLES): 18}


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
    weight_bits: int = 8  # 8, or 4: packed two to a byte in the .bin and in ROM

    @property
    def weight_bytes(self) -> int:
        return golden.weight_bytes(self.inputs, self.outputs, self.weight_bits)


def layer_plans(
    manifest: dict, export_dir: Path, zp_budget: int = ZP_ACC_BUDGET, first_index: int = 0, conv_outputs: int = 0
) -> tuple[list[LayerPlan], int]:
    """Each layer's plan from the manifest (checked), and the accumulator tile size NN_TILE_MAX.
    For the dense head of a CNN (`conv_plans`): `first_index` is the first dense layer's table
    number and the tile holds at least the `conv_outputs` accumulators of the widest conv."""
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
    tile_max = min(128, zp_budget // max(widths), max(conv_outputs, *(entry["outputs"] for entry in layers)))
    if tile_max < conv_outputs:
        raise NetworkError(f"a conv with {conv_outputs} channels needs more zero page than the {zp_budget} bytes left")
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
        weight_bits = int(entry["weight_bits"])
        if weight_bits not in (4, 8):
            raise NetworkError(f"layer {position}: weight_bits {weight_bits} (the engine does 8 or 4)")
        tiles = -(-entry["outputs"] // tile_max)
        plans.append(
            LayerPlan(
                index=first_index + position,
                inputs=entry["inputs"],
                outputs=entry["outputs"],
                width=width,
                shift=-1 if last else int(entry["shift"]),
                activation_max=int(entry["activation_max"]),
                tiles=tiles,
                weights_file=export_dir / entry["weights"]["file"],
                bias_file=export_dir / entry["bias"]["file"],
                weight_bits=weight_bits,
            )
        )
        expected_inputs = entry["outputs"]
    return plans, tile_max


@dataclass(frozen=True)
class ConvPlan:
    """A 3x3 'valid' convolution of a format-2 manifest for nes/src/conv.inc's nn_conv, stride 1
    or 2, with the 2x2 max pool after it fused (`pool`, stride 1 only). `index` is its table
    number (weighted layers counted, as LayerPlan.index); `input_max` the largest value of its
    source map. `height` x `width` is the window of its source map it computes over (`windows`),
    from the top left of a map stored `source_width` cells wide; its stored output is what that
    window makes, which the next conv reads whole."""

    index: int
    height: int  # window of the source map
    width: int
    cin: int
    cout: int
    pool: bool
    shift: int
    activation_max: int
    input_max: int
    weights_file: Path
    bias_file: Path
    stride: int = 1
    source_width: int = 0  # cells per stored source row (0: `width`)

    @property
    def row_width(self) -> int:
        """Cells per row of the source map as stored."""
        return self.source_width or self.width

    @property
    def inputs(self) -> int:
        """Rows of its patch matrix (the patch bytes)."""
        return 9 * self.cin

    @property
    def output_shape(self) -> tuple[int, int, int]:
        return conv_output(self.height, self.width, self.cout, self.pool, self.stride)

    @property
    def output_bytes(self) -> int:
        h, w, c = self.output_shape
        return h * w * c


def conv_output(height: int, width: int, cout: int, pool: bool, stride: int) -> tuple[int, int, int]:
    """The (pooled) output map of a 3x3 'valid' conv over a height x width source."""
    h, w = (conv_output_side(side, 3, stride, "valid") for side in (height, width))
    return (h // 2, w // 2, cout) if pool else (h, w, cout)


def read_side(outputs: int, pool: bool, stride: int) -> int:
    """Source rows (or columns) a 3x3 'valid' conv reads to make `outputs` rows (columns) of its
    output, pooled 2x2 when `pool` (the pool's floor drops an odd last position)."""
    positions = 2 * outputs if pool else outputs
    return (positions - 1) * stride + 3


def windows(convs: list[tuple[int, int, bool, int]]) -> list[tuple[int, int]]:
    """For a chain of 3x3 'valid' convs, each given as (source height, width, pool, stride) of
    its whole source map: the window (rows, columns, from the top left) of its source that each
    one computes over. The last conv makes its whole output (the dense layers read all of it),
    from the rows and columns that takes; each conv before it makes only the rows and columns
    of its output that the next one reads. A stride-2 conv on an even map leaves its last row
    and column unread, so the conv before it never computes them (cnn-s16-s64: conv 1 makes
    5x5 of its 6x6 map, from 11x11 of the 14x14 input): fewer cycles and a smaller map in RAM,
    the same scores."""
    result: list[tuple[int, int]] = [(0, 0)] * len(convs)
    needed: tuple[int, int] | None = None  # output rows and columns the next conv reads
    for k in reversed(range(len(convs))):
        height, width, pool, stride = convs[k]
        if needed is None:
            needed = conv_output(height, width, 1, pool, stride)[:2]
        result[k] = (read_side(needed[0], pool, stride), read_side(needed[1], pool, stride))
        needed = result[k]
    return result


@dataclass(frozen=True)
class ConvMap:
    """Where a conv layer of a format-2 manifest reads and what it stores, as the RAM plan and
    `conv_plans` both see it (unchecked: sized even for a layer the engine rejects). Its whole
    source map is `height` x `width` x `cin`; it computes over the `rows` x `cols` window of it
    that `windows` gives and stores what that window makes (`output_shape`)."""

    position: int  # in manifest["layers"]
    height: int
    width: int
    cin: int
    cout: int
    pool: bool  # a 2x2 max pool follows it
    stride: int
    kernel_cells: int  # kh * kw
    rows: int
    cols: int

    @property
    def output_shape(self) -> tuple[int, int, int]:
        return conv_output(self.rows, self.cols, self.cout, self.pool, self.stride)

    @property
    def output_bytes(self) -> int:
        h, w, c = self.output_shape
        return h * w * c


def conv_maps(manifest: dict) -> list[ConvMap]:
    """Each conv layer of a format-2 manifest with the window it computes over ([] for format 1)."""
    if manifest.get("format", 1) == 1:
        return []
    entries = manifest["layers"]
    found = []
    for position, entry in enumerate(entries):
        if entry["type"] != "conv2d":
            continue
        h, w, cin = (int(v) for v in entry["input_shape"])
        kh, kw = (int(v) for v in entry["kernel"])
        pool = position + 1 < len(entries) and entries[position + 1]["type"] == "maxpool2d"
        stride = int(entry.get("stride", 1))  # manifests written before strides: 1
        found.append((position, h, w, cin, int(entry["outputs"]), pool, stride, kh * kw))
    trimmed = windows([(h, w, pool, stride) for _, h, w, _, _, pool, stride, _ in found])
    return [ConvMap(*geometry, rows, cols) for geometry, (rows, cols) in zip(found, trimmed, strict=True)]


def conv_plans(manifest: dict, export_dir: Path) -> tuple[list[ConvPlan], dict]:
    """A format-2 manifest's convolutions (checked against what conv.inc runs), and the dense
    part left after them as a format-1-like manifest (`input` = the flattened map) for
    `layer_plans`. A format-1 manifest gives ([], itself)."""
    if manifest.get("format", 1) == 1:
        return [], manifest
    entries = manifest["layers"]
    maps = {m.position: m for m in conv_maps(manifest)}
    value_max = int(manifest["input"]["max"])
    shape = tuple(manifest["input"]["shape"])
    convs: list[ConvPlan] = []
    dense: list[dict] = []
    position = 0
    while position < len(entries):
        entry = entries[position]
        kind = entry["type"]
        where = f"layer {position} ({kind})"
        if kind == "conv2d":
            if dense:
                raise NetworkError(f"{where}: convolutions must come before the dense layers")
            problems = []
            stride, pool = maps[position].stride, maps[position].pool
            if list(entry["kernel"]) != [3, 3] or stride not in (1, 2):
                problems.append(f"kernel {entry['kernel']} stride {stride} (3x3, stride 1 or 2 only)")
            if stride != 1 and pool:
                problems.append(f"stride {stride} with the pool after it (a strided conv runs unpooled: drop the pool)")
            if entry["padding"] != "valid":
                problems.append(f"padding {entry['padding']!r} (only 'valid' so far: 'same' needs a zero border)")
            if entry["weight_bits"] != 4:
                problems.append(f"{entry['weight_bits']}-bit weights (the conv kernel takes 4-bit weights)")
            if entry["accumulator_bits"] != 16:
                problems.append(f"{entry['accumulator_bits']}-bit accumulators (16 only)")
            if value_max > NIBBLE_INPUT_MAX:
                problems.append(
                    f"inputs up to {value_max} (the nibble tables take <= {NIBBLE_INPUT_MAX}: 4-bit activations)"
                )
            h, w, cin = (int(v) for v in entry["input_shape"])
            cout = int(entry["outputs"])
            if 9 * cin > 255 or w * cin > 256 or cout > 128:
                problems.append(f"{cin} -> {cout} channels on a {w}-wide map (9*Cin <= 255, W*Cin <= 256, Cout <= 128)")
            if problems:
                raise NetworkError(f"{where}: the console's conv kernel cannot run " + "; ".join(problems))
            plan = ConvPlan(
                index=int(entry["index"]),
                height=h,
                width=w,
                cin=cin,
                cout=cout,
                pool=pool,
                shift=int(entry["shift"]),
                activation_max=int(entry["activation_max"]),
                input_max=value_max,
                weights_file=export_dir / entry["weights"]["file"],
                bias_file=export_dir / entry["bias"]["file"],
                stride=int(stride),
            )
            out_shape = tuple(entries[position + 1 if pool else position]["output_shape"])
            if plan.output_shape != out_shape:  # (the whole map, before `windows` trims it)
                raise NetworkError(f"{where}: output {out_shape}, the kernel makes {plan.output_shape}")
            convs.append(plan)
            value_max, shape = plan.activation_max, out_shape
            position += 2 if pool else 1
            continue
        if kind == "maxpool2d":
            raise NetworkError(f"{where}: the console fuses a pool into the conv before it only")
        if kind == "flatten":
            if entry.get("order", "hwc") != "hwc":
                raise NetworkError(f"{where}: order {entry['order']!r} (the maps are HWC in RAM)")
        elif kind == "dense":
            dense.append({**entry, "position": len(dense)})
        else:
            raise NetworkError(f"{where}: unknown layer type")
        position += 1
    # Each conv computes over its window (conv_maps); only the first reads a map stored wider.
    convs = [
        replace(c, height=m.rows, width=m.cols, source_width=c.width if k == 0 else m.cols)
        for k, (c, m) in enumerate(zip(convs, maps.values(), strict=True))
    ]
    if convs:
        assert convs[-1].output_shape == tuple(shape), "the last conv makes its whole map"
    count = 1
    for v in shape:
        count *= int(v)
    head = {**manifest, "format": 1, "input": {**manifest["input"], "count": count, "max": value_max}, "layers": dense}
    return convs, head


def code_bytes(p: LayerPlan, mul: int) -> int:
    """Bytes of unrolled code for one layer (an over-estimate: see the macros in inference.s)."""
    if p.weight_bits == 8:
        mac = 16 if mul == PRODUCTS else 27
    elif mul in (NIBBLES, SPLIT):
        mac = 13  # a fetch per pair (3) + 11 per nibble
    else:
        mac = (16 if mul == PRODUCTS else 27) + 4  # + lda unpack,y / tay
    mac += 4 if p.width == 3 else 0
    chunks = -(-p.inputs // CHUNK)
    per_tile = 140 + (30 if mul in (NIBBLES, SPLIT) else 0)  # bias init, sum, correction, finish loop
    return 20 + p.tiles * (per_tile + chunks * 50) + chunks * p.outputs * mac


@dataclass(frozen=True)
class Multipliers:
    """What `choose_multipliers` picked: table sizes and each layer's multiplier."""

    product_max: int  # product tables for input values 1..product_max (0: none)
    nibble_max: int  # nibble product tables for input values 1..nibble_max (0: none)
    layers: tuple[int, ...]  # SQUARES, PRODUCTS, NIBBLES or SPLIT per layer

    @property
    def squares(self) -> bool:
        return SQUARES in self.layers

    def unpack(self, plans: list[LayerPlan]) -> bool:
        """4-bit layers on the 8-bit kernels read their weights through the unpack tables."""
        return any(p.weight_bits == 4 and m in (SQUARES, PRODUCTS) for p, m in zip(plans, self.layers, strict=True))

    def table_bytes(self, plans: list[LayerPlan]) -> int:
        return (
            SQUARE_TABLES * self.squares
            + UNPACK_TABLES * self.unpack(plans)
            + 512 * self.product_max
            + 512 * self.nibble_max
        )


def prg_estimate(plans: list[LayerPlan], multipliers: Multipliers, reserved: int = 0) -> int:
    """PRG bytes of the whole cartridge: fixed code, `reserved` (the UI), multiply tables,
    weights and biases, and the unrolled layer code."""
    tables = sum(p.weight_bytes + p.outputs * p.width for p in plans)
    code = sum(code_bytes(p, m) for p, m in zip(plans, multipliers.layers, strict=True))
    return FIXED_PRG + reserved + multipliers.table_bytes(plans) + tables + code


def input_ranges(plans: list[LayerPlan], input_max: int) -> list[int]:
    """The largest value each layer reads: input.max, then the previous activation_max."""
    return [input_max, *(p.activation_max for p in plans[:-1])]


def split_passes(input_range: int, nibble_max: int) -> float:
    """Mean passes of a SPLIT layer, inputs spread evenly over 1..range: a value v takes
    ceil(v / nibble_max) of them."""
    return sum(-(-v // nibble_max) for v in range(1, input_range + 1)) / input_range


def mac_cycles(weight_bits: int, mul: int, input_range: int, nibble_max: int) -> float:
    """Estimated cycles per non-zero MAC (SPLIT: times its mean passes)."""
    if mul == SPLIT:
        return MAC_CYCLES[(4, NIBBLES)] * split_passes(input_range, nibble_max)
    return MAC_CYCLES[(weight_bits, mul)]


def assign(plans: list[LayerPlan], ranges: list[int], product_max: int, nibble_max: int) -> Multipliers:
    """The fastest multiplier each layer can use with tables for 1..product_max, 1..nibble_max."""
    layers = []
    for p, r in zip(plans, ranges, strict=True):
        options = [SQUARES]
        if r <= product_max:
            options.append(PRODUCTS)
        if p.weight_bits == 4 and nibble_max:
            options.append(NIBBLES if r <= nibble_max else SPLIT)
        layers.append(min(options, key=lambda m, p=p, r=r: mac_cycles(p.weight_bits, m, r, nibble_max)))
    # Tables no layer reads are left out.
    return Multipliers(
        product_max if PRODUCTS in layers else 0,
        nibble_max if NIBBLES in layers or SPLIT in layers else 0,
        tuple(layers),
    )


def estimated_cycles(plans: list[LayerPlan], multipliers: Multipliers, ranges: list[int]) -> float:
    """The cost model: every MAC at its kernel's cycles (zeros are skipped alike by all)."""
    return sum(
        p.inputs * p.outputs * mac_cycles(p.weight_bits, m, r, multipliers.nibble_max)
        for p, m, r in zip(plans, multipliers.layers, ranges, strict=True)
    )


def choose_multipliers(
    plans: list[LayerPlan], input_max: int, reserved: int = 0, product_tables: bool = True
) -> Multipliers:
    """Each layer's multiplier. Product tables (a*w' in one lookup per byte: ~29 instead of ~54
    cycles per MAC) serve the layers whose inputs never exceed a limit T <= PRODUCT_INPUT_MAX
    and cost 512 bytes per input value; nibble tables (a 4-bit layer's two weights a byte, ~18
    cycles per MAC) serve 4-bit layers with inputs up to N <= NIBBLE_INPUT_MAX, 512 bytes per
    value, and larger inputs in parts of at most N (SPLIT); the 2 KiB quarter squares only go
    in when a layer still needs them. Picks the (T, N) with the fewest estimated cycles that
    fits the PRG (estimate); ties: fewer bytes."""
    ranges = input_ranges(plans, input_max)
    slowest = assign(plans, ranges, 0, 0)
    if not product_tables:
        return slowest
    limits_p = [0, *sorted({r for r in ranges if 1 <= r <= PRODUCT_INPUT_MAX})]
    # Any N up to the byte limit: more pages take larger inputs in fewer parts.
    four_bit = any(p.weight_bits == 4 for p in plans)
    limits_n = [0, *range(1, NIBBLE_INPUT_MAX + 1)] if four_bit else [0]
    best: tuple[float, int, Multipliers] | None = None
    for limit_p in limits_p:
        for limit_n in limits_n:
            candidate = assign(plans, ranges, limit_p, limit_n)
            size = prg_estimate(plans, candidate, reserved)
            if size > PRG_SIZE:
                continue
            key = (estimated_cycles(plans, candidate, ranges), size)
            if best is None or key < best[:2]:
                best = (*key, candidate)
    return best[2] if best else slowest


def check_multipliers(plans: list[LayerPlan], input_max: int, m: Multipliers) -> None:
    """Reject multipliers the engine cannot run (for `generate(multipliers=...)`)."""
    if len(m.layers) != len(plans) or not 0 <= m.product_max <= 255 or not 0 <= m.nibble_max <= NIBBLE_INPUT_MAX:
        raise NetworkError(f"bad multipliers {m}")
    for p, mul, r in zip(plans, m.layers, input_ranges(plans, input_max), strict=True):
        ok = {
            SQUARES: True,
            PRODUCTS: r <= m.product_max,
            NIBBLES: p.weight_bits == 4 and r <= m.nibble_max,
            SPLIT: p.weight_bits == 4 and m.nibble_max >= 1,
        }.get(mul, False)
        if not ok:
            raise NetworkError(f"layer {p.index} ({p.weight_bits}-bit, inputs up to {r}) cannot use multiplier {mul}")
