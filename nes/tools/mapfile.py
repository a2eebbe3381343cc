"""ROM budget from an ld65 map file, and readable "memory area overflow" errors.

python -m nes.tools.mapfile build/default/default.map
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

from common import ldcfg

REPORTED_AREAS = ("PRG", "CHR", "ZP", "RAM", "STACKRAM")  # the budget's lines, in this order
AREA_SIZES = {area: ldcfg.memory()[area].size for area in REPORTED_AREAS}  # nrom256.cfg
SEGMENT_AREA = {name: segment.load for name, segment in ldcfg.segments().items()}
PRG_START = ldcfg.memory()["PRG"].start
SHRINK_HINT = (
    "shrink the model: model.hidden or model.layers (fewer or smaller layers, fewer channels), preprocess.size "
    "(7 or 14 instead of 28: fewer inputs), or quantize.* (e.g. quantize.weight_bits)"
)
RAM_HINT = (
    "RAM: every hidden unit takes one byte (nn_act0 holds hidden layers 0, 2.., nn_act1 layers 1, 3..; "
    f"STACKRAM is the low stack page, RAM {ldcfg.memory()['RAM'].span()}): use fewer hidden units (model.hidden); "
    "a CNN's maps take channels x positions bytes, and its widest conv 2 zero-page bytes a channel (4 when pooled): "
    "use fewer channels (model.layers)"
)


@dataclass(frozen=True)
class Segment:
    name: str
    start: int
    end: int
    size: int


def read_segments(path: Path) -> dict[str, Segment]:
    """The 'Segment list:' table of an ld65 map: name, start, end, size, alignment."""
    segments: dict[str, Segment] = {}
    in_list = False
    for line in Path(path).read_text().splitlines():
        if line.startswith("Segment list:"):
            in_list = True
            continue
        if in_list:
            match = re.match(r"^(\w+)\s+([0-9A-F]{6})\s+([0-9A-F]{6})\s+([0-9A-F]{6})", line)
            if match:
                name, start, end, size = match.groups()
                segments[name] = Segment(name, int(start, 16), int(end, 16), int(size, 16))
            elif segments and not line.strip():
                break
    return segments


def budget(path: Path) -> dict[str, dict[str, int]]:
    """Bytes used and free per memory area (PRG, CHR, ZP, RAM, STACKRAM), from the segment sizes.

    PRG 'used' counts the alignment padding before page-aligned segments as used."""
    segments = read_segments(path)
    used: dict[str, int] = {area: 0 for area in AREA_SIZES}
    spans: dict[str, list[int]] = {}
    for seg in segments.values():
        area = SEGMENT_AREA.get(seg.name)
        if area in used:
            used[area] += seg.size
            spans.setdefault(area, []).extend([seg.start, seg.end])
    if "PRG" in spans:  # alignment gaps are lost space too: measure the PRG from its start
        prg = [s for s in segments.values() if SEGMENT_AREA.get(s.name) == "PRG" and s.name != "VECTORS" and s.size]
        used["PRG"] = (max(s.end for s in prg) + 1 - PRG_START if prg else 0) + (6 if "VECTORS" in segments else 0)
    return {
        area: {"used": used[area], "free": AREA_SIZES[area] - used[area], "size": AREA_SIZES[area]}
        for area in AREA_SIZES
    }


PRG_PARTS = {  # what the PRG holds, by segment, for the ROM budget report
    "code": ("CODE", "RODATA", "VECTORS"),
    "multiply_tables": ("SQTABLES",),
    "weights": ("NNWEIGHTS",),
}


def prg_breakdown(path: Path) -> dict[str, int]:
    """PRG bytes by purpose: code, multiply tables, weight and bias tables."""
    segments = read_segments(path)
    return {part: sum(segments[name].size for name in names if name in segments) for part, names in PRG_PARTS.items()}


def overflows(message: str) -> list[tuple[str, str, int]]:
    """(segment, memory area, bytes over) for each overflow ld65 reports."""
    pattern = r"Segment '(\w+)' overflows memory area '(\w+)' by (\d+) bytes?"
    return [(seg, area, int(n)) for seg, area, n in re.findall(pattern, message)]


def explain_link_error(message: str) -> str:
    """Add 'N bytes over in AREA' plus which config keys shrink the model to ld65's error."""
    found = overflows(message)
    if not found and "overflow" not in message.lower():
        return message
    lines = [message, ""]
    for segment, area, over in found:
        lines.append(f"The cartridge does not fit: segment {segment} overflows memory area {area} by {over} bytes.")
    if not found:
        lines.append("The cartridge does not fit: a memory area overflows (see above).")
    if any(area in ("RAM", "STACKRAM", "ZP") for _, area, _ in found):
        lines.append(RAM_HINT)
    lines.append(SHRINK_HINT)
    return "\n".join(lines)


def format_budget(report: dict[str, dict[str, int]]) -> str:
    return "\n".join(
        f"{area:8} {v['used']:6} bytes used, {v['free']:6} free of {v['size']}" for area, v in report.items()
    )


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m nes.tools.mapfile FILE.map", file=sys.stderr)
        return 2
    print(format_budget(budget(Path(args[0]))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
