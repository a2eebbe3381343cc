"""Only stale steps rebuild: checked through doit itself, on a tiny config."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT, TINY_DOIT, TINY_OVERRIDES, TinyBuild, build_tiny, run_doit, write_config

pytestmark = TINY_DOIT  # runs doit on the shared tiny build (or reads its dep file)

PIPELINE = {"dataset", "preprocess", "teacher", "train", "qat", "export", "drawn", "metrics", "nes_network", "rom"}


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory, mnist_dir: Path) -> TinyBuild:
    """A tiny build of its own: these tests edit its config (slow: each edit retrains or
    rebuilds a part; the fast suite checks the same mechanism on the shared tiny build)."""
    return build_tiny(tmp_path_factory.mktemp("incremental"), mnist_dir)


def edit(config: Path, old: str, new: str) -> None:
    text = config.read_text()
    assert old in text
    config.write_text(text.replace(old, new))


def test_first_build_runs_every_step_and_writes_metrics(tiny_build: TinyBuild) -> None:
    build = tiny_build
    assert build.first_run.ran() >= PIPELINE
    assert (build.out / "metrics.json").exists()
    assert "accuracy on 300 test images: float" in build.first_run.outputs["metrics"]


def test_second_build_runs_nothing(tiny_build: TinyBuild) -> None:
    build = tiny_build
    run = build.doit()
    assert run.returncode == 0 and run.ran() == set(), run.results


def test_touching_inputs_runs_nothing(tiny_build: TinyBuild) -> None:
    build = tiny_build
    touched = [build.config, *(build.build_root.rglob("*.npz")), build.out / "model.h5"]
    touched += [ROOT / "training" / "train.py", ROOT / "intnet" / "golden.py", ROOT / "intnet" / "prep.py"]
    for path in touched:
        os.utime(path)
    run = build.doit()
    assert run.returncode == 0 and run.ran() == set(), run.results


def test_rerun_step_with_the_same_output_leaves_later_steps_alone(tiny_build: TinyBuild) -> None:
    build = tiny_build
    """A step that reruns and computes the same arrays (after a refactor of its code, say)
    writes the same .npz bytes, so the steps after it stay up to date."""
    inputs = build.out / "inputs.npz"
    before = inputs.read_bytes()
    forget = run_doit("forget", f"config={build.config}", f"builddir={build.build_root}", "preprocess")
    assert forget.returncode == 0, forget.stderr
    run = build.doit()
    assert run.returncode == 0 and run.ran() == {"preprocess"}, run.results
    assert inputs.read_bytes() == before


@pytest.mark.slow
def test_export_setting_reexports_without_retraining(build: TinyBuild) -> None:
    edit(build.config, "train:", "quantize:\n  activation_bits: 7\ntrain:")
    run = build.doit()
    assert run.returncode == 0
    assert {"export", "metrics", "nes_network", "rom"} <= run.ran(), run.results
    assert not run.ran() & {"dataset", "preprocess", "train"}, run.results
    assert not run.ran() & {"nes_asm:main", "nes_asm:init", "nes_asm:nmi"}  # hand-written sources stand


@pytest.mark.slow
def test_ui_setting_rebuilds_only_the_rom(build: TinyBuild) -> None:
    edit(build.config, "train:", "ui:\n  repeat_rate: 3\ntrain:")
    run = build.doit()
    assert run.returncode == 0
    assert {"nes_ui", "nes_asm:ui", "rom"} <= run.ran(), run.results
    assert not run.ran() & {"dataset", "preprocess", "train", "export", "nes_network", "nes_chr"}, run.results
    assert "UI_REPEAT_RATE = 3" in (build.out / "nes" / "gen" / "ui.inc").read_text()


@pytest.mark.slow
def test_drawn_setting_reruns_only_the_drawn_evaluation(build: TinyBuild) -> None:
    before = (build.out / "drawn.json").read_text()
    edit(build.config, "train:", "drawn:\n  offset: 2\ntrain:")
    run = build.doit()
    assert run.returncode == 0
    assert run.ran() == {"drawn", "metrics"}, run.results
    after = json.loads((build.out / "drawn.json").read_text())
    assert after != json.loads(before) and "up to 2 px" in after["variants"]["offset"]["change"]
    assert json.loads((build.out / "metrics.json").read_text())["drawn"] == after


@pytest.mark.slow
def test_training_setting_retrains_and_reexports(build: TinyBuild) -> None:
    edit(build.config, "batch_size: 32", "batch_size: 16")
    run = build.doit()
    assert run.returncode == 0
    assert {"train", "export", "metrics"} <= run.ran()
    assert not run.ran() & {"dataset", "preprocess"}, run.results


@pytest.mark.slow
def test_distillation_setting_retrains_without_a_new_teacher(build: TinyBuild) -> None:
    edit(build.config, "teacher:", "teacher:\n  temperature: 2.0")
    run = build.doit()
    assert run.returncode == 0
    assert {"train", "qat", "export", "metrics"} <= run.ran(), run.results
    assert not run.ran() & {"dataset", "preprocess", "teacher"}, run.results


@pytest.mark.slow
def test_teacher_setting_trains_a_new_teacher(build: TinyBuild) -> None:
    edit(build.config, "teacher:", "teacher:\n  dense: 32")
    run = build.doit()
    assert run.returncode == 0
    assert {"teacher", "train", "qat", "export"} <= run.ran(), run.results
    assert not run.ran() & {"dataset", "preprocess"}, run.results


@pytest.mark.slow
def test_preprocess_setting_reprocesses_and_retrains(build: TinyBuild) -> None:
    edit(build.config, "data:", "preprocess:\n  levels: 4\n  ink: null\ndata:")  # ink: one value a level
    run = build.doit()
    assert run.returncode == 0
    assert {"preprocess", "train", "export", "metrics"} <= run.ran()
    assert "dataset" not in run.ran()


@pytest.mark.slow
def test_another_config_builds_into_its_own_folder(build: TinyBuild, tmp_path: Path) -> None:
    before = (build.out / "metrics.json").read_bytes()
    other = write_config(tmp_path / "other.yaml", "other", TINY_OVERRIDES + "quantize:\n  activation_bits: 7\n")
    run = run_doit(
        f"config={other}", f"builddir={build.build_root}", "export", env={"MNIST_DIR": str(build.mnist_dir)}
    )
    assert run.returncode == 0, run.stderr
    assert (build.build_root / "other" / "export" / "manifest.json").exists()
    assert (build.out / "metrics.json").read_bytes() == before


def test_doit_list_documents_every_task() -> None:
    run = run_doit("list")
    assert run.returncode == 0
    listed = {line.split()[0]: line for line in run.stdout.splitlines() if line.strip()}
    assert set(listed) >= PIPELINE
    assert all(len(line.split(maxsplit=1)) == 2 for line in listed.values())  # each has a doc line


def test_dataset_error_is_one_message(tmp_path: Path) -> None:
    config = write_config(tmp_path / "nodata.yaml", "nodata", "data:\n  download: false\n")
    run = run_doit(f"config={config}", f"builddir={tmp_path / 'build'}", "dataset", env={"MNIST_DIR": str(tmp_path)})
    assert run.returncode != 0
    assert "missing" in run.stderr and "MNIST_DIR" in run.stderr
    assert "Traceback" not in run.stderr + run.stdout


def copy_tree(source: Path, target: Path, files: list[str]) -> None:
    """Copy files as a cache restore or a fresh clone does: same content, new modification times."""
    for name in files:
        destination = target / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / name, destination)


def tracked_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.split()
    return [name for name in listed if (ROOT / name).is_file()]


@pytest.fixture(scope="module")
def relocated(tmp_path_factory: pytest.TempPathFactory, mnist_dir: Path) -> tuple[Path, Path]:
    """A checkout built in one folder, then copied with its build/ state to another."""
    first = tmp_path_factory.mktemp("checkout")
    copy_tree(ROOT, first, tracked_files())
    write_config(first / "tiny.yaml", "tiny", TINY_OVERRIDES, base=first / "config.yaml")
    run = run_doit("config=tiny.yaml", cwd=first, env={"MNIST_DIR": str(mnist_dir)})
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    second = tmp_path_factory.mktemp("restored")
    built = [str(path.relative_to(first)) for path in (first / "build").rglob("*") if path.is_file()]
    copy_tree(first, second, [*tracked_files(), "tiny.yaml", *built])
    (second / "tiny.yaml").write_text((first / "tiny.yaml").read_text().replace(str(first), str(second)))
    return second, mnist_dir


@pytest.mark.slow
def test_restored_build_in_a_fresh_checkout_runs_nothing(relocated: tuple[Path, Path]) -> None:
    checkout, mnist_dir = relocated
    run = run_doit("config=tiny.yaml", cwd=checkout, env={"MNIST_DIR": str(mnist_dir)}, report=checkout / "r.json")
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.results and run.ran() == set(), run.results


@pytest.mark.slow
def test_editing_one_assembly_source_reassembles_it_and_relinks(relocated: tuple[Path, Path]) -> None:
    checkout, mnist_dir = relocated
    source = checkout / "nes" / "src" / "pads.s"
    source.write_text(source.read_text() + '\n.segment "RODATA"\n.byte $00  ; a change to the ROM\n')
    run = run_doit("config=tiny.yaml", cwd=checkout, env={"MNIST_DIR": str(mnist_dir)}, report=checkout / "r.json")
    assert run.returncode == 0, run.stderr[-2000:]
    assert {"nes_asm:pads", "rom"} <= run.ran(), run.results
    assert not {name for name in run.ran() if name.startswith("nes_asm:")} - {"nes_asm:pads"}, run.results
    assert not run.ran() & {"dataset", "preprocess", "train", "export", "nes_network"}, run.results
