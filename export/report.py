"""`doit report`: a self-contained HTML page about one build, with its images beside it.

The page shows the metrics table, the confusion matrix and the misclassified test digits
(the console's predictions when `doit evaluate` measured this very ROM, else the golden
model's, which the console matches bit for bit), the drawn evaluation (accuracy on test
digits changed as people draw, with examples), the pad-drawn digits (drawn with the D-pad on
the ROM by the `paddrawn` task: the summary and their contact sheet), the training curves, the
ROM budget, an emulator screenshot (made by the `screenshot` task) and the task graph
(pipeline/graph.py).
Matplotlib draws the charts (imported here only, never when dodo.py loads).
"""

from __future__ import annotations

import html
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from common.fsutil import atomic_path, write_text
from intnet import layers

GRID_COLUMNS = 16
GRID_MAX = 128


@dataclass(frozen=True)
class ReportInputs:
    metrics: Path
    history: Path
    inputs: Path
    mnist_cache: Path
    export: Path
    rom: Path
    rom_budget: Path
    console_eval: Path  # may not exist
    screenshot_caption: Path  # what the `screenshot` task's screen.png shows
    task_graph: Path  # the doit task graph (pipeline/graph.py)
    drawn_examples: Path | None = None  # the drawn task's example digits (training/drawn.py)
    web_page: Path | None = None  # the browser playground's index.html (`doit web`; may not exist yet)
    web_screenshot: Path | None = None  # the `web_shot` task's picture of it (may not exist)


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(figure: Any, target: Path) -> None:
    with atomic_path(target) as tmp:
        figure.savefig(tmp, format="png", dpi=100, bbox_inches="tight")
    _pyplot().close(figure)


def predictions(paths: ReportInputs, x_test: np.ndarray) -> tuple[np.ndarray, str]:
    """The console's predictions if they were measured on this ROM, else the golden model's."""
    import hashlib

    if paths.console_eval.exists():
        console = json.loads(paths.console_eval.read_text())
        rom_hash = hashlib.sha256(paths.rom.read_bytes()).hexdigest()
        if console.get("rom_sha256") == rom_hash and "predictions" in console:
            return np.array(console["predictions"]), "the emulated console"
    network = layers.load(paths.export)  # dense-only or with convolutions
    return layers.predict(network, x_test), "the integer golden model (run `doit evaluate` for the console's)"


def confusion(labels: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    matrix = np.zeros((10, 10), dtype=np.int64)
    np.add.at(matrix, (labels, predicted), 1)
    return matrix


def plot_confusion(matrix: np.ndarray, target: Path) -> None:
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(5.5, 5))
    axes.imshow(np.log1p(matrix), cmap="Blues")
    for (row, col), count in np.ndenumerate(matrix):
        if count:
            color = "white" if row == col else "black"
            axes.text(col, row, str(count), ha="center", va="center", fontsize=7, color=color)
    axes.set_xticks(range(10))
    axes.set_yticks(range(10))
    axes.set_xlabel("predicted digit")
    axes.set_ylabel("true digit")
    axes.set_title("confusion matrix (test images)")
    _save(figure, target)


def plot_training(history: dict[str, list[float]], target: Path) -> None:
    plt = _pyplot()
    figure, (loss_axes, accuracy_axes) = plt.subplots(1, 2, figsize=(10, 3.5))
    epochs = range(1, len(history.get("loss", [])) + 1)
    for key in ("loss", "val_loss"):
        if key in history:
            loss_axes.plot(epochs, history[key], label=key)
    for key in ("accuracy", "val_accuracy"):
        if key in history:
            accuracy_axes.plot(epochs, history[key], label=key)
    for axes, title in ((loss_axes, "loss"), (accuracy_axes, "accuracy")):
        axes.set_xlabel("epoch")
        axes.set_title(title)
        axes.legend()
        axes.grid(alpha=0.3)
    _save(figure, target)


def plot_rom_budget(budget: dict[str, Any], target: Path) -> None:
    plt = _pyplot()
    parts = dict(budget["prg_parts"])
    parts["free"] = budget["prg"]["free"]
    other = budget["prg"]["size"] - sum(parts.values())
    if other > 0:
        parts["other (alignment)"] = other
    figure, axes = plt.subplots(figsize=(10, 1.6))
    left = 0
    colors = plt.get_cmap("tab10").colors
    for index, (name, size) in enumerate(parts.items()):
        color = "#dddddd" if name == "free" else colors[index % len(colors)]
        axes.barh(0, size, left=left, color=color, edgecolor="white")
        if size > budget["prg"]["size"] * 0.06:
            axes.text(left + size / 2, 0, f"{name}\n{size} B", ha="center", va="center", fontsize=8)
        left += size
    axes.set_xlim(0, budget["prg"]["size"])
    axes.set_yticks([])
    axes.set_xlabel(f"PRG-ROM bytes ({budget['prg']['size'] // 1024} KiB)")
    _save(figure, target)


def plot_misclassified(images: np.ndarray, labels: np.ndarray, predicted: np.ndarray, target: Path) -> int:
    """A grid of the first misclassified test digits, each titled 'true->predicted'."""
    plt = _pyplot()
    wrong = np.flatnonzero(predicted != labels)[:GRID_MAX]
    rows = max(1, -(-len(wrong) // GRID_COLUMNS))
    figure, axes_grid = plt.subplots(rows, GRID_COLUMNS, figsize=(GRID_COLUMNS * 0.8, rows * 0.95), squeeze=False)
    for axes in axes_grid.ravel():
        axes.axis("off")
    for axes, index in zip(axes_grid.ravel(), wrong, strict=False):
        axes.imshow(images[index], cmap="gray_r", vmin=0, vmax=255)
        axes.set_title(f"{labels[index]}->{predicted[index]}", fontsize=7)
    _save(figure, target)
    return len(wrong)


def plot_drawn(examples: Path | None, target: Path) -> None:
    """One row of example digits per drawn variant (plain first), each titled with the golden
    model's answer, in red when wrong."""
    plt = _pyplot()
    if examples is None or not examples.exists():
        figure, axes = plt.subplots(figsize=(6, 1.2))
        axes.text(0.5, 0.5, "no drawn examples: run `doit drawn`", ha="center", va="center")
        axes.axis("off")
        _save(figure, target)
        return
    with np.load(examples) as data:
        rows, images, predicted, labels = data["rows"], data["images"], data["predicted"], data["labels"]
    columns = max(1, len(labels))
    figure, grid = plt.subplots(len(rows), columns, figsize=(columns * 0.8 + 0.8, len(rows) * 0.95), squeeze=False)
    for r, name in enumerate(rows):
        for c, axes in enumerate(grid[r]):
            axes.set_xticks([])
            axes.set_yticks([])
            if c >= len(labels):
                continue
            axes.imshow(images[r, c], cmap="gray_r", vmin=0, vmax=255)
            wrong = predicted[r, c] != labels[c]
            axes.set_title(str(predicted[r, c]), fontsize=7, color="red" if wrong else "black")
        grid[r, 0].set_ylabel(str(name), fontsize=8, rotation=0, ha="right", va="center")
    _save(figure, target)


def drawn_rows(metrics: dict[str, Any]) -> list[str]:
    """Table rows: each drawn variant's accuracy beside the plain test digits'."""
    drawn = metrics.get("drawn")
    if drawn is None:
        return []
    plain = drawn["plain"]["accuracy"]
    rows = [f"<tr><th>plain (MNIST as scanned)</th><td></td><td>{plain:.2%}</td><td></td></tr>"]
    for name, entry in drawn["variants"].items():
        rows.append(
            f"<tr><th>{html.escape(name)}</th><td>{html.escape(entry['change'])}</td>"
            f"<td>{entry['accuracy']:.2%}</td><td>{(entry['accuracy'] - plain) * 100:+.2f} points</td></tr>"
        )
    return rows


def paddrawn_html(metrics: dict[str, Any]) -> str:
    """The pad-drawn digits' paragraph and table (their contact sheet, paddrawn.png, follows it)."""
    pad = metrics.get("paddrawn")
    if pad is None:
        return "<p>Not drawn on this ROM: run <code>doit paddrawn</code>.</p>"
    if not pad["canvas"]:
        return f"<p>None: {html.escape(pad['reason'])}.</p>"
    frames = pad["frames"]
    wrong = ", ".join(pad["wrong"]) or "none"
    rows = [
        f"<tr><th>{html.escape(style)}</th><td>{entry['right']} of {entry['total']}</td></tr>"
        for style, entry in pad["by_style"].items()
    ]
    return (
        f"<p>Digits drawn with the D-pad and A on the emulated console, a fresh one for each "
        f"(<code>nes/tools/pad_digits.py</code>): <strong>{pad['right']} of {pad['total']} right</strong> "
        f"(wrong: {html.escape(wrong)}); the answer is on the screen {frames['mean']:.1f} frames after the "
        f"last stroke on average, {frames['max']} at worst.</p>\n"
        f"<table>\n<tr><th>style</th><th>right</th></tr>\n{chr(10).join(rows)}\n</table>"
    )


def plot_tasks(edges: dict[str, list[str]], target: Path) -> None:
    """The doit task graph, layered by dependency depth, arrows from producer to consumer."""
    plt = _pyplot()
    depth: dict[str, int] = {}

    def level(name: str, seen: tuple[str, ...] = ()) -> int:
        if name not in depth:
            parents = [p for p in edges.get(name, []) if p not in seen]
            depth[name] = 1 + max((level(p, (*seen, name)) for p in parents), default=-1)
        return depth[name]

    for name in edges:
        level(name)
    layers: dict[int, list[str]] = {}
    for name, d in sorted(depth.items()):
        layers.setdefault(d, []).append(name)
    position = {name: (d, -i + (len(names) - 1) / 2) for d, names in layers.items() for i, name in enumerate(names)}
    height = max(len(names) for names in layers.values())
    figure, axes = plt.subplots(figsize=(2.2 * len(layers) + 1, 0.6 * height + 1))
    for name, parents in edges.items():
        for parent in parents:
            (x0, y0), (x1, y1) = position[parent], position[name]
            axes.annotate("", xy=(x1 - 0.35, y1), xytext=(x0 + 0.35, y0),
                          arrowprops={"arrowstyle": "->", "color": "#888888"})
    for name, (x, y) in position.items():
        axes.text(x, y, name, ha="center", va="center", fontsize=8,
                  bbox={"boxstyle": "round", "facecolor": "#eef3fb", "edgecolor": "#4a72b0"})
    axes.set_xlim(-0.6, len(layers) - 0.4)
    axes.set_ylim(-height / 2 - 0.5, height / 2 + 0.5)
    axes.axis("off")
    _save(figure, target)


def _row(name: str, value: str) -> str:
    return f"<tr><th>{html.escape(name)}</th><td>{html.escape(value)}</td></tr>"


def metrics_rows(metrics: dict[str, Any]) -> list[str]:
    accuracy = metrics["accuracy"]
    rows = [
        _row("network", "-".join(map(str, metrics["layers"]))),
        _row("parameters", str(metrics["params"])),
        _row("weight and bias tables", f"{metrics['weights']['bytes']} bytes"),
        _row("float accuracy", f"{accuracy['float']:.2%}"),
        _row("integer accuracy (golden model)", f"{accuracy['integer']:.2%}"),
    ]
    if "teacher" in accuracy:
        rows.insert(3, _row("distillation teacher accuracy (CNN, not on the cartridge)", f"{accuracy['teacher']:.2%}"))
    if "console" in accuracy:
        rows.append(_row("console accuracy (emulated NES)", f"{accuracy['console']:.2%}"))
        rows.append(_row("console mismatches", f"{metrics['console']['mismatches']} of {metrics['console']['images']}"))
    if "inference" in metrics:
        frames, cycles = metrics["inference"]["frames"], metrics["inference"]["cycles"]
        rows.append(_row("frames per inference", f"{frames['mean']:.2f} mean, {frames['max']:.2f} worst"))
        rows.append(_row("cycles per inference", f"{cycles['mean']:.0f} mean, {cycles['max']:.0f} worst"))
    if "rom" in metrics:
        rom = metrics["rom"]
        rows.append(_row("PRG-ROM", f"{rom['prg']['used']} bytes used, {rom['prg']['free']} free"))
        rows.append(_row("CHR-ROM", f"{rom['chr']['used']} bytes used, {rom['chr']['free']} free"))
    return rows


def run(paths: dict[str, Path], out_dir: Path) -> None:
    """The `report` step: `paths` holds the fields of ReportInputs."""
    print(f"report: {write_report(ReportInputs(**paths), out_dir)}")


def playground_html(paths: ReportInputs, out_dir: Path) -> str:
    """The section that links the browser playground and shows its screenshot when there is one."""
    if paths.web_page is None:
        return "<p>No browser playground for this build.</p>"
    link = html.escape(os.path.relpath(paths.web_page, out_dir))
    text = (
        f'<p><a href="{link}">Open the browser playground</a> (<code>doit web</code> writes it): this ROM in '
        "jsnes, a page where you draw with the mouse, a pen or a finger and see the console's answer, its scores "
        "as probabilities and the input the network sees.</p>"
    )
    shot = paths.web_screenshot
    if shot is None or not shot.exists():
        return text + "\n<p>(No screenshot of it yet: <code>doit web_shot</code> takes one with Chromium.)</p>"
    name = html.escape(os.path.relpath(shot, out_dir))
    return (
        text + f'\n<figure><img src="{name}" alt="the browser playground">'
        "<figcaption>The playground in headless Chromium after a 7 drawn with mouse events on the screen "
        "(the <code>web_shot</code> task).</figcaption></figure>"
    )


def write_report(paths: ReportInputs, out_dir: Path) -> Path:
    """Write `out_dir/index.html` and its PNG images (the screenshot is already there: the
    `screenshot` task made it); return the page's path."""
    from common.mnist import load_cache

    metrics = json.loads(paths.metrics.read_text())
    with np.load(paths.inputs) as data:
        x_test, y_test = data["x_test"], data["y_test"]
    raw_test = load_cache(paths.mnist_cache).x_test[: len(y_test)]
    predicted, source = predictions(paths, x_test)

    plot_confusion(confusion(y_test, predicted), out_dir / "confusion.png")
    plot_training(json.loads(paths.history.read_text()), out_dir / "training.png")
    plot_rom_budget(json.loads(paths.rom_budget.read_text()), out_dir / "rom_budget.png")
    wrong = plot_misclassified(raw_test, y_test, predicted, out_dir / "misclassified.png")
    screen_caption = json.loads(paths.screenshot_caption.read_text())["caption"]
    plot_drawn(paths.drawn_examples, out_dir / "drawn.png")
    drawn = metrics.get("drawn", {"images": 0, "seed": "-"})
    plot_tasks(json.loads(paths.task_graph.read_text()), out_dir / "tasks.png")

    title = f"nes-mnist build report: {metrics['name']}"
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{html.escape(title)}</title>
<style>
body {{ font-family: sans-serif; max-width: 1100px; margin: 2em auto; color: #222; }}
table {{ border-collapse: collapse; }}
th, td {{ padding: 0.25em 0.8em; border-bottom: 1px solid #ddd; text-align: left; }}
img {{ max-width: 100%; }}
figure {{ margin: 1.5em 0; }}
figcaption {{ color: #555; font-size: 0.9em; }}
</style>
</head>
<body>
<h1>{html.escape(title)}</h1>
<h2>Metrics</h2>
<table>
{chr(10).join(metrics_rows(metrics))}
</table>
<h2>Predictions on the {len(y_test)} test images</h2>
<p>Predictions of {html.escape(source)}: {wrong if wrong < GRID_MAX else f"{GRID_MAX}+"} misclassified.</p>
<figure><img src="confusion.png" alt="confusion matrix"><figcaption>Confusion matrix.</figcaption></figure>
<figure><img src="misclassified.png" alt="misclassified test digits">
<figcaption>Misclassified test digits (first {GRID_MAX}), titled true-&gt;predicted.</figcaption></figure>
<h2>Drawn, not only scanned</h2>
<p>The integer golden model (= the console) on the {drawn["images"]} test digits changed the way people draw
on the canvas (seed {drawn["seed"]}; settings in <code>drawn:</code>, numbers in <code>drawn.json</code>).</p>
<table>
<tr><th>digits</th><th>change</th><th>accuracy</th><th>vs plain</th></tr>
{chr(10).join(drawn_rows(metrics))}
</table>
<figure><img src="drawn.png" alt="drawn examples">
<figcaption>The first test digit of each class per variant, titled with the answer (red: wrong).</figcaption></figure>
<h2>Drawn with the D-pad</h2>
{paddrawn_html(metrics)}
<figure><img src="paddrawn.png" alt="pad-drawn digits">
<figcaption>Each pad-drawn digit's canvas as the screen shows it (the red sprite is the cursor), named, with the
console's answer and the frames from the last stroke to it; wrong ones framed in red.</figcaption></figure>
<h2>Training</h2>
<figure><img src="training.png" alt="training curves"><figcaption>Loss and accuracy per epoch.</figcaption></figure>
<h2>Cartridge</h2>
<figure><img src="rom_budget.png" alt="ROM budget"><figcaption>What the PRG-ROM holds.</figcaption></figure>
<figure><img src="screen.png" alt="emulator screenshot">
<figcaption>{html.escape(screen_caption)}</figcaption></figure>
<h2>In the browser</h2>
{playground_html(paths, out_dir)}
<h2>Build</h2>
<figure><img src="tasks.png" alt="doit task graph"><figcaption>The doit task graph.</figcaption></figure>
</body>
</html>
"""
    target = out_dir / "index.html"
    write_text(target, page)
    return target
