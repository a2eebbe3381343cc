"""Run ca65 and ld65 with clear errors, atomic outputs and the project's fixed link order.

assemble(source, obj, include_dirs, bin_dirs)  -> ca65 -g --create-dep
link(objects, rom, config)                      -> ld65 with .dbg, .map and .labels beside the ROM
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from common import ldcfg
from common.errors import BuildError
from common.fsutil import atomic_path

INSTALL_HINT = "install the cc65 suite: apt-get install cc65 (Debian/Ubuntu) or brew install cc65 (macOS)"
NES_DIR = Path(__file__).resolve().parent.parent
SRC_DIR = NES_DIR / "src"
LINK_CONFIG = ldcfg.LINK_CONFIG
# Explicit link order (never doit's %(dependencies)s, whose order is random).
SOURCES = ("header", "init", "nmi", "pads", "main", "ui", "prep", "inference", "network", "chr")
GENERATED = frozenset({"network"})  # assembled from the build folder, not nes/src


class ToolError(BuildError, RuntimeError):
    """A cc65 tool is missing or failed; the message is ready to show to a person."""


@dataclass(frozen=True)
class LinkOutputs:
    rom: Path
    dbg: Path
    map: Path
    labels: Path

    @classmethod
    def beside(cls, rom: Path) -> LinkOutputs:
        rom = Path(rom)
        return cls(rom, rom.with_suffix(".dbg"), rom.with_suffix(".map"), rom.with_suffix(".labels"))


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise ToolError(f"{name} not found on PATH; {INSTALL_HINT}")
    return path


def _run(command: list[str], what: str) -> str:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    output = (result.stdout + result.stderr).strip()
    if result.returncode != 0:
        raise ToolError(f"{what} failed (exit {result.returncode}):\n{output}\ncommand: {' '.join(command)}")
    return output


def objects(obj_dir: Path) -> list[Path]:
    """The object files, one per source, in link order."""
    return [obj_dir / f"{source}.o" for source in SOURCES]


def source_path(name: str, gen_dir: Path) -> Path:
    return (Path(gen_dir) if name in GENERATED else SRC_DIR) / f"{name}.s"


def assemble(source: Path, obj: Path, include_dirs: list[Path], bin_dirs: list[Path] = ()) -> Path:
    """ca65 -g --create-dep: the object, plus obj.d listing every .include/.incbin it read."""
    ca65 = tool("ca65")
    obj = Path(obj)
    with ExitStack() as stack:
        tmp_obj = stack.enter_context(atomic_path(obj))
        tmp_dep = stack.enter_context(atomic_path(obj.with_suffix(".d")))
        command = [ca65, "-g", "--create-dep", str(tmp_dep), "-o", str(tmp_obj)]
        for folder in include_dirs:
            command += ["-I", str(folder)]
        for folder in bin_dirs:
            command += ["--bin-include-dir", str(folder)]
        command.append(str(source))
        _run(command, f"ca65 {Path(source).name}")
        tmp_dep.write_text(tmp_dep.read_text().replace(str(tmp_obj), str(obj)))  # name the real object
    return obj


def read_depfile(path: Path) -> list[Path]:
    """The files a ca65 --create-dep file lists (make syntax: `obj: dep dep ...`)."""
    text = Path(path).read_text().replace("\\\n", " ")
    deps: list[Path] = []
    for line in text.splitlines():
        if ":" in line:
            deps += [Path(word) for word in line.split(":", 1)[1].split()]
    return deps


def link(objects: list[Path], rom: Path, config: Path = LINK_CONFIG) -> LinkOutputs:
    """ld65 in the given object order; ROM, .dbg, .map and .labels appear together or not at all."""
    from nes.tools.mapfile import explain_link_error

    ld65 = tool("ld65")
    outputs = LinkOutputs.beside(rom)
    with ExitStack() as stack:
        tmp = [stack.enter_context(atomic_path(p)) for p in (outputs.rom, outputs.dbg, outputs.map, outputs.labels)]
        command = [
            ld65,
            "-C",
            str(config),
            "-o",
            str(tmp[0]),
            "--dbgfile",
            str(tmp[1]),
            "-m",
            str(tmp[2]),
            "-Ln",
            str(tmp[3]),
            *map(str, objects),
        ]
        try:
            output = _run(command, "ld65")
        except ToolError as error:
            raise ToolError(explain_link_error(str(error))) from None
    if output:  # warnings only: show them, a warning here usually means a real bug
        print(output, file=sys.stderr)
    return outputs
