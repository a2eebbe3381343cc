"""`doit sweep`: the Pareto front, the comparison files, and the sweep itself through doit."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from common.config import SweepConfig
from export import comparison
from pipeline import sweep
from tests.conftest import ROOT, TinyBuild, run_doit, write_config

# --- the Pareto front, by hand ---


@pytest.mark.parametrize(
    ("accuracy", "costs", "expected"),
    [
        ([0.9], [[100, 2]], [True]),  # alone: optimal
        ([0.9, 0.8], [[100, 2], [100, 2]], [True, False]),  # same costs, less accurate
        ([0.9, 0.9], [[100, 2], [120, 2]], [True, False]),  # as accurate, more bytes
        ([0.9, 0.9], [[100, 2], [100, 3]], [True, False]),  # as accurate, more frames
        ([0.9, 0.9], [[100, 2], [100, 2]], [True, True]),  # equal points do not dominate each other
        ([0.9, 0.8], [[200, 2], [100, 2]], [True, True]),  # more accurate but bigger: a trade-off
        ([0.9, 0.8], [[100, 3], [200, 2]], [True, True]),  # cheaper in bytes, dearer in frames
        ([0.9, 0.8, 0.85], [[100, 2], [50, 1], [100, 2]], [True, True, False]),
        ([0.95, 0.9, 0.8, 0.7], [[300], [200], [250], [100]], [True, True, False, True]),
    ],
)
def test_pareto_optimal_by_hand(accuracy: list[float], costs: list[list[float]], expected: list[bool]) -> None:
    assert comparison.pareto_optimal(accuracy, costs) == expected


def test_pareto_front_of_a_panel_is_sorted_by_cost() -> None:
    points = [(300, 0.95), (200, 0.9), (250, 0.8), (100, 0.7)]
    assert comparison._front(points) == [(100, 0.7), (200, 0.9), (300, 0.95)]


# --- the comparison files, from fabricated metrics.json ---


def fake_metrics(name: str, bytes_: int, integer: float, console: bool, frames: float = 2.0, **extra: Any) -> dict:
    metrics: dict[str, Any] = {
        "name": name,
        "layers": [49, 49, 24, 10],
        "accuracy": {"float": integer + 0.003, "integer": integer},
        "test_images": 10000,
        "params": 3900,
        "weights": {"bytes": bytes_},
        "accumulator_bits": [16, 16, 16],
        "rom": {"prg": {"used": 24000, "free": 8768, "size": 32768}},
    }
    if console:
        metrics["accuracy"]["console"] = integer
        metrics["console"] = {"images": 10000, "mismatches": 0}
        metrics["inference"] = {"cycles": {"mean": frames * 29780.5, "max": 2 * frames * 29780.5},
                                "frames": {"mean": frames, "max": 2 * frames}, "method": "fake"}
    metrics.update(extra)
    return metrics


def write_builds(folder: Path, all_metrics: list[dict]) -> list[tuple[str, Path]]:
    configs = []
    for metrics in all_metrics:
        out = folder / metrics["name"]
        (out / "export").mkdir(parents=True)
        (out / "metrics.json").write_text(json.dumps(metrics))
        configs.append((f"presets/{metrics['name']}.yaml", out))
    return configs


def test_comparison_files_with_console_numbers(tmp_path: Path) -> None:
    builds = [
        fake_metrics("big", 4000, 0.96, True, frames=1.9),
        fake_metrics("small", 2000, 0.93, True, frames=1.2),
        fake_metrics("worse", 4100, 0.95, True, frames=2.0),  # dominated by big
    ]
    builds[1]["accuracy"] |= {"drawn_offset": 0.85, "drawn_mixed": 0.81}
    configs = write_builds(tmp_path, builds)
    (tmp_path / "small" / "export" / "manifest.json").write_text(
        json.dumps({"layers": [{"weight_bits": 4}, {"weight_bits": 8}, {"weight_bits": 8}]})
    )
    out = tmp_path / "sweep"
    rows = comparison.write_comparison(configs, out)
    assert [row.pareto for row in rows] == [True, True, False]
    assert {row.basis for row in rows} == {"console"}

    table = (out / "sweep.md").read_text().splitlines()
    assert table[0].startswith("| config | layers | weight bits |") and "Pareto (console)" in table[0]
    assert len([line for line in table if line.startswith("| `")]) == 3
    small = next(line for line in table if line.startswith("| `small`"))
    assert "4/8/8" in small and "2,000 B" in small and "81.00 %" in small and "1.20" in small and "★" in small
    worse = next(line for line in table if line.startswith("| `worse`"))
    assert "★" not in worse and f"| {comparison.DASH} |" in worse  # no drawn accuracy, no weight bits: dashes
    assert "console accuracy" in table[-2] and "frames" in table[-2] and "mixed" in table[-1]

    with (out / "sweep.csv").open() as file:
        records = list(csv.DictReader(file))
    assert [record["name"] for record in records] == ["big", "small", "worse"]
    assert records[1]["weight_bits"] == "4-8-8" and records[1]["drawn"] == "0.81" and records[0]["drawn"] == ""
    assert [record["pareto"] for record in records] == ["True", "True", "False"]

    summary = json.loads((out / "sweep.json").read_text())
    assert summary["pareto"]["costs"] == ["table_bytes", "frames_mean"]
    assert summary["configs"][0]["metrics"] == builds[0]
    assert summary["configs"][1]["config"] == "presets/small.yaml"

    png = (out / "sweep.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000
    assert not list(out.glob(".*tmp*"))  # atomic writes leave no temporary files


def test_comparison_without_console_numbers_uses_integer_accuracy_and_bytes(tmp_path: Path) -> None:
    builds = [
        fake_metrics("a", 4000, 0.96, False),
        fake_metrics("b", 3000, 0.96, False),  # as accurate, smaller: dominates a
        fake_metrics("c", 5000, 0.97, True),  # console measured for this one only
    ]
    rows = comparison.write_comparison(write_builds(tmp_path, builds), tmp_path / "sweep")
    assert [row.basis for row in rows] == ["integer", "integer", "console"]
    assert [row.pareto for row in rows] == [False, True, True]
    text = (tmp_path / "sweep" / "sweep.md").read_text()
    assert "| Pareto |" in text and "else integer" in text and "not measured" in text
    assert (tmp_path / "sweep" / "sweep.png").read_bytes().startswith(b"\x89PNG")


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
