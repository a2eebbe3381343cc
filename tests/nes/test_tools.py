"""nes/tools: generator, cc65 runner, .dbg and .map parsers, readable errors."""

# ruff: noqa: F401  (session fixtures are imported from conftest_nes by name)
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from common import layout
from nes.tools import cc65, gen_network, mapfile
from nes.tools.dbginfo import read_symbols
from tests.nes.builds import LayerSpec, NesBuild, build_rom, write_network


def test_rom_is_nrom256(nes_small: NesBuild) -> None:
    data = nes_small.rom.read_bytes()
    assert data[:4] == b"NES\x1a" and data[4] == 2 and data[5] == 1
    assert (data[6] >> 4) | (data[7] & 0xF0) == 0  # mapper 0
    assert len(data) == 16 + 32768 + 8192


def test_dbg_symbols(nes_small: NesBuild) -> None:
    symbols = read_symbols(nes_small.rom.with_suffix(".dbg"))
    assert 0x300 <= symbols.address("nn_input") < 0x800
    assert symbols.size("nn_input") == 49
    assert symbols.size("nn_scores") == 20
    assert symbols.address("nn_state") < 0x100  # zero page
    assert symbols.address("nn_run") >= 0x8000
    with pytest.raises(KeyError):
        symbols.address("no_such_symbol")


def test_map_budget(nes_small: NesBuild) -> None:
    report = mapfile.budget(nes_small.rom.with_suffix(".map"))
    assert report["PRG"]["used"] + report["PRG"]["free"] == 32768
    assert 2048 + 49 * 24 < report["PRG"]["used"] < 32768
    assert report["CHR"]["used"] == 8192


def test_rom_weights_layout() -> None:
    w = np.random.default_rng(0).integers(-128, 128, (300, 2)).astype(np.int8)
    data = gen_network.rom_weights(w)
    offset = (w.astype(np.int16) + 128).astype(np.uint8)
    # chunk 0: 256 inputs of output 0, then of output 1; chunk 1: the remaining 44 of each
    assert data[:256] == offset[:256, 0].tobytes()
    assert data[256:512] == offset[:256, 1].tobytes()
    assert data[512:556] == offset[256:, 0].tobytes()
    assert len(data) == 600


def test_generator_rejects_bad_manifest(tmp_path: Path) -> None:
    export = write_network(tmp_path / "x", [LayerSpec(49, 10, 32, None)], 255, 0)
    with pytest.raises(gen_network.NetworkError, match="accumulator_bits"):
        gen_network.generate(export / "manifest.json", tmp_path / "gen")
    export = write_network(tmp_path / "y", [LayerSpec(49, 8, 16, None)], 255, 0)
    with pytest.raises(gen_network.NetworkError, match="10 outputs"):
        gen_network.generate(export / "manifest.json", tmp_path / "gen")


def test_overflow_is_explained(tmp_path: Path) -> None:
    export = write_network(tmp_path / "big", [LayerSpec(784, 48, 24, 8), LayerSpec(48, 10, 16, None)], 255, 0)
    with pytest.raises(cc65.ToolError) as error:
        build_rom(export / "manifest.json", tmp_path / "out")
    text = str(error.value)
    assert "overflows memory area PRG by" in text
    assert "model.hidden" in text and "preprocess.size" in text
    assert not (tmp_path / "out" / "nnrom.nes").exists()  # no half-written ROM


def test_missing_tool_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cc65.shutil, "which", lambda name: None)
    with pytest.raises(cc65.ToolError, match="apt-get install cc65"):
        cc65.tool("ca65")


def test_assembler_errors_are_shown(tmp_path: Path) -> None:
    bad = tmp_path / "bad.s"
    bad.write_text("  lda #\n")
    with pytest.raises(cc65.ToolError, match=r"bad\.s\(1\)"):
        cc65.assemble(bad, tmp_path / "bad.o", [])


def test_manifest_written_like_export(tmp_path: Path) -> None:
    """The synthetic networks follow export/tables.py's manifest fields the engine reads."""
    export = write_network(tmp_path / "n", [LayerSpec(49, 10, 16, None)], 32, 0)
    manifest = json.loads((export / "manifest.json").read_text())
    assert manifest["input"] == {"count": 49, "max": 32}
    assert manifest["layers"][0]["weights"]["file"] == "layer0_weights.bin"
