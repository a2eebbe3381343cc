"""Measure `prep_run` (canvas -> nn_input) in cynes, the way nes/README.md "Timing" describes.

    python -m nes.tools.prep_timing ROM [--count 1000] [--levels 3] [--build-dir build]  (after `doit dataset`)

From the booted state: write the canvas (nes/tools/canvas.py) and raise `ui_go` (what Start
does) just before frame F0; main starts the classification at the point of F0 where a raw
request would start, runs `prep_run`, stores `nmi_count` in `frame_start` and runs `nn_run`, so
`(frame_start - F0) * 29780.5 + nn_run's own timing` is `prep_run` plus `nn_run`. The raw request
of the same `nn_input` (still there after the run) measures `nn_run` alone; the difference is
`prep_run`, NMIs included like every cycle count of the console. Prints the mean, the range and
the full canvas (the slowest input).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from nes.tools import canvas
from nes.tools.console import NTSC_CYCLES_PER_FRAME, Console
from nes.tools.screen import CANVAS_SIDE


def prep_cycles(console: Console, cells: np.ndarray) -> float:
    """Cycles of one `prep_run` on the (28, 28) levels `cells`, from the booted state."""
    nes = console.nes
    sym = console.symbols.address
    nes.load(console.ready_state)
    canvas.write(console, cells)
    first = (nes[sym("nmi_count")] + 1) & 0xFF  # F0: the next NMI starts the frame main classifies in
    nes[sym("ui_go")] = 1
    console.wait_done()
    whole = ((nes[sym("frame_start")] - first) & 0xFF) * NTSC_CYCLES_PER_FRAME + console.read_result().cycles
    inputs = console.peek(console.addr["nn_input"], console.input_count)
    return whole - console.infer(inputs).cycles


def canvases(count: int, levels: int, build_dir: Path) -> list[np.ndarray]:
    """The first `count` MNIST test digits (the dataset cache) as canvases of `levels` grey levels."""
    from common.mnist import cached_test_images
    from intnet.prep import to_levels

    images = cached_test_images(build_dir)[:count]
    return list(to_levels(images, levels))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rom", type=Path)
    parser.add_argument("--count", type=int, default=1000, help="MNIST test digits (default 1000)")
    parser.add_argument("--levels", type=int, default=3, help="the ROM's grey levels (default 3)")
    parser.add_argument("--build-dir", type=Path, default=Path("build"), help="its MNIST cache (`doit dataset`)")
    args = parser.parse_args(argv)
    console = Console(args.rom)
    cycles = np.array([prep_cycles(console, cells) for cells in canvases(args.count, args.levels, args.build_dir)])
    full = prep_cycles(console, np.full((CANVAS_SIDE, CANVAS_SIDE), args.levels - 1))
    frame = NTSC_CYCLES_PER_FRAME
    print(
        f"prep_run on {len(cycles)} MNIST test digits: mean {cycles.mean():,.0f} cycles ({cycles.mean() / frame:.2f} "
        f"frames), {cycles.min():,.0f}-{cycles.max():,.0f} ({cycles.min() / frame:.2f}-{cycles.max() / frame:.2f}); "
        f"full canvas {full:,.0f} ({full / frame:.2f} frames)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
