"""Paths and dependency lists for dodo.py's NES tasks. Light imports only: dodo loads this
module on every `doit list`, so no numpy, no cynes here."""

from __future__ import annotations

from pathlib import Path

from nes.tools import cc65
from nes.tools.gen_network import ASM_TEMPLATE, INC_TEMPLATE, outputs_for, rom_weights_name
from training.actions import clean_failure

NES_DIR = cc65.NES_DIR
REPO = NES_DIR.parent
TOOLS = NES_DIR / "tools"
SRC = cc65.SRC_DIR
SOURCES = cc65.SOURCES
GLOBAL_INC = SRC / "global.inc"  # every hand-written source includes it (cross-file symbols, shared constants)
PLAIN_INCLUDES = {  # what each hand-written source .include/.incbin's from nes/src (see ca65 --create-dep)
    "header": [GLOBAL_INC],
    "init": [SRC / "nes.inc", GLOBAL_INC],
    "nmi": [SRC / "nes.inc", GLOBAL_INC],
    "pads": [SRC / "nes.inc", GLOBAL_INC],
    "main": [SRC / "nes.inc", GLOBAL_INC],
    "ui": [SRC / "nes.inc", GLOBAL_INC],
    "prep": [GLOBAL_INC],
    "inference": [GLOBAL_INC],
    "chr": [GLOBAL_INC],
}
GEN_INCLUDES = {  # includes from the build folder (gen/): ui.inc (gen_ui), chr.inc (gen_chr), network.inc
    "ui": ["ui.inc", "chr.inc", "network.inc"],
    "prep": ["ui.inc"],
    "inference": ["network.inc"],
}


def in_repo(path: Path) -> Path:
    """`path` relative to the repository when it lies inside it (doit runs tasks from there),
    so a build state restored into another checkout stays up to date."""
    path = Path(path)
    if path.is_absolute() and path.is_relative_to(REPO):
        return path.relative_to(REPO)
    return path


LINK_CONFIG = in_repo(cc65.LINK_CONFIG)


def generator_inputs() -> list[Path]:
    """What gen_network.py reads besides the manifest: its code (the planner, the RAM budget,
    the linker config parser and the layout they import), the templates and nrom256.cfg."""
    code = ("gen_network.py", "plan.py", "budget.py", "ldcfg.py", "screen.py")
    return [in_repo(p) for p in (*(TOOLS / name for name in code), INC_TEMPLATE, ASM_TEMPLATE, cc65.LINK_CONFIG)]


def ui_generator_inputs() -> list[Path]:
    """What gen_ui.py reads besides the manifest and the ui settings (for task_nes_ui's file_dep)."""
    code = ("gen_ui.py", "budget.py", "ldcfg.py", "screen.py")
    return [in_repo(p) for p in (*(TOOLS / name for name in code), cc65.LINK_CONFIG)]


def art_files() -> list[Path]:
    """The CHR source PNGs, relative to the repository (like dodo's code()), so a restored
    build in another checkout stays up to date."""
    from nes.tools.gen_chr import ART_FILES

    return [Path("nes") / "art" / name for name in ART_FILES]


def generated(gen_dir: Path, layer_count: int) -> list[Path]:
    return outputs_for(gen_dir, layer_count)


def source_deps(source: str, gen_dir: Path, chr_file: Path, export_dir: Path, layer_count: int) -> list[Path]:
    """The files one object is assembled from: the source and everything it includes."""
    deps = [cc65.source_path(source, gen_dir)]
    deps += [gen_dir / name for name in GEN_INCLUDES.get(source, [])]
    deps += PLAIN_INCLUDES.get(source, [])
    if source == "network":
        deps += [gen_dir / rom_weights_name(i) for i in range(layer_count)]
        deps += [export_dir / f"layer{i}_bias.bin" for i in range(layer_count)]
    elif source == "chr":
        deps.append(chr_file)
    return [in_repo(dep) for dep in deps]


def objects(obj_dir: Path) -> list[Path]:
    """Object files in link order."""
    return [obj_dir / f"{source}.o" for source in SOURCES]


@clean_failure
def assemble_action(source: str, obj: Path, gen_dir: Path, chr_file: Path, declared: list[Path]) -> None:
    """ca65, then check that the includes it reports are all declared as the task's file_dep."""
    cc65.assemble(cc65.source_path(source, gen_dir), obj, [SRC, gen_dir], [chr_file.parent])
    used = {p.resolve() for p in cc65.read_depfile(obj.with_suffix(".d"))}
    missing = used - {Path(p).resolve() for p in declared}
    if missing:
        raise cc65.ToolError(
            f"{source}.s reads undeclared files {sorted(map(str, missing))}: "
            "add them to nes/tools/tasks.py (source_deps)"
        )


@clean_failure
def link_action(obj_dir: Path, rom: Path, budget_json: Path) -> None:
    """Link, then write the ROM budget (areas used/free and what the PRG holds) as JSON."""
    import hashlib

    from nes.tools.mapfile import budget, format_budget, prg_breakdown
    from training.fsutil import write_json

    outputs = cc65.link(objects(obj_dir), rom)
    areas = budget(outputs.map)
    report = {
        **{area.lower(): values for area, values in areas.items()},
        "prg_parts": prg_breakdown(outputs.map),
        "sha256": hashlib.sha256(rom.read_bytes()).hexdigest(),
    }
    write_json(budget_json, report)
    print(f"{rom}:\n{format_budget(areas)}")
