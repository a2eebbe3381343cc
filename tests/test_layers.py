"""The code's layers: imports go one way, from the doit glue down to the shared base."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pipeline import deps

ROOT = Path(__file__).resolve().parents[1]
LAYER = {"common": 0, "intnet": 1, "training": 2, "export": 2, "nes": 2, "pipeline": 3}
"""Bottom up: the shared base; the integer-network contract; the stages (peers that never
import each other); the doit glue. dodo.py sits on top of them all."""
HEAVY = ("numpy", "tensorflow", "keras", "cynes", "h5py", "matplotlib", "PIL")


def test_every_package_has_a_layer() -> None:
    assert set(LAYER) == set(deps.PACKAGES)


@pytest.mark.parametrize("module", deps.project_modules())
def test_imports_go_down_or_stay_in_the_package(module: str) -> None:
    package = module.split(".")[0]
    wrong = sorted(
        imported
        for imported in deps.imported_modules(module)
        if imported.split(".")[0] != package and LAYER[imported.split(".")[0]] >= LAYER[package]
    )
    assert not wrong, f"{module} ({package}, layer {LAYER[package]}) imports {wrong} from its own layer or above"


def test_dodo_loads_nothing_heavy() -> None:
    """`doit list` stays instant: loading dodo.py imports no numpy, TensorFlow, cynes, ..."""
    code = (
        "import sys; sys.argv = ['doit', 'list']; import dodo; "
        f"print(','.join(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == ""
