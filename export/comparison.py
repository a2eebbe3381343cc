"""The sweep's comparison of several builds (`build/sweep/`): `sweep.json` (every config's
metrics.json plus a flat row), `sweep.csv`, `sweep.md` (a Markdown table for the README) and
`sweep.png` (accuracy against table bytes and against frames per inference).

A config is Pareto-optimal when no other is at least as accurate with no more table bytes and
no more frames, and strictly better in one; the accuracy is the console's when measured, else
the integer golden model's (bit-exact with it).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from common import layout
from common.fsutil import atomic_path, write_json, write_text

DASH = "–"
DRAWN_KEY = "drawn_mixed"  # metrics.json accuracy of the drawn evaluation's mixed variant


def pareto_optimal(accuracy: Sequence[float], costs: Sequence[Sequence[float]]) -> list[bool]:
    """For each point, whether no other dominates it: at least as accurate, no cost higher,
    and strictly better in one of them. Equal points do not dominate each other."""

    def dominates(i: int, j: int) -> bool:
        no_worse = accuracy[i] >= accuracy[j] and all(a <= b for a, b in zip(costs[i], costs[j], strict=True))
        better = accuracy[i] > accuracy[j] or any(a < b for a, b in zip(costs[i], costs[j], strict=True))
        return no_worse and better

    count = len(accuracy)
    return [not any(dominates(i, j) for i in range(count) if i != j) for j in range(count)]


@dataclass(frozen=True)
class Row:
    """One config's numbers, flat (CSV columns; accuracies are fractions)."""

    name: str
    config: str
    layers: list[int]
    weight_bits: list[int] | None
    params: int
    table_bytes: int
    float: float
    integer: float
    console: float | None
    drawn: float | None
    frames_mean: float | None
    frames_max: float | None
    prg_used: int | None
    prg_free: int | None
    basis: str  # which accuracy the Pareto front uses: console when measured, else integer
    accuracy: float
    pareto: bool = False


def _drawn_accuracy(metrics: dict[str, Any]) -> float | None:
    """The drawn evaluation's headline accuracy, when the build has one: its `mixed` variant
    (every change at random, as people draw; training/drawn.py), `accuracy.drawn_mixed`."""
    accuracy = metrics.get("accuracy", {})
    value = accuracy.get("drawn", accuracy.get(DRAWN_KEY))
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _weight_bits(metrics: dict[str, Any], manifest: Path) -> list[int] | None:
    """Weight bits per layer: from the metrics if they list them, else from the build's manifest."""
    if isinstance(metrics.get("weight_bits"), list):
        return list(metrics["weight_bits"])
    if manifest.exists():
        layers = json.loads(manifest.read_text())["layers"]
        return [int(layer["weight_bits"]) for layer in layers if "weight_bits" in layer]  # v2: pools too
    return None


def make_row(config: str, metrics: dict[str, Any], weight_bits: list[int] | None) -> Row:
    accuracy = metrics["accuracy"]
    frames = metrics.get("inference", {}).get("frames", {})
    prg = metrics.get("rom", {}).get("prg", {})
    basis = "console" if accuracy.get("console") is not None else "integer"
    return Row(
        name=metrics["name"],
        config=config,
        layers=list(metrics["layers"]),
        weight_bits=weight_bits,
        params=metrics["params"],
        table_bytes=metrics["weights"]["bytes"],
        float=accuracy["float"],
        integer=accuracy["integer"],
        console=accuracy.get("console"),
        drawn=_drawn_accuracy(metrics),
        frames_mean=frames.get("mean"),
        frames_max=frames.get("max"),
        prg_used=prg.get("used"),
        prg_free=prg.get("free"),
        basis=basis,
        accuracy=accuracy[basis],
    )


def pareto_costs(rows: Sequence[Row]) -> list[str]:
    """The costs the front is judged on: table bytes, and frames when every config has them."""
    if rows and all(row.frames_mean is not None for row in rows):
        return ["table_bytes", "frames_mean"]
    return ["table_bytes"]


def mark_pareto(rows: Sequence[Row]) -> list[Row]:
    costs = pareto_costs(rows)
    optimal = pareto_optimal([row.accuracy for row in rows], [[getattr(row, c) for c in costs] for row in rows])
    return [replace(row, pareto=flag) for row, flag in zip(rows, optimal, strict=True)]


def collect(configs: Sequence[tuple[str, Path]]) -> tuple[list[Row], list[dict[str, Any]]]:
    """Rows (Pareto marked) and the full metrics of each (config path, its build folder)."""
    all_metrics = [json.loads((folder / layout.METRICS).read_text()) for _, folder in configs]
    rows = [
        make_row(config, metrics, _weight_bits(metrics, folder / "export" / layout.MANIFEST))
        for (config, folder), metrics in zip(configs, all_metrics, strict=True)
    ]
    return mark_pareto(rows), all_metrics


def basis_text(rows: Sequence[Row]) -> str:
    kinds = {row.basis for row in rows}
    if kinds == {"console"}:
        return "console accuracy"
    if kinds == {"integer"}:
        return "integer (golden model) accuracy, which the console matches bit for bit"
    return "console accuracy where measured, else integer (golden model) accuracy"


def _percent(value: float | None) -> str:
    return DASH if value is None else f"{value:.2%}".replace("%", " %")


def _bits(bits: list[int] | None) -> str:
    if not bits:
        return DASH
    return str(bits[0]) if len(set(bits)) == 1 else "/".join(map(str, bits))


def markdown(rows: Sequence[Row]) -> str:
    """A Markdown table (README-ready) with a note on how the Pareto column was judged."""
    basis = {row.basis for row in rows}
    pareto_header = f"Pareto ({basis.pop()})" if len(basis) == 1 else "Pareto"
    header = [
        "config", "layers", "weight bits", "params", "table bytes", "float", "integer", "console", "drawn",
        "frames (mean)", pareto_header,
    ]
    lines = ["| " + " | ".join(header) + " |", "|---|---|---|" + "---:|" * 7 + ":---:|"]
    for row in rows:
        cells = [
            f"`{row.name}`",
            "-".join(map(str, row.layers)),
            _bits(row.weight_bits),
            f"{row.params:,}",
            f"{row.table_bytes:,} B",
            _percent(row.float),
            _percent(row.integer),
            _percent(row.console),
            _percent(row.drawn),
            DASH if row.frames_mean is None else f"{row.frames_mean:.2f}",
            "★" if row.pareto else "",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    costs = "no more table bytes and no more frames per inference"
    if pareto_costs(rows) == ["table_bytes"]:
        costs = "no more table bytes (frames per inference not measured for every config: `sweep.evaluate`)"
    lines += [
        "",
        f"★ Pareto-optimal on {basis_text(rows)}: no other config is at least as accurate with {costs}, "
        "and strictly better in one.",
    ]
    if any(row.drawn is not None for row in rows):
        lines.append("drawn: the drawn evaluation's mixed variant (golden model; `build/<name>/drawn.json`).")
    return "\n".join(lines) + "\n"


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, list):
        return "-".join(map(str, value))
    return value


def csv_text(rows: Sequence[Row]) -> str:
    buffer = io.StringIO()
    fields = list(Row.__dataclass_fields__)
    writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: _csv_value(value) for key, value in asdict(row).items()})
    return buffer.getvalue()


def summary_json(rows: Sequence[Row], all_metrics: Sequence[dict[str, Any]]) -> dict[str, Any]:
    return {
        "pareto": {"accuracy": basis_text(rows), "costs": pareto_costs(rows)},
        "configs": [{**asdict(row), "metrics": metrics} for row, metrics in zip(rows, all_metrics, strict=True)],
    }


MARKERS = {"float": ("o", "tab:blue"), "integer": ("s", "tab:orange"), "console": ("^", "tab:green"),
           "drawn": ("x", "tab:red")}


def _front(points: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """The 2-D Pareto front (cost, accuracy) of one panel, by increasing cost."""
    optimal = pareto_optimal([acc for _, acc in points], [[cost] for cost, _ in points])
    return sorted({point for point, keep in zip(points, optimal, strict=True) if keep})


def plot(rows: Sequence[Row], target: Path) -> None:
    """Accuracy against table bytes and against frames per inference, one labelled point per config."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, panels = plt.subplots(1, 2, figsize=(12, 4.8), sharey=True)
    for axes, cost, label in ((panels[0], "table_bytes", "weight and bias tables (bytes)"),
                              (panels[1], "frames_mean", "frames per inference (mean, NTSC)")):
        measured = [row for row in rows if getattr(row, cost) is not None]
        for kind, (marker, color) in MARKERS.items():
            points = [(getattr(row, cost), getattr(row, kind)) for row in measured if getattr(row, kind) is not None]
            if points:
                xs, ys = zip(*points, strict=True)
                hollow = kind == "integer"  # the console matches it: keep both visible
                colours = {"facecolors": "none", "edgecolors": color, "s": 70} if hollow else {"color": color}
                axes.scatter(xs, [100 * y for y in ys], marker=marker, label=kind, zorder=3, **colours)
        front = _front([(getattr(row, cost), row.accuracy) for row in measured])
        if front:
            xs, ys = zip(*front, strict=True)
            axes.step(xs, [100 * y for y in ys], where="post", color="grey", linestyle="--", zorder=2,
                      label=f"Pareto front ({'/'.join(sorted({row.basis for row in measured}))})")
        for row in measured:
            axes.annotate(row.name, (getattr(row, cost), 100 * row.accuracy), textcoords="offset points",
                          xytext=(5, 5), fontsize=8, fontweight="bold" if row.pareto else "normal")
        if not measured:
            axes.text(0.5, 0.5, "not measured: set sweep.evaluate true", ha="center", va="center",
                      transform=axes.transAxes)
        axes.set_xlabel(label)
        axes.grid(alpha=0.3)
        if measured:
            axes.legend(fontsize=8, loc="lower right")
    panels[0].set_ylabel("test accuracy (%)")
    figure.suptitle("sweep: accuracy against cost (bold: Pareto-optimal on bytes and frames)")
    with atomic_path(target) as tmp:
        figure.savefig(tmp, format="png", dpi=100, bbox_inches="tight")
    plt.close(figure)


def write_comparison(configs: Sequence[tuple[str, Path]], folder: Path) -> list[Row]:
    """Write sweep.json, sweep.csv, sweep.md and sweep.png into `folder` (each atomically)."""
    rows, all_metrics = collect(configs)
    json_file, csv_file, markdown_file, plot_file = (folder / name for name in layout.SWEEP_TABLES)
    write_json(json_file, summary_json(rows, all_metrics))
    write_text(csv_file, csv_text(rows))
    write_text(markdown_file, markdown(rows))
    plot(rows, plot_file)
    return rows


