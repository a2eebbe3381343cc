; chr.s: the 8 KiB CHR-ROM. The tile file is built by nes/tools/gen_chr.py (Pillow: the
; PNGs in nes/art/ plus rule tiles) and found through ca65's --bin-include-dir, so the link
; takes whichever chr.bin the build hands it.

.include "global.inc"

.segment "CHR"
chr_start:
  .incbin "chr.bin"
chr_end:
.assert chr_end - chr_start = 8192, error, "chr.bin must be exactly 8 KiB"
