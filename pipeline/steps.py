"""How a doit task runs a step's code, and the task dict that says so.

Every action names the module that does the work, so that

- `dodo.py` imports none of it (the module loads when the action runs: `doit list` stays
  instant with numpy, TensorFlow and cynes out of the way), and
- the task's `file_dep` gets that module's code, derived from its imports (`pipeline.deps`),
  instead of a hand-written list that drifts.

Two kinds of action: `call("pkg.module:function", *args)` runs a function in the doit process;
`program("pkg.module", *args)` runs `python -m pkg.module args` in its own process (training and
the emulator, whose libraries should not stay loaded in doit). A step reports a problem the user
can fix by raising `common.errors.BuildError`: the task then fails with that one message.
"""

from __future__ import annotations

import importlib
import io
import os
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from doit.exceptions import TaskFailed

from common.errors import BuildError
from pipeline import memory
from pipeline.deps import code_files


@dataclass(frozen=True)
class Action:
    module: str  # the project module whose code the action runs
    action: Any  # what doit runs: (callable, args) or a command list


def run_function(target: str, args: Sequence[Any], task: Any) -> TaskFailed | None:
    """Import `module:function` and call it (what it returns is for other callers, not doit);
    a BuildError becomes a one-message task failure. doit passes `task` (its name goes with the
    memory record)."""
    module_name, _, function = target.partition(":")
    try:
        getattr(importlib.import_module(module_name), function)(*args)
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return TaskFailed(str(exc))
    memory.record(getattr(task, "name", None), memory.peak_kb())
    return None


def call(target: str, *args: Any) -> Action:
    """Run `function(*args)` from project module `module` (target "module:function") in doit."""
    return Action(target.partition(":")[0], (run_function, [target, args]))


def run_program(command: list[str], what: str, task: Any) -> TaskFailed | None:
    """Run a long program (training, console evaluation). On a terminal it owns the terminal
    (progress bars draw themselves); otherwise its output is passed on line by line."""
    try:
        sys.stdout.fileno()
        on_terminal = sys.stdout.isatty()
    except (io.UnsupportedOperation, AttributeError):
        on_terminal = False
    held = memory.resident_kb()  # the doit process, resident while the program runs
    pipe = None if on_terminal else subprocess.PIPE
    with subprocess.Popen(command, stdout=pipe, stderr=subprocess.STDOUT if pipe else None, text=True) as process:
        if process.stdout is not None:
            for line in process.stdout:
                sys.stdout.write(line)
        _, status, usage = os.wait4(process.pid, 0)  # the kernel's count of the program's peak
        process.returncode = returncode = os.waitstatus_to_exitcode(status)
    memory.record(getattr(task, "name", None), held + usage.ru_maxrss)
    if returncode:
        return TaskFailed(f"{what} failed (exit code {returncode}); see its output above")
    return None


def program(module: str, *args: str | Path, what: str) -> Action:
    """Run `python -m module args` in its own process; `what` names it in a failure."""
    command = [sys.executable, "-m", module, *map(str, args)]
    return Action(module, (run_program, [command, what]))


def task(*, actions: Iterable[Action], file_dep: Iterable[str | Path] = (), **fields: Any) -> dict[str, Any]:
    """A doit task dict: `file_dep` is the task's data inputs plus the code of its actions."""
    actions = list(actions)
    code = code_files(action.module for action in actions)
    return {
        "actions": [action.action for action in actions],
        "file_dep": [*map(str, file_dep), *code],
        **fields,
    }
