"""Shared fixtures: the MNIST folder, tiny configs, and running doit as a user would."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import pytest

from common.config import QatConfig, QuantizeConfig

ROOT = Path(__file__).resolve().parents[1]
SHARED_MNIST = ROOT.parent / "shared" / "data" / "mnist"

def quantize_settings(
    weight_bits: list[int] | int = 8,
    activation_bits: int = 8,
    accumulator_bits: str | int = "auto",
    calibration_percentile: float = 99.9,
    search: bool = False,
    qat_epochs: int = 1,
) -> QuantizeConfig:
    """A `quantize:` section for tests that quantize small networks directly."""
    return QuantizeConfig(
        weight_bits=weight_bits,
        activation_bits=activation_bits,
        accumulator_bits=accumulator_bits,
        calibration_percentile=calibration_percentile,
        search=search,
        qat=QatConfig(epochs=qat_epochs, learning_rate=0.001),
    )


TINY_OVERRIDES = """\
data:
  train_limit: 600
  test_limit: 300
train:
  epochs: 1
  batch_size: 32
  validation_split: 0.1  # the default holds nothing out (its own build tests that path)
teacher:
  epochs: 1
"""


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--slow", action="store_true", help="also run the slow end-to-end and full-dataset tests")


TINY_DOIT = pytest.mark.xdist_group("tiny_build")
"""For tests that run doit on the shared tiny build (or read its dep file): under pytest-xdist
they all run on one worker, one at a time (`--dist loadgroup`)."""


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        # the default build is made by the worker that runs its tests, all of them
        if "default_build" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group("default_build"))

    # Order for pytest-xdist, which hands out work in this order: the tests that build (the
    # groups) first, so one worker starts the tiny build at once; then the tests that need no
    # build, which keep the other workers busy meanwhile; the other users of the tiny build last.
    def rank(item: pytest.Item) -> int:
        if item.get_closest_marker("xdist_group"):
            return 0
        return 2 if "tiny_build" in getattr(item, "fixturenames", ()) else 1

    items.sort(key=rank)  # stable: the order within each part stays
    if config.getoption("--slow"):
        return
    skip = pytest.mark.skip(reason="slow: run with --slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """A verified MNIST folder: $MNIST_DIR, else the team's shared copy beside the repo, else
    the config's data.dir (downloaded there from the configured mirrors if missing)."""
    from common import config as config_module
    from common.mnist import local_file
    from training import dataset

    explicit = os.environ.get("MNIST_DIR")
    if explicit:
        return Path(explicit)
    if local_file(SHARED_MNIST, "t10k-images-idx3-ubyte"):
        return SHARED_MNIST
    data = config_module.load(ROOT / "config.yaml").data
    folder = ROOT / data.dir
    dataset.fetch(folder, True, data.mirrors)  # downloads what is missing, verifies everything
    return folder


def write_config(path: Path, name: str, overrides: str = "", base: Path = ROOT / "config.yaml") -> Path:
    """A config that inherits `base` and overrides a few settings (YAML text)."""
    path.write_text(f"base: {base}\nname: {name}\n{overrides}")
    return path


@dataclass
class DoitRun:
    returncode: int
    stdout: str
    stderr: str
    results: dict[str, str]  # task name -> success / up-to-date / fail / error
    outputs: dict[str, str]  # task name -> what it printed (JSON reporter)

    def ran(self) -> set[str]:
        return {name for name, result in self.results.items() if result == "success"}


def run_doit(*args: str, env: dict[str, str] | None = None, cwd: Path = ROOT, report: Path | None = None) -> DoitRun:
    """Run `doit` in a subprocess as a user would, with the JSON reporter for the results."""
    command = [sys.executable, "-m", "doit", *args]
    if report is not None:
        command[3:3] = ["--reporter", "json", "--output-file", str(report)]
    completed = subprocess.run(command, cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True, text=True)
    results: dict[str, str] = {}
    outputs: dict[str, str] = {}
    if report is not None and report.exists() and report.stat().st_size:
        for task in json.loads(report.read_text())["tasks"]:
            results[task["name"]] = task["result"]
            outputs[task["name"]] = task.get("out", "") + task.get("err", "")
    return DoitRun(completed.returncode, completed.stdout, completed.stderr, results, outputs)


@dataclass
class TinyBuild:
    """A tiny config (600 training images, 1 epoch) built into its own build root."""

    config: Path
    build_root: Path
    mnist_dir: Path
    first_run: DoitRun

    @property
    def out(self) -> Path:
        return self.build_root / "tiny"

    def doit(self, *args: str, report_name: str = "report.json") -> DoitRun:
        report = self.build_root / report_name
        report.unlink(missing_ok=True)
        return run_doit(
            f"config={self.config}",
            f"builddir={self.build_root}",
            *args,
            env={"MNIST_DIR": str(self.mnist_dir)},
            report=report,
        )


def build_tiny(work: Path, mnist_dir: Path) -> TinyBuild:
    """Write the tiny config into `work` and build it from scratch with doit."""
    config = write_config(work / "tiny.yaml", "tiny", TINY_OVERRIDES)
    build = TinyBuild(config, work / "build", mnist_dir, None)  # type: ignore[arg-type]
    build.first_run = build.doit()
    assert build.first_run.returncode == 0, build.first_run.stdout + build.first_run.stderr
    return build


@pytest.fixture(scope="session")
def tiny_build(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, mnist_dir: Path) -> TinyBuild:
    """The tiny build, made once per test run. Under pytest-xdist the first worker to need it
    builds it in the run's shared temporary folder (the others wait on a lock and reuse it);
    the tests that run doit on it are in one xdist group, so no two doit runs share its state."""
    if not hasattr(request.config, "workerinput"):  # one process
        return build_tiny(tmp_path_factory.mktemp("tiny"), mnist_dir)
    shared = tmp_path_factory.getbasetemp().parent  # this run's folder, above every worker's
    record = shared / "tiny" / "first_run.json"
    with (shared / "tiny.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not record.exists():
            (shared / "tiny").mkdir(exist_ok=True)
            built = build_tiny(shared / "tiny", mnist_dir)
            record.write_text(json.dumps(asdict(built.first_run)))
    work = shared / "tiny"
    return TinyBuild(work / "tiny.yaml", work / "build", mnist_dir, DoitRun(**json.loads(record.read_text())))


@pytest.fixture(scope="session")
def default_build(tmp_path_factory: pytest.TempPathFactory, mnist_dir: Path) -> Path:
    """Slow: the default config (config.yaml) built from scratch; returns its build root
    (outputs in `<root>/default/`). For tests marked slow only."""
    build_root = tmp_path_factory.mktemp("default") / "build"
    run = run_doit(f"builddir={build_root}", env={"MNIST_DIR": str(mnist_dir)})
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "accuracy on 10000 test images" in run.stdout
    return build_root
