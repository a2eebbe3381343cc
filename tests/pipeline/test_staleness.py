"""Code dependencies through doit itself: editing a project module makes exactly the tasks
that run it stale, checked in a copy of the code beside a built tiny tree."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline import deps
from tests.conftest import ROOT, TINY_DOIT, TinyBuild

pytestmark = TINY_DOIT  # runs doit on the shared tiny build (or reads its dep file)

CODE = [*deps.PACKAGES, "dodo.py", "config.yaml", "web"]  # web/: the playground's page sources (`doit web`)

# Each task's entry modules: dodo.py loaded under doit's command-line variables, each action's
# module read back from what pipeline.steps made of it.
ENTRY_PROBE = """
import json, sys
from doit.doit_cmd import reset_vars, set_var
reset_vars()
set_var("config", sys.argv[1])
set_var("builddir", sys.argv[2])
import dodo
from pipeline.graph import collect_tasks
from pipeline.steps import run_function, run_program
creators = {name[5:]: creator for name, creator in vars(dodo).items() if name.startswith("task_")}
entries = {}
for name, task in collect_tasks(creators).items():
    modules = []
    for action in task.get("actions") or []:
        function, args = action
        if function is run_function:
            modules.append(args[0].partition(":")[0])
        else:
            assert function is run_program, name
            modules.append(args[0][2])  # python -m MODULE
    entries[name] = modules
print(json.dumps(entries))
"""


class CodeCopy:
    """The project's code copied into `work`, placed so that the MNIST files keep the relative
    paths the tiny build recorded (dodo.py declares them relative to the repository), with a
    copy of the build's dep file so that asking doit changes nothing of the shared build."""

    def __init__(self, tiny: TinyBuild, work: Path) -> None:
        relative = Path(os.path.relpath(tiny.mnist_dir, ROOT))
        ups = sum(part == ".." for part in relative.parts)
        self.repo = work.joinpath(*(f"level{i}" for i in range(ups)), "repo")
        for name in CODE:
            source = ROOT / name
            if source.is_dir():
                shutil.copytree(source, self.repo / name, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy2(source, self.repo / name)
        mnist = Path(os.path.normpath(self.repo / relative))
        if not mnist.exists():
            mnist.parent.mkdir(parents=True, exist_ok=True)
            mnist.symlink_to(tiny.mnist_dir)
        self.env = {**os.environ, "MNIST_DIR": str(mnist)}
        self.dep_file = work / "deps.json"
        shutil.copy2(tiny.out / ".doit.json", self.dep_file)
        self.tiny = tiny

    def stale(self) -> set[str]:
        """The tasks `doit list --all --status` marks to run."""
        command = [
            sys.executable, "-m", "doit", "list", "--all", "--status", "--db-file", str(self.dep_file),
            f"config={self.tiny.config}", f"builddir={self.tiny.build_root}",
        ]
        listed = subprocess.run(command, cwd=self.repo, env=self.env, capture_output=True, text=True, check=True)
        return {line.split()[1] for line in listed.stdout.splitlines() if line.startswith("R ")}

    def entries(self) -> dict[str, list[str]]:
        command = [sys.executable, "-c", ENTRY_PROBE, str(self.tiny.config), str(self.tiny.build_root)]
        probe = subprocess.run(command, cwd=self.repo, env=self.env, capture_output=True, text=True, check=True)
        return json.loads(probe.stdout)

    def edit(self, file: str) -> None:
        path = self.repo / file
        path.write_text(path.read_text() + "\n# edited by test_staleness\n")

    def restore(self, file: str) -> None:
        shutil.copy2(ROOT / file, self.repo / file)


def tasks_running(entries: dict[str, list[str]]) -> dict[str, set[str]]:
    """Project file -> the tasks whose actions run it (their entry modules' import closure)."""
    running: dict[str, set[str]] = {}
    for task, modules in entries.items():
        for file in deps.code_files(modules):
            running.setdefault(file, set()).add(task)
    return running


def project_files() -> list[str]:
    return deps.code_files(deps.project_modules())


@pytest.fixture(scope="module")
def code_copy(tiny_build: TinyBuild, tmp_path_factory: pytest.TempPathFactory) -> CodeCopy:
    copy = CodeCopy(tiny_build, tmp_path_factory.mktemp("code"))
    # the pipeline is built; what may be stale is on demand (evaluate, report), always run
    # (sweep) or a group of sub-tasks (nes_asm); the browser playground is on demand too
    assert copy.stale() <= {"evaluate", "screenshot", "report", "sweep", "nes_asm", "web", "web_shot"}
    return copy


def test_editing_the_golden_model_makes_the_network_sources_stale(code_copy: CodeCopy) -> None:
    """The gap that started it: gen_network imports the golden model's weight packing."""
    before = code_copy.stale()
    code_copy.edit("intnet/golden.py")
    try:
        now = code_copy.stale() - before
    finally:
        code_copy.restore("intnet/golden.py")
    assert {"export", "nes_network", "drawn", "qat"} <= now
    assert not now & {"dataset", "preprocess", "teacher", "train", "nes_chr", "rom"}, now
    assert now == tasks_running(code_copy.entries())["intnet/golden.py"] - before


BY_HAND = {"nes/tools/conv_bench.py", "nes/tools/prep_timing.py"}
"""Measuring tools a developer runs by hand (docs/cnn-plan.md, nes/README.md): no task runs them."""


@pytest.mark.slow
def test_editing_any_module_makes_exactly_the_tasks_that_run_it_stale(code_copy: CodeCopy) -> None:
    before = code_copy.stale()
    running = tasks_running(code_copy.entries())
    for file in project_files():
        code_copy.edit(file)
        try:
            now = code_copy.stale()
        finally:
            code_copy.restore(file)
        assert now - before == running.get(file, set()) - before, file
    # every step module is some task's code
    unused = [f for f in project_files() if f not in running and not f.startswith("pipeline/") and f not in BY_HAND]
    assert not unused, f"modules no task runs: {unused}"
