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

from dataclasses import dataclass

from common import ldcfg
from nes.tools import canvas
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
CANVAS_BSS = canvas.BYTES + 121  # prep.s (only with the canvas): the packed canvas + preprocessing variables
# (its row of unpacked cells shares the wide temporaries)
NORMALIZE_BSS = 22  # prep.s's size normalisation (only with the canvas and input.normalize): nm_*, pp_xd,
# and the column map's bytes beyond the wide temporaries
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
    if ram.over:
        hidden = buffer_bytes(manifest)[0]
        return False, (
            f"RAM: the canvas and the network need {ram.bss} bytes of {BSS_AREA.span()}, {ram.over} more than "
            f"its {RAM_BSS}: use {ram.over} fewer hidden units (model.hidden {hidden}; nn_act0 holds layers "
            f"0, 2.. ({ram.act0} bytes), nn_act1 layers 1, 3.. ({ram.act1}); {STACK_RAM} bytes of them fit "
            "the stack page, the rest goes beside the canvas)"
        )
    return True, ""


@dataclass(frozen=True)
class RamLayout:
    """Where the RAM buffers go and how many bytes each RAM area holds (exact, in bytes).

    nn_act0 holds the outputs of hidden layers 0, 2, 4.., nn_act1 of layers 1, 3, 5.. (each
    layer reads the other one): each is sized to the largest layer it holds. They go to the low
    part of the stack page (STACKBSS, $0100-$01BF) when they fit there, else to BSS with
    everything else; `segments` says which (inference.s places them by network.inc)."""

    act0: int
    act1: int
    segments: tuple[str, str]  # "STACKBSS" or "BSS" for nn_act0, nn_act1
    bss: int  # bytes in BSS ($0300-$07FF)
    stack: int  # bytes in STACKBSS ($0100-$01BF)
    patch: int = 0  # conv.inc's patch buffer (in BSS): kh*kw*Cin of the widest conv

    @property
    def over(self) -> int:
        """Bytes that do not fit BSS (0 when everything fits)."""
        return max(0, self.bss - RAM_BSS)


def ram_layout(manifest: dict, canvas: bool) -> RamLayout:
    """The RAM the ROM takes for this network, with (`canvas`) or without the drawing canvas.

    BSS: SYSTEM_BSS, CANVAS_BSS (with the canvas; NORMALIZE_BSS more with its size
    normalisation), nn_input (input.count), the activation buffers that are not in the stack
    page, nn_scores (10 x the last layer's accumulator bytes) and nn_digit. The activation
    buffers are placed so that the stack page takes as many bytes as it can."""
    layers = manifest.get("layers", [])
    hidden, patch = buffer_bytes(manifest)
    act0 = max(hidden[0::2], default=0)
    act1 = max(hidden[1::2], default=0)
    score_bytes = layers[-1]["accumulator_bits"] // 8 if layers else 2
    # Both, the larger, the smaller, or neither in the stack page: the first that fits.
    options = [(True, True), (act0 >= act1, act0 < act1), (act0 < act1, act0 >= act1), (False, False)]
    in_stack = next(o for o in options if o[0] * act0 + o[1] * act1 <= STACK_RAM)
    stack = in_stack[0] * act0 + in_stack[1] * act1
    canvas_bss = CANVAS_BSS + NORMALIZE_BSS * (manifest["input"].get("normalize") is not None)
    bss = SYSTEM_BSS + canvas_bss * canvas + manifest["input"]["count"] + act0 + act1 - stack + 10 * score_bytes + 1
    bss += patch
    segments = tuple("STACKBSS" if s else "BSS" for s in in_stack)
    return RamLayout(act0, act1, segments, bss, stack, patch)


def buffer_bytes(manifest: dict) -> tuple[list[int], int]:
    """The bytes each weighted layer but the last writes (a conv: its whole map, pooled when a
    pool follows, HWC), and the bytes of conv.inc's patch buffer (kh*kw*Cin of the widest
    conv; 0 without convolutions). Format 1: the hidden layers' outputs, no patch."""
    layers = manifest.get("layers", [])
    if manifest.get("format", 1) == 1:
        return [layer["outputs"] for layer in layers[:-1]], 0
    sizes, patch = [], 0
    for k, entry in enumerate(layers):
        if entry["type"] == "conv2d":
            kh, kw = entry["kernel"]
            patch = max(patch, kh * kw * entry["input_shape"][2])
            pooled = k + 1 < len(layers) and layers[k + 1]["type"] == "maxpool2d"
            shape = layers[k + 1 if pooled else k]["output_shape"]
            count = 1
            for v in shape:
                count *= int(v)
            sizes.append(count)
        elif entry["type"] == "dense":
            sizes.append(int(entry["outputs"]))
    return sizes[:-1], patch
