"""The doit task graph, for the build report: which task feeds which."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from common.fsutil import write_json


def collect_tasks(creators: dict[str, Callable[[], Any]]) -> dict[str, dict[str, Any]]:
    """Call doit task creators (plain or yielding sub-tasks) and key their dicts by task name."""
    tasks: dict[str, dict[str, Any]] = {}
    for name, creator in creators.items():
        made = creator()
        if isinstance(made, dict):
            tasks[name] = made
        else:
            tasks.update({f"{name}:{sub['name']}": sub for sub in made})
    return tasks


def task_edges(tasks: dict[str, dict[str, Any]]) -> dict[str, list[str]]:
    """Producer tasks of each task, from the task dicts' targets and file_deps."""
    producer = {str(target): name for name, task in tasks.items() for target in task.get("targets", [])}
    return {
        name: sorted({producer[str(dep)] for dep in task.get("file_dep", []) if str(dep) in producer} - {name})
        for name, task in tasks.items()
    }


def write(creators: dict[str, Callable[[], Any]], target: Path) -> None:
    """Write the task graph as JSON: task name -> the tasks that produce its inputs."""
    write_json(target, task_edges(collect_tasks(creators)))
