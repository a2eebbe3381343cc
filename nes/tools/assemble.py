"""The `nes_asm:<source>` step: assemble one ca65 source, and prove its task declared every
file the assembler read (ca65 --create-dep), so no include can go stale unseen."""

from __future__ import annotations

from pathlib import Path

from nes.tools import cc65


def run(source: str, obj: Path, gen_dir: Path, chr_file: Path, declared: list[Path]) -> None:
    """ca65 `source` into `obj`, then check the files it read against `declared`."""
    cc65.assemble(cc65.source_path(source, gen_dir), obj, [cc65.SRC_DIR, gen_dir], [chr_file.parent])
    used = {p.resolve() for p in cc65.read_depfile(obj.with_suffix(".d"))}
    missing = used - {Path(p).resolve() for p in declared}
    if missing:
        raise cc65.ToolError(
            f"{source}.s reads undeclared files {sorted(map(str, missing))}: "
            "add them to nes/tools/files.py (source_deps)"
        )
