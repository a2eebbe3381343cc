"""The `preprocess` step: the cached MNIST digits as network inputs (intnet.prep, the one
preprocessing that the console mirrors), plus augmented training copies (training.augment)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from common.config import Config
from common.fsutil import atomic_path
from common.mnist import load_cache
from intnet.prep import input_max, preprocess
from training.augment import augmented_copies


def run(cfg: Config, cache: Path, target: Path) -> None:
    """Write `target` (.npz): preprocessed train/test inputs, labels and augmented copies."""
    mnist = load_cache(cache)
    x_train, y_train = mnist.x_train[: cfg.data.train_limit], mnist.y_train[: cfg.data.train_limit]
    x_test, y_test = mnist.x_test[: cfg.data.test_limit], mnist.y_test[: cfg.data.test_limit]
    a = cfg.augment
    if a.copies and (a.shift or a.rotate or a.scale or a.thickness or a.elastic):
        raw_aug, aug_source = augmented_copies(x_train, a, cfg.train.seed)
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
