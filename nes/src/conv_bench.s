; conv_bench.s: a test cartridge for one convolution layer (conv.inc), not the drawing ROM.
; nes/tools/conv_bench.py generates conv_layer.inc (the layer's shape and tables) and builds
; it; tests/nes/test_conv.py runs it in cynes against intnet/layers.py.
;
; Protocol (RAM symbols from the .dbg file, as the main ROM's nn_state): the host writes the
; source map into cv_in (HWC; for padding 'same' the zero-bordered map), sets cv_state = 1;
; at the start of the next frame main sets 2, runs the layer into cv_out, and at the start of
; the frame after it sets 3 (done). Timing as main.s:
;   cycles = cv_frames * 29780.5 + (cv_spin_idle - cv_spin_end) * SPIN_CYCLES
; The NMI only counts frames (~20 cycles a frame), so this is the layer's own cost.

.include "nes.inc"
.include "global.inc"      ; init.s (reset) and header.s are linked in as in the drawing ROM
.include "conv_layer.inc"

.segment "ZEROPAGE"
; conv.inc's work variables
nn_acc0:  .res CV_COUT            ; accumulator planes
nn_acc1:  .res CV_COUT
cv_max0:  .res CV_COUT            ; running maxima of a pooled cell
cv_max1:  .res CV_COUT
nn_plo:   .res 2                  ; -> page a-1 of nib_lo
nn_phi:   .res 2                  ; -> page a-1 of nib_hi
.include "conv_vars.inc"
cv_t:     .res 1                  ; requantize temporary
nn_abort: .res 1                  ; conv.inc's abort flag (the bench never sets it)
; the bench
nmi_count:  .res 1
cv_state:   .res 1                ; 0 idle, 1 request, 2 busy, 3 done
spin_count: .res 2
frame_start: .res 1
measuring:  .res 1
.exportzp cv_state

.segment "BSS"
cv_in:        .res CV_IN_BYTES    ; source map
cv_out:       .res CV_OUT_BYTES   ; output map
cv_patch:     .res 9 * CV_CIN     ; the gathered patch
cv_frames:    .res 1
cv_spin_idle: .res 2
cv_spin_end:  .res 2
cv_runs:      .res 1
.export cv_in, cv_out, cv_frames, cv_spin_idle, cv_spin_end, cv_runs

.include "conv.inc"

.segment "SQTABLES"
.include "nibble_tables.inc"

.segment "NNWEIGHTS"
cv_weights: .incbin "cv_weights.bin"    ; 9*Cin x Cout, offset nibbles, a column per pair
cv_bias:    .incbin "cv_bias.bin"       ; Cout x 16 bits, planar little-endian
cv_blank_out: .incbin "cv_blank.bin"    ; Cout bytes: requantize(bias)
.assert cv_blank_out - cv_bias = 2 * CV_COUT, error, "bias: 2 bytes per output"

.segment "OAM"
.segment "CHR"

.segment "CODE"

; First in CODE (conv_bench.py links this object first), which starts on a page (SQTABLES is
; whole pages): the spin loop must not cross a page.
.include "wait_frame.inc"

;;
; The layer under test: cv_in -> cv_out (stride 1: conv_bench.ConvCase).
.proc cv_layer
  nn_conv ::CV_H, ::CV_W, ::CV_W, ::CV_CIN, ::CV_COUT, ::CV_POOL, 1, ::CV_SHIFT, ::CV_AMAX, cv_weights, cv_bias, cv_blank_out, cv_in, cv_out, ::CV_SUMCHUNK
.endproc

;;
; NMI: count the frame.
.proc nmi_handler
  inc nmi_count
  rti
.endproc

;;
; One loop iteration per frame, timing as main.s: an idle frame counts its spin from the
; point where a run would start; the frame after a run counts what was left of it.
.proc main
  lda #VBLANK_NMI        ; init.s leaves the NMI off until RAM is valid
  sta PPUCTRL
loop:
  jsr wait_frame
  lda measuring
  beq idle_frame
  lda spin_count
  sta cv_spin_end
  lda spin_count+1
  sta cv_spin_end+1
  lda #0
  sta measuring
  lda #3
  sta cv_state
  jmp loop
idle_frame:
  lda spin_count
  sta cv_spin_idle
  lda spin_count+1
  sta cv_spin_idle+1
  lda cv_state
  cmp #1
  bne loop
  lda #2
  sta cv_state
  lda nmi_count
  sta frame_start
  jsr cv_layer
  lda nmi_count
  sec
  sbc frame_start
  sta cv_frames
  inc cv_runs
  lda #1
  sta measuring
  jmp loop
.endproc
