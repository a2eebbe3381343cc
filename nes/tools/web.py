"""The `web` step: the browser playground, a static page that runs the build's ROM in jsnes.

    build/<name>/web/
      index.html, playground.js, playground.css   copied from web/ (the page's sources)
      jsnes.min.js                                 the pinned jsnes (web/package-lock.json), from web/node_modules
      rom.js                                       GENERATED: the ROM (base64) and what the page must know of it
      <name>.nes                                   the same ROM, for the download link

rom.js is a plain script (`window.NES_MNIST = {...}`), not JSON fetched at run time, so the
page also works opened from `file://`, where browsers refuse `fetch`. Nothing in it is typed
by hand: RAM addresses and sizes come from the ld65 .dbg file, the canvas packing from
nes/tools/canvas.py, the screen layout from nes/tools/screen.py, the brush from common/brush.py
and the input and score scale from the manifest the network was exported with.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

from common import brush
from common.errors import BuildError
from common.fsutil import write_bytes, write_text
from nes.tools import canvas, screen
from nes.tools.dbginfo import Symbols, read_symbols

SOURCE_DIR = Path(__file__).resolve().parents[2] / "web"
PAGE_FILES = ("index.html", "playground.js", "playground.css")
PACKAGE_LOCK = SOURCE_DIR / "package-lock.json"
JSNES_DIST = Path("node_modules") / "jsnes" / "dist" / "jsnes.min.js"
ROM_SCRIPT = "rom.js"
GLOBAL_NAME = "NES_MNIST"

RAM_SYMBOLS = (
    "nn_input", "nn_scores", "nn_digit", "nn_state", "nn_frames", "nn_runs",
    "ui_winner", "ui_have", "ui_classified", "ui_dirty", "ui_quiet", "ui_go", "ui_clears",
    "cur_x", "cur_y", "row_dirty", canvas.SYMBOL,
)  # fmt: skip
"""The RAM the page reads or writes (absent ones, e.g. the canvas of a ROM without it, are left out)."""
STATE_VALUES = ("NN_IDLE", "NN_REQUEST", "NN_BUSY", "NN_DONE")


def pinned_jsnes(lock: Path = PACKAGE_LOCK) -> str:
    """The jsnes version web/package-lock.json pins."""
    return json.loads(lock.read_text())["packages"]["node_modules/jsnes"]["version"]


def installed_jsnes(source_dir: Path = SOURCE_DIR) -> Path:
    """web/node_modules' jsnes.min.js, checked to be the pinned version."""
    install_hint = "run `npm ci --prefix web` (or `bash .ci/run install`)"
    package = source_dir / "node_modules" / "jsnes" / "package.json"
    if not package.exists():
        raise BuildError(f"jsnes is not installed in {source_dir / 'node_modules'}: {install_hint}")
    installed, pinned = json.loads(package.read_text())["version"], pinned_jsnes(source_dir / "package-lock.json")
    if installed != pinned:
        raise BuildError(f"jsnes {installed} is installed, web/package-lock.json pins {pinned}: {install_hint}")
    return source_dir / JSNES_DIST


def ram(symbols: Symbols) -> dict[str, dict[str, int]]:
    """Each RAM symbol the page uses that the ROM has: its address and size in bytes."""
    found = {}
    for name in RAM_SYMBOLS:
        try:
            address = symbols.address(name)
        except KeyError:
            continue
        found[name] = {"address": address, "size": symbols.size(name) or 1}
    return found


def rom_info(rom: Path, symbols: Symbols, manifest: dict[str, Any]) -> dict[str, Any]:
    """What the page needs to know of this ROM, as JSON-able values."""
    data = rom.read_bytes()
    cells = ram(symbols)
    inp = manifest.get("input", {})
    levels = int(inp.get("levels", 3))
    layers = manifest.get("layers", [])
    scale = (layers[-1].get("quantization") or {}).get("accumulator_scale") if layers else None
    size = int(inp.get("size", 0))
    count = cells["nn_input"]["size"]
    return {
        "name": rom.stem,
        "file": rom.name,
        "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "ram": cells,
        "state": {name: symbols.address(name) for name in STATE_VALUES},
        "has_canvas": canvas.SYMBOL in cells,
        "canvas": {
            "side": screen.CANVAS_SIDE,
            "bits": canvas.BITS,
            "cells_per_byte": canvas.CELLS_PER_BYTE,
            "row_bytes": canvas.ROW_BYTES,
            "bytes": canvas.BYTES,
            "levels": levels,
            "cell_px": screen.CELL,
            "left_px": screen.CANVAS_PX,
            "top_px": screen.CANVAS_PY,
            "cursor_max": screen.CANVAS_SIDE - brush.SPAN,
            "tile_cells": 2,  # a canvas tile row is 2 cell rows (row_dirty has one flag a tile row)
        },
        "brush": [{"dy": dy, "dx": dx, "level": level} for dy, dx, level in brush.cells(levels)],
        "input": {
            "count": count,
            "side": size if size * size == count else None,
            "max": int(inp.get("max", 255)),
        },
        "scores": {
            "count": 10,
            "bytes_each": cells["nn_scores"]["size"] // 10,
            "scale": scale,  # one score unit in logits (None: unknown, the page shows raw scores)
        },
        "rom_base64": base64.b64encode(data).decode("ascii"),
    }


def rom_script(info: dict[str, Any]) -> str:
    return (
        "// GENERATED by nes/tools/web.py (`doit web`) from the build's ROM, .dbg and manifest. Do not edit.\n"
        f"window.{GLOBAL_NAME} = {json.dumps(info, indent=1)};\n"
    )


def build(rom: Path, dbg: Path, manifest: Path, out_dir: Path, source_dir: Path = SOURCE_DIR) -> Path:
    """Write the page into `out_dir`; return its index.html."""
    jsnes = installed_jsnes(source_dir)
    info = rom_info(rom, read_symbols(dbg), json.loads(manifest.read_text()))
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in PAGE_FILES:
        shutil.copyfile(source_dir / name, out_dir / name)
    shutil.copyfile(jsnes, out_dir / jsnes.name)
    write_bytes(out_dir / rom.name, rom.read_bytes())
    write_text(out_dir / ROM_SCRIPT, rom_script(info))
    return out_dir / "index.html"


def outputs(out_dir: Path, rom_name: str) -> list[Path]:
    """Every file `build` writes (the task's targets)."""
    return [*(out_dir / name for name in PAGE_FILES), out_dir / JSNES_DIST.name, out_dir / rom_name,
            out_dir / ROM_SCRIPT]


def sources(source_dir: Path = SOURCE_DIR) -> list[Path]:
    """The page's sources in the repository (the task's file_dep besides the build's files)."""
    return [*(source_dir / name for name in PAGE_FILES), source_dir / "package-lock.json"]


def run(rom: Path, dbg: Path, manifest: Path, out_dir: Path) -> None:
    page = build(Path(rom), Path(dbg), Path(manifest), Path(out_dir))
    print(f"web: {page} (serve it: python3 -m http.server -d {page.parent}; or open it as a file)")
