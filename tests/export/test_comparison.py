"""The sweep's comparison (export/comparison.py): the Pareto front and the comparison files."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from export import comparison

# --- the Pareto front, by hand ---


@pytest.mark.parametrize(
    ("accuracy", "costs", "expected"),
    [
        ([0.9], [[100, 2]], [True]),  # alone: optimal
        ([0.9, 0.8], [[100, 2], [100, 2]], [True, False]),  # same costs, less accurate
        ([0.9, 0.9], [[100, 2], [120, 2]], [True, False]),  # as accurate, more bytes
        ([0.9, 0.9], [[100, 2], [100, 3]], [True, False]),  # as accurate, more frames
        ([0.9, 0.9], [[100, 2], [100, 2]], [True, True]),  # equal points do not dominate each other
        ([0.9, 0.8], [[200, 2], [100, 2]], [True, True]),  # more accurate but bigger: a trade-off
        ([0.9, 0.8], [[100, 3], [200, 2]], [True, True]),  # cheaper in bytes, dearer in frames
        ([0.9, 0.8, 0.85], [[100, 2], [50, 1], [100, 2]], [True, True, False]),
        ([0.95, 0.9, 0.8, 0.7], [[300], [200], [250], [100]], [True, True, False, True]),
    ],
)
def test_pareto_optimal_by_hand(accuracy: list[float], costs: list[list[float]], expected: list[bool]) -> None:
    assert comparison.pareto_optimal(accuracy, costs) == expected


def test_pareto_front_of_a_panel_is_sorted_by_cost() -> None:
    points = [(300, 0.95), (200, 0.9), (250, 0.8), (100, 0.7)]
    assert comparison._front(points) == [(100, 0.7), (200, 0.9), (300, 0.95)]


# --- the comparison files, from fabricated metrics.json ---


def fake_metrics(name: str, bytes_: int, integer: float, console: bool, frames: float = 2.0, **extra: Any) -> dict:
    metrics: dict[str, Any] = {
        "name": name,
        "layers": [49, 49, 24, 10],
        "accuracy": {"float": integer + 0.003, "integer": integer},
        "test_images": 10000,
        "params": 3900,
        "weights": {"bytes": bytes_},
        "accumulator_bits": [16, 16, 16],
        "rom": {"prg": {"used": 24000, "free": 8768, "size": 32768}},
    }
    if console:
        metrics["accuracy"]["console"] = integer
        metrics["console"] = {"images": 10000, "mismatches": 0}
        metrics["inference"] = {"cycles": {"mean": frames * 29780.5, "max": 2 * frames * 29780.5},
                                "frames": {"mean": frames, "max": 2 * frames}, "method": "fake"}
    metrics.update(extra)
    return metrics


def write_builds(folder: Path, all_metrics: list[dict]) -> list[tuple[str, Path]]:
    configs = []
    for metrics in all_metrics:
        out = folder / metrics["name"]
        (out / "export").mkdir(parents=True)
        (out / "metrics.json").write_text(json.dumps(metrics))
        configs.append((f"presets/{metrics['name']}.yaml", out))
    return configs


def test_comparison_files_with_console_numbers(tmp_path: Path) -> None:
    builds = [
        fake_metrics("big", 4000, 0.96, True, frames=1.9),
        fake_metrics("small", 2000, 0.93, True, frames=1.2),
        fake_metrics("worse", 4100, 0.95, True, frames=2.0),  # dominated by big
    ]
    builds[1]["accuracy"] |= {"drawn_offset": 0.85, "drawn_mixed": 0.81}
    configs = write_builds(tmp_path, builds)
    (tmp_path / "small" / "export" / "manifest.json").write_text(
        json.dumps({"layers": [{"weight_bits": 4}, {"weight_bits": 8}, {"weight_bits": 8}]})
    )
    out = tmp_path / "sweep"
    rows = comparison.write_comparison(configs, out)
    assert [row.pareto for row in rows] == [True, True, False]
    assert {row.basis for row in rows} == {"console"}

    table = (out / "sweep.md").read_text().splitlines()
    assert table[0].startswith("| config | layers | weight bits |") and "Pareto (console)" in table[0]
    assert len([line for line in table if line.startswith("| `")]) == 3
    small = next(line for line in table if line.startswith("| `small`"))
    assert "4/8/8" in small and "2,000 B" in small and "81.00 %" in small and "1.20" in small and "★" in small
    worse = next(line for line in table if line.startswith("| `worse`"))
    assert "★" not in worse and f"| {comparison.DASH} |" in worse  # no drawn accuracy, no weight bits: dashes
    assert "console accuracy" in table[-2] and "frames" in table[-2] and "mixed" in table[-1]

    with (out / "sweep.csv").open() as file:
        records = list(csv.DictReader(file))
    assert [record["name"] for record in records] == ["big", "small", "worse"]
    assert records[1]["weight_bits"] == "4-8-8" and records[1]["drawn"] == "0.81" and records[0]["drawn"] == ""
    assert [record["pareto"] for record in records] == ["True", "True", "False"]

    summary = json.loads((out / "sweep.json").read_text())
    assert summary["pareto"]["costs"] == ["table_bytes", "frames_mean"]
    assert summary["configs"][0]["metrics"] == builds[0]
    assert summary["configs"][1]["config"] == "presets/small.yaml"

    png = (out / "sweep.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000
    assert not list(out.glob(".*tmp*"))  # atomic writes leave no temporary files


def test_comparison_without_console_numbers_uses_integer_accuracy_and_bytes(tmp_path: Path) -> None:
    builds = [
        fake_metrics("a", 4000, 0.96, False),
        fake_metrics("b", 3000, 0.96, False),  # as accurate, smaller: dominates a
        fake_metrics("c", 5000, 0.97, True),  # console measured for this one only
    ]
    rows = comparison.write_comparison(write_builds(tmp_path, builds), tmp_path / "sweep")
    assert [row.basis for row in rows] == ["integer", "integer", "console"]
    assert [row.pareto for row in rows] == [False, True, True]
    text = (tmp_path / "sweep" / "sweep.md").read_text()
    assert "| Pareto |" in text and "else integer" in text and "not measured" in text
    assert (tmp_path / "sweep" / "sweep.png").read_bytes().startswith(b"\x89PNG")
