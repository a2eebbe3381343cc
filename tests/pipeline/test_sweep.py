"""`doit sweep`: running the configs' builds, and the whole sweep through doit."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import pytest

from common.config import SweepConfig
from pipeline import sweep
from tests.conftest import ROOT, TINY_DOIT, TinyBuild, run_doit, write_config

# --- running the builds ---


def test_same_names_are_an_error_before_anything_runs(tmp_path: Path) -> None:
    one = write_config(tmp_path / "one.yaml", "twin")
    two = write_config(tmp_path / "two.yaml", "twin")
    with pytest.raises(sweep.SweepError, match="same name 'twin'"):
        sweep.load_members([str(one), str(two)], ROOT)


def test_a_failing_config_fails_the_sweep_after_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = write_config(tmp_path / "bad.yaml", "bad")
    good = write_config(tmp_path / "good.yaml", "good")

    def fake_commands(member: sweep.Member, build_root: Path, evaluate: bool) -> list[list[str]]:
        if member.name == "bad":
            return [[sys.executable, "-c", "import sys; print('boom'); sys.exit(3)"]]
        return [[sys.executable, "-c", "import time; time.sleep(1); print('fine')"]] * 2

    monkeypatch.setattr(sweep, "child_commands", fake_commands)
    settings = SweepConfig(configs=[str(bad), str(good)], jobs=2, evaluate=True)
    with pytest.raises(sweep.SweepError) as failure:
        sweep.run(settings, ROOT, tmp_path / "build")
    log = tmp_path / "build" / "sweep" / "logs" / "bad.log"
    assert f"config {bad} (bad) failed" in str(failure.value) and str(log) in str(failure.value)
    assert "boom" in log.read_text()
    assert (tmp_path / "build" / "sweep" / "logs" / "good.log").read_text().count("\nfine\n") == 2  # it finished
    printed = capsys.readouterr().out
    assert "sweep: good: ok" in printed and "sweep: bad: FAILED (exit code 3)" in printed
    assert not (tmp_path / "build" / "sweep" / "sweep.md").exists()  # no comparison of a failed sweep


# --- `doit sweep` itself ---

TINIER = """\
data:
  train_limit: 200
  test_limit: 50
augment:
  copies: 0
model:
  hidden: [16]
train:
  epochs: 1
  batch_size: 32
"""


def sweep_config(folder: Path, configs: list[Path], name: str = "sweeper") -> Path:
    listed = "".join(f"    - {path}\n" for path in configs)
    return write_config(folder / f"{name}.yaml", name, f"sweep:\n  configs:\n{listed}  jobs: 2\n  evaluate: false\n")


def test_duplicate_names_fail_through_doit(tmp_path: Path) -> None:
    one = write_config(tmp_path / "one.yaml", "twin")
    two = write_config(tmp_path / "two.yaml", "twin")
    run = run_doit(f"config={sweep_config(tmp_path, [one, two])}", f"builddir={tmp_path / 'build'}", "sweep")
    assert run.returncode != 0
    assert "same name 'twin'" in run.stderr and "Traceback" not in run.stderr
    assert not (tmp_path / "build" / "twin").exists()


@TINY_DOIT
@pytest.mark.slow
def test_sweep_builds_compares_and_then_rebuilds_nothing(tiny_build: TinyBuild, tmp_path: Path) -> None:
    """Two tiny configs (the session's tiny build and a smaller one) through `doit sweep`, twice."""
    other = write_config(tmp_path / "tiny2.yaml", "tiny2", TINIER)
    config = sweep_config(tmp_path, [tiny_build.config, other])
    root = tiny_build.build_root

    def run_sweep() -> str:
        run = run_doit(f"config={config}", f"builddir={root}", "sweep", env={"MNIST_DIR": str(tiny_build.mnist_dir)})
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
        return run.stdout

    first = run_sweep()
    assert "sweep: tiny2: ok" in first and "sweep: tiny: ok" in first
    out = root / "sweep"
    assert (out / "sweep.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    table = (out / "sweep.md").read_text()
    from common.config import load

    for name, path in (("tiny", tiny_build.config), ("tiny2", other)):
        assert f"| `{name}` | {'-'.join(map(str, load(path).layer_sizes))} |" in table
    assert len(list(csv.DictReader((out / "sweep.csv").open()))) == 2
    assert [entry["name"] for entry in json.loads((out / "sweep.json").read_text())["configs"]] == ["tiny", "tiny2"]
    assert "train" in sweep.executed_tasks((out / "logs" / "tiny2.log").read_text())
    models = {name: (root / name / "model.h5").stat().st_mtime_ns for name in ("tiny", "tiny2")}
    # the configs' own dep files survive the parent doit (it keeps build/sweep/.doit.json)
    assert (root / "tiny2" / ".doit.json").exists() and (out / ".doit.json").exists()

    second = run_sweep()
    assert "sweep: tiny: ok" in second and "sweep: tiny2: ok" in second
    assert second.count("up to date") == 2, second
    assert {name: (root / name / "model.h5").stat().st_mtime_ns for name in models} == models
    for name in models:
        assert sweep.executed_tasks((out / "logs" / f"{name}.log").read_text()) == []
    assert tiny_build.doit().ran() == set()  # and a plain `doit config=...` agrees


def test_a_cnn_the_console_cannot_run_is_built_but_not_evaluated(tmp_path: Path) -> None:
    same = tmp_path / "cnnsame.yaml"
    same.write_text(
        f"base: {ROOT / 'training/presets/cnn.yaml'}\nname: cnnsame\nmodel:\n  layers:\n"
        "    - {conv: 8, kernel: 3, padding: same, bias: false}\n    - {pool: 2}\n    - {dense: 16}\n"
    )
    unsupported = sweep.load_members([str(same)], ROOT)[0]
    cnn, dense = (sweep.load_members([f"training/presets/{name}.yaml"], ROOT)[0] for name in ("cnn", "origin"))
    assert not unsupported.console and cnn.console and dense.console
    assert [command[-1] for command in sweep.child_commands(unsupported, tmp_path, True)] == [f"builddir={tmp_path}"]
    assert sweep.child_commands(cnn, tmp_path, True)[-1][-1] == "evaluate"
    assert sweep.child_commands(dense, tmp_path, True)[-1][-1] == "evaluate"
