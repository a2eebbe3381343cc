"""The `preprocess` step: the cached MNIST digits as network inputs (intnet.prep, the one
preprocessing that the console mirrors), plus augmented training copies (training.augment).

The augmented copies outnumber the digits they come from (4 copies of 60,000 by default), so
they are never held as 28x28 images all at once: `augmented_chunks` makes them a chunk at a
time and each chunk is preprocessed straight into the preallocated (copies, inputs) byte array.
The copies and inputs are the same as making them all first: every image is handled on its own
and the random parameters are drawn up front in one fixed order."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from common.config import AugmentConfig, Config, PreprocessConfig
from common.fsutil import atomic_path
from common.mnist import load_cache
from intnet.prep import input_max, preprocess
from training.augment import augmented_chunks, copy_sources


def run(cfg: Config, cache: Path, target: Path) -> None:
    """Write `target` (.npz): preprocessed train/test inputs, labels and augmented copies."""
    mnist = load_cache(cache)
    x_train, y_train = mnist.x_train[: cfg.data.train_limit], mnist.y_train[: cfg.data.train_limit]
    x_test, y_test = mnist.x_test[: cfg.data.test_limit], mnist.y_test[: cfg.data.test_limit]
    x_aug, aug_source = augmented_inputs(x_train, cfg.augment, cfg.train.seed, cfg.preprocess)
    with atomic_path(target) as tmp:
        np.savez(
            tmp,
            x_train=preprocess(x_train, cfg.preprocess),
            y_train=y_train,
            x_test=preprocess(x_test, cfg.preprocess),
            y_test=y_test,
            x_aug=x_aug,
            aug_source=aug_source,
            input_max=np.array(input_max(cfg.preprocess)),
        )


def augmented_inputs(
    images: np.ndarray, augment: AugmentConfig, seed: int, pre: PreprocessConfig
) -> tuple[np.ndarray, np.ndarray]:
    """The preprocessed augmented copies of `images` (copies, size*size) and each one's source
    index; empty (0 rows) when augmentation is off (no copies, or every knob at zero)."""
    size = pre.size * pre.size
    varies = augment.shift or augment.rotate or augment.scale or augment.thickness or augment.elastic
    if not ((augment.copies and varies) or augment.pad or augment.coarse):
        return np.zeros((0, size), dtype=np.uint8), np.zeros(0, dtype=np.int64)
    source = copy_sources(images.shape[0], augment)
    inputs = np.empty((source.size, size), dtype=np.uint8)
    for part, copies in augmented_chunks(images, augment, seed, pre):
        inputs[part] = preprocess(copies, pre)
    return inputs, source
