"""The cartridge's inference is bit-exact with intnet/golden.py (all ten scores and the digit)."""


from __future__ import annotations

import numpy as np
import pytest

from intnet import golden
from tests.nes.builds import NesBuild, structured_inputs


def compare(build: NesBuild, inputs: np.ndarray) -> list[str]:
    """Run every input on the console; describe each difference from the golden model."""
    console = build.console()
    trace = golden.run(build.network, inputs)
    problems = []
    for k, x in enumerate(inputs):
        result = console.infer(x)
        if not np.array_equal(result.scores, trace.scores[k]) or result.digit != trace.digits[k]:
            problems.append(
                f"input {k}: console {result.scores.tolist()} -> {result.digit}, "
                f"golden {trace.scores[k].tolist()} -> {trace.digits[k]}"
            )
    return problems


def test_small_network_300_inputs(nes_small: NesBuild) -> None:
    inputs = structured_inputs(320, 49, nes_small.network.input_max, seed=10)
    assert compare(nes_small, inputs) == []


def test_small_network_exercises_clamp_and_zero(nes_small: NesBuild) -> None:
    """The random net really saturates and zeroes activations, so the test above covers both."""
    inputs = structured_inputs(320, 49, 255, seed=10)
    acts = golden.run(nes_small.network, inputs).activations
    assert (acts[0] == 0).any() and (acts[0] > 0).any()
    assert (acts[1] == 127).any() and (acts[1] == 0).any()


def test_product_tables(nes_product: NesBuild) -> None:
    network_inc = (nes_product.rom.parent / "gen" / "network.inc").read_text()
    assert "NN_PRODUCT_MAX = 32" in network_inc
    calls = [line for line in network_inc.splitlines() if line.strip().startswith("nn_dense")]
    assert len(calls) == 3 and all(line.rstrip().endswith(", 1") for line in calls)  # all layers
    inputs = structured_inputs(200, 49, 32, seed=15)
    acts = golden.run(nes_product.network, inputs).activations
    assert (acts[0] == 31).any() and (acts[1] == 20).any() and (acts[1] == 0).any()
    assert compare(nes_product, inputs) == []


def test_wide_24bit_tiled_network(nes_wide: NesBuild) -> None:
    inputs = structured_inputs(40, 196, 255, seed=11)
    assert compare(nes_wide, inputs) == []


def test_784_inputs_in_chunks(nes_784: NesBuild) -> None:
    inputs = structured_inputs(30, 784, 255, seed=12)
    assert compare(nes_784, inputs) == []


def test_16bit_wraparound(nes_wrap: NesBuild) -> None:
    """Sums far beyond int16 wrap on the console exactly as golden.wrap does."""
    inputs = structured_inputs(60, 49, 255, seed=13)
    raw = golden.raw_accumulators(nes_wrap.network.layers[0], inputs)
    assert (np.abs(raw) > 32767).any(), "the test network must overflow int16"
    assert compare(nes_wrap, inputs) == []


def test_argmax_ties_pick_the_first(nes_wrap: NesBuild) -> None:
    """At zero input the scores are the biases: 30000 at outputs 4 and 8 -> digit 4."""
    result = nes_wrap.console().infer(np.zeros(49, np.uint8))
    assert result.scores[4] == result.scores[8] == 30000
    assert result.digit == 4
    # Outputs 4 and 8 have identical weights: whenever one is the maximum, 4 wins.
    inputs = structured_inputs(40, 49, 255, seed=14)
    console = nes_wrap.console()
    for x, digit in zip(inputs, golden.run(nes_wrap.network, inputs).digits, strict=True):
        assert console.infer(x).digit == digit != 8


@pytest.mark.parametrize("value", [0, 1, 255])
def test_constant_inputs(nes_small: NesBuild, value: int) -> None:
    assert compare(nes_small, np.full((1, 49), value, np.uint8)) == []


def test_inference_timing_is_measured(nes_small: NesBuild) -> None:
    console = nes_small.console()
    empty = console.infer(np.zeros(49, np.uint8))
    full = console.infer(np.full(49, 255, np.uint8))
    assert 0 < empty.cycles < full.cycles
    # 49*24 + 24*16 + 16*10 MACs at most: at least ~40 cycles each when every input is non-zero.
    assert full.cycles > 40 * (49 * 24)
    assert full.frames == int(full.cycles // 29780.5) or abs(full.frames - full.cycles / 29780.5) < 1.01
