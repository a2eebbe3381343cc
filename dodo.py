"""doit tasks: MNIST -> preprocessing -> Keras training -> integer tables -> metrics.

    doit                       build the default config (config.yaml)
    doit config=PATH           build another config into build/<its name>/
    doit list                  every task, one line each

Task creators only; the work happens in `training/` and `export/`. Each task declares its
real inputs (`file_dep`, its own code included) and one `config_changed` over exactly the
settings it reads, so only stale steps rebuild.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from doit import get_var
from doit.tools import config_changed

from training import actions
from training import config as config_module
from training.layout import Layout
from training.mnist_files import SPLITS, local_file, resolve_dir

ROOT = Path(__file__).resolve().parent
CONFIG_PATH = Path(get_var("config", "config.yaml") or "config.yaml")
try:
    CFG = config_module.load(CONFIG_PATH)
except config_module.ConfigError as error:
    sys.exit(f"error: {error}")
LAYOUT = Layout(Path(get_var("builddir", "build") or "build"), CFG.name)
LAYOUT.out.mkdir(parents=True, exist_ok=True)

DOIT_CONFIG = {
    "backend": "json",
    "dep_file": str(LAYOUT.dep_file),
    "default_tasks": ["metrics"],
    "verbosity": 2,
}


def code(*modules: str) -> list[str]:
    """The source files of a task's own code, so editing them reruns the task.

    Paths are relative to the repository (doit runs tasks from the dodo.py folder), so a
    restored build cache stays valid in a fresh clone elsewhere."""
    return list(modules)


CONFIG_CODE = code("training/config.py", "training/fsutil.py")


def task_dataset():
    """Find (or download) MNIST, verify its SHA-256 and cache it as uint8 arrays."""
    folder = resolve_dir(CFG.data.dir, ROOT)
    present = [local_file(folder, name) for pair in SPLITS.values() for name in pair]
    return {
        "actions": [(actions.fetch_dataset, [CFG, ROOT, LAYOUT.mnist_cache])],
        "file_dep": [
            *CONFIG_CODE,
            *code("training/dataset.py", "training/mnist_files.py"),
            *(os.path.relpath(path, ROOT) for path in present if path),
        ],
        "targets": [str(LAYOUT.mnist_cache)],
        "uptodate": [config_changed({"download": CFG.data.download, "mirrors": CFG.data.mirrors})],
        "clean": True,
    }


def task_preprocess():
    """Turn the digits into network inputs (integer, as the console does) plus augmented copies."""
    return {
        "actions": [(actions.make_inputs, [CFG, LAYOUT.mnist_cache, LAYOUT.inputs])],
        "file_dep": [str(LAYOUT.mnist_cache), *CONFIG_CODE, *code("training/preprocess.py", "training/prepare.py")],
        "targets": [str(LAYOUT.inputs)],
        "uptodate": [
            config_changed(
                {
                    "preprocess": CFG.preprocess.model_dump(),
                    "augment": CFG.augment.model_dump(),
                    "train_limit": CFG.data.train_limit,
                    "test_limit": CFG.data.test_limit,
                    "seed": CFG.train.seed,
                }
            )
        ],
        "clean": True,
    }


def task_train():
    """Train the Keras MLP (TensorFlow runs in its own process) and save model.h5."""
    command = [sys.executable, "-m", "training.train", str(CONFIG_PATH), str(LAYOUT.inputs), str(LAYOUT.out)]
    return {
        "actions": [(actions.train_model, [command])],
        "file_dep": [str(LAYOUT.inputs), *CONFIG_CODE, *code("training/train.py")],
        "targets": [str(LAYOUT.model), str(LAYOUT.history), str(LAYOUT.float_eval)],
        "uptodate": [config_changed({"model": CFG.model.model_dump(), "train": CFG.train.model_dump()})],
        "clean": True,
    }


def task_export():
    """Quantize to int8 tables (.bin + manifest.json) and score the integer golden model."""
    layers = range(len(CFG.model.hidden) + 1)
    layer_files = [str(LAYOUT.export / f"layer{i}_{kind}.bin") for i in layers for kind in ("weights", "bias")]
    return {
        "actions": [(actions.export_tables, [CFG, LAYOUT.model, LAYOUT.inputs, LAYOUT.export])],
        "file_dep": [
            str(LAYOUT.model),
            str(LAYOUT.inputs),
            *CONFIG_CODE,
            *code("export/tables.py", "export/quantize.py", "export/golden.py", "export/h5weights.py"),
        ],
        "targets": [str(LAYOUT.manifest), str(LAYOUT.integer_eval), *layer_files],
        "uptodate": [config_changed({"quantize": CFG.quantize.model_dump()})],
        "clean": True,
    }


def task_metrics():
    """Gather accuracy and sizes into metrics.json and print the summary."""
    parts = [LAYOUT.float_eval, LAYOUT.integer_eval, LAYOUT.manifest]
    return {
        "actions": [(actions.write_metrics, [LAYOUT.metrics, *parts])],
        "file_dep": [*(str(p) for p in parts), *code("export/metrics.py", "training/fsutil.py")],
        "targets": [str(LAYOUT.metrics)],
        "clean": True,
    }
