"""The trained, exported model of the tiny build, run on the emulated console: every score
of 300 MNIST test images equals the golden model's, and the build's metrics take it in."""

from __future__ import annotations

import json

import numpy as np

from intnet import golden
from tests.conftest import TinyBuild


def test_console_matches_golden_on_300_test_images(tiny_build: TinyBuild) -> None:
    from nes.tools.console import Console

    out = tiny_build.out
    network = golden.load(out / "export")
    with np.load(out / "inputs.npz") as data:
        x_test = data["x_test"]
    assert len(x_test) >= 300
    trace = golden.run(network, x_test)
    console = Console(out / "tiny.nes")
    for index, image in enumerate(x_test):
        result = console.infer(image)
        assert result.digit == trace.digits[index], index
        np.testing.assert_array_equal(result.scores, trace.scores[index], err_msg=f"image {index}")


def test_rom_budget_reaches_the_metrics(tiny_build: TinyBuild) -> None:
    metrics = json.loads((tiny_build.out / "metrics.json").read_text())
    rom = metrics["rom"]
    assert rom["prg"]["used"] + rom["prg"]["free"] == 32768
    assert rom["chr"]["size"] == 8192
    parts = rom["prg_parts"]
    assert parts["weights"] == metrics["weights"]["bytes"]  # the tables are linked as exported
    assert parts["code"] > 0 and parts["multiply_tables"] >= 2048
    assert (tiny_build.out / "tiny.dbg").exists() and (tiny_build.out / "tiny.labels").exists()
