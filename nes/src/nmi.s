; nmi.s: the vblank handler. In vblank: count the frame, copy the shadow OAM, write the VRAM
; update list when it is marked ready, reset the scroll. After vblank's writes: the UI's
; frame (ui.s: pad, cursor, brush, and the next VRAM list), so the picture and the cursor
; keep up while the main thread runs an inference. Saves and restores A, X and Y.
;
; VRAM list (vram_buf): runs of [length, address hi, address lo, length bytes], ended by a
; zero length. 15 cycles per byte; ui.s keeps one frame's list to ~60 bytes.

.include "nes.inc"
.include "global.inc"

.segment "ZEROPAGE"
nmi_count:       .res 1 ; +1 every vblank; main compares it to see a new frame
vram_ready:      .res 1 ; 1 when vram_buf holds a complete list; NMI clears it after writing
nmi_busy:        .res 1 ; the UI part is running (a late NMI must not re-enter it)
ppu_ctrl_shadow: .res 1 ; PPUCTRL and PPUMASK values NMI writes back every frame
ppu_mask_shadow: .res 1

.segment "BSS"
vram_buf: .res VRAM_BUF_SIZE

.segment "OAM"
oam: .res 256           ; shadow OAM, copied by OAM DMA every vblank
.assert <oam = 0, error, "OAM DMA needs the shadow OAM at the start of a page"

.segment "CODE"

;;
; NMI: vblank started. The vblank part costs ~560 cycles plus 15 per VRAM byte.
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
  ldx #0
run:
  cpx #VRAM_BUF_SIZE    ; never past the buffer: a garbage list (RAM before init) must not hang the NMI
  bcs list_done
  ldy vram_buf,x        ; run length, 0 ends the list
  beq list_done
  lda vram_buf+1,x
  sta PPUADDR
  lda vram_buf+2,x
  sta PPUADDR
  inx
  inx
  inx
copy:
  lda vram_buf,x
  sta PPUDATA
  inx
  dey
  bne copy
  beq run
list_done:
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

  lda nmi_busy
  bne skip_ui
  inc nmi_busy
  jsr ui_frame
  dec nmi_busy
skip_ui:
  pla
  tay
  pla
  tax
  pla
  rti
.endproc
