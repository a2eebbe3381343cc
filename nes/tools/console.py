"""Drive the cartridge in the cynes emulator: write nn_input, raise NN_REQUEST, read results.

Symbols come from the ld65 .dbg file, never from hard-coded addresses. cynes and numpy are
imported here, so importing this module is not free (keep it out of dodo.py's load).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from intnet.golden import wrap
from nes.tools.dbginfo import read_symbols

NTSC_CYCLES_PER_FRAME = 29780.5
BOOT_FRAMES = 30  # reset, screen setup, and the UI drawing its first screen (2 rows a frame):
# inferences are measured from a quiet state, so the idle-frame calibration is a real idle frame
MAX_FRAMES = 600  # an inference that takes longer than 10 s is a hang


class ConsoleError(RuntimeError):
    pass


@dataclass(frozen=True)
class Result:
    scores: np.ndarray  # (10,) int64, two's complement of the last layer's width
    digit: int
    frames: int  # vblanks during the inference
    cycles: float  # measured inference cycles (see main.s)


class Console:
    def __init__(self, rom: Path, dbg: Path | None = None):
        from cynes import NES

        self.rom = Path(rom)
        self.symbols = read_symbols(dbg or self.rom.with_suffix(".dbg"))
        sym = self.symbols.address
        self.addr = {
            name: sym(name)
            for name in (
                "nn_input",
                "nn_scores",
                "nn_digit",
                "nn_state",
                "nn_frames",
                "nn_spin_idle",
                "nn_spin_end",
                "nn_runs",
                "nmi_count",
                "nn_stop",
            )
        }
        self.spin_cycles = sym("SPIN_CYCLES")
        # nn_state's values, as nes/src/global.inc defines them (the .dbg file carries them)
        self.NN_IDLE, self.NN_REQUEST, self.NN_BUSY, self.NN_DONE = (
            sym(name) for name in ("NN_IDLE", "NN_REQUEST", "NN_BUSY", "NN_DONE")
        )
        self.input_count = self.symbols.size("nn_input")
        self.score_bytes = self.symbols.size("nn_scores") // 10
        self.nes = NES(str(self.rom))
        self.boot()

    def boot(self) -> None:
        self.nes.step(BOOT_FRAMES)
        self.check_alive()
        self.ready_state = self.nes.save()

    def check_alive(self) -> None:
        if self.nes.has_crashed:
            raise ConsoleError("the CPU crashed (invalid opcode)")

    def peek(self, address: int, count: int) -> np.ndarray:
        return np.array([self.nes[address + k] for k in range(count)], dtype=np.uint8)

    def poke(self, address: int, values) -> None:
        for k, value in enumerate(values):
            self.nes[address + k] = int(value)

    def word(self, name: str) -> int:
        a = self.addr[name]
        return self.nes[a] | (self.nes[a + 1] << 8)

    def request(self, inputs: np.ndarray) -> None:
        inputs = np.asarray(inputs, dtype=np.uint8).ravel()
        if inputs.size != self.input_count:
            raise ValueError(f"{inputs.size} inputs, the cartridge takes {self.input_count}")
        self.poke(self.addr["nn_input"], inputs)
        self.nes[self.addr["nn_state"]] = self.NN_REQUEST

    def wait_done(self, max_frames: int = MAX_FRAMES) -> None:
        for _ in range(max_frames):
            self.nes.step(1)
            self.check_alive()
            if self.nes[self.addr["nn_state"]] == self.NN_DONE:
                return
        raise ConsoleError(f"no answer after {max_frames} frames (nn_state={self.nes[self.addr['nn_state']]})")

    def read_result(self) -> Result:
        width = self.score_bytes
        planes = self.peek(self.addr["nn_scores"], 10 * width).reshape(width, 10).astype(np.int64)
        scores = wrap(sum(planes[k] << (8 * k) for k in range(width)), 8 * width)
        frames = self.nes[self.addr["nn_frames"]]
        cycles = (
            frames * NTSC_CYCLES_PER_FRAME + (self.word("nn_spin_idle") - self.word("nn_spin_end")) * self.spin_cycles
        )
        return Result(scores=scores, digit=self.nes[self.addr["nn_digit"]], frames=frames, cycles=float(cycles))

    def infer(self, inputs: np.ndarray, from_ready_state: bool = True, stop_before: int | None = None) -> Result:
        """One inference; by default from the saved idle state, so samples are independent.
        With `stop_before` = k, nn_run returns before weighted layer k (its scores are then
        not the network's): only its cycles mean something."""
        if from_ready_state:
            self.nes.load(self.ready_state)
        self.nes[self.addr["nn_stop"]] = 0 if stop_before is None else stop_before + 1
        self.request(inputs)
        self.wait_done()
        return self.read_result()

    def layer_cycles(self, samples: np.ndarray, layer_count: int) -> list[float]:
        """Mean cycles of each weighted layer (a conv with its fused pool, a dense layer; the
        last one with the argmax) over `samples`: runs cut before layer 0, 1, ... and the whole
        run, differenced. Element 0 is the request's own overhead (main.s's bookkeeping)."""
        cuts = np.zeros(layer_count + 1)
        for inputs in samples:
            for k in range(layer_count):
                cuts[k] += self.infer(inputs, stop_before=k).cycles
            cuts[layer_count] += self.infer(inputs).cycles
        cuts /= len(samples)
        return [float(cuts[0]), *(float(cuts[k + 1] - cuts[k]) for k in range(layer_count))]
