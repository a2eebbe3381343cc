"""MNIST as the project knows it: the file names, known hashes and location, and the verified
cache that later steps read (numpy only inside the cache functions: `dodo.py` imports this)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from common.fsutil import atomic_path

if TYPE_CHECKING:
    import numpy as np

ENV_DIR = "MNIST_DIR"
"""Environment variable that overrides `data.dir` from the config."""

# SHA-256 of the decompressed IDX files (the content published by LeCun et al.).
EXPECTED_SHA256 = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
SPLITS = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def resolve_dir(configured: str, root: Path) -> Path:
    """The MNIST folder: $MNIST_DIR if set, else `configured` relative to `root`."""
    chosen = os.environ.get(ENV_DIR) or configured
    return (root / chosen).resolve() if not Path(chosen).is_absolute() else Path(chosen)


def local_file(folder: Path, name: str) -> Path | None:
    """The gzip or raw copy of `name` in `folder`, if there is one."""
    for candidate in (folder / f"{name}.gz", folder / name):
        if candidate.is_file():
            return candidate
    return None


@dataclass(frozen=True)
class Mnist:
    x_train: np.ndarray  # (60000, 28, 28) uint8
    y_train: np.ndarray  # (60000,) uint8
    x_test: np.ndarray  # (10000, 28, 28) uint8
    y_test: np.ndarray  # (10000,) uint8


def save_cache(mnist: Mnist, target: Path) -> None:
    import numpy as np

    with atomic_path(target) as tmp:
        np.savez(tmp, x_train=mnist.x_train, y_train=mnist.y_train, x_test=mnist.x_test, y_test=mnist.y_test)


def load_cache(path: Path) -> Mnist:
    import numpy as np

    with np.load(path) as data:
        return Mnist(data["x_train"], data["y_train"], data["x_test"], data["y_test"])


def cached_test_images(build_root: Path) -> np.ndarray:
    """The verified MNIST test images from the `dataset` step's cache under `build_root`, for the
    measuring tools (a one-line message, not a traceback, when the cache is not built yet)."""
    path = build_root / "mnist" / "mnist.npz"
    if not path.is_file():
        raise SystemExit(f"error: no MNIST cache at {path}: run `doit dataset` first (it verifies MNIST and writes it)")
    return load_cache(path).x_test
