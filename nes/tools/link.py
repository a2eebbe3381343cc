"""The `rom` step: link the objects in their fixed order with ld65, then write the ROM budget
(areas used and free, what the PRG holds, the ROM's SHA-256) as JSON and print it."""

from __future__ import annotations

import hashlib
from pathlib import Path

from common.fsutil import write_json
from nes.tools import cc65
from nes.tools.mapfile import budget, format_budget, prg_breakdown


def run(obj_dir: Path, rom: Path, budget_json: Path) -> cc65.LinkOutputs:
    """Link `obj_dir`'s objects into `rom` (+ .dbg/.map/.labels) and write `budget_json`."""
    outputs = cc65.link(cc65.objects(obj_dir), rom)
    areas = budget(outputs.map)
    report = {
        **{area.lower(): values for area, values in areas.items()},
        "prg_parts": prg_breakdown(outputs.map),
        "sha256": hashlib.sha256(rom.read_bytes()).hexdigest(),
    }
    write_json(budget_json, report)
    print(f"{rom}:\n{format_budget(areas)}")
    return outputs
