; prep.s: the drawing canvas -> nn_input, bit for bit like training/preprocess.preprocess:
;   canvas (28x28 grey levels) -> [normalise size] -> [deskew] -> [center by mass] -> area sums
; The area sums cover the centred PP_WINDOW x PP_WINDOW cells starting at canvas row and column
; PP_WINDOW_START (the whole canvas unless a window is set), in PP_SIZE x PP_SIZE blocks of
; PP_BLOCK cells a side, or with PP_HALF of PP_BLOCK half cells (an odd number: 3 = 1.5 cells).
; Half-cell blocks count each cell as its four quarter squares, so a cell on a block edge gives
; each of the two blocks beside it half its quarters (preprocess.area_sum). The sums separate:
; per row, the cells add into rowbuf by block column (weight 1, or 2 for a whole half-cell
; column pair), then the row adds rowbuf into its block row(s) the same way. Per row and per
; column two tables give the first block a cell falls in and the block it also reaches when it
; straddles an edge (OUTSIDE: none; a cell outside the window has no first block either).
; The input shift is 0 for every config the canvas supports (levels <= 3): gen_ui.py checks.
;
; No second 784-byte image fits in RAM, so the steps are index mappings, not copies: deskew
; moves source cell (y, x') to (y, x' - s(y)), centring then moves it by (dy, dx). Both are
; bijections on the cells they keep, so every pass walks the canvas once, maps each non-zero
; cell forward and drops it when a step would move it off the 28x28 field (zero fill):
;   pass 0 (normalise only): the ink's bounding box -> the two index maps' constants
;   pass 1 (deskew only): moments of the canvas      -> slope A -> row shifts s(y)
;   pass 2 (center only): moments of the deskewed image -> dy, dx
;   pass 3:               area sums of the mapped cells -> nn_input
;
; Size normalisation (preprocess.normalize_size, PP_NORMALIZE = the box B, 0: off) pulls instead:
; with the ink's box h x w cells from (y0, x0) and L = max(h, w), the normalised image has
; h' = max(1, (h*B + L//2) // L) rows from Y0 = (28 - h') // 2 (w', X0 likewise), and its cell
; (Y, X) in that box is canvas cell (y0 + ((2(Y-Y0)+1)*h) // (2h'), x0 + ((2(X-X0)+1)*w) // (2w')),
; every other cell 0. So the passes walk the normalised image, not the canvas: rows Y0..Y0+h'-1
; and in each the columns X0..X0+w'-1, reading the canvas through the two maps. A map is walked
; as a quotient and remainder that move on by 2h (2w) per step (nm_advance): the row map as the
; scan goes down, the column map once per scan into a table (nm_map) that the cells look up.
;
; Deskew (preprocess.skew_slopes / deskew): with M, Sy, Sx, Syy, Sxy the moments,
;   Vxy = M*Sxy - Sx*Sy, Vyy = M*Syy - Sy^2 (up to 32 bits; 48-bit arithmetic here)
;   A = clip(floor((512*Vxy + Vyy) / (2*Vyy)), -256, 256), 0 when Vyy = 0
;   s(y) = floor((2*A*(M*y - Sy) + 256*M) / (512*M))
; The numerator of s grows by 2*A*M per row and |2*A*M| <= 512*M, so s changes by at most
; one per row: one floor division for row 0, then a step and one correction per row.
; Centre (center_shifts): dy = floor((14*M - Sy) / M), dx likewise (blank: no shift).
; Floors of negative numbers are true floors, like Python's //.
;
; The canvas is packed, 2 bits a cell (nes/tools/canvas.py): row y is the CANVAS_ROW_BYTES
; bytes from canvas + CANVAS_ROW_BYTES * y, cell x the field x & 3 (bits 2(x & 3), +1) of its
; byte x >> 2. Every pass reads a row through unpack_row: a blank row (all bytes zero, a quick
; OR) is skipped whole, any other is unpacked into pp_cells, one byte a cell, which the pass
; then walks as before. pp_cells shares bytes that no pass uses while it scans.
;
; Runs in the main thread (about 5 frames); the NMI may draw into the canvas meanwhile:
; the result is then a mix of before and after, and the UI classifies again (ui_dirty).

.include "global.inc"
.include "ui.inc"

.if ::UI_ENABLED

OUTSIDE = $FF           ; "no block" in the window tables and pp_split
.assert PP_SIZE * PP_SIZE <= OUTSIDE, error, "nn_input indices must stay below OUTSIDE"
.assert PP_WINDOW_START + PP_WINDOW <= CANVAS_SIDE, error, "the window must lie on the canvas"
.assert PP_SIZE * PP_BLOCK = PP_WINDOW * (1 + PP_HALF), error, "blocks must tile the window"
BIG = 6                 ; bytes of the wide signed temporaries

.segment "ZEROPAGE"
pp_ptr:   .res 2        ; -> the canvas row being scanned

.segment "BSS"
canvas:   .res CANVAS_BYTES ; packed: row-major, 4 cells a byte, the left one in bits 0-1
pp_shift: .res CANVAS_SIDE      ; deskew shift s(y) per source row (signed)
pp_dy:    .res 1                ; centring translation (signed)
pp_dx:    .res 1
pp_slope: .res 2                ; A, signed 16-bit (for tests and curiosity)
; The temporaries below live only inside prep_run, and the network runs only after it
; (ui_poll): the network's buffer budget.ram_layout names (ui.inc) may share their bytes, else
; they get their own. Each is an offset into pp_temps (pp_tmp), PP_TEMP_BYTES in all.
.if ::PP_TEMPS_SHARED
pp_temps = PP_TEMPS_BUFFER
.else
pp_temps: .res PP_TEMP_BYTES
.endif
pp_at .set 0            ; bytes of pp_temps declared so far
;; NAME = the next SIZE bytes of pp_temps.
.macro pp_tmp NAME, SIZE
  NAME = pp_temps + pp_at
  pp_at .set pp_at + (SIZE)
.endmacro
pp_tmp pp_mode, 1               ; scan: 0 moments, $80 area sums
pp_tmp pp_y, 1
pp_tmp pp_yf, 1                 ; destination row of the scanned row
pp_tmp pp_negs, 1               ; -s(y) of the scanned row
pp_tmp pp_xf, 1
pp_tmp pp_v, 1
pp_tmp pp_base, 1               ; nn_input index of the destination row's first block row
pp_tmp pp_split, 1              ; ... and of the block row it also reaches (OUTSIDE: none)
pp_tmp pp_r, 1                  ; row mass
pp_tmp pp_rx, 2                 ; row sum of v*x
.if ::PP_NORMALIZE
; size normalisation, per axis: index 0 rows, 1 columns
pp_tmp nm_lo, 2                 ; the ink's first row / column on the canvas (nm_lo $FF: blank canvas)
pp_tmp nm_n, 2                  ; the ink's extent n: h rows, w columns
pp_tmp nm_d, 2                  ; 2n', twice the normalised extent (the map's divisor)
pp_tmp nm_start, 2              ; the normalised box's first row / column
pp_tmp nm_end, 2                ; ... and the one after it
pp_tmp nm_q, 2                  ; the map being walked: canvas row / column ...
pp_tmp nm_r, 2                  ; ... and remainder, 0 <= r < nm_d
pp_tmp pp_xd, 1                 ; the normalised column of the cell being added
.endif
; moments, 32-bit little-endian (24 bits are used at most)
pp_tmp pp_m, 4
pp_tmp pp_sy, 4
pp_tmp pp_sx, 4
pp_tmp pp_syy, 4
pp_tmp pp_sxy, 4
; mul_small: ms_p (24) = ms_a (16) * ms_b (8)
pp_tmp ms_a, 3
pp_tmp ms_b, 1
pp_tmp ms_p, 3
; From here on nothing is used while a pass scans the canvas: pp_cells (and nm_map) share it.
pp_scratch_at = pp_at
pp_scratch = pp_temps + pp_scratch_at
pp_tmp pp_q, 2                  ; quotient being built
pp_tmp pp_cnt, 1
; bmul: big_p (48) = mul_a (32) * mul_b (16)
pp_tmp mul_a, 4
pp_tmp mul_b, 2
pp_tmp big_p, BIG
pp_tmp big_t, BIG
pp_tmp big_r, BIG
pp_tmp big_d, BIG
pp_tmp big_v, BIG
pp_tmp big_w, BIG
pp_tmp big_s, BIG
; The current row unpacked, one byte a cell (unpack_row), in the bytes from pp_scratch on.
pp_cells = pp_scratch
pp_c0 = pp_cells + CANVAS_SIDE  ; its first unpacked cell
pp_c1 = pp_c0 + 1               ; and the one after its last
.if ::PP_NORMALIZE
; The column map nm_map[X]: the canvas column of normalised column X (the box's columns only),
; made by each scan after them, and a few bytes more.
nm_map = pp_c1 + 1
pp_tmp nm_tail, pp_scratch_at + 2 * CANVAS_SIDE + 2 - pp_at  ; nm_map's last byte is the last
.endif
.assert pp_at = PP_TEMP_BYTES, error, "prep.s's temporaries changed size: update PREP_TEMP_BSS or NORMALIZE_BSS in nes/tools/budget.py"
.assert big_s + BIG - pp_scratch >= CANVAS_SIDE + 2, error, "pp_cells must fit in the scratch bytes"
; The area-sum pass no longer needs the moments (deskew and centring are done): its row sums by
; block column (one byte each) share their bytes.
rowbuf = pp_m
.assert pp_sxy + 4 - pp_m >= PP_SIZE, error, "rowbuf must fit in the moments"

; --- wide arithmetic macros (little-endian, BIG bytes, unrolled) ---
.macro b_add dst, src           ; dst += src
  clc
  .repeat ::BIG, I
    lda dst+I
    adc src+I
    sta dst+I
  .endrepeat
.endmacro
.macro b_sub dst, left, right   ; dst = left - right; carry set when left >= right (unsigned)
  sec
  .repeat ::BIG, I
    lda left+I
    sbc right+I
    sta dst+I
  .endrepeat
.endmacro
.macro b_copy dst, src
  .repeat ::BIG, I
    lda src+I
    sta dst+I
  .endrepeat
.endmacro
.macro b_asl v
  asl v
  .repeat ::BIG-1, I
    rol v+I+1
  .endrepeat
.endmacro
.macro b_lsr v
  lsr v+BIG-1
  .repeat ::BIG-1, I
    ror v+BIG-2-I
  .endrepeat
.endmacro
.macro b_not v
  .repeat ::BIG, I
    lda v+I
    eor #$FF
    sta v+I
  .endrepeat
.endmacro
.macro b_neg v                  ; v = -v = ~v + 1
  b_not v
  sec
  .repeat ::BIG, I
    lda v+I
    adc #0
    sta v+I
  .endrepeat
.endmacro
.macro b_load16 dst, src        ; dst = 16-bit unsigned src, zero-extended
  lda src
  sta dst
  lda src+1
  sta dst+1
  lda #0
  .repeat ::BIG-2, I
    sta dst+I+2
  .endrepeat
.endmacro
.macro load_a32 src             ; mul_a = 32-bit src
  .repeat 4, I
    lda src+I
    sta mul_a+I
  .endrepeat
.endmacro

.segment "CODE"

;;
; canvas -> nn_input (see the top of the file). Clobbers A, X, Y and the pp_/big_ temporaries,
; so also the network buffer that shares them (ui.inc PP_TEMPS_BUFFER).
.proc prep_run
  lda #0
  ldx #CANVAS_SIDE-1
clear_shift:
  sta pp_shift,x
  dex
  bpl clear_shift
  sta pp_dx
  sta pp_dy
  sta pp_slope
  sta pp_slope+1
.if ::PP_NORMALIZE
  jsr normalize
.endif
.if ::PP_DESKEW
  jsr moments
  jsr slope
  jsr row_shifts
.endif
.if ::PP_CENTER
  jsr moments
  jsr centre
.endif
  ; pass 3: area sums
  lda #0
  ldx #PP_SIZE*PP_SIZE-1
clear_input:
  sta nn_input,x
  dex
  cpx #$FF
  bne clear_input
  ldx #PP_SIZE-1
clear_rowbuf:
  sta rowbuf,x
  dex
  bpl clear_rowbuf
  lda #$80
  sta pp_mode
  jmp scan
.endproc

;;
; Moments of the canvas as mapped by pp_shift (dx = dy = 0 at this point) into pp_m..pp_sxy.
.proc moments
  lda #0
  ldx #4*5-1
clear:
  sta pp_m,x
  dex
  bpl clear
  sta pp_mode
  jmp scan
.endproc

;;
; Walks every canvas cell; each non-zero one is mapped to (pp_y + dy, x' - s(y) + dx) and
; dropped if that leaves the field. pp_mode bit 7: 0 -> row moments, 1 -> add into nn_input.
.proc scan
  lda #<canvas
  sta pp_ptr
  lda #>canvas
  sta pp_ptr+1
  lda #0
  sta pp_y
.if ::PP_NORMALIZE
  ldy nm_start+1        ; the column map, nm_map[X] for the box's columns (again each pass:
  cpy nm_end+1          ; its bytes are the wide temporaries'); none for a blank canvas
  beq row
  ldx #1
  jsr nm_first
map_column:
  lda nm_q+1
  sta nm_map,y
  jsr nm_next
  iny
  cpy nm_end+1
  bne map_column
.endif
row:
.if ::PP_NORMALIZE
  lda pp_y              ; rows outside the normalised box are blank (all of them when empty)
  cmp nm_end
  bcs outside
  cmp nm_start
  bcs inside
outside:
  jmp skip_row
inside:
  bne :+
  ldx #0                ; the box's first row: the row map starts
  jsr nm_first
: lda nm_q              ; the row map's canvas row
  jsr row_pointer
.endif
  lda pp_y
  clc
  adc pp_dy
  sta pp_yf
  cmp #CANVAS_SIDE
  bcc row_on            ; negative rows are >= 28 unsigned too
  jmp next_row
row_on:
  tax
  lda row_split,x
  sta pp_split
  lda row_first,x
  sta pp_base
  bit pp_mode
  bpl on_window         ; the moments see every row
  cmp #OUTSIDE
  bne on_window
  jmp next_row          ; an area-sum pass skips rows outside the window
on_window:
.if ::PP_NORMALIZE
  jsr unpack_box
.else
  jsr unpack_row
.endif
  bne ink
  jmp next_row          ; a blank row adds nothing
ink:
  ldx pp_y
  lda #0
  sec
  sbc pp_shift,x
  sta pp_negs
  lda #0
  sta pp_r
  sta pp_rx
  sta pp_rx+1
.if ::PP_NORMALIZE
  ldx nm_start+1        ; X: the normalised column
  jmp cell
next_cell:              ; (a cell with ink used X)
  ldx pp_xd
step_cell:
  inx
  cpx nm_end+1
  bne cell
  jmp row_done
cell:
  ldy nm_map,x          ; its canvas column
  lda pp_cells,y
  beq step_cell
  stx pp_xd
  sta pp_v
  txa
.else
  ldy pp_c0             ; the cells from the first byte with ink to the last
cell:
  lda pp_cells,y
  beq next_cell
  sta pp_v
  tya
.endif
  clc
  adc pp_negs           ; deskewed x = x' - s(y): -28..55, off the field when >= 28 unsigned
  cmp #CANVAS_SIDE
  bcs next_cell
  clc
  adc pp_dx             ; centred x
  cmp #CANVAS_SIDE
  bcs next_cell
  bit pp_mode
  bmi add_sum
  sta pp_xf
  lda pp_r
  clc
  adc pp_v
  sta pp_r
  ldx pp_v
add_x:                  ; rx += v * x by v additions (v <= 2)
  lda pp_rx
  clc
  adc pp_xf
  sta pp_rx
  bcc :+
  inc pp_rx+1
: dex
  bne add_x
  jmp next_cell
add_sum:                ; rowbuf by block column; pp_r <> 0 marks a row with sums to add
  tax
  lda col_first,x
  cmp #OUTSIDE
  beq next_cell
  sta pp_xf
  lda col_split,x
  cmp #OUTSIDE
  bne split_col
  ldx pp_xf             ; the cell lies in one block column: weight 2 in half cells
  lda pp_v
.if ::PP_HALF
  asl a
.endif
  clc
  adc rowbuf,x
  sta rowbuf,x
  sta pp_r
  jmp next_cell
split_col:              ; the cell straddles two block columns: one half cell each
  tax
  lda pp_v
  clc
  adc rowbuf,x
  sta rowbuf,x
  ldx pp_xf
  lda pp_v
  clc
  adc rowbuf,x
  sta rowbuf,x
  sta pp_r
.if ::PP_NORMALIZE
  jmp next_cell
.else
next_cell:
  iny
  cpy pp_c1
  beq row_done
  jmp cell
.endif
row_done:
  bit pp_mode
  bpl moments_row
  lda pp_r
  beq next_row
  jsr add_rowbuf
  jmp next_row
moments_row:
  lda pp_r
  beq next_row
  jsr row_moments
next_row:
.if ::PP_NORMALIZE
  ldx #0                ; the row map moves on (also past the box's last row: harmless)
  jsr nm_next
skip_row:
.else
  lda pp_ptr
  clc
  adc #CANVAS_ROW_BYTES
  sta pp_ptr
  bcc :+
  inc pp_ptr+1
:
.endif
  inc pp_y
  lda pp_y
  cmp #CANVAS_SIDE
  beq done
  jmp row
done:
  rts
.endproc

;;
; The packed canvas row at pp_ptr: Z set when it is blank (every cell 0), else Z clear and its
; cells from its first to its last byte with ink unpacked into pp_cells, one byte a cell, at
; their columns pp_c0..pp_c1-1 (the cells outside are stale). Clobbers A, X, Y.
.proc unpack_row
  ldy #CANVAS_ROW_BYTES-1
last:
  lda (pp_ptr),y
  bne found
  dey
  bpl last
  lda #0                        ; blank: Z set (dey left it clear)
  rts
found:
  tya
  asl a
  asl a
  adc #4                        ; (carry clear: asl of <= 6)
  sta pp_c1
  ldy #$FF
first:
  iny
  lda (pp_ptr),y
  beq first                     ; stops at the last byte with ink at the latest
  tya
  asl a
  asl a
  sta pp_c0
  jmp unpack_cells
.endproc

.if ::PP_NORMALIZE
;;
; The packed canvas row at pp_ptr unpacked over the bytes of the ink's bounding box (nm_lo+1,
; nm_n+1), which hold every column nm_map reads; Z clear. No blank test: inside the box blank
; rows are rare, and the OR would cost every row.
.proc unpack_box
  lda nm_lo+1                   ; the box's first column, down to its byte's first cell
  and #<~3
  sta pp_c0
  lda nm_lo+1                   ; its last column + 1, up to the end of its byte
  clc
  adc nm_n+1
  adc #3
  and #<~3
  sta pp_c1
  ; fall through
.endproc
.endif

;;
; Unpacks the cells pp_c0..pp_c1-1 (whole bytes) of the packed row at pp_ptr into pp_cells.
; Returns Z clear. Clobbers A, X, Y; one byte of stack.
.proc unpack_cells
  .assert CANVAS_ROW_BYTES * 4 = CANVAS_SIDE, error, "unpack_cells takes 4 cells a byte"
  ldx pp_c0                     ; X: the cell, Y: its byte
  txa
  lsr a
  lsr a
  tay
  clc                           ; (for the zero bytes' adc; every cpx below leaves it clear)
byte:
  lda (pp_ptr),y
  beq zero
.repeat 3
  pha                           ; the fields from the left cell (bits 0-1) on
  and #3
  sta pp_cells,x
  inx
  pla
  lsr a
  lsr a
.endrepeat
  sta pp_cells,x                ; the last field is what the shifts left
  inx
next:
  iny
  cpx pp_c1
  bne byte
  lda #1                        ; Z clear: the row has ink
  rts
zero:
  sta pp_cells,x
  sta pp_cells+1,x
  sta pp_cells+2,x
  sta pp_cells+3,x
  txa
  adc #4                        ; carry clear
  tax
  bcc next                      ; always
.endproc

;;
; Adds rowbuf into the block row at pp_base (weight 2 in half cells unless the scanned row
; straddles two block rows: then weight 1 into each, pp_split the second) and clears it.
.proc add_rowbuf
  ldy #PP_SIZE-1
each:
  lda rowbuf,y
  beq next
  sta pp_v
  lda #0
  sta rowbuf,y
  tya
  clc
  adc pp_base
  tax
  lda pp_split
  cmp #OUTSIDE
  bne split_row
  lda pp_v
.if ::PP_HALF
  asl a
.endif
  clc
  adc nn_input,x
  sta nn_input,x
  jmp next
split_row:
  lda pp_v
  clc
  adc nn_input,x
  sta nn_input,x
  tya
  clc
  adc pp_split
  tax
  lda pp_v
  clc
  adc nn_input,x
  sta nn_input,x
next:
  dey
  bpl each
  rts
.endproc

;;
; Adds the scanned row (mass pp_r, x-sum pp_rx, at row pp_yf) to the moments.
.proc row_moments
  lda pp_m              ; M += r
  clc
  adc pp_r
  sta pp_m
  bcc :+
  inc pp_m+1
: lda pp_sx             ; Sx += rx
  clc
  adc pp_rx
  sta pp_sx
  lda pp_sx+1
  adc pp_rx+1
  sta pp_sx+1
  bcc :+
  inc pp_sx+2
: ldx pp_yf             ; Sy += r*y
  stx ms_a
  lda #0
  sta ms_a+1
  lda pp_r
  sta ms_b
  jsr mul_small
  ldx #pp_sy - pp_m
  jsr add_product
  ldx pp_yf             ; Syy += r*y^2
  lda square_lo,x
  sta ms_a
  lda square_hi,x
  sta ms_a+1
  lda pp_r
  sta ms_b
  jsr mul_small
  ldx #pp_syy - pp_m
  jsr add_product
  lda pp_rx             ; Sxy += rx*y
  sta ms_a
  lda pp_rx+1
  sta ms_a+1
  lda pp_yf
  sta ms_b
  jsr mul_small
  ldx #pp_sxy - pp_m
  jmp add_product
.endproc

;;
; ms_p (24 bits) = ms_a (16 bits) * ms_b (8 bits), shift and add. Clobbers ms_a, ms_b.
.proc mul_small
  lda #0
  sta ms_p
  sta ms_p+1
  sta ms_p+2
  sta ms_a+2
loop:
  lsr ms_b
  bcc no_add
  lda ms_p
  clc
  adc ms_a
  sta ms_p
  lda ms_p+1
  adc ms_a+1
  sta ms_p+1
  lda ms_p+2
  adc ms_a+2
  sta ms_p+2
no_add:
  asl ms_a
  rol ms_a+1
  rol ms_a+2
  lda ms_b
  bne loop
  rts
.endproc

;;
; The 32-bit moment at pp_m + X += ms_p (24 bits).
.proc add_product
  lda pp_m,x
  clc
  adc ms_p
  sta pp_m,x
  lda pp_m+1,x
  adc ms_p+1
  sta pp_m+1,x
  lda pp_m+2,x
  adc ms_p+2
  sta pp_m+2,x
  lda pp_m+3,x
  adc #0
  sta pp_m+3,x
  rts
.endproc

;;
; big_p (48 bits) = mul_a (32 bits) * mul_b (16 bits), unsigned. Clobbers mul_b, big_t.
.proc bmul
  lda #0
  .repeat ::BIG, I
    sta big_p+I
  .endrepeat
  sta big_t+4
  sta big_t+5
  .repeat 4, I
    lda mul_a+I
    sta big_t+I
  .endrepeat
  lda #16
  sta pp_cnt
loop:
  lsr mul_b+1
  ror mul_b
  bcc no_add
  b_add big_p, big_t
no_add:
  b_asl big_t
  dec pp_cnt
  bne loop
  rts
.endproc

;;
; The slope A into pp_slope from the moments (M > 0 not required: Vyy = 0 gives A = 0).
.proc slope
  load_a32 pp_sxy               ; Vxy = M*Sxy - Sx*Sy -> big_v
  lda pp_m
  sta mul_b
  lda pp_m+1
  sta mul_b+1
  jsr bmul
  b_copy big_v, big_p
  load_a32 pp_sx
  lda pp_sy
  sta mul_b
  lda pp_sy+1
  sta mul_b+1
  jsr bmul
  b_sub big_v, big_v, big_p
  load_a32 pp_syy               ; Vyy = M*Syy - Sy*Sy -> big_w
  lda pp_m
  sta mul_b
  lda pp_m+1
  sta mul_b+1
  jsr bmul
  b_copy big_w, big_p
  load_a32 pp_sy
  lda pp_sy
  sta mul_b
  lda pp_sy+1
  sta mul_b+1
  jsr bmul
  b_sub big_w, big_w, big_p
  lda #0
  .repeat ::BIG, I
    ora big_w+I
  .endrepeat
  bne nonzero
  rts                           ; Vyy = 0: A stays 0
nonzero:
  b_copy big_d, big_w           ; D = 2*Vyy
  b_asl big_d
  lda #0                        ; N = (Vxy << 9) + Vyy: one byte up, then one bit
  sta big_r
  .repeat ::BIG-1, I
    lda big_v+I
    sta big_r+I+1
  .endrepeat
  b_asl big_r
  b_add big_r, big_w
  lda big_r+BIG-1
  php                           ; N's sign, for after the division
  bpl positive
  b_not big_r                   ; floor(N/D) = -floor((-N-1)/D) - 1 = -floor(~N/D) - 1
positive:
  lda #0                        ; T = D << 8; q = floor(N/D) limited to 9 bits (<= 511)
  sta big_t
  .repeat ::BIG-1, I
    lda big_d+I
    sta big_t+I+1
  .endrepeat
  lda #0
  sta pp_q
  sta pp_q+1
  lda #9
  sta pp_cnt
divide:
  asl pp_q
  rol pp_q+1
  b_sub big_p, big_r, big_t
  bcc smaller
  b_copy big_r, big_p
  inc pp_q                      ; bit 0 was clear after the shift
smaller:
  b_lsr big_t
  dec pp_cnt
  bne divide
  plp
  bmi negative
  lda pp_q+1                    ; A = min(q, 256)
  beq store_q
  lda #0
  sta pp_q
  lda #1
  sta pp_q+1
store_q:
  lda pp_q
  sta pp_slope
  lda pp_q+1
  sta pp_slope+1
  rts
negative:
  lda pp_q+1                    ; q >= 256: A = -q-1 <= -257 -> -256
  beq small_neg
  lda #0
  sta pp_slope
  lda #$FF
  sta pp_slope+1
  rts
small_neg:
  lda pp_q                      ; A = -q-1 = ~q (16-bit)
  eor #$FF
  sta pp_slope
  lda #$FF
  sta pp_slope+1
  rts
.endproc

;;
; mul_b = |pp_slope| (the slope lies within +-256, so it takes 9 bits).
.proc abs_slope_to_mul_b
  lda pp_slope
  ldx pp_slope+1
  bpl positive
  eor #$FF                      ; negate the 16-bit value: invert and add one
  clc
  adc #1
  pha
  txa
  eor #$FF
  adc #0
  tax
  pla
positive:
  sta mul_b
  stx mul_b+1
  rts
.endproc

;;
; Row shifts s(y) into pp_shift from A (pp_slope) and the moments (M > 0).
.proc row_shifts
  lda pp_m
  ora pp_m+1
  bne mass
  rts
mass:
  jsr abs_slope_to_mul_b
  load_a32 pp_m                 ; step = 2*A*M -> big_s
  jsr bmul
  b_copy big_s, big_p
  b_asl big_s
  lda pp_slope+1
  bpl :+
  b_neg big_s
: jsr abs_slope_to_mul_b        ; (mul_b was consumed by bmul: load |A| again)
  load_a32 pp_sy                ; r = 256*M - 2*A*Sy (row 0's numerator)
  jsr bmul
  b_asl big_p
  lda pp_slope+1
  bmi a_negative
  b_neg big_p                   ; A >= 0: subtract 2|A|Sy
a_negative:
  lda #0                        ; big_r = M << 8
  sta big_r
  lda pp_m
  sta big_r+1
  lda pp_m+1
  sta big_r+2
  lda #0
  sta big_r+3
  sta big_r+4
  sta big_r+5
  b_add big_r, big_p
  lda #0                        ; D = 512*M = (M << 8) << 1
  sta big_d
  lda pp_m
  sta big_d+1
  lda pp_m+1
  sta big_d+2
  lda #0
  sta big_d+3
  sta big_d+4
  sta big_d+5
  b_asl big_d
  lda #0
  sta pp_q
  sta pp_y
each_row:
  jsr normalise
  ldx pp_y
  lda pp_q
  sta pp_shift,x
  b_add big_r, big_s
  inc pp_y
  lda pp_y
  cmp #CANVAS_SIDE
  bne each_row
  rts
.endproc

;;
; Brings big_r into 0 <= big_r < big_d (big_d > 0), counting in pp_q (8-bit signed) how many
; big_d were taken out: afterwards original r = pp_q_delta * D + big_r, i.e. a floor division.
.proc normalise
negative:
  lda big_r+BIG-1
  bpl not_negative
  b_add big_r, big_d
  dec pp_q
  jmp negative
not_negative:
  b_sub big_p, big_r, big_d
  bcc done
  b_copy big_r, big_p
  inc pp_q
  jmp not_negative
done:
  rts
.endproc

;;
; dy, dx from the (deskewed) moments: floor((14*M - S) / M); nothing for a blank canvas.
.proc centre
  lda pp_m
  ora pp_m+1
  bne mass
  rts
mass:
  b_load16 big_d, pp_m
  lda #CANVAS_SIDE/2            ; big_w = 14*M
  sta mul_b
  lda #0
  sta mul_b+1
  load_a32 pp_m
  jsr bmul
  b_copy big_w, big_p
  b_load16 big_t, pp_sy         ; dy
  b_sub big_r, big_w, big_t
  lda #0
  sta pp_q
  jsr normalise
  lda pp_q
  sta pp_dy
  b_load16 big_t, pp_sx         ; dx
  b_sub big_r, big_w, big_t
  lda #0
  sta pp_q
  jsr normalise
  lda pp_q
  sta pp_dx
  rts
.endproc

.if ::PP_NORMALIZE
;;
; Pass 0: the ink's bounding box (nm_lo, nm_n), then per axis n' and the maps' constants
; nm_d = 2n', nm_start, nm_end. A blank canvas gets an empty box (no row is scanned).
.proc normalize
  lda #$FF
  sta nm_lo             ; first inked row: none yet
  sta nm_lo+1           ; first inked column
  lda #0
  sta nm_n+1            ; last inked column (nm_n holds the last row and column until "extent")
  sta nm_end            ; a blank canvas keeps an empty box: no row or column is scanned
  sta nm_start+1
  sta nm_end+1
  sta pp_y              ; the canvas row
row:
  lda pp_y
  jsr row_pointer
  jsr unpack_row
  beq next_row          ; blank
  ldx pp_y              ; X: the canvas row
  ldy pp_c0             ; the cells from the first byte with ink to the last
cell:
  lda pp_cells,y
  beq next_cell
  cpy nm_lo+1
  bcs :+
  sty nm_lo+1
: cpy nm_n+1
  bcc :+
  sty nm_n+1
: stx nm_n              ; the last inked row so far
  bit nm_lo
  bpl next_cell
  stx nm_lo
next_cell:
  iny
  cpy pp_c1
  bne cell
next_row:
  inc pp_y
  lda pp_y
  cmp #CANVAS_SIDE
  bne row
  bit nm_lo
  bpl ink
  rts
ink:
  ldx #1
extent:                 ; n = last - first + 1
  lda nm_n,x
  sec
  sbc nm_lo,x
  sta nm_n,x
  inc nm_n,x
  dex
  bpl extent
  lda nm_n              ; pp_v = L = max(h, w)
  cmp nm_n+1
  bcs :+
  lda nm_n+1
: sta pp_v
  ldx #1
axis:                   ; n' = (n*B + L//2) // L: L//2 plus n times B, every whole L counted
  lda pp_v
  sta nm_d,x
  lsr a
  sta nm_r,x
  lda #0
  sta nm_q,x
  ldy nm_n,x
scale:
  lda #PP_NORMALIZE
  jsr nm_advance
  dey
  bne scale
  ldy nm_q,x            ; Y = n' = max(1, quotient)
  bne :+
  iny
: tya
  asl a                 ; (carry clear: n' <= 28)
  sta nm_d,x
  eor #$FF              ; start = (28 - n') // 2 = (56 - 2n') >> 2
  adc #CANVAS_SIDE*2+1
  lsr a
  lsr a
  sta nm_start,x
  tya                   ; end = start + n'
  clc
  adc nm_start,x
  sta nm_end,x
  dex
  bpl axis
  rts
.endproc

;;
; pp_ptr = canvas + CANVAS_ROW_BYTES * A (A < 28): the packed row A. Keeps X and Y.
.proc row_pointer
  .assert CANVAS_ROW_BYTES = 7, error, "row_pointer multiplies by 7"
  sta pp_ptr
  asl a
  asl a
  asl a
  sec
  sbc pp_ptr            ; 7A < 256
  clc
  adc #<canvas
  sta pp_ptr
  lda #>canvas
  adc #0
  sta pp_ptr+1
  rts
.endproc

;;
; The index map of axis X (0 rows, 1 columns) at the box's first row / column: the canvas
; index q = lo + n // 2n' and the remainder r = n mod 2n'.
.proc nm_first
  lda nm_lo,x
  sta nm_q,x
  lda #0
  sta nm_r,x
  lda nm_n,x
  jmp nm_advance
.endproc

;;
; The index map of axis X one row / column on: the numerator grows by 2n.
.proc nm_next
  lda nm_n,x
  asl a
  ; fall through
.endproc

;;
; nm_r,x += A, then every whole nm_d,x in it moves nm_q,x on by one (A + nm_r,x < 256).
.proc nm_advance
  clc
  adc nm_r,x
loop:
  cmp nm_d,x
  bcc done
  sbc nm_d,x
  inc nm_q,x
  bne loop              ; always: q > 0 after the increment
done:
  sta nm_r,x
  rts
.endproc
.endif

.segment "RODATA"
; window_blocks 0, S: per canvas row or column P, the first block it falls in times S, OUTSIDE
; off the window; window_blocks 1, S: the second block a cell straddling two reaches, or OUTSIDE.
; In half cells, cell P covers half cells 2P' and 2P'+1 (P' = P - PP_WINDOW_START).
.macro window_blocks second, scale
.repeat CANVAS_SIDE, P
  .if P < PP_WINDOW_START || P >= PP_WINDOW_START + PP_WINDOW
    .byte OUTSIDE
  .elseif second = 0
    .byte (P - PP_WINDOW_START) * (1 + PP_HALF) / PP_BLOCK * (scale)
  .elseif PP_HALF && (2 * (P - PP_WINDOW_START) + 1) / PP_BLOCK <> 2 * (P - PP_WINDOW_START) / PP_BLOCK
    .byte (2 * (P - PP_WINDOW_START) + 1) / PP_BLOCK * (scale)
  .else
    .byte OUTSIDE
  .endif
.endrepeat
.endmacro
row_first: window_blocks 0, PP_SIZE   ; nn_input index of a row's block row
row_split: window_blocks 1, PP_SIZE
col_first: window_blocks 0, 1         ; block column
col_split: window_blocks 1, 1
square_lo:
.repeat CANVAS_SIDE, R
  .byte <(R * R)
.endrepeat
square_hi:
.repeat CANVAS_SIDE, R
  .byte >(R * R)
.endrepeat

.endif ; UI_ENABLED
