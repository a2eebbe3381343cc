; init.s: power-on / reset. Puts the CPU, PPU and APU in a known state, waits for the PPU
; to warm up, clears all 2 KiB of RAM (a real console powers on with garbage, and a reset
; keeps whatever was there), paints the free part of the stack page, then jumps to main.
;
; Stack painting: every byte of the stack page above the STACKBSS buffers (nrom256.cfg) is
; set to STACK_PAINT, so the lowest byte that no longer holds it shows the deepest the stack
; has ever been (a debugger's memory view, or tests/test_nes_ram.py). A pushed byte equal to
; STACK_PAINT hides itself; return addresses' high bytes ($80-$FF) never do.

.include "nes.inc"
.include "global.inc"

STACK_PAINT = $5A

.segment "STACKBSS"     ; (declared here so the segment and its symbols exist even when empty)

.segment "CODE"

;;
; Reset vector target. Never returns.
.proc reset_handler
  sei                   ; no IRQs while we set up (the APU frame IRQ is disabled below)
  cld                   ; the 2A03 has no decimal mode, but emulators and habits differ
  ldx #$FF
  txs                   ; stack at $01FF
  inx                   ; X = 0
  stx PPUCTRL           ; NMI off: main turns it on once RAM is valid
  stx PPUMASK           ; rendering off
  stx DMC_FREQ          ; no DPCM IRQ
  stx SNDCHN            ; silence all channels
  lda #$40
  sta APU_FRAMECNT      ; disable the APU frame-counter IRQ
  bit PPUSTATUS         ; clear a vblank flag left over from before the reset

  ; First of two vblank waits: the PPU ignores writes for ~29,658 cycles after power-on.
vwait1:
  bit PPUSTATUS
  bpl vwait1

  ; Clear all RAM while the PPU warms up. X = 0 here.
  txa
clear_ram:
  sta $0000,x
  sta $0100,x
  sta $0200,x
  sta $0300,x
  sta $0400,x
  sta $0500,x
  sta $0600,x
  sta $0700,x
  inx
  bne clear_ram
  ; The stack page was cleared too: harmless, nothing has been pushed yet (we never
  ; returned from anything). Paint the stack's part of it (from the end of STACKBSS to $01FF).
  ldx #<(__STACKBSS_RUN__ + __STACKBSS_SIZE__)
  lda #STACK_PAINT
paint_stack:
  sta $0100,x
  inx
  bne paint_stack
  ; Hide all sprites: Y = $FF is below the screen. (X = 0 again.)
  lda #$FF
clear_oam:
  sta $0200,x
  inx
  bne clear_oam

vwait2:
  bit PPUSTATUS
  bpl vwait2
  jmp main
.endproc

;;
; IRQ/BRK: nothing raises one on NROM; return at once.
.proc irq_handler
  rti
.endproc

.segment "VECTORS"
  .addr nmi_handler, reset_handler, irq_handler
