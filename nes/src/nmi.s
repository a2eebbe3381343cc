; nmi.s: the vblank handler. Kept short because it interrupts the inference: it only counts
; frames, copies the shadow OAM, writes the small VRAM update buffer when main marks it
; ready, and resets the scroll. It saves and restores A, X and Y.

.include "nes.inc"

.export nmi_handler, nmi_count, oam, vram_ready, vram_addr, vram_data, ppu_ctrl_shadow, ppu_mask_shadow

VRAM_BUFFER_SIZE = 4    ; bytes written in one run starting at vram_addr

.segment "ZEROPAGE"
nmi_count:       .res 1 ; +1 every vblank; main compares it to see a new frame
vram_ready:      .res 1 ; main sets it to 1 when vram_addr/vram_data are complete; NMI clears it
vram_addr:       .res 2 ; big-endian PPU address of the run (hi, lo)
vram_data:       .res VRAM_BUFFER_SIZE
ppu_ctrl_shadow: .res 1 ; PPUCTRL and PPUMASK values NMI writes back every frame
ppu_mask_shadow: .res 1

.segment "OAM"
oam: .res 256           ; shadow OAM, copied by OAM DMA every vblank
.assert <oam = 0, error, "OAM DMA needs the shadow OAM at the start of a page"

.segment "CODE"

;;
; NMI: vblank started. Costs about 600 cycles with an update, 560 without.
.proc nmi_handler
  pha
  txa
  pha
  tya
  pha
  inc nmi_count

  lda #0
  sta OAMADDR
  lda #>oam
  sta OAM_DMA           ; 513 cycles, first so the later writes still fit in vblank

  lda vram_ready
  beq no_update
  bit PPUSTATUS         ; reset the address latch
  lda vram_addr
  sta PPUADDR
  lda vram_addr+1
  sta PPUADDR
  ldx #0
copy:
  lda vram_data,x
  sta PPUDATA
  inx
  cpx #VRAM_BUFFER_SIZE
  bne copy
  lda #0
  sta vram_ready
no_update:
  ; Writing PPUADDR moved the scroll: set it back to the top-left of nametable 0.
  lda #0
  sta PPUSCROLL
  sta PPUSCROLL
  lda ppu_ctrl_shadow
  sta PPUCTRL
  lda ppu_mask_shadow
  sta PPUMASK

  pla
  tay
  pla
  tax
  pla
  rti
.endproc
