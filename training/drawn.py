"""The "drawn" evaluation: the integer network on test digits changed the way people draw.

training/variants.py changes every MNIST test digit as a person drawing on the canvas would
(off-centre, smaller or larger, thinner or thicker strokes, all mixed); the config's
preprocessing and the golden model (which the console matches bit for bit) then give the
accuracy such a person would see, variant by variant, against the plain digits.

`python -m training.drawn CONFIG [EXPORT_DIR]` prints the table for an existing build; the
doit task `drawn` writes it as `build/<name>/drawn.json` (with a few examples beside it).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from common import layout
from common.config import NUM_CLASSES, Config, PreprocessConfig
from common.errors import BuildError
from intnet.prep import preprocess
from training.variants import VARIANTS, describe, variant_images

PLAIN = "plain"


class DrawnError(BuildError):
    """The drawn evaluation cannot run on this build; the message says why."""


def accuracy(predicted: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean(predicted == labels)) if len(labels) else 0.0


def example_indices(labels: np.ndarray) -> np.ndarray:
    """The first test digit of each class present: one row of examples reads 0 to 9."""
    firsts = [np.flatnonzero(labels == digit)[:1] for digit in range(NUM_CLASSES)]
    return np.concatenate(firsts).astype(np.int64)


def check_preprocess(manifest: dict[str, Any], cfg: PreprocessConfig) -> None:
    """Fail if the exported network was trained on other preprocessing than `cfg` says."""
    trained = manifest.get("input", {})
    expected = {key: getattr(cfg, key) for key in ("size", "levels", "ink", "resize", "deskew", "center", "normalize")}
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
    from intnet import layers

    check_preprocess(json.loads((export_dir / layout.MANIFEST).read_text()), cfg.preprocess)
    network = layers.load(export_dir)  # dense-only (v1) or with convolutions (v2)
    shown = example_indices(labels)
    rows, predictions = [], []
    result: dict[str, Any] = {"seed": cfg.drawn.seed, "images": len(labels), "variants": {}}
    for name in (PLAIN, *VARIANTS):
        changed = images if name == PLAIN else variant_images(images, name, cfg.drawn, cfg.preprocess)
        predicted = layers.predict(network, preprocess(changed, cfg.preprocess))
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
    from common.mnist import load_cache

    mnist = load_cache(cache)
    return mnist.x_test[: cfg.data.test_limit], mnist.y_test[: cfg.data.test_limit]


def write(cfg: Config, cache: Path, export_dir: Path, target: Path, examples_target: Path) -> dict[str, Any]:
    """The doit task: evaluate and write drawn.json and the examples, atomically."""
    from common.fsutil import atomic_path, write_json

    images, labels = load_test_digits(cache, cfg)
    result, examples = evaluate(images, labels, cfg, export_dir)
    with atomic_path(examples_target) as tmp:
        np.savez_compressed(tmp, **examples)
    write_json(target, result)
    return result


def run(cfg: Config, cache: Path, export_dir: Path, target: Path, examples_target: Path) -> None:
    """The `drawn` step: write drawn.json and the examples, print the table."""
    print(table(write(cfg, cache, export_dir, target, examples_target)))


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
    from common import config as config_module
    from common.layout import Layout

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
        from common.fsutil import write_json

        write_json(args.json, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
