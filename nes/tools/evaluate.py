"""Run every test image on the emulated console and compare with the golden model.

    python -m nes.tools.evaluate ROM EXPORT_DIR INPUTS_NPZ OUT_JSON [--limit N] [--jobs N]

Compares all ten scores and the digit bit-exactly with the golden model (intnet.layers: the
dense layers of intnet/golden.py, and convolutions), measures each
inference's cycles (main.s: vblank count + calibrated idle spin) and, on a sample, each
layer's, and writes OUT_JSON with accuracy, mismatches, cycles/frames (mean, worst, per layer)
and the ROM budget. The images run in parallel emulator processes (--jobs; 0: one per core).
Exits 1 on any mismatch.
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing
import os
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import numpy as np

from common.fsutil import write_json
from intnet import golden, layers
from nes.tools.console import NTSC_CYCLES_PER_FRAME, Console
from nes.tools.mapfile import budget

TIMING_METHOD = (
    "NMI frame counter during the inference plus main.s's idle spin (11 cycles per iteration) "
    "counted after it, against the spin of an idle frame: cycles = frames*29780.5 + "
    "(spin_idle - spin_end)*11; wall-clock, NMI handlers included, +-11 cycles"
)


LAYER_SAMPLE = 100  # the first N test digits are also timed layer by layer (Console.layer_cycles)
CHUNK = 500  # test digits per emulator job


def golden_trace(network: layers.Network, x: np.ndarray, batch: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """The golden model's scores (N, 10) and digits (N,), a batch at a time."""
    scores, digits = [], []
    for start in range(0, len(x), batch):
        part = x[start : start + batch]
        trace = layers.run(network.layers, part.reshape(len(part), *network.input_shape))
        scores.append(trace.scores)
        digits.append(trace.digits)
    return np.concatenate(scores), np.concatenate(digits)


def run_chunk(rom: Path, start: int, x: np.ndarray, scores: np.ndarray, digits: np.ndarray) -> dict[str, Any]:
    """One emulator process's share: every image of `x` on a fresh console, compared with the
    golden `scores`/`digits`; images are numbered from `start`."""
    console = Console(rom)
    out: dict[str, Any] = {"start": start, "digits": [], "cycles": [], "frames": [], "mismatches": []}
    for k in range(len(x)):
        result = console.infer(x[k])
        out["digits"].append(result.digit)
        out["cycles"].append(result.cycles)
        out["frames"].append(result.frames)
        if result.digit != digits[k] or not np.array_equal(result.scores, scores[k]):
            out["mismatches"].append(
                {
                    "image": start + k,
                    "console": result.scores.tolist(),
                    "golden": scores[k].tolist(),
                    "console_digit": result.digit,
                    "golden_digit": int(digits[k]),
                }
            )
    return out


def layer_timing(rom: Path, samples: np.ndarray, network: layers.Network) -> dict[str, Any]:
    """Mean cycles per weighted layer over `samples` (runs cut before each layer, differenced)."""
    stack = network.layers
    names = []
    for position, layer in enumerate(stack):
        if isinstance(layer, layers.ConvLayer):
            pooled = position + 1 < len(stack) and isinstance(stack[position + 1], layers.MaxPool)
            shape = layer.weights.shape
            stride = f" stride {layer.stride}" if layer.stride != 1 else ""
            names.append(f"conv {shape[2]}->{shape[3]} {layer.padding}{stride}" + (" + pool" if pooled else ""))
        elif isinstance(layer, golden.IntLayer):
            names.append(f"dense {layer.weights.shape[0]}->{layer.weights.shape[1]}")
    cuts = Console(rom).layer_cycles(samples, len(names))
    return {
        "images": len(samples),
        "request_overhead_cycles": cuts[0],
        "layers": [
            {"layer": i, "what": name, "cycles_mean": cycles, "frames_mean": cycles / NTSC_CYCLES_PER_FRAME}
            for i, (name, cycles) in enumerate(zip(names, cuts[1:], strict=True))
        ],
        "method": "nn_stop: runs cut before each weighted layer, differenced; the last layer includes the argmax",
    }


def evaluate(
    rom: Path, export_dir: Path, inputs: Path, limit: int | None = None, progress: bool = True, jobs: int = 0
) -> dict:
    """Every test image on the console (in `jobs` emulator processes; 0: one per CPU core),
    compared bit for bit with the golden model, plus per-layer timing on a sample."""
    from tqdm import tqdm

    network = layers.load(Path(export_dir))  # format 1 or 2
    with np.load(inputs) as data:
        x, y = data["x_test"], data["y_test"]
    if limit:
        x, y = x[:limit], y[:limit]
    scores, expected = golden_trace(network, x)
    jobs = jobs or os.cpu_count() or 1
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: no state shared with ours
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        futures = [
            pool.submit(run_chunk, Path(rom), s, x[s : s + CHUNK], scores[s : s + CHUNK], expected[s : s + CHUNK])
            for s in range(0, len(x), CHUNK)
        ]
        timing = pool.submit(layer_timing, Path(rom), x[:LAYER_SAMPLE], network)
        done = tqdm(as_completed(futures), total=len(futures), desc="console", unit="chunk", disable=not progress)
        chunks = [future.result() for future in done]
        per_layer = timing.result()
    chunks.sort(key=lambda chunk: chunk["start"])
    digits = np.array([d for chunk in chunks for d in chunk["digits"]])
    cycles = np.array([c for chunk in chunks for c in chunk["cycles"]])
    frames = [f for chunk in chunks for f in chunk["frames"]]
    mismatches = [m for chunk in chunks for m in chunk["mismatches"]]
    return {
        "images": len(x),
        "accuracy": float(np.mean(digits == y)),
        "golden_accuracy": float(np.mean(expected == y)),
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
            "per_layer": per_layer,
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
    parser.add_argument("--jobs", type=int, default=0, help="emulator processes (0: one per CPU core)")
    args = parser.parse_args(argv)
    report = evaluate(args.rom, args.export_dir, args.inputs, args.limit, jobs=args.jobs)
    write_json(args.out, report)
    inf = report["inference"]
    print(
        f"console: {report['images']} images, accuracy {report['accuracy']:.4f} "
        f"(golden {report['golden_accuracy']:.4f}), {report['mismatches']} mismatches; "
        f"inference {inf['cycles_mean']:.0f} cycles mean ({inf['frames_mean']:.2f} frames), "
        f"worst {inf['cycles_max']:.0f} ({inf['frames_max']:.2f} frames); per layer: "
        + ", ".join(f"{layer['what']} {layer['frames_mean']:.2f}" for layer in inf["per_layer"]["layers"])
    )
    if report["mismatches"]:
        print(f"error: {report['mismatches']} images differ from the golden model", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
