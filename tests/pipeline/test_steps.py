"""pipeline.steps: how a task runs a step's code, its failures and its memory record."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from doit.exceptions import TaskFailed

from pipeline import memory, steps


@pytest.fixture
def memory_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "memory"
    monkeypatch.setenv(memory.FOLDER_ENV, str(folder))
    return folder


def test_task_adds_the_code_of_its_actions() -> None:
    made = steps.task(actions=[steps.call("export.metrics:run", "a", "b")], file_dep=[Path("x.json")], doc="d")
    assert made["file_dep"][0] == "x.json"
    assert {"export/metrics.py", "export/__init__.py", "common/fsutil.py"} <= set(made["file_dep"])
    assert "intnet/golden.py" not in made["file_dep"]  # metrics reads JSON only
    assert made["doc"] == "d" and made["actions"][0][1][0] == "export.metrics:run"


def test_a_build_error_is_one_message(capsys: pytest.CaptureFixture[str], memory_dir: Path) -> None:
    failed = steps.run_function("common.config:load", [Path("/nonexistent/config.yaml")], SimpleNamespace(name="t"))
    assert isinstance(failed, TaskFailed)
    assert capsys.readouterr().err.startswith("error: ")
    assert not (memory_dir / "t.json").exists()  # a failed step records nothing


def test_a_program_records_its_own_peak_memory(memory_dir: Path) -> None:
    """A child that holds 200 MB: its peak, counted by the kernel, is in the record."""
    command = [sys.executable, "-c", "b = bytearray(200 * 2**20); b[::4096] = b'x' * len(b[::4096])"]
    assert steps.run_program(command, "allocating", SimpleNamespace(name="nes_asm:big")) is None
    record = json.loads((memory_dir / "nes_asm-big.json").read_text())
    assert record["task"] == "nes_asm:big" and record["peak_rss_kb"] >= 200 * 1024


def test_a_failing_program_fails_the_task(memory_dir: Path) -> None:
    failed = steps.run_program([sys.executable, "-c", "raise SystemExit(3)"], "the thing", None)
    assert isinstance(failed, TaskFailed) and "the thing failed (exit code 3)" in str(failed)


def test_a_function_records_the_doit_process_peak(memory_dir: Path, tmp_path: Path) -> None:
    task = SimpleNamespace(name="f")
    assert steps.run_function("common.fsutil:write_text", [tmp_path / "out.txt", "hi"], task) is None
    assert (tmp_path / "out.txt").read_text() == "hi"
    assert json.loads((memory_dir / "f.json").read_text())["peak_rss_kb"] >= memory.resident_kb() // 2
