; ui.s: the drawing screen. Title, a 28x28-cell canvas (4x4 pixels per cell, 14x14 tiles,
; 3 shades per cell -> 81 tile variants) in a frame, a cursor sprite, the predicted digit
; drawn large, ten labelled confidence bars and a help line.
;
; Threads. Everything that reacts to the pad runs in the NMI (ui_frame, after the vblank
; writes), so the cursor moves and strokes appear at 60 Hz even while the main thread spends
; ~3 frames in prep_run + nn_run. The NMI is also the only writer of the VRAM buffer: each
; NMI first copies the buffer built by the previous one (nmi.s, inside vblank), then builds
; the next: up to 2 dirty canvas tile rows and 2 result items (big digit, one bar each), so
; one update stays ~60 bytes (~1,100 cycles of vblank after OAM DMA).
; The main thread only reads the canvas (prep_run) and publishes results (ui_publish: bar
; lengths + winner, then res_stage = 1, which the NMI turns into VRAM writes).
;
; Confidence bars: bar j has UI_BAR_PIXELS - ((score[winner] - score[j]) >> UI_BAR_SHIFT)
; pixels (at least 0): the winner's is full, and a bar is empty when its score is ~5 logits
; (e^-5, under 1% of the winner's probability) below the winner's. gen_ui.py picks the shift
; from the output layer's scale.

.include "nes.inc"
.include "global.inc"
.include "ui.inc"
.include "chr.inc"
.include "network.inc"

; budget.ram_layout decides whether the canvas fits RAM from exact byte counts; ld65 checks
; them here (evaluated at link time), so a changed buffer cannot go unnoticed.
.assert __BSS_SIZE__ = RAM_BSS_BYTES, lderror, "BSS differs from budget.ram_layout: update SYSTEM_BSS / CANVAS_BSS in nes/tools/budget.py"
.assert __STACKBSS_SIZE__ = RAM_STACK_BYTES, lderror, "STACKBSS differs from budget.ram_layout (nes/tools/budget.py)"

; The layout (CANVAS_*, DIGIT_*, BAR_*, ...) comes from ui.inc (nes/tools/screen.py).
CANVAS_NT   = $2000 + CANVAS_ROW * 32 + CANVAS_COL
CANVAS_PX   = CANVAS_COL * 8
CANVAS_PY   = CANVAS_ROW * 8
CUR_MAX     = CANVAS_SIDE - UI_BRUSH_SPAN   ; the cursor is the top-left of the brush core
TILE_ROWS   = CANVAS_SIDE / 2
DIGIT_NT    = $2000 + DIGIT_ROW * 32 + DIGIT_COL   ; big digit: BIG_W x BIG_H tiles
BAR_NT      = $2000 + BAR_ROW * 32 + BAR_COL       ; bar j: row BAR_ROW+j: marker, label, BAR_TILES tiles
KEY_DIRS    = KEY_UP | KEY_DOWN | KEY_LEFT | KEY_RIGHT
.assert UI_BAR_PIXELS = BAR_TILES * 8, error, "bar length must match its tiles"
.assert CELL_PX * 2 = 8, error, "a canvas tile holds 2x2 cells (place_cursor multiplies by 4)"
.assert PALETTE1_COL .mod 4 = 0, error, "attribute bytes cover 4 columns"
.assert 2 * (TILE_ROWS + 3) + 3 * 5 * 2 + 1 <= VRAM_BUF_SIZE, error, "VRAM buffer too small"

.segment "ZEROPAGE"
cur_x:      .res 1          ; cursor cell, 0..CUR_MAX
cur_y:      .res 1
rep_timer:  .res 1          ; frames until the held direction moves again
ui_dirty:   .res 1          ; canvas changed since the last classification
ui_quiet:   .res 1          ; frames since the canvas last changed (saturates)
ui_since:   .res 1          ; frames the canvas has been dirty (saturates)
ui_go:      .res 1          ; Start was pressed: classify now
ui_changed: .res 1          ; the canvas changed this frame
ui_clears:  .res 1          ; Select presses (wraps): main drops results of a cleared canvas
res_stage:  .res 1          ; 0 idle, 1 big digit, 2..11 bar 0..9 still to draw
ui_erase:   .res 1
ui_p0:      .res 2          ; NMI temporaries
ui_p1:      .res 2
ui_t:       .res 1
ui_k:       .res 1
ui_n:       .res 1
ui_row:     .res 1
ui_len:     .res 1
vb_pos:     .res 1
pub_t:      .res 3          ; main-thread temporary (ui_publish)
ui_from_canvas: .res 1      ; main thread: this inference classifies the canvas
clears_before:  .res 1      ; ui_clears when it started: a Select since then drops the result
ui_abortable:   .res 1      ; this classification started on a quiet canvas (or Start): a new
                            ; stroke aborts it (one started mid-stroke, every UI_CLASSIFY_EVERY
                            ; frames, runs to its end: the live guess while drawing)

.segment "BSS"
row_dirty:  .res TILE_ROWS  ; canvas tile rows to redraw
ui_bars:    .res 10         ; published bar lengths, 0..UI_BAR_PIXELS
ui_winner:  .res 1          ; published digit
ui_have:    .res 1          ; 1 when ui_bars/ui_winner hold a result to show
ui_classified: .res 1       ; canvas classifications published (wraps), for tests

.segment "CODE"

;;
; Static screen with rendering off (main, before NMIs start): palette, title, frame, help,
; attributes; the results area is drawn blank by the NMI (res_stage = 1).
.proc ui_setup
  bit PPUSTATUS
  lda #$3F
  sta PPUADDR
  lda #$00
  sta PPUADDR
  ldx #0
palette:
  lda palette_data,x
  sta PPUDATA
  inx
  cpx #32
  bne palette

  ldx #0                ; text runs: len, address hi, lo, tiles
run:
  ldy static_runs,x
  beq runs_done
  lda static_runs+1,x
  sta PPUADDR
  lda static_runs+2,x
  sta PPUADDR
  inx
  inx
  inx
copy:
  lda static_runs,x
  sta PPUDATA
  inx
  dey
  bne copy
  jmp run
runs_done:

.if ::UI_ENABLED
  ldx #0                ; frame sides: rows CANVAS_ROW.., a column left and right of the canvas
side:
  lda side_hi,x
  sta PPUADDR
  lda side_lo,x
  sta PPUADDR
  lda #TILE_BORDER0+3
  sta PPUDATA
  lda side_hi,x
  sta PPUADDR
  lda side_lo,x
  clc
  adc #TILE_ROWS+1
  sta PPUADDR
  lda #TILE_BORDER0+4
  sta PPUDATA
  inx
  cpx #TILE_ROWS
  bne side
  lda #CANVAS_SIDE/2    ; cursor starts in the middle
  sta cur_x
  sta cur_y
  ldx #TILE_ROWS-1      ; draw the (blank) canvas tiles once through the NMI
  lda #1
dirty:
  sta row_dirty,x
  dex
  bpl dirty
.endif

  lda #$23              ; attributes: palette 1 from column PALETTE1_COL on (bars, big digit)
  sta PPUADDR
  lda #$C0
  sta PPUADDR
  ldy #8
attr_row:
  ldx #0
attr:
  lda attr_data,x
  sta PPUDATA
  inx
  cpx #8
  bne attr
  dey
  bne attr_row
  lda #1
  sta res_stage
  rts
.endproc

;;
; NMI part of the UI (after the vblank writes): pad, cursor, brush, counters, next VRAM buffer.
.proc ui_frame
  jsr read_pads
  lda #0
  sta vb_pos
  sta ui_changed
  lda pad1_new
  and #KEY_START
  beq no_start
  lda #1
  sta ui_go
no_start:
.if ::UI_ENABLED
  lda pad1_new
  and #KEY_SELECT
  beq no_clear
  jsr clear_canvas
no_clear:
  jsr move_cursor
  lda pad1
  and #KEY_A
  beq no_draw
  lda #0
  sta ui_erase
  jsr stamp
no_draw:
  lda pad1
  and #KEY_B
  beq no_erase
  lda #1
  sta ui_erase
  jsr stamp
no_erase:
  lda ui_changed
  beq quiet
  lda #1
  sta ui_dirty
  jsr abort_if_thinking
  lda #0
  sta ui_quiet
  beq counted
quiet:
  inc ui_quiet
  bne counted
  dec ui_quiet          ; saturate at 255
counted:
  lda ui_dirty
  beq placed
  inc ui_since
  bne placed
  dec ui_since
placed:
  jsr place_cursor
  jsr place_thinking
  jsr queue_canvas_rows
.endif
  jsr queue_results
  ldx vb_pos
  beq empty
  lda #0
  sta vram_buf,x        ; terminator
  lda #1
  sta vram_ready
empty:
  rts
.endproc

.if ::UI_ENABLED
;;
; The canvas changed: if the network is classifying the canvas after a pause (ui_abortable),
; tell it to stop (nn_abort; nn_run returns at its next layer or pooled cell). The change left
; ui_dirty set, so the new drawing is classified once it is quiet again.
.proc abort_if_thinking
  lda nn_state
  cmp #NN_BUSY
  bne no
  lda ui_from_canvas
  beq no
  lda ui_abortable
  beq no
  lda #1
  sta nn_abort
no:
  rts
.endproc

;;
; Sprite 1, the "thinking" mark beside "GUESS": shown while the network classifies the canvas,
; hidden (below the screen) otherwise.
.proc place_thinking
  lda #$FF
  ldx nn_state
  cpx #NN_BUSY
  bne put
  ldx ui_from_canvas
  beq put
  lda #THINK_PY - 1     ; sprites show one line below their Y
put:
  sta oam+4
  lda #THINK_TILE
  sta oam+5
  lda #1                ; sprite palette 1: the highlight colour
  sta oam+6
  lda #THINK_PX
  sta oam+7
  rts
.endproc

;;
; D-pad: one cell on a new press, then after UI_REPEAT_DELAY frames one every UI_REPEAT_RATE.
.proc move_cursor
  lda pad1
  and #KEY_DIRS
  bne held
  sta rep_timer
  rts
held:
  lda pad1_new
  and #KEY_DIRS
  bne new_press
  lda rep_timer
  beq new_press         ; (held since before a reset: treat as new)
  dec rep_timer
  bne done
  lda #UI_REPEAT_RATE
  sta rep_timer
  jmp step
new_press:
  lda #UI_REPEAT_DELAY
  sta rep_timer
step:
  lda pad1
  and #KEY_RIGHT
  beq :+
  lda cur_x
  cmp #CUR_MAX
  bcs :+
  inc cur_x
: lda pad1
  and #KEY_LEFT
  beq :+
  lda cur_x
  beq :+
  dec cur_x
: lda pad1
  and #KEY_DOWN
  beq :+
  lda cur_y
  cmp #CUR_MAX
  bcs :+
  inc cur_y
: lda pad1
  and #KEY_UP
  beq done
  lda cur_y
  beq done
  dec cur_y
done:
  rts
.endproc

;;
; Brush at the cursor: ui_erase = 0 raises cells to the brush levels (max), 1 zeroes them.
; Marks the changed cells' tile rows dirty and sets ui_changed. The canvas is packed (prep.s,
; nes/tools/canvas.py): cell x of a row is the 2-bit field x & 3 of the row's byte x >> 2, so
; each cell is a read-modify-write of its field (mask ui_len, new bits ui_t); comparing the
; masked fields compares the levels.
.proc stamp
  ldx #UI_BRUSH_CELLS-1
loop:
  stx ui_k
  lda cur_y
  clc
  adc brush_dy,x
  cmp #CANVAS_SIDE
  bcs next              ; off the canvas (also -1 = $FF)
  sta ui_row
  lda cur_x
  clc
  adc brush_dx,x
  cmp #CANVAS_SIDE
  bcs next
  tay
  and #3
  asl a
  asl a
  sta ui_n              ; 4 * the cell's field: its row of field_bits
  tya
  lsr a
  lsr a
  tay                   ; Y: the cell's byte in its row
  ldx ui_row
  lda canvas_lo,x
  sta ui_p0
  lda canvas_hi,x
  sta ui_p0+1
  ldx ui_n
  lda field_bits+3,x
  sta ui_len            ; the field's mask (level 3 in it)
  ldx ui_k
  lda ui_erase
  bne erase
  lda brush_level,x
  ora ui_n
  tax
  lda field_bits,x
  sta ui_t              ; the brush level in the cell's field
  lda (ui_p0),y
  and ui_len
  cmp ui_t
  bcs next              ; never lower a cell: strokes add up like ink
  lda (ui_p0),y         ; byte ^ ((byte ^ new) & mask): the new field, the others kept
  eor ui_t
  and ui_len
  eor (ui_p0),y
  sta (ui_p0),y
  jmp changed
erase:
  lda (ui_p0),y
  and ui_len
  beq next
  eor (ui_p0),y         ; the field cleared
  sta (ui_p0),y
changed:
  lda #1
  sta ui_changed
  lda ui_row
  lsr a
  tax
  lda #1
  sta row_dirty,x
next:
  ldx ui_k
  dex
  bpl loop
  rts
.endproc

;;
; Select: every cell to 0, the whole canvas and the results redrawn blank.
.proc clear_canvas
  lda #0
  ldx #CANVAS_BYTES
  .assert CANVAS_BYTES < 256, error, "the clear loop indexes the packed canvas with X"
loop:
  sta canvas-1,x
  dex
  bne loop
  sta ui_dirty
  sta ui_have
  sta ui_go
  inc ui_clears
  ldx #TILE_ROWS-1
  lda #1
  sta res_stage
dirty:
  sta row_dirty,x
  dex
  bpl dirty
  rts
.endproc

;;
; Sprite 0 = the cursor, over the 2x2-cell brush core.
.proc place_cursor
  lda cur_y
  asl a
  asl a
  clc
  adc #CANVAS_PY-1      ; sprites show one line below their Y
  sta oam
  lda #TILE_CURSOR
  sta oam+1
  lda #0
  sta oam+2
  lda cur_x
  asl a
  asl a
  clc
  adc #CANVAS_PX
  sta oam+3
  rts
.endproc

;;
; Queues up to 2 dirty canvas tile rows.
.proc queue_canvas_rows
  lda #2
  sta ui_n
  ldx #0
scan:
  lda row_dirty,x
  bne found
  inx
  cpx #TILE_ROWS
  bne scan
  rts
found:
  lda #0
  sta row_dirty,x
  stx ui_row
  jsr queue_row
  ldx ui_row
  inx
  dec ui_n
  beq done
  cpx #TILE_ROWS
  bne scan
done:
  rts
.endproc

;;
; One canvas tile row (ui_row) into the VRAM buffer. Canvas rows 2R and 2R+1 give it: each
; packed byte pair holds two tiles, its low nibbles the left one, its high nibbles the right
; (cells TL, TR in the upper row's nibble, BL, BR in the lower's); tile = tile_top[upper] +
; tile_bottom[lower] = CANVAS0 + 27 TL + 9 TR + 3 BL + BR in shades.
.proc queue_row
  ldx vb_pos
  lda #TILE_ROWS
  sta vram_buf,x
  ldy ui_row
  lda nt_row_hi,y
  sta vram_buf+1,x
  lda nt_row_lo,y
  sta vram_buf+2,x
  inx
  inx
  inx
  stx vb_pos
  tya
  asl a
  tax
  lda canvas_lo,x
  sta ui_p0
  lda canvas_hi,x
  sta ui_p0+1
  lda canvas_lo+1,x
  sta ui_p1
  lda canvas_hi+1,x
  sta ui_p1+1
  ldy #0
pair:
  lda (ui_p0),y         ; left tile: the low nibbles
  and #$0F
  tax
  lda tile_top,x
  sta ui_t
  lda (ui_p1),y
  and #$0F
  tax
  lda tile_bottom,x
  clc
  adc ui_t
  ldx vb_pos
  sta vram_buf,x
  lda (ui_p0),y         ; right tile: the high nibbles
  lsr a
  lsr a
  lsr a
  lsr a
  tax
  lda tile_top,x
  sta ui_t
  lda (ui_p1),y
  lsr a
  lsr a
  lsr a
  lsr a
  tax
  lda tile_bottom,x
  clc
  adc ui_t
  ldx vb_pos
  sta vram_buf+1,x
  inx
  inx
  stx vb_pos
  iny
  cpy #CANVAS_ROW_BYTES
  bne pair
  rts
.endproc
.endif ; UI_ENABLED

;;
; Up to 2 result items per frame: the big digit, then the bars 0..9.
.proc queue_results
  lda #2
  sta ui_n
loop:
  lda res_stage
  beq done
  cmp #1
  bne bar
  jsr queue_digit
  jmp next
bar:
  sec
  sbc #2
  jsr queue_bar
next:
  inc res_stage
  lda res_stage
  cmp #2+10
  bne :+
  lda #0
  sta res_stage
: dec ui_n
  bne loop
done:
  rts
.endproc

;;
; The big digit (blank without a result): BIG_H runs of BIG_W quadrant tiles.
.proc queue_digit
  ldy #0                ; Y: tile index in big_digits, or $FF for blank
  lda ui_have
  bne have
  ldy #$FF
  bne start
have:
  ldx ui_winner
  ldy times15,x
start:
  lda #0
  sta ui_k              ; row
row:
  ldx vb_pos
  lda #BIG_W
  sta vram_buf,x
  lda ui_k
  asl a
  asl a
  asl a
  asl a
  asl a                 ; row * 32
  clc
  adc #<DIGIT_NT
  sta vram_buf+2,x
  lda #>DIGIT_NT
  adc #0
  sta vram_buf+1,x
  inx
  inx
  inx
  lda #BIG_W
  sta ui_len
col:
  lda #TILE_QUAD0
  cpy #$FF
  beq :+
  lda big_digits,y
  iny
: sta vram_buf,x
  inx
  dec ui_len
  bne col
  stx vb_pos
  inc ui_k
  lda ui_k
  cmp #BIG_H
  bne row
  rts
.endproc

;;
; Bar A (0..9): marker ('>' for the winner), label digit, BAR_TILES fill tiles.
.proc queue_bar
  sta ui_row
  ldx vb_pos
  lda #2+BAR_TILES
  sta vram_buf,x
  ldy ui_row
  lda bar_hi,y
  sta vram_buf+1,x
  lda bar_lo,y
  sta vram_buf+2,x
  lda #0                ; ui_t: 1 for the winner with a result
  sta ui_t
  sta ui_len
  lda ui_have
  beq plain
  cpy ui_winner
  bne not_winner
  inc ui_t
not_winner:
  lda ui_bars,y
  sta ui_len
plain:
  lda #' '
  ldy ui_t
  beq :+
  lda #'>'
: sta vram_buf+3,x
  lda ui_row
  clc
  adc #'0'
  sta vram_buf+4,x
  lda #TILE_BAR0
  ldy ui_t
  beq :+
  lda #TILE_BAR_WIN0
: sta ui_t
  txa
  clc
  adc #5
  tax                   ; X: first bar tile in the buffer
  ldy #BAR_TILES
fill:
  lda ui_len
  cmp #8
  bcc partial
  sbc #8                ; carry set by cmp
  sta ui_len
  lda #8
  bne put
partial:
  pha                   ; the last, partial tile; the rest stay empty
  lda #0
  sta ui_len
  pla
put:
  clc
  adc ui_t
  sta vram_buf,x
  inx
  dey
  bne fill
  stx vb_pos
  rts
.endproc

;;
; Main thread, once per idle frame: should the network run now? Carry set = yes, nn_input is
; ready and nn_state is BUSY: the canvas was preprocessed (prep_run), or without the canvas
; UI Start was pressed (nn_input as it is). Carry clear = nothing to do.
.proc ui_poll
  jsr should_classify
  bcc no
  lda #NN_BUSY
  sta nn_state
  lda #0
  sta ui_from_canvas
.if ::UI_ENABLED
  inc ui_from_canvas
  lda #0
  sta nn_abort          ; from here on a change of the canvas aborts this classification
  lda ui_clears
  sta clears_before
  jsr prep_run
.endif
  sec
no:
  rts
.endproc

;;
; Main thread, after nn_run: publish the result, unless the canvas it came from was cleared
; or changed (the run was aborted).
.proc ui_finish
  lda ui_from_canvas
  beq publish
  lda nn_abort
  bne dropped           ; the drawing changed: its next classification will publish
  lda ui_clears
  cmp clears_before
  bne dropped           ; cleared meanwhile: the screen stays blank
  inc ui_classified
publish:
  jmp ui_publish
dropped:
  rts
.endproc

;;
; Is a classification due? Carry set = yes (and the request is taken). Start always;
; otherwise a changed canvas after UI_CLASSIFY_AFTER quiet frames, or every
; UI_CLASSIFY_EVERY frames while it keeps changing.
.proc should_classify
  lda ui_go
  beq automatic
  lda #0
  sta ui_go
  sta ui_dirty
  sta ui_since
  lda #1
  sta ui_abortable
  sec
  rts
automatic:
.if ::UI_ENABLED
  lda ui_dirty
  beq no
  lda ui_quiet
  cmp #UI_CLASSIFY_AFTER
  bcs quiet
.if ::UI_CLASSIFY_EVERY
  lda ui_since
  cmp #UI_CLASSIFY_EVERY
  bcs drawing
.endif
no:
  clc
  rts
quiet:
  lda #1
  bne yes               ; (always)
drawing:
  lda #0
yes:
  sta ui_abortable
  lda #0
  sta ui_dirty
  sta ui_since
  sec
  rts
.else
  clc
  rts
.endif
.endproc

;;
; Main thread, after nn_run: bar lengths and the winner for the NMI to draw.
.proc ui_publish
  ldy nn_digit
  ldx #9
each:
  sec
  lda nn_scores,y
  sbc nn_scores,x
  sta pub_t
  lda nn_scores+10,y
  sbc nn_scores+10,x
  sta pub_t+1
.if ::NN_SCORE_BYTES = 3
  lda nn_scores+20,y
  sbc nn_scores+20,x
.else
  lda #0
.endif
  sta pub_t+2
.repeat ::UI_BAR_SHIFT
  lsr pub_t+2
  ror pub_t+1
  ror pub_t
.endrepeat
  lda pub_t+1
  ora pub_t+2
  bne empty
  lda pub_t
  cmp #UI_BAR_PIXELS
  bcs empty
  eor #$FF
  sec
  adc #UI_BAR_PIXELS    ; UI_BAR_PIXELS - missing
  jmp store
empty:
  lda #0
store:
  sta ui_bars,x
  dex
  bpl each
  sty ui_winner
  lda #1
  sta ui_have
  sta res_stage
  rts
.endproc

.segment "RODATA"
palette_data:
  UI_PALETTE
attr_data:                      ; one attribute row: 4 columns a byte
.repeat 8, I
  .byte $55 * (I * 4 >= PALETTE1_COL)
.endrepeat

.macro text row, col, str
  .byte .strlen(str), >($2000 + (row) * 32 + (col)), <($2000 + (row) * 32 + (col)), str
.endmacro

static_runs:
  text TITLE_ROW, TITLE_COL, "NES MNIST - DRAW A DIGIT"
.if ::UI_ENABLED
  .byte TILE_ROWS+2, >(CANVAS_NT - 33), <(CANVAS_NT - 33), TILE_BORDER0
  .res TILE_ROWS, TILE_BORDER0+1
  .byte TILE_BORDER0+2
  .byte TILE_ROWS+2, >(CANVAS_NT + TILE_ROWS * 32 - 1), <(CANVAS_NT + TILE_ROWS * 32 - 1), TILE_BORDER0+5
  .res TILE_ROWS, TILE_BORDER0+6
  .byte TILE_BORDER0+7
  text GUESS_ROW, GUESS_COL, "GUESS"
  text HELP_ROW0, HELP_COL, "CONFIDENCE: BAR = SCORE VS BEST"
  text HELP_ROW1, HELP_COL, "A:DRAW B:ERASE SEL:CLR ST:GUESS"
  text HELP_ROW2, HELP_COL, "D-PAD MOVES THE PEN"
.else
  .byte UI_REASON_LEN, >($2000 + REASON_ROW * 32 + REASON_COL), <($2000 + REASON_ROW * 32 + REASON_COL)
  UI_REASON
  text NOTE_ROW, REASON_COL, "NO DRAWING CANVAS FOR THIS NET."
  text HELP_ROW1, HELP_COL, "RAW INPUT PROTOCOL ONLY"
.endif
  .byte 0

nt_row_hi:
.repeat TILE_ROWS, R
  .byte >(CANVAS_NT + R * 32)
.endrepeat
nt_row_lo:
.repeat TILE_ROWS, R
  .byte <(CANVAS_NT + R * 32)
.endrepeat
side_hi:
.repeat TILE_ROWS, R
  .byte >(CANVAS_NT - 1 + R * 32)
.endrepeat
side_lo:
.repeat TILE_ROWS, R
  .byte <(CANVAS_NT - 1 + R * 32)
.endrepeat
bar_hi:
.repeat 10, J
  .byte >(BAR_NT + J * 32)
.endrepeat
bar_lo:
.repeat 10, J
  .byte <(BAR_NT + J * 32)
.endrepeat
times15:
.repeat 10, J
  .byte J * BIG_W * BIG_H
.endrepeat
big_digits:
  CHR_BIG_DIGITS

.if ::UI_ENABLED
canvas_lo:                      ; each canvas row's first packed byte
.repeat CANVAS_SIDE, R
  .byte <(canvas + R * CANVAS_ROW_BYTES)
.endrepeat
canvas_hi:
.repeat CANVAS_SIDE, R
  .byte >(canvas + R * CANVAS_ROW_BYTES)
.endrepeat
; a nibble of the packed canvas (two cells) -> the canvas tile's part for the upper (top) or
; lower (bottom) cell row; the sum of both is the tile (gen_ui.canvas_tile_tables)
tile_top:
  UI_TILE_TOP
tile_bottom:
  UI_TILE_BOTTOM
.assert tile_bottom - tile_top = 16 && * - tile_bottom = 16, error, "16 entries each"
; field_bits[4 f + v]: level v in field f of a packed byte (v = 3: the field's mask)
field_bits:
.repeat 16, I
  .byte (I & 3) << (2 * (I >> 2))
.endrepeat
; the brush (common/brush.py, via ui.inc): each painted cell's offset from the cursor and level
brush_dy:    .byte UI_BRUSH_DY
brush_dx:    .byte UI_BRUSH_DX
brush_level: .byte UI_BRUSH_LEVEL
.assert * - brush_level = UI_BRUSH_CELLS, error, "the brush's level table has one byte a cell"
.endif
