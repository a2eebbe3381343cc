"""`metrics.json`: the build's numbers, gathered from the part files the tasks write.

Parts (paths by name): `float_eval` and `integer_eval` (accuracy), `manifest` (shape and
table bytes), and, when they exist, `rom_budget` (from the link) and `console_eval` (from
`doit evaluate`), and `drawn` (the drawn evaluation, training/drawn.py: each variant's
accuracy becomes `accuracy.drawn_<variant>`, the whole result the `drawn` block), and
`paddrawn` (the pad-drawn digits on the ROM, nes/tools/paddrawn.py: `accuracy.paddrawn` and a
`paddrawn` block with right / total and the frames from the last stroke to the answer). Console
numbers are taken only when they were measured on the ROM that the budget describes (same
SHA-256), so a stale evaluation never reaches the metrics.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from common.fsutil import write_json


def _read(path: Path | None) -> dict[str, Any] | None:
    if path is None or not Path(path).exists():
        return None
    return json.loads(Path(path).read_text())


def gather(parts: dict[str, Path]) -> dict[str, Any]:
    floats, integers, network = (_read(parts[key]) for key in ("float_eval", "integer_eval", "manifest"))
    assert floats is not None and integers is not None and network is not None
    weighted = [layer for layer in network["layers"] if "weight_bits" in layer]  # v2 lists pools and flatten too
    metrics: dict[str, Any] = {
        "name": network["name"],
        # sizes of a dense-only network ([196, 144, 32, 10]), else short layer names
        "layers": network["layer_sizes"] if "layer_sizes" in network else network["layer_codes"],
        "accuracy": {"float": floats["accuracy"], "integer": integers["accuracy"]},
        "weight_bits": [layer["weight_bits"] for layer in weighted],
        "test_images": integers["test_images"],
        "params": network["params"],
        "weights": {"bytes": network["tables_bytes"]},
        "accumulator_bits": [layer["accumulator_bits"] for layer in weighted],
    }
    teacher = _read(parts.get("teacher_eval"))
    if teacher is not None:
        metrics["accuracy"]["teacher"] = teacher["accuracy"]  # the distillation CNN (not on the cartridge)
    qat = _read(parts.get("qat_eval"))
    if qat is not None:
        metrics["accuracy"]["qat"] = qat["accuracy"]  # the fake-quantized Keras model
    drawn = _read(parts.get("drawn"))
    if drawn is not None:
        for variant, entry in drawn["variants"].items():
            metrics["accuracy"][f"drawn_{variant}"] = entry["accuracy"]
        metrics["drawn"] = drawn
    rom = _read(parts.get("rom_budget"))
    if rom is not None:
        metrics["rom"] = {key: value for key, value in rom.items() if key != "sha256"}
    console = _read(parts.get("console_eval"))
    if console is not None and rom is not None and console.get("rom_sha256") == rom["sha256"]:
        metrics["accuracy"]["console"] = console["accuracy"]
        metrics["console"] = {"images": console["images"], "mismatches": console["mismatches"]}
        timing = console["inference"]
        metrics["inference"] = {
            "cycles": {"mean": timing["cycles_mean"], "max": timing["cycles_max"]},
            "frames": {"mean": timing["frames_mean"], "max": timing["frames_max"]},
            "method": timing["method"],
        }
        if "per_layer" in timing:  # console_eval.json from before per-layer timing has none
            metrics["inference"]["per_layer"] = timing["per_layer"]
    pad = paddrawn(_read(parts.get("paddrawn")), rom)
    if pad is not None:
        metrics["paddrawn"] = pad
        if "accuracy" in pad:
            metrics["accuracy"]["paddrawn"] = pad["accuracy"]
    memory = peak_memory(parts.get("memory"))
    if memory is not None:
        metrics["memory"] = memory
    return metrics


def paddrawn(result: dict[str, Any] | None, rom: dict[str, Any] | None) -> dict[str, Any] | None:
    """The pad-drawn digits' summary (without each digit's record, which stays in paddrawn.json),
    when they were drawn on this very ROM; for a ROM without the canvas, the reason."""
    if result is None or rom is None or result.get("rom_sha256") != rom["sha256"]:
        return None
    if not result["canvas"]:
        return {"canvas": False, "reason": result["reason"]}
    keys = ("right", "total", "accuracy", "by_style", "wrong", "frames", "method")
    return {"canvas": True, **{key: result[key] for key in keys}}


def peak_memory(folder: Path | None) -> dict[str, Any] | None:
    """The steps' peak resident memory (pipeline/memory.py writes one file per task): the
    largest, which task it was, and each task's, in MiB. The numbers are measurements of the
    last run of each task, so they vary a little from run to run and machine to machine."""
    if folder is None or not Path(folder).is_dir():
        return None
    peaks = {}
    for path in sorted(Path(folder).glob("*.json")):
        record = json.loads(path.read_text())
        peaks[record["task"]] = round(record["peak_rss_kb"] / 1024)
    if not peaks:
        return None
    largest = max(peaks, key=lambda task: peaks[task])
    return {"peak_mib": peaks[largest], "peak_task": largest, "tasks_mib": peaks}


def summary(metrics: dict[str, Any]) -> str:
    accuracy = metrics["accuracy"]
    line = f"  accuracy on {metrics['test_images']} test images: float {accuracy['float']:.2%}, "
    line += f"integer {accuracy['integer']:.2%}"
    if "console" in accuracy:
        line += f", console {accuracy['console']:.2%} ({metrics['console']['mismatches']} mismatches"
        line += f" in {metrics['console']['images']} images)"
    if "teacher" in accuracy:
        line += f"; distillation teacher (not on the cartridge) {accuracy['teacher']:.2%}"
    lines = [
        f"model {metrics['name']}: {'-'.join(map(str, metrics['layers']))}, {metrics['params']} parameters",
        line,
        f"  weight and bias tables: {metrics['weights']['bytes']} bytes",
    ]
    if "drawn" in metrics:
        drawn = ", ".join(f"{name} {entry['accuracy']:.2%}" for name, entry in metrics["drawn"]["variants"].items())
        lines.append(f"  drawn digits (golden model): {drawn}")
    if "paddrawn" in metrics:
        lines.append(paddrawn_line(metrics["paddrawn"]))
    if "inference" in metrics:
        frames = metrics["inference"]["frames"]
        cycles = metrics["inference"]["cycles"]
        lines.append(
            f"  inference on the console: {cycles['mean']:.0f} cycles mean ({frames['mean']:.2f} frames), "
            f"worst {cycles['max']:.0f} ({frames['max']:.2f} frames)"
        )
        if "per_layer" in metrics["inference"]:
            layers = metrics["inference"]["per_layer"]["layers"]
            lines.append("    per layer (frames): " + ", ".join(f"{x['what']} {x['frames_mean']:.2f}" for x in layers))
    elif "rom" in metrics:
        lines.append("  console accuracy and speed: run `doit evaluate`")
    if "rom" in metrics:
        prg, chr_rom = metrics["rom"]["prg"], metrics["rom"]["chr"]
        lines.append(f"  PRG-ROM: {prg['used']} bytes used, {prg['free']} free; CHR-ROM: {chr_rom['free']} free")
    if "memory" in metrics:
        memory = metrics["memory"]
        lines.append(f"  peak memory of the build: {memory['peak_mib']} MiB ({memory['peak_task']})")
    return "\n".join(lines)


def paddrawn_line(pad: dict[str, Any]) -> str:
    if not pad["canvas"]:
        return f"  pad-drawn digits: none ({pad['reason']})"
    line = f"  pad-drawn digits on the console: {pad['right']} of {pad['total']} right"
    line += f" ({', '.join(pad['wrong'])} wrong)" if pad["wrong"] else ""
    frames = pad["frames"]
    return line + f"; the answer {frames['mean']:.1f} frames after the last stroke (worst {frames['max']})"


def run(target: Path, parts: dict[str, Path]) -> None:
    """The `metrics` step (and the end of `evaluate`): write metrics.json, print the summary."""
    print(write(target, parts))


def write(target: Path, parts: dict[str, Path]) -> str:
    metrics = gather(parts)
    write_json(target, metrics)
    text = summary(metrics) + f"\n  metrics: {target}"
    if "rom" in metrics:
        text += f"\n  ROM: {Path(target).parent / (metrics['name'] + '.nes')}"
    return text
