"""Where each build output lives, and what its file is called: the one definition of both.

One config builds into `<build root>/<name>/`; the verified MNIST cache is shared by all
configs, and the sweep's comparison lives in `<build root>/sweep/`. A step that writes into a
folder it was given (the training programs, the exporter) takes its file names from the
constants here, so the names cannot drift from the paths the doit tasks declare.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

# File names inside a step's folder.
MODEL = "model.h5"  # a Keras model: the float one in <name>/, the fine-tuned one in qat/
HISTORY = "history.json"
FLOAT_EVAL = "float_eval.json"
TEACHER_SCORES = "scores.npz"
TEACHER_EVAL = "teacher_eval.json"
QAT_STEPS = "qat.json"
QAT_EVAL = "qat_eval.json"
MANIFEST = "manifest.json"
INTEGER_EVAL = "integer_eval.json"
METRICS = "metrics.json"
DRAWN = "drawn.json"
DRAWN_EXAMPLES = "drawn_examples.npz"
PADDRAWN = "paddrawn.json"
PADDRAWN_SHEET = "paddrawn.png"
SWEEP_TABLES = ("sweep.json", "sweep.csv", "sweep.md", "sweep.png")
# The cartridge's generated sources in <name>/nes/gen/ (nes/tools/gen_*.py write them).
NETWORK_INC = "network.inc"
NETWORK_S = "network.s"
UI_INC = "ui.inc"
CHR_BIN = "chr.bin"
CHR_INC = "chr.inc"
WEB_SHOT = "web.png"  # the browser playground in the report (nes/tools/web_driver.py takes it)


def weights_file(index: int) -> str:
    """Layer `index`'s weights in the export folder (format: export/tables.py)."""
    return f"layer{index}_weights.bin"


def bias_file(index: int) -> str:
    """Layer `index`'s biases in the export folder (format: export/tables.py)."""
    return f"layer{index}_bias.bin"


def rom_weights_name(index: int) -> str:
    """Layer `index`'s weights as the 6502 kernel reads them, in nes/gen (gen_network.py)."""
    return f"layer{index}_weights.rom.bin"


@dataclass(frozen=True)
class Layout:
    build_root: Path
    name: str

    @property
    def out(self) -> Path:
        return self.build_root / self.name

    @property
    def dep_file(self) -> Path:
        return self.out / ".doit.json"

    @property
    def mnist_cache(self) -> Path:
        return self.build_root / "mnist" / "mnist.npz"

    @property
    def inputs(self) -> Path:
        return self.out / "inputs.npz"

    @property
    def model(self) -> Path:
        return self.out / MODEL

    @property
    def history(self) -> Path:
        return self.out / HISTORY

    @property
    def float_eval(self) -> Path:
        return self.out / FLOAT_EVAL

    @property
    def teacher(self) -> Path:
        """Knowledge distillation's teacher: its scores (logits) and evaluation."""
        return self.out / "teacher"

    @property
    def teacher_scores(self) -> Path:
        return self.teacher / TEACHER_SCORES

    @property
    def teacher_eval(self) -> Path:
        return self.teacher / TEACHER_EVAL

    @property
    def qat(self) -> Path:
        """Quantization-aware fine-tuning: the fine-tuned model, its fixed steps, its evaluation."""
        return self.out / "qat"

    @property
    def qat_model(self) -> Path:
        return self.qat / MODEL

    @property
    def qat_steps(self) -> Path:
        return self.qat / QAT_STEPS

    @property
    def qat_eval(self) -> Path:
        return self.qat / QAT_EVAL

    @property
    def export(self) -> Path:
        return self.out / "export"

    @property
    def manifest(self) -> Path:
        return self.export / MANIFEST

    @property
    def integer_eval(self) -> Path:
        return self.export / INTEGER_EVAL

    def tables(self, layer_count: int) -> list[Path]:
        """The exported .bin tables: each layer's weights, then its biases."""
        return [self.export / name(i) for i in range(layer_count) for name in (weights_file, bias_file)]

    @property
    def metrics(self) -> Path:
        return self.out / METRICS

    @property
    def memory(self) -> Path:
        """Each task's peak resident memory (pipeline/memory.py), for metrics.json."""
        return self.out / "memory"

    @property
    def drawn(self) -> Path:
        """The drawn evaluation (training/drawn.py): accuracy on test digits changed as people draw."""
        return self.out / DRAWN

    @property
    def drawn_examples(self) -> Path:
        """A few of the drawn evaluation's changed digits, for the report."""
        return self.out / DRAWN_EXAMPLES

    @property
    def paddrawn(self) -> Path:
        """The pad-drawn digits on the ROM (nes/tools/paddrawn.py): each one's answer and frames."""
        return self.out / PADDRAWN

    @property
    def paddrawn_sheet(self) -> Path:
        """Their contact sheet (each canvas as the screen shows it, named, with the answer), for the report."""
        return self.report / PADDRAWN_SHEET

    # --- NES cartridge (nes/) ---
    @property
    def nes(self) -> Path:
        return self.out / "nes"

    @property
    def nes_gen(self) -> Path:
        """Generated sources: network.inc, network.s, offset-binary weight columns, chr.bin."""
        return self.nes / "gen"

    @property
    def nes_obj(self) -> Path:
        return self.nes / "obj"

    @property
    def chr(self) -> Path:
        return self.nes_gen / CHR_BIN

    @property
    def rom(self) -> Path:
        return self.out / f"{self.name}.nes"

    @property
    def rom_dbg(self) -> Path:
        return self.rom.with_suffix(".dbg")

    @property
    def rom_map(self) -> Path:
        return self.rom.with_suffix(".map")

    @property
    def rom_labels(self) -> Path:
        return self.rom.with_suffix(".labels")

    @property
    def rom_budget(self) -> Path:
        return self.out / "rom_budget.json"

    @property
    def console_eval(self) -> Path:
        return self.out / "console_eval.json"

    # --- build report ---
    @property
    def report(self) -> Path:
        return self.out / "report"

    @property
    def screenshot(self) -> Path:
        """The emulator screenshot (nes/tools/screenshot.py) that the report shows."""
        return self.report / "screen.png"

    @property
    def screenshot_caption(self) -> Path:
        return self.report / "screen.json"

    @property
    def task_graph(self) -> Path:
        """The doit task graph as JSON (pipeline/graph.py), drawn by the report."""
        return self.report / "tasks.json"

    @property
    def report_files(self) -> list[Path]:
        """The report page and the images it draws (export/report.py writes them)."""
        names = ("index.html", "confusion.png", "training.png", "rom_budget.png", "misclassified.png", "tasks.png",
                 "drawn.png")
        return [self.report / name for name in names]

    # --- browser playground (`doit web`) ---
    @property
    def web(self) -> Path:
        """The static page that runs the ROM in the browser (nes/tools/web.py writes it)."""
        return self.out / "web"

    @property
    def web_page(self) -> Path:
        return self.web / "index.html"

    @property
    def web_screenshot(self) -> Path:
        """The playground in headless Chromium after a 7 drawn with the mouse, for the report."""
        return self.report / WEB_SHOT

    # --- comparing configs (`doit sweep`) ---
    @property
    def sweep(self) -> Path:
        return self.build_root / "sweep"

    @property
    def sweep_tables(self) -> list[Path]:
        """The comparison (export/comparison.py): sweep.json, .csv, .md and .png."""
        return [self.sweep / name for name in SWEEP_TABLES]
