"""The cartridge's RAM and PRG budget for the drawing UI: does the canvas fit, and where does
every RAM buffer go.

RAM (`ram_layout`): the exact bytes every RAM buffer takes, from the manifest and the sizes
below; the RAM areas themselves come from nes/nrom256.cfg (ldcfg). The link checks them:
ui.inc carries the predicted segment sizes and ui.s asserts at link time that ld65 placed
exactly that many bytes in BSS and STACKBSS, so the accounting can neither drop the canvas
when it fits nor let a ROM link with a wrong estimate.

`support`: whether the canvas UI can mirror a network's preprocessing (and fits RAM), and why
not. gen_ui.py writes the answer into ui.inc; gen_network.py reserves `ui_prg` bytes of PRG for it.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from common import ldcfg
from common.architecture import conv_output_side
from nes.tools import canvas, plan
from nes.tools.screen import CANVAS_SIDE

CANVAS_CELLS = CANVAS_SIDE * CANVAS_SIDE
MAX_CANVAS_INPUT_SIDE = 15  # prep.s indexes nn_input with one byte and keeps $FF for "outside the window"
BSS_AREA = ldcfg.area_of("BSS")  # $0300-$07FF
STACK_AREA = ldcfg.area_of("STACKBSS")  # the low part of the stack page, which the stack never reaches
RAM_BSS = BSS_AREA.size
STACK_RAM = STACK_AREA.size
STACK_RESERVE = 0x200 - STACK_AREA.start - STACK_RAM  # the rest of the stack page ($0100-$01FF): the stack
# (deepest use measured: 24 bytes)
# Fixed BSS bytes of the hand-written sources (the link-time .assert in ui.s proves the sum):
SYSTEM_BSS = 96 + 6 + 27  # nmi.s vram_buf, main.s timing and heartbeat, ui.s tile rows and result
CANVAS_BSS = canvas.BYTES + CANVAS_SIDE + 4  # prep.s (only with the canvas): the packed canvas, and what the
# last preprocessing found (pp_shift, pp_dy, pp_dx, pp_slope: kept for debuggers, nes/README.md)
PREP_TEMP_BSS = 89  # prep.s's temporaries (pp_temps, only inside prep_run): a network buffer may share them
# (`ram_layout`); its row of unpacked cells shares the wide temporaries
NORMALIZE_BSS = 22  # prep.s's size normalisation (only with the canvas and input.normalize): nm_*, pp_xd,
# and the column map's bytes beyond the wide temporaries; temporaries too
UI_PRG = 4352  # ui.s + prep.s code and data (the packed canvas added ~180 bytes), reserved by gen_network
NORMALIZE_PRG = 320  # prep.s's size normalisation (only with input.normalize; measured 313 bytes), reserved too


def ui_prg(manifest: dict) -> int:
    """PRG bytes gen_network reserves for the drawing UI: 0 without the canvas (`support`)."""
    if not support(manifest)[0]:
        return 0
    return UI_PRG + NORMALIZE_PRG * (manifest["input"].get("normalize") is not None)


def support(manifest: dict) -> tuple[bool, str]:
    """(True, "") when the canvas UI can mirror this network's preprocessing, else (False, why)."""
    inp = manifest.get("input", {})
    missing = [key for key in ("size", "levels", "resize", "deskew", "center", "shift") if key not in inp]
    if missing:
        return False, f"the manifest does not describe the preprocessing ({', '.join(missing)} missing)"
    if inp["resize"] != "area":
        return False, f"resize {inp['resize']!r}: the console only mirrors area sums"
    if not 2 <= inp["levels"] <= 3:
        return False, f"levels {inp['levels']}: the canvas shows 2 or 3 grey levels"
    if inp["size"] > MAX_CANVAS_INPUT_SIDE:
        return False, (
            f"size {inp['size']}: the canvas UI takes inputs up to {MAX_CANVAS_INPUT_SIDE}x{MAX_CANVAS_INPUT_SIDE} "
            "(one-byte input indices; a 28x28 input and the canvas do not both fit in 2 KiB of RAM)"
        )
    if inp["shift"] != 0:
        return False, f"input shift {inp['shift']}: not produced by levels <= 3"
    if inp.get("normalize") is not None and not 1 <= inp["normalize"] <= CANVAS_SIDE:
        return False, f"normalize {inp['normalize']}: the box must lie on the {CANVAS_SIDE}x{CANVAS_SIDE} canvas"
    ram = ram_layout(manifest, canvas=True)
    if ram.over and manifest.get("format", 1) != 1:
        return False, (
            f"RAM: the canvas and the network need {ram.bss} bytes of {BSS_AREA.span()}, {ram.over} more than "
            f"its {RAM_BSS}: use fewer channels or a pool earlier (maps as stored: nn_act0 {ram.act0} bytes, "
            f"nn_act1 {ram.act1}, the conv patch {ram.patch}; {STACK_RAM} bytes of them fit the stack page, "
            "the rest goes beside the canvas)"
        )
    if ram.over:
        hidden = [layer["outputs"] for layer in manifest["layers"][:-1]]
        return False, (
            f"RAM: the canvas and the network need {ram.bss} bytes of {BSS_AREA.span()}, {ram.over} more than "
            f"its {RAM_BSS}: use {ram.over} fewer hidden units (model.hidden {hidden}; nn_act0 holds layers "
            f"0, 2.. ({ram.act0} bytes), nn_act1 layers 1, 3.. ({ram.act1}); {STACK_RAM} bytes of them fit "
            "the stack page, the rest goes beside the canvas)"
        )
    return True, ""


BUFFERS = ("nn_act0", "nn_act1", "cv_patch")  # the network's work buffers, in RamLayout's order


@dataclass(frozen=True)
class RamLayout:
    """Where the RAM buffers go and how many bytes each RAM area holds (exact, in bytes).

    nn_act0 holds the outputs of hidden layers 0, 2, 4.., nn_act1 of layers 1, 3, 5.. (each
    layer reads the other one): each is sized to the largest layer it holds. They go to the low
    part of the stack page (STACKBSS, $0100-$01BF) when they fit there, else to BSS with
    everything else; `segments` says which (inference.s places them by network.inc). With the
    canvas, prep.s's `temps` bytes of temporaries may share one of the network's buffers
    (`shared`, which then reserves max(its bytes, temps)): prep_run and nn_run never overlap."""

    act0: int
    act1: int
    segments: tuple[str, str]  # "STACKBSS" or "BSS" for nn_act0, nn_act1
    bss: int  # bytes in BSS ($0300-$07FF)
    stack: int  # bytes in STACKBSS ($0100-$01BF)
    patch: int = 0  # conv.inc's patch buffer: kh*kw*Cin of the widest conv (0: no conv)
    patch_segment: str = "BSS"  # where it goes: "STACKBSS" or "BSS"
    temps: int = 0  # prep.s's temporaries (0: no canvas)
    shared: str = ""  # the buffer of BUFFERS that holds them too ("": they have their own)

    @property
    def over(self) -> int:
        """Bytes that do not fit BSS (0 when everything fits)."""
        return max(0, self.bss - RAM_BSS)

    def reserved(self, buffer: str) -> int:
        """Bytes `buffer` (one of BUFFERS) reserves: its own, or the temporaries' if it holds them and they are more."""
        own = dict(zip(BUFFERS, (self.act0, self.act1, self.patch), strict=True))[buffer]
        return max(own, self.temps) if buffer == self.shared else own


def ram_layout(manifest: dict, canvas: bool) -> RamLayout:
    """The RAM the ROM takes for this network, with (`canvas`) or without the drawing canvas.

    BSS: SYSTEM_BSS, CANVAS_BSS and prep.s's temporaries (with the canvas; NORMALIZE_BSS more
    with its size normalisation), nn_input (input.count), the activation buffers
    (`buffer_plan`) and the conv patch that are not in the stack page, nn_scores (10 x the last
    layer's accumulator bytes) and nn_digit. The layout with the fewest BSS bytes: which
    buffers go to the stack page, and which one (if any) holds the temporaries too (ties: the
    first found, buffers in the stack page before BSS, no sharing before sharing)."""
    layers = manifest.get("layers", [])
    buffers = buffer_plan(manifest)
    sizes = (buffers.act0, buffers.act1, buffers.patch)
    score_bytes = layers[-1]["accumulator_bits"] // 8 if layers else 2
    temps = (PREP_TEMP_BSS + NORMALIZE_BSS * (manifest["input"].get("normalize") is not None)) * canvas
    fixed = SYSTEM_BSS + CANVAS_BSS * canvas + manifest["input"]["count"] + 10 * score_bytes + 1
    hosts = [name for name, size in zip(BUFFERS, sizes, strict=True) if size and temps]  # may hold the temporaries
    best: tuple[int, int, tuple[bool, ...], str] | None = None  # bss, stack, in_stack, shared
    for in_stack in itertools.product((True, False), repeat=3):
        for shared in ("", *hosts):
            held = [max(size, temps) if name == shared else size for name, size in zip(BUFFERS, sizes, strict=True)]
            stack = sum(size for size, here in zip(held, in_stack, strict=True) if here)
            if stack > STACK_RAM:
                continue
            bss = fixed + sum(held) - stack + (temps if not shared else 0)
            if best is None or bss < best[0]:
                best = (bss, stack, in_stack, shared)
    assert best is not None  # all buffers in BSS always fits the stack page
    bss, stack, in_stack, shared = best
    segments = tuple("STACKBSS" if here else "BSS" for here in in_stack)
    return RamLayout(buffers.act0, buffers.act1, segments[:2], bss, stack, buffers.patch, segments[2], temps, shared)


@dataclass(frozen=True)
class BufferPlan:
    """Where each weighted layer reads and writes: `routes[k]` = (source, destination) of
    table k, among nn_input, nn_act0, nn_act1 and nn_scores (the last layer); the bytes
    nn_act0 and nn_act1 must hold; and the conv patch's bytes (kh*kw*Cin of the widest conv).

    A layer writes the act buffer its source is not, so dense-only networks alternate
    (nn_input -> act0 -> act1 -> act0..). A convolution may instead write over its own source
    map when no later position reads a byte it has written (`in_place`): the second conv of a
    CNN then leaves the other buffer free for the dense layers."""

    routes: tuple[tuple[str, str], ...]
    act0: int
    act1: int
    patch: int


def in_place(height: int, width: int, cin: int, cout: int, pool: bool, stride: int = 1) -> bool:
    """True when a 3x3 'valid' conv (conv.inc's order: positions, or pooled cells, row by row,
    each stored after its whole patch or cell was gathered) can write its output over its
    source map: every output written ends before any byte a later position still reads.

    Output k (a position, or a pooled cell) takes bytes k*cout .. (k+1)*cout - 1. Output (y, x)
    reads source rows from step*y and columns from step*x on, step = stride (a position of a
    strided conv) or 2 (a pooled cell: stride 1), so the first byte it reads is its top left
    one, (step*y*width + step*x)*cin, and no later output reads below the smallest of those."""
    per_output = 2 if pool else 1  # positions per output along each axis
    step = stride * per_output
    rows = conv_output_side(height, 3, stride, "valid") // per_output
    cols = conv_output_side(width, 3, stride, "valid") // per_output
    starts = [(step * y * width + step * x) * cin for y in range(rows) for x in range(cols)]
    # the first byte each cell reads is the smallest of its reads (rows and columns increase)
    first_later = [min(starts[k:]) for k in range(1, len(starts))]
    return all((k + 1) * cout <= first_later[k] for k in range(len(first_later)))


def buffer_plan(manifest: dict) -> BufferPlan:
    """The routes and buffer sizes of the weighted layers (see BufferPlan)."""
    layers = manifest.get("layers", [])
    maps = {m.position: m for m in plan.conv_maps(manifest)}
    outputs: list[tuple[int, plan.ConvMap | None]] = []  # bytes stored, and the conv that stores them
    for k, entry in enumerate(layers):
        if k in maps:  # a conv stores only what the next one reads (plan.windows)
            outputs.append((maps[k].output_bytes, maps[k]))
        elif manifest.get("format", 1) == 1 or entry["type"] == "dense":  # (format 1: dense only, untyped)
            outputs.append((int(entry["outputs"]), None))
    patch = max((m.kernel_cells * m.cin for m in maps.values()), default=0)
    routes = []
    sizes = {"nn_act0": 0, "nn_act1": 0}
    source = "nn_input"
    for k, (count, conv) in enumerate(outputs):
        if k == len(outputs) - 1:
            dest = "nn_scores"
        elif conv is not None and source != "nn_input" and in_place(
            conv.rows, conv.cols, conv.cin, conv.cout, conv.pool, conv.stride
        ):
            # (a conv after the first reads its source whole: its window is the map as stored,
            # so in_place's width is the row stride too; only nn_input is read by a window)
            dest = source
        else:
            dest = "nn_act1" if source == "nn_act0" else "nn_act0"
        routes.append((source, dest))
        if dest in sizes:
            sizes[dest] = max(sizes[dest], count)
        source = dest
    return BufferPlan(tuple(routes), sizes["nn_act0"], sizes["nn_act1"], patch)
