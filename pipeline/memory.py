"""How much memory each step took, for metrics.json.

Every action run through `pipeline.steps` records its task's peak resident memory in
`<build>/<name>/memory/<task>.json` (the folder comes from the environment variable that
dodo.py sets, so the steps need no extra argument):

- a program (training, the console evaluation) counts its own peak, measured exactly by the
  kernel when it ends (`wait4`), plus what the doit process held while it ran: both are resident
  at once;
- a function run inside doit counts the doit process's peak so far (the kernel keeps only the
  high-water mark), an upper bound of the step's own.

The largest of them is what a machine needs to build this config from scratch.
"""

from __future__ import annotations

import os
import resource
from pathlib import Path

from common.fsutil import write_json

FOLDER_ENV = "NES_MNIST_MEMORY_DIR"


def resident_kb() -> int:
    """This process's resident memory now, in KiB (0 where /proc is missing)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def peak_kb() -> int:
    """This process's peak resident memory so far, in KiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def record(task: str | None, kilobytes: int) -> None:
    """Write `task`'s peak (when the build asked for it: dodo.py sets the folder)."""
    folder = os.environ.get(FOLDER_ENV)
    if folder and task:
        write_json(Path(folder) / f"{task.replace(':', '-')}.json", {"task": task, "peak_rss_kb": kilobytes})
