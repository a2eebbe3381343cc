"""Convolutional networks on the console (issue 15, step 6): random format-2 networks built
into ROMs through the NES steps, run in cynes, scores compared with `intnet.layers` (the law)
byte for byte on MNIST digits and on structured inputs (blank, full, single pixels, noise)."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest

from common.architecture import conv_output_side
from intnet import layers
from nes.tools import budget
from nes.tools.console import Console
from nes.tools.plan import NetworkError, conv_plans, windows
from nes.tools.ui_driver import DOWN, A, Ui, lit
from tests.nes.builds import ConvSpec, LayerSpec, build_rom, structured_inputs, write_cnn

FRAME = 29780.5


def mnist_inputs(mnist_dir: Path, count: int) -> np.ndarray:
    """The first `count` MNIST test digits as config.yaml's 14x14 inputs (0..8), (count, 196)."""
    from common.config import load
    from intnet.prep import preprocess
    from tests.conftest import ROOT
    from training.dataset import load_split

    images = load_split(mnist_dir, "test", allow_download=False, mirrors=[])[0][:count]
    return preprocess(images, load(ROOT / "config.yaml").preprocess).reshape(count, 196).astype(np.uint8)


class CnnRom:
    def __init__(self, root: Path, convs: list[ConvSpec], dense: list[LayerSpec], seed: int):
        self.export = write_cnn(root / "export", convs, dense, seed)
        self.manifest = json.loads((self.export / "manifest.json").read_text())
        self.outputs = build_rom(self.export / "manifest.json", root / "nes", name=root.name)
        self.network = layers.load(self.export)

    def check(self, inputs: np.ndarray) -> list[float]:
        """Runs every input on the console; asserts scores and digit equal intnet.layers'.
        Returns the frames each took."""
        console = Console(self.outputs.rom)
        trace = layers.run(self.network.layers, inputs.reshape(-1, 14, 14, 1))
        frames = []
        for k, one in enumerate(inputs):
            result = console.infer(one)
            assert result.scores.tolist() == trace.scores[k].tolist(), f"input {k}"
            assert result.digit == trace.digits[k]
            frames.append(result.cycles / FRAME)
        return frames


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> CnnRom:
    """conv4 valid + pool, conv6 valid + pool (in place), dense 12, output 10."""
    root = tmp_path_factory.mktemp("cnn") / "tinycnn"
    return CnnRom(root, [ConvSpec(4, 3), ConvSpec(6, 5)], [LayerSpec(0, 12, 16, 5), LayerSpec(12, 10, 16, None)], 4)


def test_tiny_cnn_matches_the_golden_model(tiny: CnnRom, mnist_dir: Path) -> None:
    routes = budget.buffer_plan(tiny.manifest).routes
    assert routes[1] == ("nn_act0", "nn_act0")  # conv 2 writes over its source map
    inputs = np.concatenate([mnist_inputs(mnist_dir, 200), structured_inputs(100, 196, 8, seed=5)])
    trace = layers.run(tiny.network.layers, inputs.reshape(-1, 14, 14, 1))
    assert len(set(trace.digits.tolist())) >= 3  # the scores are not one constant answer
    frames = tiny.check(inputs)
    assert max(frames) < 60


@pytest.fixture(scope="module")
def strided(tmp_path_factory: pytest.TempPathFactory) -> CnnRom:
    """The cnn-s16-s64 sweep point's geometry with random weights: conv16 stride 2 (14x14 -> 6x6),
    conv64 stride 2 (-> 2x2), both unpooled, dense 32, output 10."""
    root = tmp_path_factory.mktemp("cnn") / "strided"
    convs = [ConvSpec(16, 2, pool=False, stride=2), ConvSpec(64, 5, pool=False, stride=2)]
    return CnnRom(root, convs, [LayerSpec(0, 32, 16, 5), LayerSpec(32, 10, 16, None)], 11)


def test_stride_2_convs_match_the_golden_model(strided: CnnRom, mnist_dir: Path) -> None:
    assert [layer.stride for layer in strided.network.layers[:2]] == [2, 2]
    assert [entry["output_shape"] for entry in strided.manifest["layers"][:2]] == [[6, 6, 16], [2, 2, 64]]
    # conv 2's first output (64 bytes) would overwrite what its second position reads (from byte 32)
    assert budget.buffer_plan(strided.manifest).routes[:2] == (("nn_input", "nn_act0"), ("nn_act0", "nn_act1"))
    # conv 2 never reads conv 1's last row and column: conv 1 makes 5x5x16 (400 bytes) from 11x11 of the input
    convs, _ = conv_plans(strided.manifest, strided.export)
    assert [(c.height, c.width, c.row_width, c.output_shape) for c in convs] == [
        (11, 11, 14, (5, 5, 16)),
        (5, 5, 5, (2, 2, 64)),
    ]
    assert budget.buffer_plan(strided.manifest).act0 == 400
    inputs = np.concatenate([mnist_inputs(mnist_dir, 100), structured_inputs(100, 196, 8, seed=12)])
    trace = layers.run(strided.network.layers, inputs.reshape(-1, 14, 14, 1))
    assert len(set(trace.digits.tolist())) >= 3  # the scores are not one constant answer
    strided.check(inputs)


def test_stride_2_on_odd_maps_in_place(tmp_path: Path) -> None:
    """Stride 2 on an even map whose last row and column no patch reads (12x12 -> 5x5), then on
    an odd one that it reads whole (5x5 -> 2x2); both write over their source map."""
    convs = [ConvSpec(3, 2, pool=False), ConvSpec(5, 3, pool=False, stride=2), ConvSpec(6, 4, pool=False, stride=2)]
    rom = CnnRom(tmp_path / "odd", convs, [LayerSpec(0, 10, 16, None)], 13)
    assert [entry["output_shape"] for entry in rom.manifest["layers"][:3]] == [[12, 12, 3], [5, 5, 5], [2, 2, 6]]
    routes = budget.buffer_plan(rom.manifest).routes
    assert routes[1] == routes[2] == ("nn_act0", "nn_act0")
    rom.check(structured_inputs(60, 196, 8, seed=14))


def test_unpooled_and_odd_channels(tmp_path: Path) -> None:
    """A conv without pool (12x12 map), odd channel counts, one conv then dense."""
    rom = CnnRom(tmp_path / "unpooled", [ConvSpec(3, 2, pool=False)], [LayerSpec(0, 10, 16, None)], 4)
    rom.check(structured_inputs(40, 196, 8, seed=6))


@pytest.fixture(scope="module")
def c5(tmp_path_factory: pytest.TempPathFactory) -> CnnRom:
    """cnn.yaml's geometry with random weights: a slow network (tens of frames) with the canvas UI."""
    root = tmp_path_factory.mktemp("cnn") / "c5"
    return CnnRom(root, [ConvSpec(16, 2), ConvSpec(32, 5)], [LayerSpec(0, 32, 16, 5), LayerSpec(32, 10, 16, None)], 7)


def test_candidate_5_fits_beside_the_canvas(c5: CnnRom) -> None:
    """cnn.yaml's geometry (conv16-pool-conv32-pool-dense32): whole maps fit the 2 KiB with the
    canvas because conv 2 writes over conv 1's map; bit-exact on a few inputs."""
    rom = c5
    ram = budget.ram_layout(rom.manifest, canvas=True)
    assert budget.support(rom.manifest) == (True, "")
    # (prep.s's 111 bytes of temporaries share nn_act0)
    assert (ram.act0, ram.act1, ram.patch, ram.bss, ram.stack) == (576, 32, 144, 1150, 176)
    rom.check(structured_inputs(12, 196, 8, seed=8))


def test_the_widest_pooled_conv_the_config_allows_links(tmp_path: Path) -> None:
    """common.architecture's channel limit is the zero page the link really leaves: a pooled conv
    of POOLED_CONV_CHANNELS links beside the canvas UI (and runs bit-exact), one more is refused
    by the config, with the number."""
    from common.architecture import POOLED_CONV_CHANNELS, PoolSpec, place
    from common.architecture import ConvSpec as Conv

    widest = POOLED_CONV_CHANNELS
    rom = CnnRom(tmp_path / "widest", [ConvSpec(4, 2), ConvSpec(widest, 5)], [LayerSpec(0, 32, 16, 5),
                 LayerSpec(32, 10, 16, None)], 9)  # fmt: skip
    zp = json.loads((tmp_path / "widest" / "nes" / "rom_budget.json").read_text())["zp"]
    assert 0 <= zp["free"] < 16  # linked, and the limit leaves little of the zero page unused
    rom.check(structured_inputs(4, 196, 8, seed=9))
    too_wide = Conv(conv=widest + 1, padding="valid", bias=False)
    specs = [Conv(conv=4, padding="valid", bias=False), PoolSpec(pool=2), too_wide, PoolSpec(pool=2)]
    problems = place(specs, 14).problems
    assert len(problems) == 1 and f"at most {widest} channels" in problems[0]


def test_unsupported_convs_say_why(tmp_path: Path) -> None:
    export = write_cnn(tmp_path / "export", [ConvSpec(4, 4)], [LayerSpec(0, 10, 16, None)], 1)
    manifest = json.loads((export / "manifest.json").read_text())
    for change, words in (
        ({"padding": "same"}, "padding 'same'"),
        ({"weight_bits": 8}, "8-bit weights"),
        ({"accumulator_bits": 24}, "24-bit accumulators"),
        ({"stride": 2}, "stride 2 with the pool after it"),  # write_cnn's conv is pooled
        ({"stride": 3}, r"stride 3 \(3x3, stride 1 or 2 only\)"),
    ):
        changed = {**manifest, "layers": [{**manifest["layers"][0], **change}, *manifest["layers"][1:]]}
        with pytest.raises(NetworkError, match=words):
            conv_plans(changed, export)
    wide = {**manifest, "input": {**manifest["input"], "max": 31}}
    with pytest.raises(NetworkError, match="inputs up to 31"):
        conv_plans(wide, export)


IN_PLACE_CASES = [
    # shape, cout, pool, stride, in place
    ((6, 6, 16), 32, True, 1, True),
    ((6, 6, 4), 64, True, 1, False),
    ((14, 14, 1), 4, False, 1, False),
    ((8, 8, 8), 8, False, 1, True),
    ((6, 6, 16), 64, False, 2, False),  # cnn-s16-s64's conv 2: output 0 ends at 64, position 1 reads from 32
    ((6, 6, 16), 32, False, 2, True),  # output 0 ends where position 1 starts reading (at stride 1: no)
    ((6, 6, 16), 33, False, 2, False),
    ((12, 12, 3), 5, False, 2, True),
    ((5, 5, 5), 10, False, 2, True),
    ((5, 5, 5), 11, False, 2, False),
    ((14, 14, 1), 2, False, 2, True),
]


@pytest.mark.parametrize(("shape", "cout", "pool", "stride", "expected"), IN_PLACE_CASES)
def test_in_place_rule(shape: tuple[int, int, int], cout: int, pool: bool, stride: int, expected: bool) -> None:
    assert budget.in_place(*shape, cout, pool, stride) is expected
    assert overwrites_nothing_unread(*shape, cout, pool, stride) is expected


def overwrites_nothing_unread(height: int, width: int, cin: int, cout: int, pool: bool, stride: int) -> bool:
    """conv.inc's order byte by byte: each position (or pooled cell of four), row by row, gathers
    its whole patch, then its output's cout bytes are stored; no gather may read a byte already
    stored."""
    out_h, out_w = (height - 3) // stride + 1, (width - 3) // stride + 1
    per = 2 if pool else 1
    written = 0  # bytes 0..written-1 are outputs
    for y in range(out_h // per):
        for x in range(out_w // per):
            for py in range(per):
                for px in range(per):
                    top, left = stride * (per * y + py), stride * (per * x + px)
                    reads = [((top + dy) * width + left + dx) * cin + c
                             for dy in range(3) for dx in range(3) for c in range(cin)]  # fmt: skip
                    if min(reads) < written:
                        return False
            written += cout
    return True


@pytest.mark.parametrize(("pool", "stride"), [(False, 1), (True, 1), (False, 2)])  # strided: unpooled only
def test_in_place_rule_is_conv_incs_order(pool: bool, stride: int) -> None:
    for height, width, cin, cout in itertools.product((5, 6, 7, 8, 10), (5, 6, 7, 9), (1, 3, 16), (1, 4, 16, 33, 64)):
        expected = overwrites_nothing_unread(height, width, cin, cout, pool, stride)
        assert budget.in_place(height, width, cin, cout, pool, stride) is expected, (height, width, cin, cout)


def test_layer_timing_cuts_the_run_before_each_layer(tiny: CnnRom, mnist_dir: Path) -> None:
    """nn_stop: a run cut before weighted layer k leaves that layer's output buffer as it was
    (layer k never ran), takes longer the later the cut, and the per-layer cycles of
    `Console.layer_cycles` add up to the whole run; a blank input's first conv is cheaper than
    a digit's (blank positions skip their MACs)."""
    from nes.tools.evaluate import layer_timing

    digits = mnist_inputs(mnist_dir, 4)
    console = Console(tiny.outputs.rom)
    cut = [console.infer(digits[0], stop_before=k).cycles for k in range(4)]
    whole = console.infer(digits[0])
    assert cut == sorted(cut) and len(set(cut)) == 4 and whole.cycles > cut[-1]
    golden = layers.run(tiny.network.layers, digits[:1].reshape(-1, 14, 14, 1))
    assert whole.scores.tolist() == golden.scores[0].tolist()

    # a run cut before layer 0 leaves nn_scores as the previous whole run wrote them
    scores_address, width = console.addr["nn_scores"], console.score_bytes
    before = console.peek(scores_address, 10 * width).tolist()
    console.infer(digits[1], from_ready_state=False, stop_before=0)
    assert console.peek(scores_address, 10 * width).tolist() == before

    per = console.layer_cycles(digits, 4)
    total = np.mean([console.infer(one).cycles for one in digits])
    assert all(cycles > 0 for cycles in per) and sum(per) == pytest.approx(total)
    blank = console.layer_cycles(np.zeros((1, 196), dtype=np.uint8), 4)
    assert blank[1] < per[1]

    timing = layer_timing(tiny.outputs.rom, digits, tiny.network)
    assert [layer["what"] for layer in timing["layers"]] == [
        "conv 1->4 valid + pool", "conv 4->6 valid + pool", "dense 24->12", "dense 12->10",
    ]


def thinking_mark(ui: Ui) -> tuple[bool, bool]:
    """(sprite 1 is on the screen in RAM, its pixels are lit in the last frame)."""
    from nes.tools import screen

    oam = ui.console.symbols.address("oam")
    placed = ui.nes[oam + 4] != 0xFF
    region = ui.frame[screen.THINK_PY : screen.THINK_PY + 8, screen.THINK_PX : screen.THINK_PX + 8]
    return placed, bool(lit(region).any())


def test_ui_stays_live_thinks_and_restarts_on_a_new_stroke(c5: CnnRom) -> None:
    """With a slow network (issue 15, item 5): while it classifies the canvas the "thinking"
    mark shows and the cursor still moves every frame; a new stroke during an inference that
    started on a quiet canvas aborts it within a few frames (nn_run returns at the next pooled
    cell), its result is dropped, and the new drawing is classified and published once the pad
    is quiet, equal to the golden model. A classification started mid-stroke (every
    classify_every frames) runs to its end: the live guess while drawing."""
    ui = Ui(c5.outputs.rom)
    ui.stroke([(8, 6), (8, 24)])  # long: a live guess starts while drawing, the final one after it
    ui.wait_answer()
    full = ui.byte("nn_frames")
    assert full >= 20  # slow enough to draw during it
    assert thinking_mark(ui) == (False, False)
    published = ui.byte("ui_classified")
    assert published >= 2  # the live guess was not aborted by the rest of the stroke

    ui.stroke([(14, 6), (14, 9)])  # a short stroke, then a new one while the network runs on it
    frames = 0
    while not (ui.byte("nn_state") == ui.console.NN_BUSY and ui.byte("ui_from_canvas")):
        ui.step(0)
        frames += 1
        assert frames < 30, "no classification after the stroke"
    assert ui.byte("ui_abortable") == 1
    ui.step(0, 3)
    assert thinking_mark(ui) == (True, True)
    runs = ui.byte("nn_runs")
    y, x = ui.cursor()
    ui.step(DOWN, 1)  # the cursor answers during the inference
    ui.step(0, 1)
    assert ui.cursor() == (y + 1, x)
    ui.step(A, 1)  # the new stroke, at row 15
    waited = 0
    while ui.byte("nn_runs") == runs:
        ui.step(A if waited < 2 else 0)
        waited += 1
        assert waited < full, "the stroke did not abort the inference"
    assert waited <= full // 2
    ui.wait_answer()
    assert ui.byte("ui_classified") == published + 1  # the aborted run published nothing
    from common.config import load
    from intnet.prep import preprocess
    from tests.conftest import ROOT

    pre = load(ROOT / "config.yaml").preprocess  # the 14x14 preprocessing write_cnn's manifest names
    levels = ui.canvas()
    assert levels[16:, :].any()  # the third stroke is on the canvas
    pixels = (levels.astype(np.int64) * 255 // (pre.levels - 1)).astype(np.uint8)
    want = preprocess(pixels[None], pre).reshape(1, 14, 14, 1)
    console_input = ui.console.peek(ui.console.addr["nn_input"], 196)
    assert console_input.tolist() == want.ravel().tolist()  # the published run saw the final drawing
    expected = layers.run(c5.network.layers, want)
    assert ui.scores().tolist() == expected.scores[0].tolist()
    assert ui.byte("ui_winner") == expected.digits[0]


def rows_read(height: int, pool: bool, stride: int, outputs: int | None = None) -> int:
    """How many source rows (from the top) conv.inc's positions read for `outputs` rows of a
    conv's output (all it makes when None), by walking the positions."""
    positions = (height - 3) // stride + 1
    if pool:
        positions = 2 * (positions // 2) if outputs is None else 2 * outputs
    elif outputs is not None:
        positions = outputs
    return max(stride * p + 2 for p in range(positions)) + 1


@pytest.mark.parametrize(
    ("chain", "expected"),
    [
        ([(14, 14, True, 1), (6, 6, True, 1)], [(14, 14), (6, 6)]),  # the cnn preset: everything is read
        ([(14, 14, False, 2), (6, 6, False, 2)], [(11, 11), (5, 5)]),  # cnn-s16-s64
        ([(14, 14, False, 1), (12, 12, False, 2), (5, 5, False, 2)], [(13, 13), (11, 11), (5, 5)]),
        ([(14, 14, True, 1), (6, 6, False, 2)], [(12, 12), (5, 5)]),  # the pool's cell rows 0..4 of 6
        ([(13, 9, True, 1)], [(12, 8)]),  # an odd last position the pool drops is never computed
    ],
)
def test_windows_are_what_the_next_conv_reads(
    chain: list[tuple[int, int, bool, int]], expected: list[tuple[int, int]]
) -> None:
    assert windows(chain) == expected


def test_windows_match_conv_incs_reads() -> None:
    """Every chain of two convs on small maps: the last conv's window is the rows its whole
    output reads, and the first conv's window makes exactly the rows the last one reads."""
    for side, pools, strides in itertools.product((9, 10, 13, 14), itertools.product((False, True), repeat=2), STRIDES):
        if any(pool and stride != 1 for pool, stride in zip(pools, strides, strict=True)):
            continue  # conv.inc pools stride-1 convs only
        made = conv_output_side(side, 3, strides[0], "valid") // (2 if pools[0] else 1)
        if made < 3 or conv_output_side(made, 3, strides[1], "valid") // (2 if pools[1] else 1) < 1:
            continue  # no output
        got = windows([(side, side, pools[0], strides[0]), (made, made, pools[1], strides[1])])
        last_rows = rows_read(made, pools[1], strides[1])
        assert got[1] == (last_rows, last_rows)
        assert got[0][0] == rows_read(side, pools[0], strides[0], outputs=last_rows) <= side


STRIDES = ((1, 1), (2, 2), (1, 2), (2, 1))
