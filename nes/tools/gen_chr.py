"""A placeholder 8 KiB CHR-ROM: tile 0 blank, the digits 0-9 at tiles $10-$19 (a 3x5 font,
each font pixel 2x1 screen pixels). A later tool builds
real tiles from PNGs with Pillow; the link takes whatever chr.bin the build supplies.

    python -m nes.tools.gen_chr OUT.bin
"""

from __future__ import annotations

import sys
from pathlib import Path

from training.fsutil import write_bytes

CHR_SIZE = 8192
DIGIT_TILE0 = 0x10
FONT = {  # 3x5, rows top to bottom
    0: ["###", "#.#", "#.#", "#.#", "###"],
    1: [".#.", "##.", ".#.", ".#.", "###"],
    2: ["###", "..#", "###", "#..", "###"],
    3: ["###", "..#", "###", "..#", "###"],
    4: ["#.#", "#.#", "###", "..#", "..#"],
    5: ["###", "#..", "###", "..#", "###"],
    6: ["###", "#..", "###", "#.#", "###"],
    7: ["###", "..#", "..#", "..#", "..#"],
    8: ["###", "#.#", "###", "#.#", "###"],
    9: ["###", "#.#", "###", "..#", "###"],
}


def tile(rows: list[str]) -> bytes:
    """An 8x8 2-bpp tile in colour 3: each font pixel 2 wide, rows at y = 1..5."""
    plane = [0] * 8
    for y, row in enumerate(rows):
        bits = 0
        for x, cell in enumerate(row):
            if cell == "#":
                bits |= 0b11 << (6 - 2 * x)
        plane[y + 1] = bits
    return bytes(plane + plane)  # both bit planes: colour 3


def build() -> bytes:
    chr_rom = bytearray(CHR_SIZE)
    for digit, rows in FONT.items():
        start = (DIGIT_TILE0 + digit) * 16
        chr_rom[start : start + 16] = tile(rows)
    return bytes(chr_rom)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m nes.tools.gen_chr OUT.bin", file=sys.stderr)
        return 2
    write_bytes(Path(args[0]), build())
    return 0


if __name__ == "__main__":
    sys.exit(main())
