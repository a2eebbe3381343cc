"""Turn the cached MNIST digits into network inputs (and augmented training copies)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from training.config import AugmentConfig, Config
from training.dataset import load_cache
from training.fsutil import atomic_path
from training.preprocess import input_max, preprocess, translate

AUGMENT_SEED_OFFSET = 7919
"""Keeps the augmentation stream apart from the training seed's other uses."""


def shifted_copies(images: np.ndarray, augment: AugmentConfig, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """`augment.copies` randomly translated copies of each image (by up to `augment.shift`
    pixels each way), and the index of the source image of each copy."""
    rng = np.random.default_rng(seed + AUGMENT_SEED_OFFSET)
    n = images.shape[0]
    source = np.tile(np.arange(n), augment.copies)
    dy = rng.integers(-augment.shift, augment.shift + 1, size=source.size)
    dx = rng.integers(-augment.shift, augment.shift + 1, size=source.size)
    return translate(images[source], dy, dx), source


def prepare(cache: Path, cfg: Config, target: Path) -> None:
    """Write `target` (.npz): preprocessed train/test inputs, labels and augmented copies."""
    mnist = load_cache(cache)
    x_train, y_train = mnist.x_train[: cfg.data.train_limit], mnist.y_train[: cfg.data.train_limit]
    x_test, y_test = mnist.x_test[: cfg.data.test_limit], mnist.y_test[: cfg.data.test_limit]
    if cfg.augment.copies and cfg.augment.shift:
        raw_aug, aug_source = shifted_copies(x_train, cfg.augment, cfg.train.seed)
    else:
        raw_aug, aug_source = x_train[:0], np.zeros(0, dtype=np.int64)
    with atomic_path(target) as tmp:
        np.savez(
            tmp,
            x_train=preprocess(x_train, cfg.preprocess),
            y_train=y_train,
            x_test=preprocess(x_test, cfg.preprocess),
            y_test=y_test,
            x_aug=preprocess(raw_aug, cfg.preprocess),
            aug_source=aug_source,
            input_max=np.array(input_max(cfg.preprocess)),
        )
