"""doit tasks: MNIST -> preprocessing -> Keras training -> integer tables -> metrics.

    doit                       build the default config (config.yaml)
    doit config=PATH           build another config into build/<its name>/
    doit list                  every task, one line each

Task creators only; the work happens in `training/`, `export/` and `nes/tools/`. Each task
declares its real inputs (`file_dep`, its own code included) and one `config_changed` over
exactly the settings it reads, so only stale steps rebuild. The config parser itself
(training/config.py) is no task's input: what a task reads from it is in its config_changed.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from doit import get_var
from doit.tools import config_changed

from training import actions, sweep
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
    # `doit sweep` keeps its own dep file: its children write the configs' ones (see training/sweep.py).
    "dep_file": str(sweep.doit_dep_file(sys.argv, LAYOUT.build_root, LAYOUT.dep_file)),
    "default_tasks": ["metrics", "rom"],
    "verbosity": 2,
}


def code(*modules: str) -> list[str]:
    """The source files of a task's own code, so editing them reruns the task.

    Paths are relative to the repository (doit runs tasks from the dodo.py folder), so a
    restored build cache stays valid in a fresh clone elsewhere."""
    return list(modules)


def task_dataset():
    """Find (or download) MNIST, verify its SHA-256 and cache it as uint8 arrays."""
    folder = resolve_dir(CFG.data.dir, ROOT)
    present = [local_file(folder, name) for pair in SPLITS.values() for name in pair]
    return {
        "actions": [(actions.fetch_dataset, [CFG, ROOT, LAYOUT.mnist_cache])],
        "file_dep": [
            *code("training/dataset.py", "training/mnist_files.py"),
            *(os.path.relpath(path, ROOT) for path in present if path),
        ],
        "targets": [str(LAYOUT.mnist_cache)],
        "uptodate": [config_changed({"download": CFG.data.download, "mirrors": CFG.data.mirrors})],
        "clean": True,
    }


def preprocess_settings() -> dict:
    """The preprocess section as tasks compare it; an unset option (window: null) is left out,
    so adding an option leaves existing builds up to date."""
    return CFG.preprocess.model_dump(exclude_none=True)


def task_preprocess():
    """Turn the digits into network inputs (integer, as the console does) plus augmented copies."""
    return {
        "actions": [(actions.make_inputs, [CFG, LAYOUT.mnist_cache, LAYOUT.inputs])],
        "file_dep": [
            str(LAYOUT.mnist_cache),
            *code("training/preprocess.py", "training/prepare.py", "training/augment.py"),
        ],
        "targets": [str(LAYOUT.inputs)],
        "uptodate": [
            config_changed(
                {
                    "preprocess": preprocess_settings(),
                    "augment": CFG.augment.model_dump(),
                    "train_limit": CFG.data.train_limit,
                    "test_limit": CFG.data.test_limit,
                    "seed": CFG.train.seed,
                }
            )
        ],
        "clean": True,
    }


TEACHER = CFG.teacher.epochs > 0
# With a teacher, train and qat read its scores and the distillation settings.
DISTILL_ARGS = ["--teacher-scores", str(LAYOUT.teacher_scores)] if TEACHER else []
DISTILL_DEPS = [str(LAYOUT.teacher_scores)] if TEACHER else []
DISTILL_KEYS = {"temperature": CFG.teacher.temperature, "weight": CFG.teacher.weight} if TEACHER else None
FIT_CODE = code("training/fitting.py", "training/fsutil.py")


def task_teacher():
    """Train the distillation teacher, a small CNN (when teacher.epochs > 0): teacher/scores.npz."""
    if not TEACHER:
        return {"actions": None, "doc": "Train the distillation teacher (off here: teacher.epochs is 0)."}
    command = [sys.executable, "-m", "training.teacher", str(CONFIG_PATH), str(LAYOUT.inputs), str(LAYOUT.teacher)]
    return {
        "actions": [(actions.run_program, [command, "teacher training"])],
        "file_dep": [str(LAYOUT.inputs), *code("training/teacher.py"), *FIT_CODE],
        "targets": [str(LAYOUT.teacher_scores), str(LAYOUT.teacher_eval)],
        "uptodate": [
            config_changed(
                {
                    "teacher": CFG.teacher.model_dump(exclude={"temperature", "weight"}),
                    "seed": CFG.train.seed,
                    "validation_split": CFG.train.validation_split,
                }
            )
        ],
        "clean": True,
    }


def task_train():
    """Train the Keras MLP (TensorFlow runs in its own process) and save model.h5."""
    command = [
        sys.executable, "-m", "training.train", str(CONFIG_PATH), str(LAYOUT.inputs), str(LAYOUT.out), *DISTILL_ARGS
    ]
    return {
        "actions": [(actions.run_program, [command, "training"])],
        "file_dep": [str(LAYOUT.inputs), *DISTILL_DEPS, *code("training/train.py"), *FIT_CODE],
        "targets": [str(LAYOUT.model), str(LAYOUT.history), str(LAYOUT.float_eval)],
        "uptodate": [
            config_changed(
                {"model": CFG.model.model_dump(), "train": CFG.train.model_dump(), "distill": DISTILL_KEYS}
            )
        ],
        "clean": True,
    }


QAT = CFG.quantize.qat.epochs > 0


def task_qat():
    """Quantization-aware fine-tuning of model.h5 (when quantize.qat.epochs > 0): qat/model.h5."""
    if not QAT:
        return {"actions": None, "doc": "Quantization-aware fine-tuning (off here: quantize.qat.epochs is 0)."}
    command = [
        sys.executable, "-m", "training.qat", str(CONFIG_PATH), str(LAYOUT.inputs), str(LAYOUT.model), str(LAYOUT.qat),
        *DISTILL_ARGS,
    ]
    return {
        "actions": [(actions.run_program, [command, "quantization-aware training"])],
        "file_dep": [
            str(LAYOUT.inputs),
            str(LAYOUT.model),
            *DISTILL_DEPS,
            *code("training/qat.py", "training/train.py", "export/quantize.py", "export/golden.py",
                  "export/h5weights.py"),
            *FIT_CODE,
        ],
        "targets": [str(LAYOUT.qat_model), str(LAYOUT.qat_steps), str(LAYOUT.qat_eval)],
        "uptodate": [
            config_changed(
                {
                    "model": CFG.model.model_dump(),
                    "train": CFG.train.model_dump(),
                    "quantize": CFG.quantize.model_dump(),
                    "distill": DISTILL_KEYS,
                }
            )
        ],
        "clean": True,
    }


def task_export():
    """Quantize to 8- or 4-bit tables (.bin + manifest.json) and score the integer golden model."""
    layers = range(len(CFG.model.hidden) + 1)
    layer_files = [str(LAYOUT.export / f"layer{i}_{kind}.bin") for i in layers for kind in ("weights", "bias")]
    model, steps = (LAYOUT.qat_model, LAYOUT.qat_steps) if QAT else (LAYOUT.model, None)
    return {
        "actions": [(actions.export_tables, [CFG, model, LAYOUT.inputs, LAYOUT.export, steps])],
        "file_dep": [
            str(model),
            *([str(steps)] if steps else []),
            str(LAYOUT.inputs),
            *code("export/tables.py", "export/quantize.py", "export/golden.py", "export/h5weights.py",
                  *(["training/qat.py"] if QAT else [])),
        ],
        "targets": [str(LAYOUT.manifest), str(LAYOUT.integer_eval), *layer_files],
        # The manifest also records the preprocessing (for the console and the drawn check).
        "uptodate": [config_changed({"quantize": CFG.quantize.model_dump(), "preprocess": preprocess_settings()})],
        "clean": True,
    }


def task_drawn():
    """Score the integer network on test digits changed as people draw (off-centre, sizes, strokes): drawn.json."""
    layers = range(len(CFG.model.hidden) + 1)
    tables = [str(LAYOUT.export / f"layer{i}_{kind}.bin") for i in layers for kind in ("weights", "bias")]
    return {
        "actions": [
            (actions.measure_drawn, [CFG, LAYOUT.mnist_cache, LAYOUT.export, LAYOUT.drawn, LAYOUT.drawn_examples])
        ],
        "file_dep": [
            str(LAYOUT.manifest),
            *tables,
            str(LAYOUT.mnist_cache),
            *code("training/drawn.py", "training/augment.py", "training/preprocess.py", "export/golden.py",
                  "training/fsutil.py"),
        ],
        "targets": [str(LAYOUT.drawn), str(LAYOUT.drawn_examples)],
        "uptodate": [
            config_changed(
                {
                    "drawn": CFG.drawn.model_dump(),
                    "preprocess": preprocess_settings(),
                    "test_limit": CFG.data.test_limit,
                }
            )
        ],
        "clean": True,
    }


METRIC_PARTS = {
    "float_eval": LAYOUT.float_eval,
    **({"teacher_eval": LAYOUT.teacher_eval} if TEACHER else {}),
    "integer_eval": LAYOUT.integer_eval,
    **({"qat_eval": LAYOUT.qat_eval} if QAT else {}),
    "manifest": LAYOUT.manifest,
    "drawn": LAYOUT.drawn,
    "rom_budget": LAYOUT.rom_budget,
    # Written by `doit evaluate` (which then refreshes metrics.json itself). Not a file_dep:
    # a plain `doit` must not run the slow evaluation; stale numbers are dropped by ROM hash.
    "console_eval": LAYOUT.console_eval,
}


def task_metrics():
    """Gather accuracy, sizes and console speed into metrics.json and print the summary."""
    parts = [path for name, path in METRIC_PARTS.items() if name != "console_eval"]
    return {
        "actions": [(actions.write_metrics, [LAYOUT.metrics, METRIC_PARTS])],
        "file_dep": [*(str(p) for p in parts), *code("export/metrics.py", "training/fsutil.py")],
        "targets": [str(LAYOUT.metrics)],
        "clean": True,
    }


# --- NES cartridge (nes/) ---
# manifest + .bin tables -> generated ca65 sources -> objects -> <name>.nes (+ .dbg/.map/.labels).
# The helpers live in nes/tools/ (tasks.py imports neither numpy nor cynes: `doit list` stays fast).

from nes.tools import tasks as nes_tasks  # noqa: E402

NES_LAYERS = len(CFG.model.hidden) + 1
NES_CODE = code("nes/tools/cc65.py", "nes/tools/tasks.py")


def task_nes_network():
    """Generate network.inc / network.s and the offset-binary weight columns from the manifest."""
    bins = [LAYOUT.export / f"layer{i}_{kind}.bin" for i in range(NES_LAYERS) for kind in ("weights", "bias")]
    command = [sys.executable, "-m", "nes.tools.gen_network", str(LAYOUT.manifest), str(LAYOUT.nes_gen)]
    return {
        "actions": [command],
        "file_dep": [
            str(LAYOUT.manifest),
            *map(str, bins),
            *map(str, nes_tasks.generator_inputs()),
            *code("training/fsutil.py"),
        ],
        "targets": [str(p) for p in nes_tasks.generated(LAYOUT.nes_gen, NES_LAYERS)],
        "clean": True,
    }


def task_nes_ui():
    """Generate ui.inc: preprocessing constants from the manifest, settings from the config's ui section."""
    ui = CFG.ui.model_dump()
    command = [sys.executable, "-m", "nes.tools.gen_ui", str(LAYOUT.manifest), str(LAYOUT.nes_gen), json.dumps(ui)]
    return {
        "actions": [command],
        "file_dep": [str(LAYOUT.manifest), *code("nes/tools/gen_ui.py", "training/fsutil.py")],
        "targets": [str(LAYOUT.nes_gen / "ui.inc")],
        "uptodate": [config_changed({"ui": ui})],
        "clean": True,
    }


def task_nes_chr():
    """Build the 8 KiB CHR-ROM and chr.inc from the indexed PNGs in nes/art/ plus rule tiles (Pillow)."""
    return {
        "actions": [[sys.executable, "-m", "nes.tools.gen_chr", str(LAYOUT.nes_gen)]],
        "file_dep": [*map(str, nes_tasks.art_files()), *code("nes/tools/gen_chr.py", "training/fsutil.py")],
        "targets": [str(LAYOUT.chr), str(LAYOUT.nes_gen / "chr.inc")],
        "clean": True,
    }


def task_nes_asm():
    """Assemble each source with ca65 -g --create-dep into build/<name>/nes/obj/."""
    for source, obj in zip(nes_tasks.SOURCES, nes_tasks.objects(LAYOUT.nes_obj), strict=True):
        deps = nes_tasks.source_deps(source, LAYOUT.nes_gen, LAYOUT.chr, LAYOUT.export, NES_LAYERS)
        yield {
            "name": source,
            "actions": [(nes_tasks.assemble_action, [source, obj, LAYOUT.nes_gen, LAYOUT.chr, deps])],
            "file_dep": [*map(str, deps), *NES_CODE],
            "targets": [str(obj), str(obj.with_suffix(".d"))],
            "clean": True,
        }


def task_rom():
    """Link the objects in a fixed order with ld65 into build/<name>/<name>.nes and print the ROM budget."""
    objects = nes_tasks.objects(LAYOUT.nes_obj)
    return {
        "actions": [(nes_tasks.link_action, [LAYOUT.nes_obj, LAYOUT.rom, LAYOUT.rom_budget])],
        "file_dep": [
            *map(str, objects),
            str(nes_tasks.LINK_CONFIG),
            *NES_CODE,
            *code("nes/tools/mapfile.py"),
        ],
        "targets": [str(p) for p in (LAYOUT.rom, LAYOUT.rom_dbg, LAYOUT.rom_map, LAYOUT.rom_labels, LAYOUT.rom_budget)],
        "clean": True,
    }


def task_evaluate():
    """Run all test images on the emulated console (cynes); bit-exact check against the golden model."""
    command = [
        sys.executable,
        "-m",
        "nes.tools.evaluate",
        str(LAYOUT.rom),
        str(LAYOUT.export),
        str(LAYOUT.inputs),
        str(LAYOUT.console_eval),
    ]
    return {
        "actions": [
            (actions.run_program, [command, "console evaluation"]),
            (actions.write_metrics, [LAYOUT.metrics, METRIC_PARTS]),  # console numbers into metrics.json
        ],
        "file_dep": [
            str(LAYOUT.rom),
            str(LAYOUT.rom_dbg),
            str(LAYOUT.rom_budget),
            str(LAYOUT.inputs),
            str(LAYOUT.manifest),
            *code(
                "nes/tools/evaluate.py",
                "nes/tools/console.py",
                "nes/tools/dbginfo.py",
                "export/golden.py",
                "export/metrics.py",
            ),
        ],
        "targets": [str(LAYOUT.console_eval)],
    }


# --- build report ---


def task_report():
    """Write build/<name>/report/index.html: metrics, confusion matrix, curves, ROM budget, screenshot, task graph."""
    paths = {
        "metrics": LAYOUT.metrics,
        "history": LAYOUT.history,
        "inputs": LAYOUT.inputs,
        "mnist_cache": LAYOUT.mnist_cache,
        "export": LAYOUT.export,
        "rom": LAYOUT.rom,
        "rom_budget": LAYOUT.rom_budget,
        "console_eval": LAYOUT.console_eval,
        "drawn_examples": LAYOUT.drawn_examples,
    }
    creators = {
        name.removeprefix("task_"): creator
        for name, creator in globals().items()
        if name.startswith("task_") and name != "task_report"
    }
    return {
        "actions": [(actions.write_report, [paths, creators, LAYOUT.report])],
        "file_dep": [
            *(str(path) for name, path in paths.items() if name not in ("export", "console_eval")),
            str(LAYOUT.manifest),
            *code("export/report.py", "export/golden.py", "nes/tools/console.py", "nes/tools/ui_driver.py", "dodo.py"),
        ],
        "targets": [str(path) for path in LAYOUT.report_files],
        "clean": True,
    }


# --- comparing configs ---


def task_sweep():
    """Build every config in sweep.configs (in parallel, each incrementally) and compare them in build/sweep/."""
    return {
        "actions": [(sweep.run, [CFG.sweep, ROOT, LAYOUT.build_root])],
        "targets": [str(path) for path in sweep.outputs(LAYOUT.build_root)],
        # Runs whenever asked for: this task cannot see the configs' inputs; the child `doit`s
        # decide what is stale in each config (an unchanged one costs about a second).
        "uptodate": [config_changed({"sweep": CFG.sweep.model_dump()}), False],
        "clean": True,
    }
