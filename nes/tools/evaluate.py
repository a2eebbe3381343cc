"""Run every test image on the emulated console and compare with the golden model.

    python -m nes.tools.evaluate ROM EXPORT_DIR INPUTS_NPZ OUT_JSON [--limit N]

Compares all ten scores and the digit bit-exactly with the golden model (intnet.layers: the
dense layers of intnet/golden.py, and convolutions), measures each
inference's cycles (main.s: vblank count + calibrated idle spin), and writes OUT_JSON with
accuracy, mismatches, cycles/frames (mean, worst) and the ROM budget. Exits 1 on any mismatch.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import numpy as np

from common.fsutil import write_json
from intnet import layers
from nes.tools.console import NTSC_CYCLES_PER_FRAME, Console
from nes.tools.mapfile import budget

TIMING_METHOD = (
    "NMI frame counter during the inference plus main.s's idle spin (11 cycles per iteration) "
    "counted after it, against the spin of an idle frame: cycles = frames*29780.5 + "
    "(spin_idle - spin_end)*11; wall-clock, NMI handlers included, +-11 cycles"
)


def evaluate(rom: Path, export_dir: Path, inputs: Path, limit: int | None = None, progress: bool = True) -> dict:
    from tqdm import tqdm

    network = layers.load(Path(export_dir))  # format 1 or 2
    with np.load(inputs) as data:
        x, y = data["x_test"], data["y_test"]
    if limit:
        x, y = x[:limit], y[:limit]
    console = Console(Path(rom))
    mismatches, digits, cycles, frames = [], [], [], []
    batch = 1000
    for start in tqdm(range(0, len(x), batch), desc="console", unit_scale=batch, disable=not progress):
        part = x[start : start + batch]
        trace = layers.run(network.layers, part.reshape(len(part), *network.input_shape))
        for k in range(len(trace.digits)):
            result = console.infer(x[start + k])
            digits.append(result.digit)
            cycles.append(result.cycles)
            frames.append(result.frames)
            if result.digit != trace.digits[k] or not np.array_equal(result.scores, trace.scores[k]):
                mismatches.append(
                    {
                        "image": start + k,
                        "console": result.scores.tolist(),
                        "golden": trace.scores[k].tolist(),
                        "console_digit": result.digit,
                        "golden_digit": int(trace.digits[k]),
                    }
                )
    digits = np.array(digits)
    cycles = np.array(cycles)
    return {
        "images": len(x),
        "accuracy": float(np.mean(digits == y)),
        "golden_accuracy": float(np.mean(layers.predict(network, x) == y)),
        "mismatches": len(mismatches),
        "predictions": [int(d) for d in digits],
        "first_mismatches": mismatches[:10],
        "inference": {
            "cycles_mean": float(cycles.mean()),
            "cycles_max": float(cycles.max()),
            "frames_mean": float(cycles.mean() / NTSC_CYCLES_PER_FRAME),
            "frames_max": float(cycles.max() / NTSC_CYCLES_PER_FRAME),
            "vblanks_max": int(max(frames)),
            "method": TIMING_METHOD,
        },
        "rom": budget(Path(rom).with_suffix(".map")),
        "rom_sha256": hashlib.sha256(Path(rom).read_bytes()).hexdigest(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rom", type=Path)
    parser.add_argument("export_dir", type=Path)
    parser.add_argument("inputs", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--limit", type=int, default=None, help="only the first N test images")
    args = parser.parse_args(argv)
    report = evaluate(args.rom, args.export_dir, args.inputs, args.limit)
    write_json(args.out, report)
    inf = report["inference"]
    print(
        f"console: {report['images']} images, accuracy {report['accuracy']:.4f} "
        f"(golden {report['golden_accuracy']:.4f}), {report['mismatches']} mismatches; "
        f"inference {inf['cycles_mean']:.0f} cycles mean ({inf['frames_mean']:.2f} frames), "
        f"worst {inf['cycles_max']:.0f} ({inf['frames_max']:.2f} frames)"
    )
    if report["mismatches"]:
        print(f"error: {report['mismatches']} images differ from the golden model", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
