"""Build the 8 KiB CHR-ROM from indexed PNGs (nes/art/) plus tiles generated from rules.

    python -m nes.tools.gen_chr OUT_DIR [ART_DIR]

Writes OUT_DIR/chr.bin (8 KiB: the background/sprite pattern table at $0000, the second
table left blank) and OUT_DIR/chr.inc (tile numbers and the big-digit tile maps, for ca65).

Source art (edit it in any pixel editor that keeps indexed PNGs; pixel values 0..3 are the
colours of a 4-colour NES palette):
- font.png       128x32: ASCII $20-$5F, 16 per row, 8x8 each -> tile = ASCII code
- bigdigits.png  60x10: the digits 0-9 as 6x10 glyphs (non-zero = ink); drawn on screen with
                 the 16 quadrant tiles below, each glyph pixel 4x4 screen pixels (3x5 tiles)
- border.png     64x8: canvas frame tiles TL, T, TR, L, R, BL, B, BR
- cursor.png     8x8: the cursor sprite

Rule tiles: the 81 canvas tiles (2x2 cells of 4x4 pixels, 3 shades each), 9+9 confidence
bar fills (0..8 pixel columns; normal and winner colours), 16 big-digit quadrant tiles.
"""

from __future__ import annotations

import sys
from pathlib import Path

from common.fsutil import write_bytes, write_text
from common.layout import CHR_BIN, CHR_INC

CHR_SIZE = 8192
ART_DIR = Path(__file__).resolve().parent.parent / "art"
ART_FILES = ("font.png", "bigdigits.png", "border.png", "cursor.png")

TILE_BLANK = 0x00
FONT_FIRST = 0x20  # ASCII $20..$5F map to tiles $20..$5F: ca65 strings are tile numbers
FONT_COUNT = 64
BAR0 = 0x60  # bar fill k = 0..8 pixel columns, colour 2
BAR_WIN0 = 0x69  # the same fills in colour 1 (the winner's highlight colour)
BAR_STEPS = 9
CANVAS0 = 0x80  # 81 tiles: CANVAS0 + 27*TL + 9*TR + 3*BL + BR, shades 0..2
CANVAS_SHADES = 3
QUAD0 = 0xE0  # 16 big-digit tiles: bit 3 TL, 2 TR, 1 BL, 0 BR quadrant in colour 1
BORDER0 = 0xF0  # TL, T, TR, L, R, BL, B, BR
CURSOR = 0xF8
SHADE_COLOUR = (0, 2, 3)  # canvas shade -> palette colour (0 background, 2 mid grey, 3 ink)
BIG_W, BIG_H = 6, 10  # big digit glyph in glyph pixels (2x2 per tile)


class ArtError(ValueError):
    """A source PNG has the wrong size or mode; the message names the file."""


def encode(pixels: list[list[int]]) -> bytes:
    """An 8x8 tile of colours 0..3 -> 16 bytes (plane 0 then plane 1)."""
    low = bytearray(8)
    high = bytearray(8)
    for y, row in enumerate(pixels):
        for x, colour in enumerate(row):
            bit = 0x80 >> x
            if colour & 1:
                low[y] |= bit
            if colour & 2:
                high[y] |= bit
    return bytes(low + high)


def load_png(path: Path, size: tuple[int, int]) -> list[list[int]]:
    from PIL import Image

    with Image.open(path) as image:
        if image.mode != "P":
            raise ArtError(f"{path}: must be an indexed (palette) PNG, got mode {image.mode}")
        if image.size != size:
            raise ArtError(f"{path}: must be {size[0]}x{size[1]} pixels, got {image.size[0]}x{image.size[1]}")
        width = image.size[0]
        flat = list(image.tobytes())
    rows = [flat[y * width : (y + 1) * width] for y in range(size[1])]
    if any(v > 3 for row in rows for v in row):
        raise ArtError(f"{path}: pixel values must be 0..3 (the four colours of an NES palette)")
    return rows


def cut(rows: list[list[int]], tx: int, ty: int) -> list[list[int]]:
    return [row[tx * 8 : tx * 8 + 8] for row in rows[ty * 8 : ty * 8 + 8]]


CANVAS_PLACES = (27, 9, 3, 1)  # a canvas tile's number: CANVAS0 + 27 TL + 9 TR + 3 BL + BR (shades 0..2)


def canvas_tile(index: int) -> list[list[int]]:
    shades = [(index // place) % CANVAS_SHADES for place in CANVAS_PLACES]  # TL TR BL BR
    return [[SHADE_COLOUR[shades[(y // 4) * 2 + x // 4]] for x in range(8)] for y in range(8)]


def bar_tile(fill: int, colour: int) -> list[list[int]]:
    return [[colour if 1 <= y <= 6 and x < fill else 0 for x in range(8)] for y in range(8)]


def quad_tile(bits: int) -> list[list[int]]:
    quads = [(bits >> 3) & 1, (bits >> 2) & 1, (bits >> 1) & 1, bits & 1]
    return [[1 if quads[(y // 4) * 2 + x // 4] else 0 for x in range(8)] for y in range(8)]


def big_digit_maps(glyphs: list[list[int]]) -> list[list[int]]:
    """Per digit, 3x5 quadrant tile numbers (row-major) drawing its 6x10 glyph."""
    maps = []
    for digit in range(10):
        tiles = []
        for ty in range(BIG_H // 2):
            for tx in range(BIG_W // 2):
                bits = 0
                for k, (dy, dx) in enumerate(((0, 0), (0, 1), (1, 0), (1, 1))):
                    if glyphs[ty * 2 + dy][digit * BIG_W + tx * 2 + dx]:
                        bits |= 8 >> k
                tiles.append(QUAD0 + bits)
        maps.append(tiles)
    return maps


def build(art_dir: Path = ART_DIR) -> tuple[bytes, str]:
    chr_rom = bytearray(CHR_SIZE)

    def put(tile: int, pixels: list[list[int]]) -> None:
        chr_rom[tile * 16 : tile * 16 + 16] = encode(pixels)

    font = load_png(art_dir / "font.png", (128, 32))
    for k in range(FONT_COUNT):
        put(FONT_FIRST + k, cut(font, k % 16, k // 16))
    for fill in range(BAR_STEPS):
        put(BAR0 + fill, bar_tile(fill, 2))
        put(BAR_WIN0 + fill, bar_tile(fill, 1))
    for index in range(CANVAS_SHADES**4):
        put(CANVAS0 + index, canvas_tile(index))
    for bits in range(16):
        put(QUAD0 + bits, quad_tile(bits))
    border = load_png(art_dir / "border.png", (64, 8))
    for k in range(8):
        put(BORDER0 + k, cut(border, k, 0))
    put(CURSOR, load_png(art_dir / "cursor.png", (8, 8)))
    glyphs = load_png(art_dir / "bigdigits.png", (BIG_W * 10, BIG_H))

    lines = [
        "; chr.inc: tile numbers of chr.bin. GENERATED by nes/tools/gen_chr.py. Do not edit.",
        f"TILE_BLANK = ${TILE_BLANK:02X}",
        f"TILE_BAR0 = ${BAR0:02X}           ; + fill 0..8: a confidence bar tile",
        f"TILE_BAR_WIN0 = ${BAR_WIN0:02X}       ; the same in the winner's colour",
        f"TILE_CANVAS0 = ${CANVAS0:02X}        ; + 27*TL + 9*TR + 3*BL + BR (shades 0..2)",
        f"TILE_QUAD0 = ${QUAD0:02X}          ; + bits TL TR BL BR: big digit quadrants",
        f"TILE_BORDER0 = ${BORDER0:02X}        ; TL, T, TR, L, R, BL, B, BR",
        f"TILE_CURSOR = ${CURSOR:02X}",
        f"BAR_STEPS = {BAR_STEPS}",
        f"BIG_W = {BIG_W // 2}                ; big digit, tiles",
        f"BIG_H = {BIG_H // 2}",
        "; big digit tile maps: 10 x BIG_W*BIG_H tiles, row-major",
        ".macro CHR_BIG_DIGITS",
        *(f"  .byte {', '.join(f'${t:02X}' for t in tiles)}" for tiles in big_digit_maps(glyphs)),
        ".endmacro",
        "",
    ]
    return bytes(chr_rom), "\n".join(lines)


def outputs_for(out_dir: Path) -> list[Path]:
    return [Path(out_dir) / CHR_BIN, Path(out_dir) / CHR_INC]


def generate(out_dir: Path, art_dir: Path = ART_DIR) -> list[Path]:
    chr_rom, inc = build(art_dir)
    chr_bin, chr_inc = outputs_for(out_dir)
    write_bytes(chr_bin, chr_rom)
    write_text(chr_inc, inc)
    return [chr_bin, chr_inc]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) not in (1, 2):
        print("usage: python -m nes.tools.gen_chr OUT_DIR [ART_DIR]", file=sys.stderr)
        return 2
    try:
        generate(Path(args[0]), Path(args[1]) if len(args) == 2 else ART_DIR)
    except (ArtError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
