"""The "drawn" evaluation: the integer network on test digits changed the way people draw.

A digit drawn on the console's canvas differs from MNIST's scanned, centred digits: it is
off-centre, smaller or larger, with thinner or thicker strokes. Each variant below changes
every MNIST test digit (28x28, 0..255) in one of those ways, seeded by `drawn.seed`; the
config's preprocessing and the golden model (which the console matches bit for bit) then
give the accuracy a person drawing that way would see:

- `offset`: moved by a random whole-pixel (dy, dx), each in -offset..offset, but never off
  the canvas: the shift of each digit is limited so that all of its ink stays on the field;
- `small` / `large`: scaled by `drawn.small` / `drawn.large` about the digit's own centre of
  mass (so size is changed alone, not position; MNIST centred that point on the field
  anyway). Ink scaled past the edge of the field is lost;
- `thin` / `thick`: strokes eroded by `drawn.thin` / dilated by `drawn.thick` pixels;
- `mixed`: each digit a random combination: a stroke change in -thin..thick, a size in
  small..large, then a random offset as in `offset` (limited to the field).

The geometry is `training.augment`'s `affine` and `stroke`; whole-pixel moves use
`training.preprocess.translate`. The same seed gives the same images; each variant draws
from its own random stream, so changing one setting leaves the other variants as they were.

`python -m training.drawn CONFIG [EXPORT_DIR]` prints the table for an existing build; the
doit task `drawn` writes it as `build/<name>/drawn.json` (with a few examples beside it).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from training.augment import CENTRE, affine, stroke
from training.config import MNIST_SIZE, NUM_CLASSES, Config, DrawnConfig, PreprocessConfig
from training.preprocess import preprocess, translate

VARIANTS = ("offset", "small", "large", "thin", "thick", "mixed")
DRAWN_FILE = "drawn.json"
EXAMPLES_FILE = "drawn_examples.npz"
PLAIN = "plain"


class DrawnError(Exception):
    """The drawn evaluation cannot run on this build; the message says why."""


@dataclass(frozen=True)
class Change:
    """What one variant does to each image: all arrays have one entry per image."""

    stroke: np.ndarray  # pixels of dilation (> 0) or erosion (< 0)
    scale: np.ndarray  # size factor about the digit's centre of mass
    dy: np.ndarray  # wanted whole-pixel move down (limited to the field when applied)
    dx: np.ndarray  # wanted whole-pixel move right

    def take(self, index: np.ndarray) -> Change:
        return Change(self.stroke[index], self.scale[index], self.dy[index], self.dx[index])


def describe(variant: str, drawn: DrawnConfig) -> str:
    """One line saying what a variant does, for tables."""
    return {
        "offset": f"moved up to {drawn.offset} px each way, kept on the field",
        "small": f"scaled by {drawn.small:g} about the centre of mass",
        "large": f"scaled by {drawn.large:g} about the centre of mass, clipped to the field",
        "thin": f"strokes eroded by {drawn.thin} px",
        "thick": f"strokes dilated by {drawn.thick} px",
        "mixed": (
            f"random: stroke {-drawn.thin:+d}..{drawn.thick:+d} px, size {drawn.small:g}..{drawn.large:g}, "
            f"moved up to {drawn.offset} px"
        ),
    }[variant]


def _stream(drawn: DrawnConfig, variant: str) -> np.random.Generator:
    """The variant's own random stream, from the seed and the variant's place in VARIANTS."""
    return np.random.default_rng([drawn.seed, VARIANTS.index(variant)])


def change_for(variant: str, drawn: DrawnConfig, count: int) -> Change:
    """The per-image parameters of `variant` for `count` images (seeded by `drawn.seed`)."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; one of {', '.join(VARIANTS)}")
    rng = _stream(drawn, variant)
    zeros = np.zeros(count, dtype=np.int64)
    ones = np.ones(count, dtype=np.float64)
    if variant == "offset":
        dy, dx = (rng.integers(-drawn.offset, drawn.offset + 1, size=count) for _ in range(2))
        return Change(zeros, ones, dy, dx)
    if variant in ("small", "large"):
        return Change(zeros, ones * getattr(drawn, variant), zeros, zeros)
    if variant in ("thin", "thick"):
        pixels = -drawn.thin if variant == "thin" else drawn.thick
        return Change(zeros + pixels, ones, zeros, zeros)
    strokes = rng.integers(-drawn.thin, drawn.thick + 1, size=count)
    scale = rng.uniform(drawn.small, drawn.large, size=count)
    dy, dx = (rng.integers(-drawn.offset, drawn.offset + 1, size=count) for _ in range(2))
    return Change(strokes, scale, dy, dx)


def ink_box(images: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per image, the first and last row and column holding ink (any non-zero pixel):
    (top, bottom, left, right). A blank image gives the whole field."""
    last = MNIST_SIZE - 1
    rows = images.any(axis=2)
    cols = images.any(axis=1)
    blank = ~rows.any(axis=1)
    top = np.where(blank, 0, rows.argmax(axis=1))
    bottom = np.where(blank, last, last - rows[:, ::-1].argmax(axis=1))
    left = np.where(blank, 0, cols.argmax(axis=1))
    right = np.where(blank, last, last - cols[:, ::-1].argmax(axis=1))
    return top, bottom, left, right


def fit_shifts(images: np.ndarray, dy: np.ndarray, dx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The wanted moves limited so that each digit's ink stays on the 28x28 field."""
    top, bottom, left, right = ink_box(images)
    last = MNIST_SIZE - 1
    return np.clip(dy, -top, last - bottom), np.clip(dx, -left, last - right)


def centre_of_mass(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per image, the mass-weighted mean row and column (the field middle for a blank image)."""
    wide = images.astype(np.float64)
    mass = wide.sum(axis=(1, 2))
    safe = np.where(mass > 0, mass, 1.0)
    index = np.arange(MNIST_SIZE, dtype=np.float64)
    row = np.where(mass > 0, (wide.sum(axis=2) @ index) / safe, CENTRE)
    col = np.where(mass > 0, (wide.sum(axis=1) @ index) / safe, CENTRE)
    return row, col


def rescale(images: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Each image scaled by its factor about its own centre of mass (bilinear, clipped to the field).

    `affine` scales about the field middle m; moving by (1 - s) * (c - m) afterwards makes the
    centre of mass c the fixed point instead: s * (p - m) + m + (1 - s) * (c - m) = s * (p - c) + c."""
    if np.all(scale == 1.0):
        return images.copy()
    row, col = centre_of_mass(images)
    dy = (1.0 - scale) * (row - CENTRE)
    dx = (1.0 - scale) * (col - CENTRE)
    return affine(images, np.zeros(len(images)), scale, dy, dx)


def apply(images: np.ndarray, change: Change) -> np.ndarray:
    """Stroke change, then size about the centre of mass, then the move limited to the field."""
    changed = stroke(images, change.stroke)
    changed = rescale(changed, change.scale)
    dy, dx = fit_shifts(changed, change.dy, change.dx)
    return translate(changed, dy, dx)


def variant_images(images: np.ndarray, variant: str, drawn: DrawnConfig) -> np.ndarray:
    """The test digits as `variant` changes them."""
    return apply(images, change_for(variant, drawn, len(images)))


def accuracy(predicted: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean(predicted == labels)) if len(labels) else 0.0


def example_indices(labels: np.ndarray) -> np.ndarray:
    """The first test digit of each class present: one row of examples reads 0 to 9."""
    firsts = [np.flatnonzero(labels == digit)[:1] for digit in range(NUM_CLASSES)]
    return np.concatenate(firsts).astype(np.int64)


def check_preprocess(manifest: dict[str, Any], cfg: PreprocessConfig) -> None:
    """Fail if the exported network was trained on other preprocessing than `cfg` says."""
    trained = manifest.get("input", {})
    expected = {key: getattr(cfg, key) for key in ("size", "levels", "resize", "deskew", "center")}
    expected["window"] = cfg.window_side
    differ = [key for key, value in expected.items() if trained.get(key) != value]
    if differ:
        details = ", ".join(f"{key} {trained.get(key)!r} vs {expected[key]!r}" for key in differ)
        raise DrawnError(f"the exported network was trained with other preprocessing than the config ({details})")


def evaluate(
    images: np.ndarray, labels: np.ndarray, cfg: Config, export_dir: Path
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Accuracy of the golden model on the plain and each changed test set, and examples:
    the result for drawn.json, and arrays (raw digits and predictions per row) for the report."""
    from export import golden

    check_preprocess(json.loads((export_dir / golden.MANIFEST_FILE).read_text()), cfg.preprocess)
    network = golden.load(export_dir)
    shown = example_indices(labels)
    rows, predictions = [], []
    result: dict[str, Any] = {"seed": cfg.drawn.seed, "images": len(labels), "variants": {}}
    for name in (PLAIN, *VARIANTS):
        changed = images if name == PLAIN else variant_images(images, name, cfg.drawn)
        predicted = golden.predict(network, preprocess(changed, cfg.preprocess))
        entry = {"accuracy": accuracy(predicted, labels), "images": len(labels)}
        if name == PLAIN:
            result[PLAIN] = entry
        else:
            result["variants"][name] = {**entry, "change": describe(name, cfg.drawn)}
        rows.append(changed[shown])
        predictions.append(predicted[shown])
    examples = {
        "rows": np.array((PLAIN, *VARIANTS)),
        "images": np.stack(rows),
        "predicted": np.stack(predictions),
        "labels": labels[shown],
        "index": shown,
    }
    return result, examples


def load_test_digits(cache: Path, cfg: Config) -> tuple[np.ndarray, np.ndarray]:
    """The raw test digits and labels the build uses (the first `data.test_limit`)."""
    from training.dataset import load_cache

    mnist = load_cache(cache)
    return mnist.x_test[: cfg.data.test_limit], mnist.y_test[: cfg.data.test_limit]


def write(cfg: Config, cache: Path, export_dir: Path, target: Path, examples_target: Path) -> dict[str, Any]:
    """The doit task: evaluate and write drawn.json and the examples, atomically."""
    from training.fsutil import atomic_path, write_json

    images, labels = load_test_digits(cache, cfg)
    result, examples = evaluate(images, labels, cfg, export_dir)
    with atomic_path(examples_target) as tmp:
        np.savez_compressed(tmp, **examples)
    write_json(target, result)
    return result


def table(result: dict[str, Any]) -> str:
    """The per-variant accuracies as aligned text, each with its difference to plain."""
    plain = result[PLAIN]["accuracy"]
    lines = [f"drawn evaluation (golden model = console), {result['images']} test digits, seed {result['seed']}:"]
    lines.append(f"  {'plain':7s} {plain:7.2%}")
    for name, entry in result["variants"].items():
        delta = (entry["accuracy"] - plain) * 100
        lines.append(f"  {name:7s} {entry['accuracy']:7.2%}  ({delta:+.2f} points)  {entry['change']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from training import config as config_module
    from training.layout import Layout

    parser = argparse.ArgumentParser(
        prog="python -m training.drawn",
        description="Accuracy of an exported network on test digits changed as people draw them (drawn: settings).",
    )
    parser.add_argument("config", type=Path, help="the config (its drawn:, preprocess: and data.test_limit apply)")
    parser.add_argument("export_dir", type=Path, nargs="?", help="exported tables (default: build/<name>/export)")
    parser.add_argument("--build", type=Path, default=Path("build"), help="build root (default: build)")
    parser.add_argument("--cache", type=Path, help="MNIST cache (default: <build>/mnist/mnist.npz)")
    parser.add_argument("--json", type=Path, help="also write the result as JSON here")
    args = parser.parse_args(argv)
    try:
        cfg = config_module.load(args.config)
    except config_module.ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    layout = Layout(args.build, cfg.name)
    export_dir = args.export_dir or layout.export
    cache = args.cache or layout.mnist_cache
    for needed in (export_dir / "manifest.json", cache):
        if not needed.exists():
            print(f"error: {needed}: missing; build it first (doit config={args.config})", file=sys.stderr)
            return 2
    start = time.perf_counter()
    images, labels = load_test_digits(cache, cfg)
    try:
        result, _ = evaluate(images, labels, cfg, export_dir)
    except DrawnError as error:
        print(f"error: {export_dir}: {error}", file=sys.stderr)
        return 1
    print(table(result))
    print(f"  ({time.perf_counter() - start:.1f} s)")
    if args.json:
        from training.fsutil import write_json

        write_json(args.json, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
