"""The ld65 linker config (nes/nrom256.cfg) as data: the one place the cartridge's sizes are written.

    memory()["PRG"].size        -> 0x8000
    segments()["BSS"].load      -> "RAM"
    area_of("STACKBSS")         -> Area("STACKRAM", start=0x100, size=0xC0, ...)

Reads the MEMORY and SEGMENTS blocks only (`NAME: key = value, ...;` with `#` comments), which
is all nrom256.cfg uses. Light: no numpy, safe to import from dodo.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

LINK_CONFIG = Path(__file__).resolve().parent.parent / "nes" / "nrom256.cfg"


class LinkConfigError(ValueError):
    """The linker config cannot be read as MEMORY/SEGMENTS blocks."""


@dataclass(frozen=True)
class Area:
    """A MEMORY area: start address, size in bytes, and its other attributes as written."""

    name: str
    start: int
    size: int
    attrs: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def end(self) -> int:
        """The last address in the area."""
        return self.start + self.size - 1

    def span(self) -> str:
        """'$0300-$07FF'."""
        return f"${self.start:04X}-${self.end:04X}"


@dataclass(frozen=True)
class Segment:
    """A SEGMENTS entry: the memory area it loads into, and its other attributes as written."""

    name: str
    load: str
    attrs: dict[str, str] = field(default_factory=dict, compare=False)


def _number(text: str) -> int:
    text = text.strip()
    if text.startswith("$"):
        return int(text[1:], 16)
    if text.lower().startswith("0x"):
        return int(text[2:], 16)
    return int(text)


def _blocks(text: str) -> dict[str, dict[str, dict[str, str]]]:
    """{block: {entry: {key: value}}} for every `BLOCK { NAME: k = v, ...; ... }` in the text."""
    text = re.sub(r"#[^\n]*", "", text)
    blocks: dict[str, dict[str, dict[str, str]]] = {}
    for block, body in re.findall(r"(\w+)\s*\{([^}]*)\}", text):
        entries: dict[str, dict[str, str]] = {}
        for statement in body.split(";"):
            if not statement.strip():
                continue
            name, sep, rest = statement.partition(":")
            if not sep:
                raise LinkConfigError(f"{block}: cannot read {statement.strip()!r}")
            attrs = {}
            for pair in rest.split(","):
                key, eq, value = pair.partition("=")
                if not eq:
                    raise LinkConfigError(f"{block} {name.strip()}: cannot read {pair.strip()!r}")
                attrs[key.strip().lower()] = value.strip()
            entries[name.strip()] = attrs
        blocks[block.upper()] = entries
    return blocks


@cache
def read(path: Path = LINK_CONFIG) -> tuple[dict[str, Area], dict[str, Segment]]:
    """The MEMORY areas and SEGMENTS of an ld65 config, in file order."""
    blocks = _blocks(Path(path).read_text())
    if "MEMORY" not in blocks or "SEGMENTS" not in blocks:
        raise LinkConfigError(f"{path}: no MEMORY or SEGMENTS block")
    areas = {
        name: Area(name, _number(attrs["start"]), _number(attrs["size"]), attrs)
        for name, attrs in blocks["MEMORY"].items()
    }
    segments = {name: Segment(name, attrs["load"], attrs) for name, attrs in blocks["SEGMENTS"].items()}
    unknown = sorted({s.load for s in segments.values()} - set(areas))
    if unknown:
        raise LinkConfigError(f"{path}: segments load into undefined memory areas {unknown}")
    return areas, segments


def memory(path: Path = LINK_CONFIG) -> dict[str, Area]:
    return read(Path(path))[0]


def segments(path: Path = LINK_CONFIG) -> dict[str, Segment]:
    return read(Path(path))[1]


def area_of(segment: str, path: Path = LINK_CONFIG) -> Area:
    """The memory area a segment loads into."""
    return memory(path)[segments(path)[segment].load]
