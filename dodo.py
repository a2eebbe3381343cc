"""doit tasks: MNIST -> preprocessing -> Keras training -> integer tables -> NES ROM -> metrics.

    doit                       build the default config (config.yaml)
    doit config=PATH           build another config into build/<its name>/
    doit list                  every task, one line each

Task creators only; the work happens in the step modules that each action names (see the
README's code map). `pipeline.steps.task` adds to each task's `file_dep` the code its actions
run, derived from their imports, so editing a module reruns exactly the tasks that run it; one
`config_changed` per task covers exactly the settings it reads. Nothing here imports numpy,
TensorFlow or cynes: `doit list` stays instant.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from doit import get_var
from doit.tools import config_changed

from common import config as config_module
from common.layout import CHR_INC, UI_INC, Layout
from common.mnist import SPLITS, local_file, resolve_dir
from nes.tools import cc65
from nes.tools import files as nes_files
from nes.tools import web as nes_web
from pipeline import console, memory, sweep
from pipeline.steps import call, program, task

ROOT = Path(__file__).resolve().parent
CONFIG_PATH = Path(get_var("config", "config.yaml") or "config.yaml")
try:
    CFG = config_module.load(CONFIG_PATH)
except config_module.ConfigError as error:
    sys.exit(f"error: {error}")
LAYOUT = Layout(Path(get_var("builddir", "build") or "build"), CFG.name)
LAYOUT.out.mkdir(parents=True, exist_ok=True)
os.environ[memory.FOLDER_ENV] = str(LAYOUT.memory.resolve())  # where each step records its peak memory
LAYER_COUNT = len(CFG.plan.weighted)  # the layers with weight and bias tables
TABLES = LAYOUT.tables(LAYER_COUNT)

CONSOLE_PROBLEM = console.unsupported(CFG)  # None: the console engine runs this network
CONSOLE = CONSOLE_PROBLEM is None

DOIT_CONFIG = {
    "backend": "json",
    # `doit sweep` keeps its own dep file: its children write the configs' ones (see pipeline/sweep.py).
    "dep_file": str(sweep.doit_dep_file(sys.argv, LAYOUT.build_root, LAYOUT.dep_file)),
    # A network the console cannot run (pipeline.console.unsupported) has no ROM: its build ends with the metrics.
    "default_tasks": ["metrics", "rom"] if CONSOLE else ["metrics"],
    "verbosity": 2,
}


def task_dataset():
    """Find (or download) MNIST, verify its SHA-256 and cache it as uint8 arrays."""
    folder = resolve_dir(CFG.data.dir, ROOT)
    present = [local_file(folder, name) for pair in SPLITS.values() for name in pair]
    return task(
        actions=[call("training.dataset:run", CFG, ROOT, LAYOUT.mnist_cache)],
        file_dep=[os.path.relpath(path, ROOT) for path in present if path],
        targets=[str(LAYOUT.mnist_cache)],
        uptodate=[config_changed({"download": CFG.data.download, "mirrors": CFG.data.mirrors})],
        clean=True,
    )


def preprocess_settings() -> dict:
    """The preprocess section as tasks compare it; an unset option (window: null) is left out,
    so adding an option leaves existing builds up to date."""
    return CFG.preprocess.model_dump(exclude_none=True)


def task_preprocess():
    """Turn the digits into network inputs (integer, as the console does) plus augmented copies."""
    return task(
        actions=[call("training.preprocess:run", CFG, LAYOUT.mnist_cache, LAYOUT.inputs)],
        file_dep=[LAYOUT.mnist_cache],
        targets=[str(LAYOUT.inputs)],
        uptodate=[
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
        clean=True,
    )


TEACHER = CFG.teacher.epochs > 0
# With a teacher, train and qat read its scores and the distillation settings.
DISTILL_ARGS = ["--teacher-scores", str(LAYOUT.teacher_scores)] if TEACHER else []
DISTILL_DEPS = [LAYOUT.teacher_scores] if TEACHER else []
DISTILL_KEYS = {"temperature": CFG.teacher.temperature, "weight": CFG.teacher.weight} if TEACHER else None


def task_teacher():
    """Train the distillation teacher, a small CNN (when teacher.epochs > 0): teacher/scores.npz."""
    if not TEACHER:
        return {"actions": None, "doc": "Train the distillation teacher (off here: teacher.epochs is 0)."}
    return task(
        actions=[program("training.teacher", CONFIG_PATH, LAYOUT.inputs, LAYOUT.teacher, what="teacher training")],
        file_dep=[LAYOUT.inputs],
        targets=[str(LAYOUT.teacher_scores), str(LAYOUT.teacher_eval)],
        uptodate=[
            config_changed(
                {
                    "teacher": CFG.teacher.model_dump(exclude={"temperature", "weight"}),
                    "seed": CFG.train.seed,
                    "validation_split": CFG.train.validation_split,
                }
            )
        ],
        clean=True,
    )


MODEL_SETTINGS = CFG.model.model_dump(exclude_none=True)
"""The model section as tasks compare it: `hidden` or `layers`, whichever is given (a dense-only
config compares as it did before `layers` existed)."""


def task_train():
    """Train the Keras MLP (TensorFlow runs in its own process) and save model.h5."""
    return task(
        actions=[
            program("training.train", CONFIG_PATH, LAYOUT.inputs, LAYOUT.out, *DISTILL_ARGS, what="training")
        ],
        file_dep=[LAYOUT.inputs, *DISTILL_DEPS],
        targets=[str(LAYOUT.model), str(LAYOUT.history), str(LAYOUT.float_eval)],
        uptodate=[
            config_changed({"model": MODEL_SETTINGS, "train": CFG.train.model_dump(), "distill": DISTILL_KEYS})
        ],
        clean=True,
    )


QAT = CFG.quantize.qat.epochs > 0


def task_qat():
    """Quantization-aware fine-tuning of model.h5 (when quantize.qat.epochs > 0): qat/model.h5."""
    if not QAT:
        return {"actions": None, "doc": "Quantization-aware fine-tuning (off here: quantize.qat.epochs is 0)."}
    return task(
        actions=[
            program(
                "training.qat", CONFIG_PATH, LAYOUT.inputs, LAYOUT.model, LAYOUT.qat, *DISTILL_ARGS,
                what="quantization-aware training",
            )
        ],
        file_dep=[LAYOUT.inputs, LAYOUT.model, *DISTILL_DEPS],
        targets=[str(LAYOUT.qat_model), str(LAYOUT.qat_steps), str(LAYOUT.qat_eval)],
        uptodate=[
            config_changed(
                {
                    "model": MODEL_SETTINGS,
                    "train": CFG.train.model_dump(),
                    "quantize": CFG.quantize.model_dump(),
                    "distill": DISTILL_KEYS,
                }
            )
        ],
        clean=True,
    )


def task_export():
    """Quantize to 8- or 4-bit tables (.bin + manifest.json) and score the integer golden model."""
    model, steps = (LAYOUT.qat_model, LAYOUT.qat_steps) if QAT else (LAYOUT.model, None)
    return task(
        actions=[call("export.tables:run", CFG, model, LAYOUT.inputs, LAYOUT.export, steps)],
        file_dep=[model, *([steps] if steps else []), LAYOUT.inputs],
        targets=[str(LAYOUT.manifest), str(LAYOUT.integer_eval), *map(str, TABLES)],
        # The manifest also records the preprocessing (for the console and the drawn check).
        uptodate=[config_changed({"quantize": CFG.quantize.model_dump(), "preprocess": preprocess_settings()})],
        clean=True,
    )


def task_drawn():
    """Score the integer network on test digits changed as people draw (off-centre, sizes, strokes): drawn.json."""
    return task(
        actions=[
            call("training.drawn:run", CFG, LAYOUT.mnist_cache, LAYOUT.export, LAYOUT.drawn, LAYOUT.drawn_examples)
        ],
        file_dep=[LAYOUT.manifest, *TABLES, LAYOUT.mnist_cache],
        targets=[str(LAYOUT.drawn), str(LAYOUT.drawn_examples)],
        uptodate=[
            config_changed(
                {
                    "drawn": CFG.drawn.model_dump(),
                    "preprocess": preprocess_settings(),
                    "test_limit": CFG.data.test_limit,
                }
            )
        ],
        clean=True,
    )



METRIC_PARTS = {
    "float_eval": LAYOUT.float_eval,
    **({"teacher_eval": LAYOUT.teacher_eval} if TEACHER else {}),
    "integer_eval": LAYOUT.integer_eval,
    **({"qat_eval": LAYOUT.qat_eval} if QAT else {}),
    "manifest": LAYOUT.manifest,
    "drawn": LAYOUT.drawn,
    **({"rom_budget": LAYOUT.rom_budget} if CONSOLE else {}),
    # the pad-drawn digits on the ROM (about 20 s: part of every build)
    **({"paddrawn": LAYOUT.paddrawn} if CONSOLE else {}),
    # Not file_deps. Written by `doit evaluate` (which then refreshes metrics.json itself): a
    # plain `doit` must not run the slow evaluation; stale numbers are dropped by ROM hash.
    "console_eval": LAYOUT.console_eval,
    # Each step's peak memory, recorded as it runs (the metrics task, running last, reads them).
    "memory": LAYOUT.memory,
}


def task_metrics():
    """Gather accuracy, sizes and console speed into metrics.json and print the summary."""
    return task(
        actions=[call("export.metrics:run", LAYOUT.metrics, METRIC_PARTS)],
        file_dep=[path for name, path in METRIC_PARTS.items() if name not in ("console_eval", "memory")],
        targets=[str(LAYOUT.metrics)],
        clean=True,
    )


# --- NES cartridge (nes/) ---
# manifest + .bin tables -> generated ca65 sources -> objects -> <name>.nes (+ .dbg/.map/.labels).


def task_nes_network():
    """Generate network.inc / network.s and the offset-binary weight columns from the manifest."""
    if not CONSOLE:
        return console.pending(CONFIG_PATH, "nes_network", CONSOLE_PROBLEM)
    return task(
        actions=[program("nes.tools.gen_network", LAYOUT.manifest, LAYOUT.nes_gen, what="network sources")],
        file_dep=[LAYOUT.manifest, *TABLES, *nes_files.network_inputs()],
        targets=[str(p) for p in nes_files.network_outputs(LAYOUT.nes_gen, LAYER_COUNT)],
        clean=True,
    )


def task_nes_ui():
    """Generate ui.inc: preprocessing constants from the manifest, settings from the config's ui section."""
    if not CONSOLE:
        return console.pending(CONFIG_PATH, "nes_ui", CONSOLE_PROBLEM)
    ui = CFG.ui.model_dump()
    return task(
        actions=[program("nes.tools.gen_ui", LAYOUT.manifest, LAYOUT.nes_gen, json.dumps(ui), what="ui.inc")],
        file_dep=[LAYOUT.manifest, nes_files.LINK_CONFIG],  # the RAM the canvas may use
        targets=[str(LAYOUT.nes_gen / UI_INC)],
        uptodate=[config_changed({"ui": ui})],
        clean=True,
    )


def task_nes_chr():
    """Build the 8 KiB CHR-ROM and chr.inc from the indexed PNGs in nes/art/ plus rule tiles (Pillow)."""
    return task(
        actions=[program("nes.tools.gen_chr", LAYOUT.nes_gen, what="CHR tiles")],
        file_dep=nes_files.art_files(),
        targets=[str(LAYOUT.chr), str(LAYOUT.nes_gen / CHR_INC)],
        clean=True,
    )


def task_nes_asm():
    """Assemble each source with ca65 -g --create-dep into build/<name>/nes/obj/."""
    if not CONSOLE:
        return console.pending(CONFIG_PATH, "nes_asm", CONSOLE_PROBLEM)
    return assemble_tasks()


def assemble_tasks():
    for source, obj in zip(cc65.SOURCES, cc65.objects(LAYOUT.nes_obj), strict=True):
        deps = nes_files.source_deps(source, LAYOUT.nes_gen, LAYOUT.chr, LAYOUT.export, LAYER_COUNT)
        yield task(
            name=source,
            actions=[call("nes.tools.assemble:run", source, obj, LAYOUT.nes_gen, LAYOUT.chr, deps)],
            file_dep=deps,
            targets=[str(obj), str(obj.with_suffix(".d"))],
            clean=True,
        )


def task_rom():
    """Link the objects in a fixed order with ld65 into build/<name>/<name>.nes and print the ROM budget."""
    if not CONSOLE:
        return console.pending(CONFIG_PATH, "rom", CONSOLE_PROBLEM)
    return task(
        actions=[call("nes.tools.link:run", LAYOUT.nes_obj, LAYOUT.rom, LAYOUT.rom_budget)],
        file_dep=[*cc65.objects(LAYOUT.nes_obj), nes_files.LINK_CONFIG],
        targets=[str(p) for p in (LAYOUT.rom, LAYOUT.rom_dbg, LAYOUT.rom_map, LAYOUT.rom_labels, LAYOUT.rom_budget)],
        clean=True,
    )


def task_paddrawn():
    """Draw the pad-drawn digits (neat, small, large and slanted; special shapes) on the ROM with the D-pad."""
    if not CONSOLE:
        return console.pending(CONFIG_PATH, "paddrawn", CONSOLE_PROBLEM)
    return task(
        actions=[call("nes.tools.paddrawn:run", LAYOUT.rom, LAYOUT.manifest, LAYOUT.paddrawn, LAYOUT.paddrawn_sheet)],
        file_dep=[LAYOUT.rom, LAYOUT.rom_dbg, LAYOUT.manifest],
        targets=[str(LAYOUT.paddrawn), str(LAYOUT.paddrawn_sheet)],
        clean=True,
    )


def task_evaluate():
    """Run all test images on the emulated console (cynes); bit-exact check against the golden model."""
    if not CONSOLE:
        return console.pending(CONFIG_PATH, "evaluate", CONSOLE_PROBLEM)
    return task(
        actions=[
            program(
                "nes.tools.evaluate", LAYOUT.rom, LAYOUT.export, LAYOUT.inputs, LAYOUT.console_eval,
                what="console evaluation",
            ),
            call("export.metrics:run", LAYOUT.metrics, METRIC_PARTS),  # console numbers into metrics.json
        ],
        file_dep=[LAYOUT.rom, LAYOUT.rom_dbg, LAYOUT.rom_budget, LAYOUT.inputs, LAYOUT.manifest, nes_files.LINK_CONFIG],
        targets=[str(LAYOUT.console_eval)],
    )


# --- browser playground ---


def task_web():
    """Write build/<name>/web/: a static page that runs this ROM in jsnes (draw with the mouse, see the answer)."""
    if not CONSOLE:
        return console.pending(CONFIG_PATH, "web", CONSOLE_PROBLEM)
    return task(
        actions=[call("nes.tools.web:run", LAYOUT.rom, LAYOUT.rom_dbg, LAYOUT.manifest, LAYOUT.web)],
        file_dep=[LAYOUT.rom, LAYOUT.rom_dbg, LAYOUT.manifest, *nes_web.sources()],
        targets=[str(path) for path in nes_web.outputs(LAYOUT.web, LAYOUT.rom.name)],
        clean=True,
    )


def task_web_shot():
    """Open the page in headless Chromium (Debian's), draw a 7 with the mouse, save the page for the report."""
    if not CONSOLE:
        return console.pending(CONFIG_PATH, "web_shot", CONSOLE_PROBLEM)
    return task(
        actions=[program("nes.tools.web_driver", LAYOUT.web, LAYOUT.web_screenshot, what="the playground screenshot")],
        file_dep=nes_web.outputs(LAYOUT.web, LAYOUT.rom.name),
        targets=[str(LAYOUT.web_screenshot)],
        clean=True,
    )


# --- build report ---


def task_screenshot():
    """Run the ROM in the emulator, draw a 7 with the controller, save the screen for the report."""
    if not CONSOLE:
        return console.pending(CONFIG_PATH, "screenshot", CONSOLE_PROBLEM)
    return task(
        actions=[call("nes.tools.screenshot:run", LAYOUT.rom, LAYOUT.inputs, LAYOUT.screenshot,
                      LAYOUT.screenshot_caption)],
        file_dep=[LAYOUT.rom, LAYOUT.rom_dbg, LAYOUT.inputs],
        targets=[str(LAYOUT.screenshot), str(LAYOUT.screenshot_caption)],
        clean=True,
    )


def task_report():
    """Write build/<name>/report/index.html: metrics, confusion, curves, ROM budget, screen, pad-drawn digits, tasks."""
    if not CONSOLE:
        return console.pending(CONFIG_PATH, "report", CONSOLE_PROBLEM)
    paths = {
        "metrics": LAYOUT.metrics,
        "history": LAYOUT.history,
        "inputs": LAYOUT.inputs,
        "mnist_cache": LAYOUT.mnist_cache,
        "export": LAYOUT.export,
        "rom": LAYOUT.rom,
        "rom_budget": LAYOUT.rom_budget,
        "console_eval": LAYOUT.console_eval,
        "screenshot_caption": LAYOUT.screenshot_caption,
        "task_graph": LAYOUT.task_graph,
        "drawn_examples": LAYOUT.drawn_examples,
        "web_page": LAYOUT.web_page,  # linked; `doit web` writes it
        "web_screenshot": LAYOUT.web_screenshot,  # shown when `doit web_shot` has taken it
    }
    creators = {
        name.removeprefix("task_"): creator
        for name, creator in globals().items()
        if name.startswith("task_") and name != "task_report"
    }
    return task(
        actions=[
            call("pipeline.graph:write", creators, LAYOUT.task_graph),
            call("export.report:run", paths, LAYOUT.report),
        ],
        file_dep=[
            *(
                path
                for name, path in paths.items()
                if name not in ("export", "console_eval", "task_graph", "web_page", "web_screenshot")
            ),
            # the playground's screenshot once taken (a new dep reruns the report), not before
            *([LAYOUT.web_screenshot] if LAYOUT.web_screenshot.exists() else []),
            LAYOUT.screenshot,
            LAYOUT.paddrawn_sheet,
            LAYOUT.manifest,
            "dodo.py",  # the task graph is drawn from it
        ],
        targets=[str(path) for path in (LAYOUT.task_graph, *LAYOUT.report_files)],
        clean=True,
    )


# --- comparing configs ---


def task_sweep():
    """Build every config in sweep.configs (in parallel, each incrementally) and compare them in build/sweep/."""
    return task(
        actions=[call("pipeline.sweep:run", CFG.sweep, ROOT, LAYOUT.build_root)],
        targets=[str(path) for path in sweep.outputs(LAYOUT.build_root)],
        # Runs whenever asked for: this task cannot see the configs' inputs; the child `doit`s
        # decide what is stale in each config (an unchanged one costs about a second).
        uptodate=[config_changed({"sweep": CFG.sweep.model_dump()}), False],
        clean=True,
    )
