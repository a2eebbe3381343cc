"""The cartridge as a program: survives garbage RAM and pad noise, keeps answering requests."""


from __future__ import annotations

import numpy as np
import pytest

from intnet import golden
from nes.tools.console import Console
from tests.nes.builds import NesBuild, structured_inputs


@pytest.mark.parametrize(("seed", "frames_before"), [(20, 0), (24, 7), (25, 31)])
def test_garbage_ram_then_reset(nes_small: NesBuild, seed: int, frames_before: int) -> None:
    """A reset with random RAM (what a real console has) still boots and infers correctly,
    whatever the NMI finds in RAM before the reset code has cleared it."""
    console = nes_small.console()
    console.nes.step(frames_before)
    rng = np.random.default_rng(seed)
    for address, value in enumerate(rng.integers(0, 256, 0x800)):
        console.nes[address] = int(value)
    console.nes.reset()
    console.boot()
    assert console.nes[console.addr["nn_state"]] == 0  # cleared, not a garbage request
    x = structured_inputs(8, 49, 255, seed=21)
    trace = golden.run(nes_small.network, x)
    for k in range(len(x)):
        result = console.infer(x[k])
        assert result.scores.tolist() == trace.scores[k].tolist()


def pad_noise(build: NesBuild, frames: int) -> None:
    """Random buttons (Start requests inferences) for `frames` frames: no crash, still answers."""
    console = build.console()
    rng = np.random.default_rng(22)
    runs_before = console.nes[console.addr["nn_runs"]]
    for bits in rng.integers(0, 256, frames // 8):
        console.nes.controller = int(bits)
        console.nes.step(8)
        assert not console.nes.has_crashed
    assert console.nes[console.addr["nn_runs"]] != runs_before  # Start presses ran inferences
    console.nes.controller = 0
    console.nes.step(2)
    if console.nes[console.addr["nn_state"]] != console.NN_DONE:  # let a running inference finish
        console.wait_done()
    x = structured_inputs(3, 49, 255, seed=23)
    trace = golden.run(build.network, x)
    for k in range(3):
        result = console.infer(x[k], from_ready_state=False)
        assert result.scores.tolist() == trace.scores[k].tolist()


@pytest.mark.slow
def test_pad_noise_2000_frames(nes_small: NesBuild) -> None:
    pad_noise(nes_small, 2_048)


@pytest.mark.slow
def test_pad_noise_10000_frames(nes_small: NesBuild) -> None:
    pad_noise(nes_small, 10_240)


def test_request_protocol(nes_small: NesBuild) -> None:
    console = Console(nes_small.rom)
    console.request(np.zeros(49, np.uint8))
    assert console.nes[console.addr["nn_state"]] == console.NN_REQUEST
    console.wait_done()
    assert console.nes[console.addr["nn_state"]] == console.NN_DONE
