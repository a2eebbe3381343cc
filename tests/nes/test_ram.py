"""RAM: the drawing canvas beside 14x14 4-bit networks up to 196-128-64-10.

The hidden activations live in the low stack page (STACKBSS, $0100-$01BF) when they fit, the
stack keeps $01C0-$01FF; budget.ram_layout predicts every RAM byte and the link checks the
prediction. Synthetic 4-bit networks (export/'s format) with the manifest of the 14x14 preset
(3 levels, deskew, centre) are driven with buttons, bit-exact against intnet/golden.py."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from common import config as config_module
from common import layout, ldcfg
from common.config import PreprocessConfig
from intnet import golden
from intnet.prep import preprocess
from nes.tools import budget, cc65, mapfile
from nes.tools.pad_digits import DIGITS
from nes.tools.ui_driver import SELECT, START, Ui, shown_digit
from tests.conftest import TINY_DOIT, TinyBuild
from tests.nes.builds import LayerSpec, NesBuild, build_rom, structured_inputs
from tests.nes.test_inference import compare
from tests.nes.test_int4 import write_network4
from tests.nes.test_ui import random_buttons

PRE14 = PreprocessConfig(size=14, resize="area", levels=3, deskew=True, center=True)
STACK_MARGIN = 24  # bytes the deepest measured stack use must leave free in the reserve


def write_ui_network(out: Path, hidden: list[int], seed: int) -> Path:
    """196-hidden-10, all weights 4-bit, activations 0..15 (activation_bits 4), inputs 0..8,
    with the manifest's input section of PRE14 (so the canvas UI can feed it)."""
    shape = [196, *hidden, 10]
    shifts = [4, *([5] * (len(hidden) - 1))]  # activations spread over 0..15 on drawn digits
    layers = zip(shape[:-2], hidden, shifts, strict=True)
    specs = [LayerSpec(n, m, 16, shift, activation_max=15) for n, m, shift in layers]
    specs.append(LayerSpec(shape[-2], 10, 16, None))
    export = write_network4(out, specs, [4] * len(specs), 8, seed=seed)
    manifest_path = export / layout.MANIFEST
    manifest = json.loads(manifest_path.read_text())
    manifest["input"].update(size=14, levels=3, resize="area", deskew=True, center=True, shift=0)
    manifest_path.write_text(json.dumps(manifest, indent=2))
    return manifest_path


def build_ui14(tmp: Path, name: str, hidden: list[int], seed: int = 40) -> NesBuild:
    manifest_path = write_ui_network(tmp / name / "export", hidden, seed)
    outputs = build_rom(manifest_path, tmp / name / "nes", name=name)
    return NesBuild(manifest_path.parent, outputs.rom, golden.load(manifest_path.parent))


@pytest.fixture(scope="module")
def ui14(tmp_path_factory: pytest.TempPathFactory) -> dict[str, NesBuild]:
    tmp = tmp_path_factory.mktemp("ram")
    return {"128-32": build_ui14(tmp, "h128_32", [128, 32]), "128-64": build_ui14(tmp, "h128_64", [128, 64])}


def manifest(build: NesBuild) -> dict:
    return json.loads((build.export_dir / layout.MANIFEST).read_text())


def test_link_config_is_read(tmp_path: Path) -> None:
    """ldcfg reads nrom256.cfg's areas and segments; the budgets take their sizes from it."""
    areas, segments = ldcfg.memory(), ldcfg.segments()
    assert (areas["PRG"].start, areas["PRG"].size) == (0x8000, 0x8000)
    assert (areas["STACKRAM"].start, areas["STACKRAM"].size) == (0x100, 0xC0)
    assert areas["RAM"].span() == "$0300-$07FF" and areas["CHR"].size == 0x2000
    assert segments["BSS"].load == "RAM" and segments["STACKBSS"].load == "STACKRAM"
    assert segments["VECTORS"].attrs["start"] == "$FFFA" and ldcfg.area_of("NNWEIGHTS").name == "PRG"
    assert (budget.RAM_BSS, budget.STACK_RAM, budget.STACK_RESERVE) == (0x500, 0xC0, 64)
    assert mapfile.AREA_SIZES == {"PRG": 0x8000, "CHR": 0x2000, "ZP": 0x100, "RAM": 0x500, "STACKRAM": 0xC0}
    assert mapfile.SEGMENT_AREA["SQTABLES"] == "PRG" and mapfile.SEGMENT_AREA["INESHDR"] == "HEADER"
    # another config (comments, decimal sizes) is read the same way; a bad one is refused
    other = tmp_path / "other.cfg"
    other.write_text("MEMORY {\n  A: start = $10, size = 32; # a comment\n}\nSEGMENTS { S: load = A, type = rw; }\n")
    assert ldcfg.memory(other)["A"].span() == "$0010-$002F" and ldcfg.segments(other)["S"].load == "A"
    bad = tmp_path / "bad.cfg"
    bad.write_text("MEMORY { A: start = $10, size = 32; }\nSEGMENTS { S: load = B; }\n")
    with pytest.raises(ldcfg.LinkConfigError, match="undefined memory areas"):
        ldcfg.read(bad)


def _manifest(hidden: list[int], acc_bits: int = 16, count: int = 196) -> dict:
    shape = [count, *hidden, 10]
    layers = [{"outputs": m, "accumulator_bits": acc_bits} for m in shape[1:]]
    inp = {"count": count, "size": 14, "levels": 3, "resize": "area", "deskew": True, "center": True, "shift": 0}
    return {"input": inp, "layers": layers}


def test_ram_layout() -> None:
    """Each activation buffer takes its largest layer; the stack page takes as much as fits."""
    fixed = budget.SYSTEM_BSS + budget.CANVAS_BSS + 196 + 20 + 1
    ram = budget.ram_layout(_manifest([128, 32]), canvas=True)
    assert (ram.act0, ram.act1, ram.segments, ram.stack, ram.bss) == (128, 32, ("STACKBSS",) * 2, 160, fixed)
    ram = budget.ram_layout(_manifest([128, 64, 16]), canvas=True)  # layers 0 and 2 share nn_act0
    assert (ram.act0, ram.act1, ram.stack, ram.over) == (128, 64, 192, 0)
    ram = budget.ram_layout(_manifest([60, 150]), canvas=True)  # only the larger one fits
    assert ram.segments == ("BSS", "STACKBSS") and ram.bss == fixed + 60
    ram = budget.ram_layout(_manifest([200, 100]), canvas=False)  # only the smaller one fits
    assert ram.segments == ("BSS", "STACKBSS") and ram.stack == 100
    ram = budget.ram_layout(_manifest([256, 256], acc_bits=24), canvas=False)
    assert ram.segments == ("BSS", "BSS") and ram.bss == budget.SYSTEM_BSS + 196 + 512 + 31
    assert budget.ram_layout(_manifest([]), canvas=False).act0 == 0  # a single layer: no buffers


def test_size_normalisation_takes_its_ram_and_prg() -> None:
    """prep.s's size normalisation adds NORMALIZE_BSS bytes of temporaries and NORMALIZE_PRG of
    PRG, only when the manifest asks for it; the default network (196-144-32-10) keeps the canvas
    with it, and its nn_act0 (144 bytes, stack page) holds all the temporaries: no BSS grows.
    Without a buffer to share (one layer), BSS grows by NORMALIZE_BSS."""
    plain, normalised = _manifest([144, 32]), _manifest([144, 32])
    normalised["input"]["normalize"] = 20
    assert budget.support(normalised) == (True, "")
    with_box, without = budget.ram_layout(normalised, canvas=True), budget.ram_layout(plain, canvas=True)
    assert with_box.temps - without.temps == budget.NORMALIZE_BSS
    assert with_box.shared == without.shared == "nn_act0" and with_box.bss == without.bss
    single, single_box = _manifest([]), _manifest([])
    single_box["input"]["normalize"] = 20
    grown = budget.ram_layout(single_box, canvas=True).bss - budget.ram_layout(single, canvas=True).bss
    assert grown == budget.NORMALIZE_BSS
    assert budget.ram_layout(normalised, canvas=False) == budget.ram_layout(plain, canvas=False)
    assert budget.ui_prg(normalised) - budget.ui_prg(plain) == budget.NORMALIZE_PRG
    assert budget.ui_prg(plain) == budget.UI_PRG
    normalised["input"]["normalize"] = 29
    assert budget.support(normalised) == (False, "normalize 29: the box must lie on the 28x28 canvas")
    assert budget.ui_prg(normalised) == 0


@pytest.mark.parametrize("hidden", [[128, 32], [96, 32], [128, 64], [160, 30], [128, 64, 64]])
def test_14x14_targets_keep_the_canvas(hidden: list[int]) -> None:
    assert budget.support(_manifest(hidden)) == (True, "")


def test_inputs_wider_than_15_have_no_canvas() -> None:
    """prep.s indexes nn_input with one byte: 15x15 inputs are the most the canvas feeds."""
    manifest = _manifest([32], count=225)
    manifest["input"] |= {"size": 15, "window": 15, "window_start": 7, "block": 1}
    assert budget.support(manifest) == (True, "")
    manifest = _manifest([32], count=256)
    manifest["input"] |= {"size": 16, "window": 16, "window_start": 6, "block": 1}
    ok, reason = budget.support(manifest)
    assert not ok and reason.startswith("size 16: the canvas UI takes inputs up to 15x15")


def test_too_big_says_by_how_much() -> None:
    ok, reason = budget.support(_manifest([160, 729]))  # 160 in the stack page, 729 beside the canvas
    assert not ok
    over = budget.ram_layout(_manifest([160, 729]), canvas=True).over
    assert over == 23
    assert f"{over} more than its 1280" in reason and f"use {over} fewer hidden units" in reason
    assert "model.hidden [160, 729]" in reason


def test_the_packed_canvas_and_shared_temporaries_free_642_bytes() -> None:
    """The canvas at 2 bits a cell (nes/tools/canvas.py) takes 196 bytes, and prep.s's 89 bytes
    of temporaries share a network buffer (here nn_act0, in the stack page): 196-160-64-10, one
    byte over with the 784-byte canvas, now leaves BSS 642 bytes; the exact fit is 706 bytes of
    activations beside the canvas (196-170-706-10), one more drops it."""
    assert budget.CANVAS_BSS - 28 - 4 == 196 == 28 * 28 // 4
    ram = budget.ram_layout(_manifest([160, 64]), canvas=True)
    assert (ram.bss, ram.shared, ram.temps) == (1280 - 642, "nn_act0", budget.PREP_TEMP_BSS)
    assert budget.support(_manifest([170, 706])) == (True, "")
    ok, reason = budget.support(_manifest([170, 707]))
    assert not ok and "1 more than its 1280" in reason and "use 1 fewer hidden" in reason


def test_the_temporaries_go_where_they_save_most() -> None:
    """With nothing to share (one layer) prep.s's temporaries take their own BSS bytes; a small
    buffer grows to their size when the stack page then holds them all; a large one holds
    them as it is; without the canvas nothing is shared."""
    base = budget.ram_layout(_manifest([]), canvas=True)
    assert (base.shared, base.bss) == ("", budget.SYSTEM_BSS + budget.CANVAS_BSS + 196 + 20 + 1 + budget.PREP_TEMP_BSS)
    small = budget.ram_layout(_manifest([60, 20]), canvas=True)  # 89 + 20 bytes in the stack page
    assert (small.shared, small.reserved("nn_act0"), small.stack, small.bss) == ("nn_act0", 89, 109, base.bss - 89)
    large = budget.ram_layout(_manifest([150, 60]), canvas=True)  # 150 + 89 > 192: nn_act0 holds them
    assert (large.segments, large.shared, large.reserved("nn_act0"), large.bss) == (
        ("STACKBSS", "BSS"), "nn_act0", 150, base.bss - 89 + 60)
    assert budget.ram_layout(_manifest([60, 20]), canvas=False).shared == ""


@pytest.mark.parametrize("name", ["128-32", "128-64"])
def test_the_link_places_what_the_budget_predicts(ui14: dict[str, NesBuild], name: str) -> None:
    build = ui14[name]
    ram = budget.ram_layout(manifest(build), canvas=True)
    gen = (build.rom.parent / "gen" / "ui.inc").read_text()
    assert "UI_ENABLED = 1" in gen
    report = mapfile.budget(build.rom.with_suffix(".map"))
    assert report["RAM"]["used"] == ram.bss and report["STACKRAM"]["used"] == ram.stack
    console = build.console()
    for buffer, size in (("nn_act0", 128), ("nn_act1", ram.act1)):
        assert 0x100 <= console.symbols.address(buffer) < 0x1C0 and console.symbols.size(buffer) == size
    assert console.symbols.address("nn_act1") + ram.act1 <= 0x1C0
    assert console.symbols.address("nn_input") >= 0x300 and console.symbols.size("nn_input") == 196


def test_a_wrong_prediction_fails_the_link(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The RAM accounting is proven by ld65: one byte off and the ROM does not link."""
    manifest_path = write_ui_network(tmp_path / "export", [128, 32], seed=41)
    monkeypatch.setattr(budget, "SYSTEM_BSS", budget.SYSTEM_BSS + 1)
    with pytest.raises(cc65.ToolError, match=r"differs from budget\.ram_layout"):
        build_rom(manifest_path, tmp_path / "nes")


def test_a_fitting_net_keeps_the_canvas_a_ram_starved_one_drops_it(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """196-170-29-10 (170 in the stack page with prep.s's temporaries, 29 beside the packed
    canvas) keeps the canvas with the link's RAM count equal to the budget's. No MLP whose
    weights fit PRG runs out of RAM (test_the_packed_canvas_and_shared_temporaries_free_642_bytes),
    so the path without the canvas is forced by shrinking the budget's BSS area by the free
    bytes plus one: the ROM builds without the canvas, says so, and the raw protocol still works."""
    fits = build_rom(write_ui_network(tmp_path / "fit" / "export", [170, 29], 42), tmp_path / "fit" / "nes")
    ram = budget.ram_layout(json.loads((tmp_path / "fit" / "export" / layout.MANIFEST).read_text()), canvas=True)
    assert mapfile.budget(fits.map)["RAM"]["used"] == ram.bss == budget.RAM_BSS - 677
    assert "UI_ENABLED = 1" in (tmp_path / "fit" / "nes" / "gen" / "ui.inc").read_text()
    capsys.readouterr()
    monkeypatch.setattr(budget, "RAM_BSS", ram.bss - 1)
    manifest_path = write_ui_network(tmp_path / "over" / "export", [170, 29], 42)
    over = build_rom(manifest_path, tmp_path / "over" / "nes")
    printed = capsys.readouterr().out
    assert "canvas is disabled" in printed and "1 more than its" in printed and "use 1 fewer hidden" in printed
    assert "UI_ENABLED = 0" in (tmp_path / "over" / "nes" / "gen" / "ui.inc").read_text()
    build = NesBuild(manifest_path.parent, over.rom, golden.load(manifest_path.parent))
    assert compare(build, structured_inputs(6, 196, 8, seed=43)) == []


def drawn(ui: Ui, build: NesBuild, digit: int, pre: PreprocessConfig = PRE14) -> None:
    """Draw a digit with the buttons, wait for the answer on the screen, and check every step:
    nn_input is the canvas preprocessed like training, the scores are the golden model's."""
    ui.draw(DIGITS[digit])
    ui.wait_answer()
    canvas = ui.canvas()
    pixels = (canvas.astype(np.int64) * 255 // 2).astype(np.uint8)
    want = preprocess(pixels[None], pre)[0].ravel()
    got = ui.console.peek(ui.sym("nn_input"), 196)  # still the input after the run
    assert got.tolist() == want.tolist()
    trace = golden.run(build.network, got[None])
    result = ui.console.read_result()
    assert result.scores.tolist() == trace.scores[0].tolist()
    assert ui.byte("ui_winner") == result.digit == trace.digits[0] == shown_digit(ui.frame)
    acts = trace.activations[0][0]
    assert (acts == 0).any() and (acts > 0).any()  # a real layer, not all zeros


@pytest.mark.parametrize("name", ["128-32", "128-64"])
def test_draw_and_classify(ui14: dict[str, NesBuild], name: str) -> None:
    build = ui14[name]
    ui = Ui(build.rom)
    for digit in (3, 7):
        drawn(ui, build, digit)
        ui.press(SELECT)
        ui.step(0, 10)
    before = ui.byte("nn_runs")
    ui.press(START)
    ui.step(0, 12)
    assert ui.byte("nn_runs") != before


@pytest.mark.parametrize("name", ["128-32", "128-64"])
def test_raw_requests_are_bit_exact(ui14: dict[str, NesBuild], name: str) -> None:
    build = ui14[name]
    inputs = structured_inputs(40, 196, 8, seed=44)
    trace = golden.run(build.network, inputs)
    assert all((a == 15).any() and (a == 0).any() for a in trace.activations)  # clamps and zeros
    assert compare(build, inputs) == []


def stack_depth(ui: Ui) -> int:
    """Deepest stack use since reset: init.s paints the stack page above STACKBSS with
    STACK_PAINT; the lowest byte that lost it was the deepest push."""
    paint = ui.sym("STACK_PAINT")
    page = ui.console.peek(0x100, 0x100)
    changed = np.nonzero(page[budget.STACK_RAM :] != paint)[0]
    return 0 if changed.size == 0 else 0x100 - budget.STACK_RAM - int(changed[0])


@pytest.mark.slow
def test_stack_stays_in_its_reserve(ui14: dict[str, NesBuild]) -> None:
    """Drawing, classifying (prep_run's deepest calls), raw requests and random buttons, with
    the NMI's UI work on top: the stack stays at least STACK_MARGIN bytes above STACKBSS."""
    build = ui14["128-64"]
    ui = Ui(build.rom)
    for digit in (0, 8):
        ui.draw(DIGITS[digit])
        ui.wait_answer()
    for x in structured_inputs(4, 196, 8, seed=45):
        ui.console.infer(x, from_ready_state=False)
    rng = np.random.default_rng(46)
    frames = 0
    while frames < 3000:
        ui.nes.controller = int(rng.integers(0, 256))
        hold = int(rng.integers(1, 17))
        ui.nes.step(hold)
        assert not ui.nes.has_crashed
        frames += hold
    deepest = stack_depth(ui)
    assert 16 <= deepest <= budget.STACK_RESERVE - STACK_MARGIN, deepest
    # The buffers below were never reached: the activations are the golden model's.
    assert compare(build, structured_inputs(3, 196, 8, seed=47)) == []


@pytest.mark.slow
def test_random_buttons_3000_frames(ui14: dict[str, NesBuild]) -> None:
    random_buttons(ui14["128-32"].rom, 3_072, seed=48)


@TINY_DOIT
@pytest.mark.slow
def test_mnist_trained_default_net(tiny_build: TinyBuild) -> None:
    """The default net (196-144-32-10) trained on MNIST (tiny: 600 images, 1 epoch) through doit: the ROM
    keeps the canvas, `doit evaluate` finds no mismatch on the test images, and digits drawn
    with the buttons are classified exactly like the golden model."""
    out = tiny_build.out
    assert "UI_ENABLED = 1" in (out / "nes" / "gen" / "ui.inc").read_text()
    run = tiny_build.doit("evaluate", report_name="evaluate.json")
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    console_eval = json.loads((out / "console_eval.json").read_text())
    assert console_eval["mismatches"] == 0 and console_eval["images"] == 300
    build = NesBuild(out / "export", out / "tiny.nes", golden.load(out / "export"))
    cfg = config_module.load(tiny_build.config)
    hidden = cfg.model.hidden
    assert [layer.weights.shape[1] for layer in build.network.layers] == [*hidden, 10] and hidden[0] > 128
    ui = Ui(build.rom)
    for digit in (1, 0):
        drawn(ui, build, digit, cfg.preprocess)  # the default's preprocessing: size-normalised
        ui.press(SELECT)
        ui.step(0, 10)
