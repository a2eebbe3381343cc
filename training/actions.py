"""The Python actions behind the doit tasks: thin wrappers that turn the pipeline's own
errors into a clean doit failure (the message, no traceback).

Heavy modules are imported inside the actions so that loading `dodo.py` stays instant.
"""

from __future__ import annotations

import functools
import io
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from doit.exceptions import TaskFailed

from training.config import Config


def _expected_errors() -> tuple[type[Exception], ...]:
    from export.h5weights import ModelFileError
    from export.quantize import QuantizationError
    from nes.tools.cc65 import ToolError
    from training.config import ConfigError
    from training.dataset import DatasetError

    return (ConfigError, DatasetError, ModelFileError, QuantizationError, ToolError)


def clean_failure(action: Callable[..., Any]) -> Callable[..., Any]:
    """Report the pipeline's known errors as a one-message task failure."""

    @functools.wraps(action)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return action(*args, **kwargs)
        except _expected_errors() as exc:
            print(f"error: {exc}", file=sys.stderr)
            return TaskFailed(str(exc))

    return wrapper


@clean_failure
def fetch_dataset(cfg: Config, root: Path, target: Path) -> None:
    from training import dataset
    from training.mnist_files import resolve_dir

    folder = resolve_dir(cfg.data.dir, root)
    mnist = dataset.fetch(folder, cfg.data.download, cfg.data.mirrors)
    dataset.save_cache(mnist, target)
    print(f"MNIST verified in {folder}: {len(mnist.y_train)} training and {len(mnist.y_test)} test images")


@clean_failure
def make_inputs(cfg: Config, cache: Path, target: Path) -> None:
    from training.prepare import prepare

    prepare(cache, cfg, target)


@clean_failure
def export_tables(cfg: Config, model: Path, inputs: Path, out_dir: Path, qat_steps: Path | None = None) -> None:
    from export.tables import export

    fixed = None
    if qat_steps is not None:
        from training.qat import choices_from

        fixed = choices_from(qat_steps)
    export(cfg, model, inputs, out_dir, fixed)


@clean_failure
def measure_drawn(cfg: Config, cache: Path, export_dir: Path, target: Path, examples: Path) -> TaskFailed | None:
    from training import drawn

    try:
        result = drawn.write(cfg, cache, export_dir, target, examples)
    except drawn.DrawnError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return TaskFailed(str(exc))
    print(drawn.table(result))
    return None


@clean_failure
def write_metrics(target: Path, parts: dict[str, Path]) -> None:
    from export import metrics

    print(metrics.write(target, parts))


def run_program(command: list[str], what: str) -> TaskFailed | None:
    """Run a long program (training, console evaluation). On a terminal it owns the terminal
    (progress bars draw themselves); otherwise its output is passed on line by line."""
    try:
        sys.stdout.fileno()
        on_terminal = sys.stdout.isatty()
    except (io.UnsupportedOperation, AttributeError):
        on_terminal = False
    if on_terminal:
        returncode = subprocess.run(command, check=False).returncode
    else:
        with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as process:
            assert process.stdout is not None
            for line in process.stdout:
                sys.stdout.write(line)
            returncode = process.wait()
    if returncode:
        return TaskFailed(f"{what} failed (exit code {returncode}); see its output above")
    return None


@clean_failure
def write_report(paths: dict[str, Path], creators: dict[str, Any], out_dir: Path) -> None:
    from export import report

    edges = report.task_edges(report.collect_tasks(creators))
    page = report.write_report(report.ReportInputs(**paths), edges, out_dir)
    print(f"report: {page}")
