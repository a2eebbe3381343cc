; main.s: set up the screen, then one loop iteration per frame: wait for vblank (counting
; idle cycles, see below), read the pad, and run the network when asked to.
;
; Inference protocol (RAM symbols, addresses come from the .dbg file; values in global.inc):
;   nn_state = NN_IDLE (0)    nothing to do
;              NN_REQUEST (1) written by the host/UI after filling nn_input
;              NN_BUSY (2)    main is running nn_run
;              NN_DONE (3)    nn_scores, nn_digit and the timing below are valid
;   DONE is raised at the start of the frame after the inference ended, once the idle
;   spin that measures the end of the inference has finished.
; Canvas classifications (ui.s decides when: Start, or after a stroke): main sets BUSY, runs
; prep_run (canvas -> nn_input, like training/preprocess.py) and nn_run, publishes the result
; to the screen (ui_publish) and raises DONE the same way. Without the canvas UI (a network
; the console cannot preprocess for, see gen_ui.py) Start raises NN_REQUEST on nn_input.
;
; Timing: wait_frame spins SPIN_CYCLES per iteration until the NMI. In a frame without an
; inference it counts nn_spin_idle iterations from the point where an inference would start;
; after an inference it counts nn_spin_end. With nn_frames = vblanks during the inference,
;   cycles = nn_frames * 29780.5 + (nn_spin_idle - nn_spin_end) * SPIN_CYCLES
; (within about SPIN_CYCLES; NMI handlers that ran during the inference are included).
; Only raw requests are timed this way: a canvas classification starts with prep_run.

.include "nes.inc"
.include "global.inc"


.segment "ZEROPAGE"
nn_state:     .res 1
spin_count:   .res 2    ; wait_frame's result
frame_start:  .res 1
measuring:    .res 1    ; nonzero: the last iteration ran an inference

.segment "BSS"
nn_frames:    .res 1    ; vblanks (NMIs) that happened during the last inference
nn_spin_idle: .res 2    ; idle spin iterations in a frame without inference (little-endian)
nn_spin_end:  .res 2    ; idle spin iterations after the last inference ended
nn_runs:      .res 1    ; inferences completed (wraps), a heartbeat for tests

.segment "CODE"

;;
; Entry from reset: RAM is zero, rendering off, NMI off.
.proc main
  ; Nametable 0 and its attributes: all tile 0 (blank), palette 0.
  bit PPUSTATUS
  lda #$20
  sta PPUADDR
  lda #$00
  sta PPUADDR
  tax
  ldy #4
clear_nt:
  sta PPUDATA
  inx
  bne clear_nt
  dey
  bne clear_nt
  jsr ui_setup          ; palette, static screen

  lda #VBLANK_NMI|BG_0000|OBJ_0000
  sta ppu_ctrl_shadow
  lda #BG_ON|BG_CLIP|OBJ_ON|OBJ_CLIP
  sta ppu_mask_shadow
  lda #0
  sta PPUSCROLL
  sta PPUSCROLL
  lda ppu_ctrl_shadow
  sta PPUCTRL           ; NMI on; NMI turns rendering on with ppu_mask_shadow

loop:
  jsr wait_frame
  lda measuring
  beq idle_frame
  lda spin_count
  sta nn_spin_end
  lda spin_count+1
  sta nn_spin_end+1
  lda #0
  sta measuring
  lda #NN_DONE
  sta nn_state
  jmp frame_work
idle_frame:
  lda spin_count
  sta nn_spin_idle
  lda spin_count+1
  sta nn_spin_idle+1

frame_work:
  lda nn_state
  cmp #NN_REQUEST
  beq raw_request
  jsr ui_poll           ; carry set: nn_input is ready (ui.s prepared the canvas, or Start)
  bcs run
  jmp loop
raw_request:
  lda #0
  sta ui_from_canvas
  sta nn_abort          ; (only canvas classifications are aborted)

  ; An inference starts at the same point of the frame where an idle frame starts its spin,
  ; so the two spin counts are comparable.
run:
  lda #NN_BUSY
  sta nn_state
  lda nmi_count
  sta frame_start
  jsr nn_run
  lda nmi_count
  sec
  sbc frame_start
  sta nn_frames
  inc nn_runs
  jsr ui_finish         ; the result to the screen
  lda #1
  sta measuring
  jmp loop
.endproc

.include "wait_frame.inc"

