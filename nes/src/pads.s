; pads.s: controller reading. Reads pad 1 twice and repeats until both reads agree, because
; DPCM sample fetches can corrupt a read (no DPCM plays here, but the routine stays safe).

.include "nes.inc"
.include "global.inc"

.segment "ZEROPAGE"
pad1:     .res 1        ; buttons held now: A B Select Start Up Down Left Right (bit 7..0)
pad1_new: .res 1        ; buttons pressed this frame and not the last
pad_tmp:  .res 1

.segment "CODE"

;;
; Reads pad 1 into pad1 and pad1_new. Clobbers A, X.
.proc read_pads
  lda pad1
  pha                   ; last frame's buttons, for pad1_new
again:
  jsr read_once
  lda pad_tmp
  pha
  jsr read_once
  pla
  cmp pad_tmp
  bne again             ; the two reads differ: a DMC fetch hit one; read again
  sta pad1
  pla
  eor #$FF
  and pad1
  sta pad1_new
  rts
.endproc

;;
; One strobe and eight reads of pad 1 into pad_tmp.
.proc read_once
  lda #1
  sta P1
  sta pad_tmp           ; bit 0 set: a ring counter, carry out after 8 shifts
  lsr a
  sta P1
loop:
  lda P1
  and #%00000011        ; standard pad (bit 0) or Famicom expansion pad (bit 1)
  cmp #1                ; carry = button
  rol pad_tmp
  bcc loop
  rts
.endproc
