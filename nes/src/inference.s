; inference.s: the integer MLP on the 6502, bit-exact with intnet/golden.py.
;
; ALGORITHM
; For every dense layer: acc[j] = wrap(b[j] + sum_i a[i]*w[i][j]) in 16 or 24 bits, then
; hidden layers store clamp(acc[j] >> shift, 0, activation_max) and the last layer keeps the
; 10 accumulators as scores; nn_digit is the first index of the largest score.
;
; Multiplication by quarter squares. With f(x) = floor(x*x/4) and s, d = a+w, a-w of equal
; parity, a*w = f(a+w) - f(|a-w|) exactly. The weights are stored offset-binary in ROM,
; w' = w ^ $80 = w + 128 (0..255), so both operands are unsigned and
;     a*w = a*w' - 128*a = f(a+w') - f(|a-w'|) - 128*a.
; The -128*a terms are the same for every output of an input, so they are summed once:
; nn_sum = sum of the inputs (24 bits), and each accumulator gets -(nn_sum << 7) at the end.
; All sums are modulo 2^16 or 2^24, so the order of additions does not change the result:
; the golden model's wrap() is reproduced exactly, overflow included.
;
; Tables (2 KiB, page-aligned, assembled only when a layer uses them): sq_plus_lo/hi[k] =
; f(k) for k = 0..511 and sq_minus_lo/hi[m] = f(|m - 255|). For an input a, four zero-page
; pointers are set once:
;     nn_plo/nn_phi = sq_plus + a        -> (nn_plo),y = f(a + w')       with Y = w'
;     nn_mlo/nn_mhi = sq_minus + 255 - a -> (nn_mlo),y = f(|w' - a|)
; Because the tables are page-aligned, that is just "sta lo-byte" of a and of a^$FF.
;
; Loop order: inputs outside, outputs inside. An input equal to zero (ReLU zeros, blank
; pixels) is skipped for about 14 cycles. For a non-zero input the inner loop over the
; outputs of a tile is fully unrolled (.repeat): per output, `ldy column,x` fetches w'
; (X = input index), the product f(a+w') - f(|a-w'|) is formed and added once to the
; zero-page accumulators: about 50 cycles per MAC at 16 bits, 53 at 24 bits, with page crossings.
;
; Small inputs: when a layer's inputs never exceed NN_PRODUCT_MAX (the first layer of a net
; with few grey levels: input.max = 32 or 8; or hidden layers with a small activation_max),
; gen_network.py may choose product tables prod_lo/hi[a-1][w'] = a*w' (512 bytes per value),
; so a MAC is one 16-bit add with one lookup per byte: about 30 cycles instead of 52.
;
; 4-bit weights (manifest weight_bits 4): the ROM holds offset nibbles n = w + 8, two outputs a
; byte (output 2k low, 2k+1 high). Three ways to multiply, chosen per layer by gen_network.py:
; - nibble product tables (MUL 2), for inputs up to NN_NIBBLE_MAX <= 17: page a-1 of nib_lo /
;   nib_hi holds a*n of the low / high nibble of Y = the packed byte, one byte (a*15 <= 255).
;   The packed byte is read once per pair; a MAC is lda acc / adc (ptr),y / sta acc / bcc, with
;   the carry into the upper bytes out of line and C kept clear between MACs: 14 cycles, ~16
;   per MAC with the shared fetch and the rare carries. a*w = a*n - 8*a: the correction is
;   nn_sum << 3 instead of << 7.
; - the same tables for larger inputs (MUL 3): each input in parts of at most NN_NIBBLE_MAX,
;   one pass over the tile's outputs per part (a*w = sum of part*w).
; - the 8-bit kernels (MUL 0, 1): the unpack tables nn_unlo/nn_unhi turn the packed byte into
;   the w' = w + 128 of one output (+6 cycles per MAC), the rest as for 8-bit weights.
; The quarter-square tables are assembled only when a layer uses them (NN_SQUARES).
;
; Requantization: acc - (nn_sum << 7) (<< 3 for nibble layers), then negative -> 0; the shift
; by 8q+r skips q bytes and shifts r bits (right, or left by 8-r into the next byte when r > 4);
; anything left above the low byte or above activation_max saturates.
;
; Weight layout in ROM (written by nes/tools/gen_network.py from the shared row-major .bin,
; which stays unchanged for the golden model): for each chunk of up to 256 inputs, for each
; output j, the chunk's column w'[i][j] as consecutive bytes, so `ldy col_j,x` with X = input
; index within the chunk reaches it. Inputs beyond 256 use further chunks with their own code.
; 4-bit layers: the same with one column per output pair k of bytes (w[i][2k] + 8) |
; (w[i][2k+1] + 8) << 4 (an odd last output pads with w = 0): half the bytes.
;
; Accumulators live in zero page as byte planes nn_acc0/1/2 of NN_TILE_MAX entries. A layer
; with more outputs than fit is run in tiles of outputs; each tile loops over all inputs.
;
; Output layout: nn_scores is planar little-endian like the bias tables: nn_scores[j] is the
; low byte of score j, nn_scores[10+j] the next byte, nn_scores[20+j] the top byte of a
; 24-bit last layer. Scores are two's complement NN_SCORE_BYTES wide.

.include "global.inc"
.include "network.inc"
.include "conv.inc"     ; nn_conv: macros only, code only where NN_CONV_PROCS expands them

.segment "ZEROPAGE"
nn_plo:  .res 2         ; -> sq_plus_lo + a
nn_phi:  .res 2         ; -> sq_plus_hi + a
nn_mlo:  .res 2         ; -> sq_minus_lo + 255 - a
nn_mhi:  .res 2         ; -> sq_minus_hi + 255 - a
nn_sum0: .res 1         ; sum of this layer's inputs, 24 bits
nn_sum1: .res 1
nn_sum2: .res 1
nn_c:    .res 3         ; nn_sum << 7, subtracted from every accumulator
nn_t:    .res 3         ; MAC temporary; one accumulator being requantized
nn_rest = nn_t          ; split nibble MACs: what is left of the input (nn_t is free then)
nn_abort: .res 1        ; set by the UI (NMI) when the canvas changes during a canvas classification:
                        ; nn_run returns at the next layer or conv row (its result is dropped)
nn_stop: .res 1         ; 0: nn_run runs every layer; k > 0: it returns before weighted layer
                        ; k-1 (per-layer timing: nes/tools/console.py, Console.layer_cycles)
nn_acc0: .res NN_TILE_MAX   ; accumulator byte planes: low
nn_acc1: .res NN_TILE_MAX   ;   middle/high
.if NN_ANY_24
nn_acc2: .res NN_TILE_MAX   ;   high byte of 24-bit layers
.endif

.if NN_CONV_COUNT
; conv.inc's work variables (convolutional networks only; see conv.inc's header).
.if NN_POOL_COUT_MAX
cv_max0:  .res NN_POOL_COUT_MAX ; signed running maxima of a pooled cell, byte planes
cv_max1:  .res NN_POOL_COUT_MAX
.endif
.include "conv_vars.inc"
.assert cv_work_end - cv_g = NN_CONV_WORK_BYTES, error, "conv_vars.inc changed size: update CONV_WORK_BYTES in common/architecture.py (the zero-page budget of a CNN)"
cv_t = nn_t             ; requantize temporary (nn_t is free between layers)
.endif

.if NN_CONV_COUNT
.segment NN_PATCH_SEGMENT
cv_patch:  .res NN_PATCH_BYTES          ; the gathered 3x3xCin patch of one position
.endif

.segment "BSS"
nn_input:  .res NN_INPUT_COUNT          ; the network input, uint8, 0..NN_INPUT_MAX
nn_scores: .res 10 * NN_SCORE_BYTES     ; planar little-endian scores (see above)
nn_digit:  .res 1                       ; first index of the largest score

; Hidden activations: layer 0 reads nn_input and writes nn_act0, layer 1 reads nn_act0 and
; writes nn_act1, layer 2 reads nn_act1 and writes nn_act0 (or nn_scores), ... (a conv may
; write over its own source map instead: budget.buffer_plan, network.inc). Each buffer is
; sized to the largest layer it holds and placed by budget.ram_layout (network.inc): in the low
; stack page (STACKBSS, $0100-$01BF, below the 64 bytes the stack may use) when it fits there,
; else in BSS. With the canvas, one of nn_act0, nn_act1, cv_patch also holds prep.s's
; temporaries (ui.inc PP_TEMPS_BUFFER; it reserves the larger of its bytes and theirs): prep_run
; returns before nn_run starts. A conv's map is stored trimmed to what the next conv reads
; (plan.windows). nn_input is never overwritten: it still holds the input after a run.
.segment NN_ACT0_SEGMENT
nn_act0:   .res NN_ACT0_BYTES           ; hidden activations, layers 0, 2, 4...
.segment NN_ACT1_SEGMENT
nn_act1:   .res NN_ACT1_BYTES           ; hidden activations, layers 1, 3, 5...

.segment "SQTABLES"
; All tables here are page-aligned (the segment is, and each is a whole number of pages):
; the pointers into them set only a page or only a low byte, and no lookup crosses a page.
.if NN_SQUARES
; f(k) = floor(k*k/4), k = 0..511 (511 is never read: a + w' <= 510).
sq_plus_lo:
  .repeat 512, K
    .byte <((K * K) / 4)
  .endrepeat
sq_plus_hi:
  .repeat 512, K
    .byte >((K * K) / 4)
  .endrepeat
; f(|m - 255|), m = 0..511
sq_minus_lo:
  .repeat 512, K
    .byte <(((K - 255) * (K - 255)) / 4)
  .endrepeat
sq_minus_hi:
  .repeat 512, K
    .byte >(((K - 255) * (K - 255)) / 4)
  .endrepeat
.assert <sq_plus_lo = 0 && <sq_plus_hi = 0 && <sq_minus_lo = 0 && <sq_minus_hi = 0, error, "square tables must be page-aligned: the pointers only set their low byte"
.endif
.if NN_PRODUCT_MAX > 0
; Product tables for layers whose inputs are small (input.max or the previous layer's
; activation_max <= NN_PRODUCT_MAX, chosen by gen_network.py when they fit the PRG):
; page a-1 of prod_lo/prod_hi holds a*w' for w' = 0..255, one lookup per byte instead of two.
prod_lo:
  .repeat NN_PRODUCT_MAX, A1
    .repeat 256, W
      .byte <((A1 + 1) * W)
    .endrepeat
  .endrepeat
prod_hi:
  .repeat NN_PRODUCT_MAX, A1
    .repeat 256, W
      .byte >((A1 + 1) * W)
    .endrepeat
  .endrepeat
.assert <prod_lo = 0 && <prod_hi = 0, error, "product tables must be page-aligned"
.endif
.if NN_NIBBLE_MAX > 0
.include "nibble_tables.inc"
.endif
.if NN_UNPACK
; Unpack tables for 4-bit layers on the 8-bit kernels: packed byte b -> w + 128 of its low
; (nn_unlo) or high (nn_unhi) offset nibble n = w + 8, i.e. n + 120: the offset-binary w'
; the quarter-square and product MACs take.
nn_unlo:
  .repeat 256, B
    .byte (B & $0F) + 120
  .endrepeat
nn_unhi:
  .repeat 256, B
    .byte (B >> 4) + 120
  .endrepeat
.assert <nn_unlo = 0, error, "unpack tables must be page-aligned (no page-crossing cycle)"
.endif

; ---------------------------------------------------------------------------------------
; One multiply-accumulate: acc[J] += f(a+w') - f(|a-w'|), with Y = w' and the pointers set.
; The product is formed first (its high byte parked in Y), then added once: ~48 cycles.

.macro nn_mac16 J
  lda (nn_plo),y        ; product P = f(a+w') - f(|a-w'|) = a*w', 0..65025: low byte
  sec
  sbc (nn_mlo),y
  sta nn_t
  lda (nn_phi),y        ; high byte (borrow from the low byte in C)
  sbc (nn_mhi),y
  tay                   ; Y (w') is no longer needed: keep P's high byte there
  lda nn_t
  clc
  adc nn_acc0+J
  sta nn_acc0+J
  tya
  adc nn_acc1+J
  sta nn_acc1+J         ; carry out is dropped: 16-bit wrap, as golden.wrap
.endmacro

.macro nn_mac24 J
  nn_mac16 J            ; the low 16 bits exactly as a 16-bit layer...
  nn_carry_top J        ; ...and the carry out into the top byte
.endmacro

;; The carry out of a 16-bit add into the top byte of a 24-bit accumulator.
.macro nn_carry_top J
  .local no_carry
  bcc no_carry
  inc nn_acc2+J
no_carry:
.endmacro

;; Product-table MACs: acc[J] += a*w' with (nn_plo),y / (nn_phi),y = page of a, Y = w'.
.macro nn_mac16p J
  clc
  lda nn_acc0+J
  adc (nn_plo),y
  sta nn_acc0+J
  lda nn_acc1+J
  adc (nn_phi),y
  sta nn_acc1+J
.endmacro

.macro nn_mac24p J
  nn_mac16p J
  nn_carry_top J
.endmacro

;; Nibble-product MAC: acc[J] += a*n with PTR = nn_plo (low nibble) or nn_phi (high nibble)
;; at page a-1 of nib_lo / nib_hi and Y = the packed byte. The product is one byte, so the
;; low byte takes a plain add and the upper bytes only a carry. Carry is clear on entry and
;; on exit (the rare carry path clears it), so no clc per MAC: 14 cycles without a carry.
.macro nn_macn PTR, J, WIDTH
  .local done
  lda nn_acc0+J
  adc (PTR),y
  sta nn_acc0+J
  bcc done
  clc                   ; (inc leaves C alone)
  inc nn_acc1+J
  .if WIDTH = 3
  bne done
  inc nn_acc2+J
  .endif
done:
.endmacro

; ---------------------------------------------------------------------------------------
; The input loop of one tile over one chunk of up to 256 inputs (X = input index in the
; chunk). Expanded inside a tile's scope: uses its T0 (first output) and TN (outputs).
; WBITS 8: one column per output. WBITS 4: one column of packed bytes per output pair
; (outputs 2k, 2k+1 in the low, high nibble), read once per pair by the nibble kernel
; (MUL 2) or once per output through an unpack table by the 8-bit kernels (MUL 0, 1).

.macro nn_chunk C, NIN, NOUT, WIDTH, WSYM, SRC, WBITS, MUL
  .local CI, CLEN, COLS, WBASE, next, test, done, sum_done, part, last_part, have_part, more
  CI = (C) * 256                              ; first input of this chunk
  CLEN = .min(256, (NIN) - CI)                ; inputs in this chunk
  .if WBITS = 4
  COLS = ((NOUT) + 1) / 2                     ; columns: one per output pair
  .else
  COLS = (NOUT)
  .endif
  WBASE = WSYM + CI * COLS                    ; this chunk's columns
  ldx #0
  jmp test
next:
  inx
  cpx #<CLEN                                  ; (256 -> 0: X wrapped to 0)
  bne test
  jmp done
test:
  lda SRC + CI, x
  beq next                                    ; zero input: nothing to add
  .if MUL = 3
  ; Inputs above NN_NIBBLE_MAX go through the nibble MACs in parts of at most
  ; NN_NIBBLE_MAX (a*w = sum of part*w): a few passes are still faster than the 8-bit kernels.
  sta nn_rest
part:
  lda nn_rest
  cmp #::NN_NIBBLE_MAX + 1
  bcc last_part
  sbc #::NN_NIBBLE_MAX                        ; (carry set) this pass takes NN_NIBBLE_MAX
  sta nn_rest
  lda #::NN_NIBBLE_MAX
  bne have_part                               ; (always)
last_part:
  ldy #0                                      ; this pass takes the rest
  sty nn_rest
have_part:
  .endif
  .if MUL = 0
  sta nn_plo                                  ; pointers to f(a + w') ...
  sta nn_phi
  .endif
  tay
  clc
  adc nn_sum0                                 ; nn_sum += a
  sta nn_sum0
  bcc sum_done
  inc nn_sum1
  bne sum_done
  inc nn_sum2
sum_done:
  tya
  .if MUL = 1
  clc
  adc #>prod_lo - 1                           ; page a-1 of the product tables
  sta nn_plo+1
  adc #::NN_PRODUCT_MAX                       ; (carry clear: no page number overflows)
  sta nn_phi+1
  .elseif MUL >= 2
  clc
  adc #>nib_lo - 1                            ; page a-1 of the nibble tables
  sta nn_plo+1
  adc #::NN_NIBBLE_MAX                        ; carry stays clear: nn_macn relies on it
  sta nn_phi+1
  .else
  eor #$FF                                    ; ... and to f(|w' - a|): 255 - a
  sta nn_mlo
  sta nn_mhi
  .endif
  .repeat TN, J
    .if MUL >= 2
      ; One fetch per pair (and one for a tile that starts on a high nibble).
      .if J = 0 || ((T0 + J) .MOD 2) = 0
      ldy WBASE + ((T0 + J) / 2) * CLEN, x    ; offset nibbles of outputs 2k, 2k+1
      .endif
      .if ((T0 + J) .MOD 2) = 0
      nn_macn nn_plo, J, WIDTH
      .else
      nn_macn nn_phi, J, WIDTH
      .endif
    .else
      .if WBITS = 4
      ldy WBASE + ((T0 + J) / 2) * CLEN, x    ; the pair's packed byte...
        .if ((T0 + J) .MOD 2) = 0
      lda nn_unlo, y                          ; ... -> w' = w + 128 of this output
        .else
      lda nn_unhi, y
        .endif
      tay
      .else
      ldy WBASE + (T0 + J) * CLEN, x          ; w' of input x, output T0+J
      .endif
      .if MUL = 1 && WIDTH = 2
        nn_mac16p J
      .elseif MUL = 1
        nn_mac24p J
      .elseif WIDTH = 2
        nn_mac16 J
      .else
        nn_mac24 J
      .endif
    .endif
  .endrepeat
  .if MUL = 3
  lda nn_rest                                 ; another pass for this input?
  beq more
  jmp part
more:
  .endif
  jmp next
done:
.endmacro

; ---------------------------------------------------------------------------------------
; One dense layer, generated per layer by NN_EXPAND_LAYERS (network.inc).
;   L layer index; NIN, NOUT sizes; WIDTH accumulator bytes (2 or 3); SHIFT right shift, or
;   -1 for the output layer; AMAX clamp; NTILES output tiles; WSYM offset-binary column
;   table; BSYM planar bias table; SRC input vector; DST activation vector or nn_scores;
;   WBITS weight bits (8 or 4); MUL the multiplier: 0 quarter squares, 1 product tables,
;   2 nibble product tables, 3 nibble product tables in parts of at most NN_NIBBLE_MAX
;   (2 and 3: 4-bit weights only).

.macro nn_dense L, NIN, NOUT, WIDTH, SHIFT, AMAX, NTILES, WSYM, BSYM, SRC, DST, WBITS, MUL
  .assert WIDTH = 2 || WIDTH = 3, error, "accumulators are 16 or 24 bits"
  .assert WBITS = 8 || WBITS = 4, error, "weights are 8 or 4 bits"
  .assert MUL <= 1 || (MUL <= 3 && WBITS = 4), error, "nibble products need 4-bit weights"
  .if MUL
  lda #0                ; product tables: the pointers' low bytes are 0, the page is per input
  sta nn_plo
  sta nn_phi
  .else
  lda #>sq_plus_lo      ; quarter squares: the high bytes are fixed (page-aligned tables)
  sta nn_plo+1
  lda #>sq_plus_hi
  sta nn_phi+1
  lda #>sq_minus_lo
  sta nn_mlo+1
  lda #>sq_minus_hi
  sta nn_mhi+1
  .endif
  .assert NOUT <= NTILES * ::NN_TILE_MAX, error, "layer needs more output tiles"
  .repeat NTILES, T
  .scope
    T0 = (T * (NOUT)) / (NTILES)                ; first output of this tile
    TN = ((T + 1) * (NOUT)) / (NTILES) - T0     ; outputs in this tile
    .assert TN >= 1 && TN <= ::NN_TILE_MAX && TN <= 128, error, "tile size"

    ; Accumulators start at the bias; the input sum at zero.
    ldx #TN - 1
  init:
    lda BSYM + T0, x
    sta nn_acc0, x
    lda BSYM + (NOUT) + T0, x
    sta nn_acc1, x
    .if WIDTH = 3
    lda BSYM + 2 * (NOUT) + T0, x
    sta nn_acc2, x
    .endif
    dex
    bpl init
    lda #0
    sta nn_sum0
    sta nn_sum1
    sta nn_sum2

    .repeat ((NIN) + 255) / 256, C
      nn_chunk C, NIN, NOUT, WIDTH, WSYM, SRC, WBITS, MUL
    .endrepeat

    .if MUL >= 2
    ; nn_c = nn_sum << 3: the -8*a terms of the offset nibbles n = w + 8.
    lda nn_sum0
    sta nn_c
    lda nn_sum1
    sta nn_c+1
    lda nn_sum2
    sta nn_c+2
    .repeat 3
    asl nn_c
    rol nn_c+1
    rol nn_c+2
    .endrepeat
    .else
    ; nn_c = nn_sum << 7: the -128*a terms of the offset-binary weights w' = w + 128.
    lda nn_sum2
    lsr a
    lda nn_sum1
    ror a
    sta nn_c+2
    lda nn_sum0
    ror a
    sta nn_c+1
    lda #0
    ror a
    sta nn_c
    .endif

    ; Finish each output of the tile: subtract nn_c, then store the score, or requantize.
    ldx #TN - 1
  finish:
    sec
    lda nn_acc0, x
    sbc nn_c
    sta nn_t
    lda nn_acc1, x
    sbc nn_c+1
    sta nn_t+1
    .if WIDTH = 3
    lda nn_acc2, x
    sbc nn_c+2
    sta nn_t+2
    .endif
    .if (SHIFT) < 0
      ; Output layer: keep the whole accumulator, planar.
      lda nn_t
      sta DST + T0, x
      lda nn_t+1
      sta DST + 10 + T0, x
      .if WIDTH = 3
      lda nn_t+2
      sta DST + 20 + T0, x
      .endif
    .else
      ; Hidden layer: negative -> 0 (arithmetic shift keeps the sign, clamp at 0).
      lda nn_t + WIDTH - 1
      bmi zero
      Q = (SHIFT) / 8                             ; whole bytes of the shift: just skip them
      R = (SHIFT) .MOD 8
      .if Q >= WIDTH
        jmp zero                                  ; shifted out entirely (non-negative -> 0)
      .else
        .if R > 4 && Q + 1 <= WIDTH - 1
          ; A right shift by R > 4 is a left shift by 8-R and one byte: fewer shifts.
          ; The bits the left shift pushes out of the top byte would saturate.
          LSH = 8 - R
          Q2 = Q + 1
          lda nn_t + WIDTH - 1
          and #<($FF << (8 - LSH))
          bne saturate
          .repeat LSH
            asl nn_t + Q
            .repeat WIDTH - 1 - Q, K
              rol nn_t + Q + 1 + K
            .endrepeat
          .endrepeat
        .else
          Q2 = Q
          .repeat R
            lsr nn_t + WIDTH - 1
            .repeat WIDTH - 1 - Q, K
              ror nn_t + WIDTH - 2 - K
            .endrepeat
          .endrepeat
        .endif
        .if WIDTH - 1 > Q2
          lda nn_t + Q2 + 1                       ; anything above the low byte: saturate
          .if WIDTH - 2 > Q2
          ora nn_t + Q2 + 2
          .endif
          bne saturate
        .endif
        lda nn_t + Q2
        .if (AMAX) < 255
        cmp #(AMAX) + 1
        bcs saturate
        .endif
        jmp store
      .endif
    saturate:
      lda #AMAX
      jmp store
    zero:
      lda #0
    store:
      sta DST + T0, x
    .endif
    dex
    bmi finished
    jmp finish
  finished:
  .endscope
  .endrepeat
.endmacro

;;
; Before weighted layer LAYER: return from nn_run if the UI aborted the run (nn_abort) or
; nn_stop asks to stop here (13 cycles when neither). The host times runs cut before layer 0,
; 1, ... and takes the differences.
.macro nn_stop_before LAYER
  .local go, stop
  lda nn_abort
  bne stop
  lda nn_stop
  cmp #LAYER + 1
  bne go
stop:
  rts
go:
.endmacro

.segment "CODE"

;;
; Runs the whole network: nn_input -> nn_act0/1 -> nn_scores, nn_digit (the conv layers
; first, each a `jsr nn_l<i>_conv`; then the dense layers, which read the last map as HWC).
; Clobbers A, X, Y and the nn_* work variables. Takes about 16-50 cycles per non-zero MAC
; (nibble products .. quarter squares).
.proc nn_run
  NN_EXPAND_LAYERS

  jmp nn_argmax
.endproc

; The conv layers' routines (jsr'd by NN_EXPAND_LAYERS): none in a dense-only network.
NN_CONV_PROCS

;;
; nn_digit = first j with the largest signed score (ties keep the lower index, as np.argmax).
.proc nn_argmax
  TOP = nn_scores + 10 * (::NN_SCORE_BYTES - 1)
  ldx #0                ; best so far
  ldy #1                ; candidate
candidate:
  ; Compare from the top byte down; the top byte is signed: flip its sign bit to compare
  ; it unsigned.
  lda TOP, y
  eor #$80
  sta nn_t
  lda TOP, x
  eor #$80
  cmp nn_t
  bcc better            ; best < candidate
  bne not_better        ; best > candidate
  .if ::NN_SCORE_BYTES = 3
  lda nn_scores + 10, x
  cmp nn_scores + 10, y
  bcc better
  bne not_better
  .endif
  lda nn_scores, x
  cmp nn_scores, y
  bcs not_better        ; best >= candidate: a tie keeps the first
better:
  tya
  tax
not_better:
  iny
  cpy #10
  bne candidate
  stx nn_digit
  rts
.endproc
