"""The cartridge's files: what each ca65 source reads, the templates and what the generators
write into gen/, the CHR art (the sources themselves and their link order: cc65.py). dodo.py's
NES tasks declare them from here. Light imports only: dodo loads this module on every `doit
list`, so no numpy, no cynes here."""

from __future__ import annotations

from pathlib import Path

from common.layout import CHR_INC, NETWORK_INC, NETWORK_S, UI_INC, bias_file, rom_weights_name
from nes.tools import cc65

NES_DIR = cc65.NES_DIR
REPO = NES_DIR.parent
SRC = cc65.SRC_DIR
GLOBAL_INC = SRC / "global.inc"  # every hand-written source includes it (cross-file symbols, shared constants)
PLAIN_INCLUDES = {  # what each hand-written source .include/.incbin's from nes/src (see ca65 --create-dep)
    "header": [GLOBAL_INC],
    "init": [SRC / "nes.inc", GLOBAL_INC],
    "nmi": [SRC / "nes.inc", GLOBAL_INC],
    "pads": [SRC / "nes.inc", GLOBAL_INC],
    "main": [SRC / "nes.inc", GLOBAL_INC, SRC / "wait_frame.inc"],
    "ui": [SRC / "nes.inc", GLOBAL_INC],
    "prep": [GLOBAL_INC],
    "inference": [GLOBAL_INC, SRC / "conv.inc", SRC / "conv_vars.inc", SRC / "nibble_tables.inc"],
    "chr": [GLOBAL_INC],
}
TEMPLATES = NES_DIR / "templates"
INC_TEMPLATE = TEMPLATES / "network.inc.tmpl"
ASM_TEMPLATE = TEMPLATES / "network.s.tmpl"
GEN_INCLUDES = {  # includes from the build folder (gen/): ui.inc (gen_ui), chr.inc (gen_chr), network.inc
    "ui": [UI_INC, CHR_INC, NETWORK_INC],
    "prep": [UI_INC],
    "inference": [NETWORK_INC],
}


def in_repo(path: Path) -> Path:
    """`path` relative to the repository when it lies inside it (doit runs tasks from there),
    so a build state restored into another checkout stays up to date."""
    path = Path(path)
    if path.is_absolute() and path.is_relative_to(REPO):
        return path.relative_to(REPO)
    return path


LINK_CONFIG = in_repo(cc65.LINK_CONFIG)


def network_inputs() -> list[Path]:
    """What gen_network reads besides the manifest, the tables and its code (derived from its
    imports): the templates it fills in and the linker config (the PRG and RAM it plans for)."""
    return [in_repo(p) for p in (INC_TEMPLATE, ASM_TEMPLATE, cc65.LINK_CONFIG)]


def art_files() -> list[Path]:
    """The CHR source PNGs, relative to the repository (like every file_dep on code), so a restored
    build in another checkout stays up to date."""
    from nes.tools.gen_chr import ART_FILES

    return [Path("nes") / "art" / name for name in ART_FILES]


def network_outputs(gen_dir: Path, layer_count: int) -> list[Path]:
    """Every file gen_network writes."""
    return [gen_dir / NETWORK_INC, gen_dir / NETWORK_S, *(gen_dir / rom_weights_name(i) for i in range(layer_count))]


def source_deps(source: str, gen_dir: Path, chr_file: Path, export_dir: Path, layer_count: int) -> list[Path]:
    """The files one object is assembled from: the source and everything it includes."""
    deps = [cc65.source_path(source, gen_dir)]
    deps += [gen_dir / name for name in GEN_INCLUDES.get(source, [])]
    deps += PLAIN_INCLUDES.get(source, [])
    if source == "network":
        deps += [gen_dir / rom_weights_name(i) for i in range(layer_count)]
        deps += [export_dir / bias_file(i) for i in range(layer_count)]
    elif source == "chr":
        deps.append(chr_file)
    return [in_repo(dep) for dep in deps]
