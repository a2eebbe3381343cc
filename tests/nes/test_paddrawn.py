"""The `paddrawn` step (nes/tools/paddrawn.py): the pad-drawn digits on a ROM, the JSON and the
contact sheet it writes, the summary in metrics.json, and a ROM without the canvas."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from PIL import Image

from common import layout
from nes.tools import paddrawn
from nes.tools.pad_digits import PAD_DIGITS
from nes.tools.screen import CANVAS_SIDE, CELL
from tests.conftest import TinyBuild
from tests.nes.builds import LayerSpec, build_rom, write_network

NAMES = ["1 neat", "7 small"]


def test_run_writes_the_answers_and_the_contact_sheet(tiny_build: TinyBuild, tmp_path: Path) -> None:
    rom = tiny_build.out / "tiny.nes"
    target, sheet = tmp_path / layout.PADDRAWN, tmp_path / "report" / layout.PADDRAWN_SHEET
    returned = paddrawn.run(rom, tiny_build.out / "export" / layout.MANIFEST, target, sheet, NAMES)
    result = json.loads(target.read_text())
    assert result == returned
    assert result["canvas"] and result["rom_sha256"] == hashlib.sha256(rom.read_bytes()).hexdigest()
    assert [entry["name"] for entry in result["digits"]] == NAMES
    for entry in result["digits"]:
        assert 0 <= entry["answer"] <= 9 and entry["right"] == (entry["answer"] == entry["digit"])
        assert 0 < entry["frames"] <= 60
    assert result["total"] == 2 and result["right"] == sum(entry["right"] for entry in result["digits"])
    assert result["frames"]["max"] == max(entry["frames"] for entry in result["digits"])
    assert len(result["wrong"]) == 2 - result["right"]
    with Image.open(sheet) as image:
        assert image.format == "PNG"
        assert image.width == 2 * (CANVAS_SIDE * CELL + 2 * paddrawn.BORDER)
        assert image.height == CANVAS_SIDE * CELL + 2 * paddrawn.BORDER + paddrawn.LABEL_HEIGHT


def test_the_build_draws_the_whole_set_and_sums_it_up(tiny_build: TinyBuild) -> None:
    """Part of every build: paddrawn.json, the sheet, and the summary in metrics.json."""
    result = json.loads((tiny_build.out / layout.PADDRAWN).read_text())
    assert result["total"] == len(PAD_DIGITS) == len(result["digits"])
    assert (tiny_build.out / "report" / layout.PADDRAWN_SHEET).stat().st_size > 0
    metrics = json.loads((tiny_build.out / layout.METRICS).read_text())
    summary = metrics["paddrawn"]
    assert {key: summary[key] for key in ("right", "total", "frames", "wrong")} == {
        key: result[key] for key in ("right", "total", "frames", "wrong")
    }
    assert metrics["accuracy"]["paddrawn"] == result["accuracy"]
    assert "pad-drawn digits on the console" in tiny_build.first_run.outputs["metrics"]


def test_a_rom_without_the_canvas_says_so(tmp_path: Path) -> None:
    """A network the canvas cannot feed (bilinear input) gets a ROM without it: nothing to draw
    on, and the step says why instead of failing."""
    export = write_network(tmp_path / "export", [LayerSpec(49, 10, 16, None)], 255, seed=3)
    manifest_path = export / layout.MANIFEST
    manifest = json.loads(manifest_path.read_text())
    manifest["input"].update(size=7, levels=256, resize="bilinear", deskew=False, center=False, shift=0)
    manifest_path.write_text(json.dumps(manifest))
    rom = build_rom(manifest_path, tmp_path / "nes", name="plain").rom
    target, sheet = tmp_path / layout.PADDRAWN, tmp_path / layout.PADDRAWN_SHEET
    paddrawn.run(rom, manifest_path, target, sheet)
    result = json.loads(target.read_text())
    assert result["canvas"] is False and result["digits"] == []
    assert "no drawing canvas" in result["reason"] and "bilinear" in result["reason"]
    with Image.open(sheet) as image:
        assert image.format == "PNG"
