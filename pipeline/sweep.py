"""`doit sweep`: build several configs, each incrementally and in parallel, then compare them.

Each config in `sweep.configs` is built by a child `doit config=PATH` (and `doit config=PATH
evaluate` when `sweep.evaluate` is true), exactly as a user would build it, into its own
`build/<name>/` with its own dep file: doit's up-to-date checks in the child decide what is
stale, so an unchanged config costs about a second. Each child's output goes to
`build/sweep/logs/<name>.log`.

The comparison of their numbers (`build/sweep/sweep.json`, `.csv`, `.md`, `.png`) is
export/comparison.py's job.

The parent `doit sweep` must not share a dep file with any child (doit's JSON backend rewrites
the whole file at exit, which would undo a child's records): `dodo.py` gives it
`build/sweep/.doit.json` (`doit_dep_file`).
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from common import config as config_module
from common.config import SweepConfig
from common.errors import BuildError
from common.layout import Layout
from export import comparison
from pipeline import console

TASK = "sweep"


class SweepError(BuildError):
    """A sweep that cannot run (bad config list) or whose builds failed; the message says which."""


# --- where things go ---


def out_dir(build_root: Path) -> Path:
    return Layout(Path(build_root), TASK).sweep


def dep_file(build_root: Path) -> Path:
    """The parent `doit sweep`'s own dep file, apart from every config's."""
    return out_dir(build_root) / ".doit.json"


def log_file(build_root: Path, name: str) -> Path:
    return out_dir(build_root) / "logs" / f"{name}.log"


def outputs(build_root: Path) -> list[Path]:
    return Layout(Path(build_root), TASK).sweep_tables


def requested(argv: Sequence[str]) -> bool:
    """Whether this doit command line asks for the sweep task."""
    return TASK in argv[1:]


def doit_dep_file(argv: Sequence[str], build_root: Path, config_dep_file: Path) -> Path:
    """The dep file for this doit run: the sweep's own when it is asked for (its folder made),
    else the config's."""
    if not requested(argv):
        return config_dep_file
    path = dep_file(build_root)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


# --- running the builds ---


@dataclass(frozen=True)
class Member:
    """One config of the sweep: its path as listed (relative to the repository) and its name."""

    path: str
    name: str
    console: bool = True  # False: a network the console engine cannot run (pipeline.console.unsupported)


def load_members(paths: Sequence[str], root: Path) -> list[Member]:
    """Validate every listed config and check that their names (build folders) are distinct."""
    configs = [(path, config_module.load(root / path)) for path in paths]
    members = [Member(path, cfg.name, console.unsupported(cfg) is None) for path, cfg in configs]
    seen: dict[str, str] = {}
    problems = []
    for member in members:
        if member.name == TASK:
            problems.append(f"{member.path}: name '{TASK}' would build into the sweep's own folder; rename it")
        elif member.name in seen:
            problems.append(
                f"{seen[member.name]} and {member.path} have the same name '{member.name}' and would build into "
                f"the same folder; give each config its own name"
            )
        seen.setdefault(member.name, member.path)
    if problems:
        raise SweepError("sweep.configs:\n  " + "\n  ".join(problems))
    return members


def child_commands(member: Member, build_root: Path, evaluate: bool) -> list[list[str]]:
    """The doit command lines that build one config (and measure it on the console, if it can run there)."""
    build = [sys.executable, "-m", "doit", f"config={member.path}", f"builddir={build_root}"]
    return [build, [*build, "evaluate"]] if evaluate and member.console else [build]


def executed_tasks(log: str) -> list[str]:
    """Tasks a child doit ran, from its verbosity-2 output ('. task' ran, '-- task' was up to date)."""
    return [line[2:].strip() for line in log.splitlines() if line.startswith(". ")]


@dataclass(frozen=True)
class Outcome:
    member: Member
    returncode: int
    seconds: float
    ran: list[str]
    log: Path

    def line(self) -> str:
        """One status line for the sweep's output."""
        state = "ok" if self.returncode == 0 else f"FAILED (exit code {self.returncode}), see {self.log}"
        groups: dict[str, int] = {}
        for task in self.ran:
            base = task.split(":")[0]
            groups[base] = groups.get(base, 0) + 1
        ran = ", ".join(name if count == 1 else f"{name} x{count}" for name, count in groups.items())
        return f"sweep: {self.member.name}: {state} in {self.seconds:.0f} s; {'ran ' + ran if ran else 'up to date'}"


def build_member(member: Member, commands: list[list[str]], root: Path, log: Path) -> Outcome:
    """Run one config's doit commands in turn (stopping at a failure), all output into its log."""
    start = time.monotonic()
    log.parent.mkdir(parents=True, exist_ok=True)
    returncode = 0
    with log.open("w", encoding="utf-8") as out:
        for command in commands:
            out.write(f"$ {shlex.join(command)}\n")
            out.flush()
            returncode = subprocess.run(
                command, cwd=root, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, check=False
            ).returncode
            if returncode:
                break
    ran = executed_tasks(log.read_text(encoding="utf-8", errors="replace"))
    return Outcome(member, returncode, time.monotonic() - start, ran, log)


def build_all(members: Sequence[Member], settings: SweepConfig, root: Path, build_root: Path) -> list[Outcome]:
    """Build the configs, `settings.jobs` at once (0: one per CPU); print a line as each finishes."""
    jobs = min(settings.jobs or os.cpu_count() or 1, len(members))
    outcomes: list[Outcome] = []
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [
            pool.submit(
                build_member,
                member,
                child_commands(member, build_root, settings.evaluate),
                root,
                log_file(root / build_root, member.name),
            )
            for member in members
        ]
        for future in as_completed(futures):
            outcome = future.result()
            print(outcome.line(), flush=True)
            outcomes.append(outcome)
    order = {member.name: index for index, member in enumerate(members)}
    return sorted(outcomes, key=lambda outcome: order[outcome.member.name])


# --- the doit action ---


def run(settings: SweepConfig, root: Path, build_root: Path) -> None:
    """The `sweep` step: build every config of the sweep, then compare them."""
    members = load_members(settings.configs, root)
    print(f"sweep: building {len(members)} configs, logs in {out_dir(build_root) / 'logs'}", flush=True)
    outcomes = build_all(members, settings, root, build_root)
    failed = [outcome for outcome in outcomes if outcome.returncode]
    if failed:
        message = "; ".join(f"config {o.member.path} ({o.member.name}) failed, see {o.log}" for o in failed)
        raise SweepError(message)
    folder = root / out_dir(build_root)
    rows = comparison.write_comparison([(m.path, root / build_root / m.name) for m in members], folder)
    print(comparison.markdown(rows), end="")
    print(f"sweep: {', '.join(str(path) for path in outputs(build_root))}")
    return None
