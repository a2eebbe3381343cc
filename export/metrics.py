"""`metrics.json`: the build's numbers, gathered from the part files the tasks write."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from training.fsutil import write_json

METRICS_FILE = "metrics.json"


def _read(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def gather(float_eval: Path, integer_eval: Path, manifest: Path) -> dict[str, Any]:
    floats, integers, network = _read(float_eval), _read(integer_eval), _read(manifest)
    return {
        "name": network["name"],
        "layers": network["layer_sizes"],
        "accuracy": {"float": floats["accuracy"], "integer": integers["accuracy"]},
        "test_images": integers["test_images"],
        "params": network["params"],
        "weights": {"bytes": network["tables_bytes"]},
        "accumulator_bits": [layer["accumulator_bits"] for layer in network["layers"]],
    }


def summary(metrics: dict[str, Any]) -> str:
    accuracy = metrics["accuracy"]
    lines = [
        f"model {metrics['name']}: {'-'.join(map(str, metrics['layers']))}, {metrics['params']} parameters",
        f"  accuracy on {metrics['test_images']} test images: float {accuracy['float']:.2%}, "
        f"integer {accuracy['integer']:.2%}",
        f"  weight and bias tables: {metrics['weights']['bytes']} bytes",
    ]
    return "\n".join(lines)


def write(target: Path, float_eval: Path, integer_eval: Path, manifest: Path) -> str:
    metrics = gather(float_eval, integer_eval, manifest)
    write_json(target, metrics)
    return summary(metrics) + f"\n  metrics: {target}"
