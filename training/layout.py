"""Where each build output lives. One config builds into `<build root>/<name>/`; the
verified MNIST cache is shared by all configs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


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
        return self.out / "model.h5"

    @property
    def history(self) -> Path:
        return self.out / "history.json"

    @property
    def float_eval(self) -> Path:
        return self.out / "float_eval.json"

    @property
    def teacher(self) -> Path:
        """Knowledge distillation's teacher: scores.npz (its logits), teacher_eval.json."""
        return self.out / "teacher"

    @property
    def teacher_scores(self) -> Path:
        return self.teacher / "scores.npz"

    @property
    def teacher_eval(self) -> Path:
        return self.teacher / "teacher_eval.json"

    @property
    def qat(self) -> Path:
        """Quantization-aware fine-tuning: model.h5, qat.json (fixed steps), qat_eval.json."""
        return self.out / "qat"

    @property
    def qat_model(self) -> Path:
        return self.qat / "model.h5"

    @property
    def qat_steps(self) -> Path:
        return self.qat / "qat.json"

    @property
    def qat_eval(self) -> Path:
        return self.qat / "qat_eval.json"

    @property
    def export(self) -> Path:
        return self.out / "export"

    @property
    def manifest(self) -> Path:
        return self.export / "manifest.json"

    @property
    def integer_eval(self) -> Path:
        return self.export / "integer_eval.json"

    @property
    def metrics(self) -> Path:
        return self.out / "metrics.json"

    @property
    def drawn(self) -> Path:
        """The drawn evaluation (training/drawn.py): accuracy on test digits changed as people draw."""
        return self.out / "drawn.json"

    @property
    def drawn_examples(self) -> Path:
        """A few of the drawn evaluation's changed digits, for the report."""
        return self.out / "drawn_examples.npz"

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
        return self.nes_gen / "chr.bin"

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
    def report(self) -> Path:
        return self.out / "report"

    @property
    def report_files(self) -> list[Path]:
        """The report page and the images it shows (export/report.py writes them)."""
        names = ("index.html", "confusion.png", "training.png", "rom_budget.png", "misclassified.png", "screen.png",
                 "tasks.png", "drawn.png")
        return [self.report / name for name in names]

    @property
    def rom_budget(self) -> Path:
        return self.out / "rom_budget.json"

    @property
    def console_eval(self) -> Path:
        return self.out / "console_eval.json"
