; header.s: iNES header for NROM-256 (mapper 0): 2 x 16 KiB PRG, 1 x 8 KiB CHR.

.include "global.inc"

.segment "INESHDR"
  .byte "NES", $1A
  .byte 2               ; PRG-ROM size in 16 KiB units (32 KiB: NROM-256)
  .byte 1               ; CHR-ROM size in 8 KiB units
  .byte $01             ; flags 6: mapper 0 low nibble, vertical mirroring (horizontal arrangement)
  .byte $00             ; flags 7: mapper 0 high nibble, plain iNES
  .byte 0, 0, 0, 0, 0, 0, 0, 0
