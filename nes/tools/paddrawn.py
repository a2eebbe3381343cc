"""The `paddrawn` step: the pad-drawn digits (nes/tools/pad_digits.py) drawn on the built ROM.

The test closest to a person at the console: each digit is drawn with the D-pad and A only on
a freshly booted console in cynes, and the answer is the one the screen shows (`ui_winner`,
the big digit). Whatever preprocessing and network the ROM holds, this is what someone
drawing these digits would see. Writes a JSON (each digit's answer, whether it is right, the
frames from the pen leaving the last stroke to the answer on the screen, and the totals) and a
contact sheet for the report: each digit's canvas as the screen shows it, with its name and
the answer, wrong ones framed in red. A ROM built without the canvas (a preprocessing the
console cannot do) gets a JSON and a sheet saying so: there is nothing to draw on.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from common.fsutil import atomic_path, write_json
from nes.tools.budget import support
from nes.tools.pad_digits import PAD_DIGITS, PadDigit, by_name

METHOD = (
    "each digit drawn with the D-pad and A on a freshly booted console (cynes); frames counted from "
    "the frame after the pen leaves the last stroke until the answer's big digit is on the screen"
)
COLUMNS = 10
LABEL_HEIGHT = 24  # pixels under each canvas for its name and the answer
BORDER = 3
WRONG_COLOUR = (220, 40, 40)
RIGHT_COLOUR = (40, 40, 40)


def draw_all(rom: Path, entries: tuple[PadDigit, ...]) -> tuple[list[dict[str, Any]], list[np.ndarray]]:
    """Draw each entry on a fresh console; return one record and the canvas crop per entry."""
    from nes.tools.ui_driver import Ui, canvas_region

    ui = Ui(rom)
    records, crops = [], []
    for entry in entries:
        ui.reset()
        ui.draw(entry.strokes)
        frames = ui.wait_answer()
        answer = ui.byte("ui_winner")
        records.append(
            {
                "name": entry.name,
                "digit": entry.digit,
                "style": entry.style,
                "shape": entry.shape,
                "answer": answer,
                "right": answer == entry.digit,
                "frames": frames,
            }
        )
        crops.append(canvas_region(ui.frame).copy())
    return records, crops


def summary(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Totals over the records: right / total, per style, frames mean and worst."""
    frames = [r["frames"] for r in records]
    styles = list(dict.fromkeys(r["style"] for r in records))  # the set's order: neat, small, large
    return {
        "right": sum(r["right"] for r in records),
        "total": len(records),
        "accuracy": sum(r["right"] for r in records) / len(records) if records else 0.0,
        "by_style": {
            style: {
                "right": sum(r["right"] for r in records if r["style"] == style),
                "total": sum(r["style"] == style for r in records),
            }
            for style in styles
        },
        "wrong": [f"{r['name']} -> {r['answer']}" for r in records if not r["right"]],
        "frames": {"mean": float(np.mean(frames)) if frames else 0.0, "max": max(frames, default=0)},
    }


def contact_sheet(records: list[dict[str, Any]], crops: list[np.ndarray], target: Path) -> None:
    """A grid of the canvases as drawn, COLUMNS a row (the set's order: a style's ten digits make
    a row), each named with its answer and frames; wrong ones framed and labelled in red."""
    from PIL import Image, ImageDraw

    height, width = crops[0].shape[:2]
    cell_w, cell_h = width + 2 * BORDER, height + 2 * BORDER + LABEL_HEIGHT
    columns = min(COLUMNS, len(crops))
    rows = -(-len(crops) // columns)
    sheet = Image.new("RGB", (columns * cell_w, rows * cell_h), "white")
    draw = ImageDraw.Draw(sheet)
    for index, (record, crop) in enumerate(zip(records, crops, strict=True)):
        left, top = (index % columns) * cell_w, (index // columns) * cell_h
        colour = RIGHT_COLOUR if record["right"] else WRONG_COLOUR
        if not record["right"]:
            draw.rectangle([left, top, left + cell_w - 1, top + height + 2 * BORDER - 1], fill=WRONG_COLOUR)
        sheet.paste(Image.fromarray(crop), (left + BORDER, top + BORDER))
        mark = "" if record["right"] else " WRONG"
        text_top = top + height + 2 * BORDER
        draw.text((left + BORDER, text_top), record["name"], fill=RIGHT_COLOUR)
        draw.text((left + BORDER, text_top + 11), f"-> {record['answer']}{mark} ({record['frames']} fr)", fill=colour)
    with atomic_path(target) as tmp:
        sheet.save(tmp, "PNG")


def notice_sheet(text: str, target: Path) -> None:
    """The contact sheet of a ROM without the canvas: one line saying why."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (max(240, 7 * len(text)), 40), "white")
    ImageDraw.Draw(image).text((8, 14), text, fill=RIGHT_COLOUR)
    with atomic_path(target) as tmp:
        image.save(tmp, "PNG")


def run(rom: Path, manifest: Path, target: Path, sheet: Path, names: list[str] | None = None) -> dict[str, Any]:
    """Draw the pad-drawn digits (or only those `names`) on `rom`; write `target` (JSON) and
    `sheet` (PNG); return what was written. Whether the ROM has the canvas is read from its own
    symbols (its .dbg beside it), why not from the manifest, as gen_ui.py decided it."""
    from nes.tools.dbginfo import read_symbols

    rom = Path(rom)
    entries = PAD_DIGITS if names is None else tuple(by_name(name) for name in names)
    base = {"rom_sha256": hashlib.sha256(rom.read_bytes()).hexdigest(), "method": METHOD}
    if not read_symbols(rom.with_suffix(".dbg")).find("canvas"):
        _, why = support(json.loads(Path(manifest).read_text()))
        result = {**base, "canvas": False, "reason": f"the ROM has no drawing canvas: {why}", "digits": []}
        notice_sheet(f"No pad-drawn digits: {result['reason']}", sheet)
        write_json(target, result)
        print(f"paddrawn: {result['reason']}")
        return result
    records, crops = draw_all(rom, entries)
    result = {**base, "canvas": True, **summary(records), "digits": records}
    contact_sheet(records, crops, sheet)
    write_json(target, result)
    print(
        f"paddrawn: {result['right']} of {result['total']} pad-drawn digits right; frames from the last stroke "
        f"to the answer {result['frames']['mean']:.1f} mean, {result['frames']['max']} worst"
        + (f"; wrong: {', '.join(result['wrong'])}" if result["wrong"] else "")
    )
    return result
