"""The console's tasks for a network the 6502 engine cannot run yet (convolutions, issue 15):
each fails at once with one message instead of generating, assembling or emulating anything."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from common.errors import BuildError
from pipeline.steps import call, task

CONSOLE_TASKS = ("nes_network", "nes_ui", "nes_asm", "rom", "paddrawn", "evaluate", "screenshot", "report")
"""The tasks that need the ROM (the report shows the screen and the pad-drawn digits)."""


class ConsolePendingError(BuildError):
    """The console cannot run this network yet."""


def message(config: Path, task_name: str) -> str:
    return (
        f"{task_name}: the console engine does not run convolutional layers yet (issue 15); build up to "
        f"`doit config={config} drawn metrics` (float, QAT and integer accuracy, the drawn digits), "
        "or use a config with dense layers only (model.hidden) for a ROM"
    )


def fail(config: Path, task_name: str) -> None:
    raise ConsolePendingError(message(config, task_name))


def pending(config: Path, task_name: str) -> dict[str, Any]:
    """A task that fails with `message` (no targets, no inputs: asking for it is the mistake)."""
    return task(
        actions=[call("pipeline.console:fail", config, task_name)],
        doc="Not for this network: the console engine does not run convolutional layers yet (issue 15).",
        uptodate=[False],
    )
