"""Generate ui.inc: the preprocessing constants (from the manifest's "input" section) and the
UI settings (the config's `ui:` section) for ui.s / prep.s / main.s.

    python -m nes.tools.gen_ui MANIFEST OUTDIR UI_JSON

UI_JSON is the `ui` section as JSON (dodo passes `CFG.ui.model_dump()`), so the task reruns
exactly when one of those settings changes. Nothing is retyped: size, levels, deskew, center
and shift come from the manifest the network was exported with.

When the console cannot mirror the config's preprocessing with its canvas (resize bilinear,
levels > 3, an input shift, or no room in RAM/PRG), ui.inc says UI_ENABLED = 0: the ROM still
builds, runs the raw nn_input protocol, and shows why on screen; the reason is printed too.

RAM (`ram_layout`): the exact bytes every RAM buffer takes, from the manifest and the sizes
below. The link checks them: ui.inc carries the predicted segment sizes and ui.s asserts at
link time that ld65 placed exactly that many bytes in BSS and STACKBSS, so the accounting can
neither drop the canvas when it fits nor let a ROM link with a wrong estimate.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

from common.fsutil import write_text

CANVAS_CELLS = 28 * 28
MAX_CANVAS_INPUT_SIDE = 15  # prep.s indexes nn_input with one byte and keeps $FF for "outside the window"
# RAM areas of nes/nrom256.cfg (tests/test_nes_ram.py checks these against the file).
RAM_BSS = 0x500  # BSS: $0300-$07FF
STACK_RAM = 0xC0  # STACKBSS: $0100-$01BF, the part of the stack page the stack never reaches
STACK_RESERVE = 0x100 - STACK_RAM  # $01C0-$01FF: the stack (deepest use measured: 24 bytes)
# Fixed BSS bytes of the hand-written sources (the link-time .assert in ui.s proves the sum):
SYSTEM_BSS = 96 + 6 + 27  # nmi.s vram_buf, main.s timing and heartbeat, ui.s tile rows and result
CANVAS_BSS = CANVAS_CELLS + 121  # prep.s (only with the canvas): canvas + preprocessing variables
UI_PRG = 4096  # ui.s + prep.s code and data (measured ~3 KiB), reserved by gen_network
BAR_PIXELS = 80  # 10 tiles of 8 pixels
BAR_LOGITS = 5.0  # a bar is empty when its score is this many logits below the winner's


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
    ram = ram_layout(manifest, canvas=True)
    if ram.over:
        hidden = [layer["outputs"] for layer in manifest["layers"][:-1]]
        return False, (
            f"RAM: the canvas and the network need {ram.bss} bytes of $0300-$07FF, {ram.over} more than "
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
    bss: int  # bytes in $0300-$07FF
    stack: int  # bytes in $0100-$01BF

    @property
    def over(self) -> int:
        """Bytes that do not fit BSS (0 when everything fits)."""
        return max(0, self.bss - RAM_BSS)


def ram_layout(manifest: dict, canvas: bool) -> RamLayout:
    """The RAM the ROM takes for this network, with (`canvas`) or without the drawing canvas.

    BSS: SYSTEM_BSS, CANVAS_BSS (with the canvas), nn_input (input.count), the activation
    buffers that are not in the stack page, nn_scores (10 x the last layer's accumulator bytes)
    and nn_digit. The activation buffers are placed so that the stack page takes as many bytes
    as it can."""
    layers = manifest.get("layers", [])
    hidden = [layer["outputs"] for layer in layers[:-1]]
    act0 = max(hidden[0::2], default=0)
    act1 = max(hidden[1::2], default=0)
    score_bytes = layers[-1]["accumulator_bits"] // 8 if layers else 2
    # Both, the larger, the smaller, or neither in the stack page: the first that fits.
    options = [(True, True), (act0 >= act1, act0 < act1), (act0 < act1, act0 >= act1), (False, False)]
    in_stack = next(o for o in options if o[0] * act0 + o[1] * act1 <= STACK_RAM)
    stack = in_stack[0] * act0 + in_stack[1] * act1
    bss = SYSTEM_BSS + CANVAS_BSS * canvas + manifest["input"]["count"] + act0 + act1 - stack + 10 * score_bytes + 1
    segments = tuple("STACKBSS" if s else "BSS" for s in in_stack)
    return RamLayout(act0, act1, segments, bss, stack)


def bar_shift(manifest: dict) -> int:
    """Right shift of (winner score - score) so that BAR_PIXELS steps span ~BAR_LOGITS logits."""
    layers = manifest.get("layers", [])
    scale = None
    if layers:
        scale = layers[-1].get("quantization", {}).get("accumulator_scale")
    if not scale:
        return 3
    units_per_pixel = BAR_LOGITS / BAR_PIXELS / scale  # score units per bar pixel
    shift = 0
    while (1 << (shift + 1)) <= units_per_pixel * 1.5:
        shift += 1
    return shift


def render(manifest: dict, ui: dict, source: str) -> tuple[str, str]:
    ok, reason = support(manifest)
    ram = ram_layout(manifest, canvas=ok)
    # A network without the canvas gets placeholder settings: 7x7 sums of all 28 cells, 3 levels.
    inp = manifest.get("input", {}) if ok else {}
    size = inp.get("size", 7)
    levels = inp.get("levels", 3)
    # A manifest without a window sums all 28 cells.
    window = inp.get("window", 28)
    window_start = inp.get("window_start", 0)
    half = bool(inp.get("half_pixels", False))
    block = inp.get("block", 28 // size)
    colors = ui["colors"]
    bg = colors["background"]
    palette = [
        [bg, colors["border"], colors["mid"], colors["ink"]],  # 0: canvas, border, text
        [bg, colors["highlight"], colors["bar"], colors["ink"]],  # 1: bars, big digit
        [bg, colors["border"], colors["mid"], colors["ink"]],
        [bg, colors["border"], colors["mid"], colors["ink"]],
        [bg, colors["cursor"], colors["ink"], colors["mid"]],  # sprites
        [bg, colors["cursor"], colors["ink"], colors["mid"]],
        [bg, colors["cursor"], colors["ink"], colors["mid"]],
        [bg, colors["cursor"], colors["ink"], colors["mid"]],
    ]
    # Canvas cell value -> shade (0 blank, 1 mid grey, 2 ink): 2 levels draw their 1 as ink.
    shades = [0, 2, 2, 2] if levels == 2 else [0, 1, 2, 2]
    message = (reason or "").upper().encode("ascii", "replace").decode()
    message = "".join(ch if 0x20 <= ord(ch) < 0x60 and ch != '"' else " " for ch in message)
    lines = [
        f"; ui.inc: GENERATED by nes/tools/gen_ui.py from {source} and the config's ui section.",
        "; Do not edit: rebuild.",
        f"UI_ENABLED = {int(ok)}" + ("" if ok else f"   ; {reason}"),
        f"RAM_BSS_BYTES = {ram.bss}     ; predicted by gen_ui.ram_layout; ui.s asserts it at link time",
        f"RAM_STACK_BYTES = {ram.stack}   ; the same for STACKBSS ($0100-$01BF)",
        f"PP_SIZE = {size}              ; network input is PP_SIZE x PP_SIZE block sums",
        f"PP_WINDOW = {window}           ; canvas cells a side of the summed window",
        f"PP_WINDOW_START = {window_start}      ; its first canvas row and column",
        f"PP_HALF = {int(half)}             ; 1: blocks are measured in half cells",
        f"PP_BLOCK = {block}             ; cells (half cells with PP_HALF) a side of one input block",
        f"PP_LEVELS = {levels}            ; grey levels per canvas cell (values 0..PP_LEVELS-1)",
        f"PP_DESKEW = {int(bool(inp.get('deskew', False)))}",
        f"PP_CENTER = {int(bool(inp.get('center', False)))}",
        f"UI_REPEAT_DELAY = {ui['repeat_delay']}     ; frames before a held direction repeats",
        f"UI_REPEAT_RATE = {ui['repeat_rate']}       ; frames between repeated moves",
        f"UI_CLASSIFY_AFTER = {ui['classify_after']}   ; quiet frames after a change -> classify",
        f"UI_CLASSIFY_EVERY = {ui['classify_every']}   ; while drawing, classify every N frames (0: off)",
        f"UI_BAR_SHIFT = {bar_shift(manifest)}         ; (winner - score) >> this = missing bar pixels",
        f"UI_BAR_PIXELS = {BAR_PIXELS}",
        f"UI_BRUSH_CORE = {levels - 1}        ; level of the 2x2 brush core",
        f"UI_BRUSH_RING = {1 if levels == 3 else 0}        ; level of the ring around it (0: none)",
        *(f"UI_SHADE_{value} = {shade}" for value, shade in enumerate(shades)),
        ".macro UI_PALETTE",
        *(f"  .byte {', '.join(f'${c:02X}' for c in row)}" for row in palette),
        ".endmacro",
        ".macro UI_REASON",
        f'  .byte "{message[:30]}"',
        f'  .byte "{message[30:60]}"' if len(message) > 30 else "",
        ".endmacro",
        f"UI_REASON_LEN = {min(len(message), 60)}",
        "",
    ]
    return "\n".join(lines), reason


def generate(manifest_path: Path, out_dir: Path, ui: dict) -> Path:
    manifest = json.loads(Path(manifest_path).read_text())
    text, reason = render(manifest, ui, Path(manifest_path).as_posix())
    if reason:
        print(f"ui: the drawing canvas is disabled for this network: {reason} (raw nn_input protocol only)")
    out = Path(out_dir) / "ui.inc"
    write_text(out, text)
    return out


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 3:
        print("usage: python -m nes.tools.gen_ui MANIFEST OUTDIR UI_JSON", file=sys.stderr)
        return 2
    try:
        generate(Path(args[0]), Path(args[1]), json.loads(args[2]))
    except (OSError, KeyError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
