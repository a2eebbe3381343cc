"""The cost model of docs/cnn-plan.md: cycles, frames, PRG and RAM of candidate CNNs on the 6502.

    python docs/cnn_plan_cost.py            # the candidates table (markdown) and a per-layer breakdown
    python docs/cnn_plan_cost.py --front    # the same estimates for the float front's shapes (section 8)

A planning estimate: every constant below is measured (nes/README.md "Timing", the field notes,
docs/cnn_plan_measure.py on the default 14x14 inputs, and since step 1 the PATCH kernel itself:
nes/src/conv.inc in its test cartridge, `python -m nes.tools.conv_bench`) or counted from the
instructions of nes/src/conv.inc and inference.s, and says which. The TAPS kernel is not built:
its constants are still counted.

Two conv kernels:
- PATCH (any conv with channels in and out): per output position, gather the 3x3xCin patch into
  nn_patch, then run the existing nn_chunk input loop over it (zero skip, one page pointer per
  non-zero input shared by all Cout outputs, nibble-product MACs into zero-page accumulators).
- TAPS (one input channel per output channel: a first layer computed channel by channel, and
  depthwise layers): per channel, 9 zero-page pointers to constant-weight product rows
  T[w'][a] = a*w + 128 (one 256-byte page; the 9*128 offset folds into the bias), per position
  `ldy in+off,x / beq / adc (wp),y / bcc`: no pointer setup per input, no correction.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

FRAME = 29780.5  # NTSC CPU cycles per frame
NMI = 1.05  # wall-clock frames include the NMI's UI work (~600 cycles a frame idle, more while drawing)

# --- PATCH kernel (nes/src/conv.inc, step 1) and dense layers (cycles) ---------------------------
# Measured: cynes runs of the conv test cartridge (nes/tools/conv_bench.py), slopes over Cout and
# over all-zero / full maps (docs/cnn-plan.md section 1); counted: from the instructions of conv.inc.
MAC = 17.0  # nibble-product MAC incl. the shared fetch of its weight pair (measured slope: 16.9-17.0;
# the dense kernel of inference.s measured 17.7)
ZERO = 11  # zero patch input skipped (counted: lda abs,x / bne / dex / bne; dense: ~14)
NONZERO = 26  # per non-zero patch input: page pointers, loop (counted; the measured intercepts agree)
GATHER = 15  # per patch byte: copy 11 (lda (zp),y / sta / iny) + sum 4 (counted; measured ~15-17)
POSITION = 125  # per live position: calls, -8*sum, loop, pointers (measured intercept 568 - 9*(26 + 15))
INIT = 22  # per output and live position: accumulator = bias - 8*sum (fused init and correction, counted)
FINISH = 44  # per output, no pooling: requantize and store (measured slope 219 - 22 - 9 MACs)
POOL_STEP = 18  # per output and live position of a cell: copy (12) or signed running max (18-29), counted
POOL_FINISH = 50  # per pooled output: requantize and store (counted, shift 6: 45 + 7 per shift step)
CELL = 300  # per pooled cell: row pointers, 4 sub-position calls, advance (counted)
BLANK_POSITION = 60  # an all-zero patch: GATHER * patch + this (measured: 255 at Cin 1 incl. its cell share)
BLANK_CELL = 15  # per output of a cell (or unpooled position) that stores requantize(bias) (measured slope 15.5)
DENSE_MAC, DENSE_ZERO, DENSE_NONZERO = 17.7, 14, 43  # inference.s's dense kernel (measured / counted)
DENSE_INIT, DENSE_FINISH = 12, 60  # per output: bias init, correction + requantize + store (README ~60)
# --- TAPS kernel ---------------------------------------------------------------------------------
TAP_ZERO, TAP_NONZERO = 7, 14  # ldy in,x / beq (taken) | + adc (wp),y / bcc
TAP_POSITION = 25  # per position and channel: init from the bias, loop, pointers amortised
TAP_POOL_FINISH = 45  # per pooled output (counted, not built yet)
# --- measured sparsity on the default inputs (docs/cnn_plan_measure.py, 10,000 test digits) ----
INPUT_NONZERO = 43.9 / 196
FIRST = {"same": (92.3, 4.28, 145), "valid": (89.3, 4.36, 135)}
"""First conv: positions with a non-zero 3x3 patch (mean), non-zero taps per such position, and
the positions of the worst test digit."""
FIRST_OUT = {False: 0.30, True: 0.45}
"""Non-zero share of the first conv's 4-bit outputs (unpooled, pooled): measured 0.275 / 0.427
(float model of 3 epochs, convolutions without bias, so the blank background stays 0; with
biases the pooled map is 0.57)."""
LATER_OUT = {False: 0.55, True: 0.85}  # second conv: measured 0.52-0.55 / 0.84
DENSE_OUT = 0.6  # dense hidden layers: measured 0.48-0.76
BLANK_SHARE_AFTER_FIRST = 0.69  # positions of the first conv's map with a non-zero 3x3 patch (no bias)

# --- PRG and RAM (bytes) -------------------------------------------------------------------------
PRG = 32768 - 6  # minus the vectors
FIXED = 512 + 4096 + 400  # init/nmi/main (plan.FIXED_PRG), the UI reserve (budget.UI_PRG), canvas packing
NIBBLE_PAGES = 15  # nibble product tables for inputs 1..15 (input.max 8, 4-bit activations), 512 B each
TAP_TABLE = 256  # T[w'][a] for the TAPS kernel
SYSTEM_BSS = 96 + 6 + 27  # budget.SYSTEM_BSS
PACKED_CANVAS_BSS = 196 + 121  # 28*28/4 cells + prep.s variables
RAM_FREE = 1280 - (SYSTEM_BSS + PACKED_CANVAS_BSS + 196 + 20 + 1) + 192  # + the stack page's 192
ZP_ACC = 192  # zero page for accumulators and running maxima (plan.ZP_ACC_BUDGET)


@dataclass(frozen=True)
class Layer:
    kind: str  # conv, dw (depthwise 3x3, TAPS), pool, dense
    n: int = 0  # output channels / units (dw: as many as its input)
    padding: str = "same"


@dataclass
class Row:
    name: str
    shape: str
    macs: int
    cycles: float
    worst: float
    weights: int  # weight + bias bytes
    code: int
    ram: int  # buffers this layer needs beyond its input


def patch_conv(h, w, c, cout, padding, pooled, first, nonzero):
    oh, ow = (h, w) if padding == "same" else (h - 2, w - 2)
    positions = oh * ow
    patch = 9 * c
    out = (INIT + POOL_STEP) * cout if pooled else (INIT + FINISH) * cout
    cells = positions / 4 if pooled else 0
    blank = GATHER * patch + BLANK_POSITION + (0 if pooled else BLANK_CELL * cout)
    if first:
        computed, taps, worst_positions = FIRST[padding]
        per = POSITION + GATHER * patch + (patch - taps) * ZERO + taps * (NONZERO + cout * MAC) + out
        cycles = computed * per + (positions - computed) * blank + (
            cells * (CELL + cout * (0.6 * POOL_FINISH + 0.4 * BLANK_CELL)) if pooled else 0)
        worst = cycles + (worst_positions - computed) * (per - blank)
    else:
        inside = ((3 * oh - 2) / (3 * oh)) ** 2 if padding == "same" else 1.0  # taps on the zero border
        nnz = patch * nonzero * inside
        per = POSITION + GATHER * patch + (patch - nnz) * ZERO + nnz * (NONZERO + cout * MAC) + out
        cycles = positions * per + cells * (CELL + cout * POOL_FINISH)
        worst = cycles * 1.3  # a denser digit: hidden maps +30 % non-zero (the MLP's worst/mean was 1.6)
    # measured (conv_bench's link, step 1): unrolled gather + sum 9 a patch byte, per output 66 (MACs,
    # init, copy, max), ~400 loops and requantize: 972 / 1,496 / 3,315 / 3,839 B for c8 / c16 / c16->24 / ->32
    code = 9 * patch + 66 * cout + 400
    weights = patch * -(-cout // 2) + 2 * cout
    ph, pw = (oh // 2, ow // 2) if pooled else (oh, ow)
    return (ph, pw, cout), positions * patch * cout, cycles, worst, weights, code, patch


def taps_conv(h, w, c, padding, pooled, first, cout):
    """TAPS: channel by channel; `first`: a 1-channel input fanned out to cout channels."""
    oh, ow = (h, w) if padding == "same" else (h - 2, w - 2)
    positions = oh * ow
    channels = cout if first else c
    if first:
        computed, taps, _ = FIRST[padding]
    else:
        computed, taps = positions * BLANK_SHARE_AFTER_FIRST, 9 * FIRST_OUT[False]
    out = 20 + TAP_POOL_FINISH / 4 if pooled else TAP_POOL_FINISH
    per = TAP_POSITION + (9 - taps) * TAP_ZERO + taps * TAP_NONZERO + out
    cycles = channels * (computed * per + (positions - computed) * 10)
    ph, pw = (oh // 2, ow // 2) if pooled else (oh, ow)
    weights = 9 * channels // 2 + 2 * channels
    # RAM: one channel's output map at a time (the chain runs channel by channel, as BitNetMCU's)
    return (ph, pw, channels), positions * 9 * channels, cycles, cycles * 1.2, weights, 350, ph * pw


def dense(n_in, n_out, nonzero):
    tiles = -(-n_out // (ZP_ACC // 2))
    nnz = n_in * nonzero
    cycles = (tiles * (n_in - nnz) * DENSE_ZERO + nnz * (tiles * DENSE_NONZERO + n_out * DENSE_MAC)
              + n_out * (DENSE_INIT + DENSE_FINISH))
    chunks = -(-n_in // 256)
    code = 20 + tiles * (170 + chunks * 50) + chunks * n_out * 13
    return cycles, n_in * -(-n_out // 2) + 2 * n_out, code


def model(layers: list[Layer], side: int = 14, first_out: float | None = None) -> tuple[list[Row], dict]:
    """Rows per layer and totals. `first_out`: another non-zero share for the first conv's pooled map."""
    h, w, c = side, side, 1
    rows: list[Row] = []
    nonzero = INPUT_NONZERO
    convs = 0
    ram = 0
    patch_buffer = 0
    i = 0
    while i < len(layers):
        layer = layers[i]
        pooled = i + 1 < len(layers) and layers[i + 1].kind == "pool"
        if layer.kind in ("conv", "dw"):
            if layer.kind == "dw" or (layer.kind == "conv" and layers[-1].kind == "dense" and
                                      any(x.kind == "dw" for x in layers) and convs == 0):
                shape, macs, cyc, worst, wb, code, buf = taps_conv(h, w, c, layer.padding, pooled, convs == 0, layer.n)
                # channel-sequential: one channel's map at a time, 4 bytes a channel kept for the dense layers
                last = not any(x.kind in ("conv", "dw") for x in layers[i + 1:])
                ram += shape[0] * shape[1] * shape[2] if last else buf  # the chain's output: every channel's
            else:
                shape, macs, cyc, worst, wb, code, buf = patch_conv(h, w, c, layer.n, layer.padding, pooled,
                                                                    convs == 0, nonzero)
                patch_buffer = max(patch_buffer, buf)
                # a conv's output: a ring of 3 (pooled) rows when a conv reads it, else whole (the dense input)
                feeds_conv = any(x.kind in ("conv", "dw") for x in layers[i + 1:])
                ram += 3 * shape[1] * shape[2] if feeds_conv else shape[0] * shape[1] * shape[2]
            first = convs == 0
            nonzero = (FIRST_OUT if first else LATER_OUT)[pooled]
            if first and pooled and first_out is not None:
                nonzero = first_out
            kind = layer.kind + (str(shape[2]) if layer.kind == "conv" else "")
            name = f"{kind}{layer.padding[0]}" + ("+pool" if pooled else "")
            rows.append(Row(name, f"{h}x{w}x{c}->{'x'.join(map(str, shape))}", macs, cyc, worst, wb, code, buf))
            h, w, c = shape
            convs += 1
            i += 2 if pooled else 1
            continue
        n_in, n_out = h * w * c, layer.n
        cyc, wb, code = dense(n_in, n_out, nonzero)
        rows.append(Row(f"dense{n_out}", f"{n_in}->{n_out}", n_in * n_out, cyc, cyc * 1.2, wb, code, n_out))
        h, w, c = 1, 1, n_out
        nonzero = DENSE_OUT
        i += 1
    n_in = h * w * c
    cyc, wb, code = dense(n_in, 10, nonzero)
    rows.append(Row("dense10", f"{n_in}->10", n_in * 10, cyc, cyc * 1.2, wb, code, 20))
    tables = NIBBLE_PAGES * 512 + TAP_TABLE * any(x.kind == "dw" for x in layers)
    total = {
        "macs": sum(r.macs for r in rows),
        "frames": sum(r.cycles for r in rows) * NMI / FRAME,
        "worst": sum(r.worst for r in rows) * NMI / FRAME,
        "weights": sum(r.weights for r in rows),
        "code": sum(r.code for r in rows) + 600,  # + argmax, glue
        "ram": ram + patch_buffer + sum(r.ram for r in rows if r.name.startswith("dense")),
    }
    total["prg"] = FIXED + tables + total["weights"] + total["code"]
    return rows, total


def C(n: int, padding: str = "same") -> Layer:
    return Layer("conv", n, padding)


def D(n: int) -> Layer:
    return Layer("dense", n)


def DW(padding: str = "valid") -> Layer:
    return Layer("dw", 0, padding)


P = Layer("pool")

CANDIDATES: dict[str, list[Layer]] = {
    "1 c8v-p-c16v-p-d32": [C(8, "valid"), P, C(16, "valid"), P, D(32)],
    "2 c8v-p-c16s-p-d32": [C(8, "valid"), P, C(16), P, D(32)],
    "3 c16s-p-d32": [C(16), P, D(32)],
    "4 c16v-p-c24v-p-d32": [C(16, "valid"), P, C(24, "valid"), P, D(32)],
    "5 c16v-p-c32v-p-d32": [C(16, "valid"), P, C(32, "valid"), P, D(32)],
    "6 c16v-p-c32s-p-d32": [C(16, "valid"), P, C(32), P, D(32)],
    "7 c24v-p-c48v-p-d64": [C(24, "valid"), P, C(48, "valid"), P, D(64)],
    "8 c16v-p-c32s-p-d64": [C(16, "valid"), P, C(32), P, D(64)],
    "9 dw32 c32s-dwv-p-dwv-p-d64-d64": [C(32), DW(), P, DW(), P, D(64), D(64)],
    "10 dw64 c64s-dwv-p-dwv-p-d96-d64": [C(64), DW(), P, DW(), P, D(96), D(64)],
}


# The shapes of the float front (docs/cnn-plan.md section 8, docs/float_front.py) that this model can
# cost: pools and 'valid' or 'same' convs (no strides: cnn-s16-s64 is measured instead).
FRONT: dict[str, list[Layer]] = {
    "c32,p,D,p,d96,d64": [C(32, "valid"), P, DW(), P, D(96), D(64)],
    "c16,p,c32,p,d32": [C(16, "valid"), P, C(32, "valid"), P, D(32)],
    "c8,p,c64,p,d64": [C(8, "valid"), P, C(64, "valid"), P, D(64)],
    "c64,p,D,p,d96,d64": [C(64, "valid"), P, DW(), P, D(96), D(64)],
    "c16,p,c64,p,d64": [C(16, "valid"), P, C(64, "valid"), P, D(64)],
    "c16,p,c64,p,d128": [C(16, "valid"), P, C(64, "valid"), P, D(128)],
    "C16,p,C32,p,d64": [C(16), P, C(32), P, D(64)],
    "c32,p,c64,p,d128": [C(32, "valid"), P, C(64, "valid"), P, D(128)],
    "C32,p,C64,p,d128": [C(32), P, C(64), P, D(128)],
}


def main() -> None:
    if "--front" in sys.argv[1:]:
        print("| layers (docs/float_front.py) | MACs | frames mean (worst) | PRG B (free) | RAM B (free) |")
        print("|---|---:|---:|---:|---:|")
        for name, layers in FRONT.items():
            _, t = model(layers)
            print(f"| {name} | {t['macs']:,} | {t['frames']:.1f} ({t['worst']:.0f}) | "
                  f"{t['prg']:,} ({PRG - t['prg']:,}) | {t['ram']:,} ({RAM_FREE - t['ram']:,}) |")
        return
    print("| candidate | MACs | frames mean (worst) | if conv1 map 30 % non-zero | weight B | PRG B (free) | "
          "RAM B (free) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    details = []
    for name, layers in CANDIDATES.items():
        rows, t = model(layers)
        _, sparse = model(layers, first_out=0.30)
        print(f"| {name} | {t['macs']:,} | {t['frames']:.1f} ({t['worst']:.0f}) | {sparse['frames']:.1f} | "
              f"{t['weights']:,} | {t['prg']:,} ({PRG - t['prg']:,}) | {t['ram']:,} ({RAM_FREE - t['ram']:,}) |")
        details.append((name, rows))
    print()
    for name, rows in details:
        print(f"- {name}: " + "; ".join(
            f"{r.name} {r.shape} {r.macs:,} MACs {r.cycles * NMI / FRAME:.1f} fr" for r in rows))
    print(f"\nRAM for the network's buffers with a packed canvas: {RAM_FREE} bytes (BSS + the stack page's 192); "
          f"PRG fixed {FIXED}, nibble tables {NIBBLE_PAGES * 512}")


if __name__ == "__main__":
    main()
