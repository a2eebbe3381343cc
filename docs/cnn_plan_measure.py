"""Measurements behind docs/cnn-plan.md: how sparse a CNN's layers are on the default inputs.

    MNIST_DIR=../shared/data/mnist nice -n 19 python docs/cnn_plan_measure.py [--seconds 50]

A throwaway probe, not part of the build: the plan's cost model needs, per layer, the share of
inputs that are non-zero (the 6502 kernels skip zeros) and the share of output positions whose
whole 3x3 patch is zero (their outputs are a constant, no MACs). It preprocesses MNIST with the
default config (14x14 area sums of 3 levels, deskew, centring), prints the input statistics,
then trains small float CNNs for a few seconds each (time-limited: the machine is shared) and
prints each ReLU layer's non-zero share after a 4-bit requantization (step: the 99.9th
percentile / 15, rounded half up, as golden.requantize would with a folded rounding constant).
"""

from __future__ import annotations

import argparse
import gzip
import os
import time
from pathlib import Path

import numpy as np

from common.config import load
from intnet.prep import preprocess
from training.dataset import parse_idx

ROOT = Path(__file__).resolve().parent.parent


def read(folder: Path, name: str) -> np.ndarray:
    path = folder / f"{name}.gz"
    return parse_idx(gzip.decompress(path.read_bytes()), str(path))


def patch_any(images: np.ndarray, k: int, padding: str) -> np.ndarray:
    """(N, H, W) -> (N, H', W') bool: some non-zero value in the k x k window (stride 1)."""
    nz = (images > 0).astype(np.int32)
    if padding == "same":
        p = k // 2
        nz = np.pad(nz, ((0, 0), (p, p), (p, p)))
    h, w = nz.shape[1] - k + 1, nz.shape[2] - k + 1
    total = np.zeros((nz.shape[0], h, w), dtype=np.int32)
    for dy in range(k):
        for dx in range(k):
            total += nz[:, dy : dy + h, dx : dx + w]
    return total > 0


def input_stats(x: np.ndarray, side: int) -> None:
    img = x.reshape(-1, side, side)
    print(f"inputs non-zero: {np.mean(img > 0):.3f} ({np.mean(np.sum(img > 0, axis=(1, 2))):.1f} of {side * side})")
    for padding in ("same", "valid"):
        any3 = patch_any(img, 3, padding)
        print(f"conv1 {padding}: positions {any3.shape[1]}x{any3.shape[2]}, with a non-zero 3x3 patch "
              f"{np.mean(any3):.3f}, worst image {np.max(np.mean(any3, axis=(1, 2))):.3f}")
        h2 = any3.shape[1] // 2
        pooled = any3[:, : 2 * h2, : 2 * h2].reshape(-1, h2, 2, h2, 2).any(axis=(2, 4))
        print(f"  pooled cells {h2}x{h2} with some non-zero patch: {np.mean(pooled):.3f}")
    nnz = np.mean(np.sum(np.pad(img > 0, ((0, 0), (1, 1), (1, 1))), axis=(1, 2)))
    print(f"non-zero patch elements per 3x3 patch, mean over all same positions: {nnz * 9 / (side * side):.2f}")


def quantized_nonzero(values: np.ndarray) -> tuple[float, float]:
    top = float(np.percentile(values, 99.9)) or 1.0
    q = np.clip(np.floor(values * 15.0 / top + 0.5), 0, 15)
    return float(np.mean(values > 0)), float(np.mean(q > 0))


def train_probe(
    spec: list[tuple[str, int]], x_tr, y_tr, x_te, y_te, side: int, seconds: float, conv_bias: bool = True
) -> None:
    import keras

    keras.utils.set_random_seed(1)
    inputs = keras.Input((side, side, 1))
    h = inputs
    names = []
    for kind, n in spec:
        if kind == "conv":
            h = keras.layers.Conv2D(n, 3, padding="same", activation="relu", use_bias=conv_bias)(h)
            names.append((f"conv{n}", h))
        elif kind == "pool":
            h = keras.layers.MaxPooling2D()(h)
            names.append(("pool", h))
        else:
            if len(h.shape) > 2:
                h = keras.layers.Flatten()(h)
            h = keras.layers.Dense(n, activation="relu")(h)
            names.append((f"dense{n}", h))
    model = keras.Model(inputs, keras.layers.Dense(10)(h))
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    start, seen = time.time(), 0
    while time.time() - start < seconds and seen < 3 * len(x_tr):
        part = slice(seen % len(x_tr), seen % len(x_tr) + 10000)
        model.fit(x_tr[part], y_tr[part], batch_size=128, epochs=1, verbose=0)
        seen += 10000
    acc = model.evaluate(x_te, y_te, verbose=0)[1]
    print(f"\n{' '.join(f'{k}{n}' for k, n in spec)}{'' if conv_bias else ', convolutions without bias'}: "
          f"{model.count_params()} params, {seen} images in "
          f"{time.time() - start:.0f} s, float test accuracy {acc:.4f}")
    probe = keras.Model(inputs, [t for _, t in names])
    outs = probe.predict(x_te[:2000], batch_size=500, verbose=0)
    for (name, _), out in zip(names, outs, strict=True):
        float_nz, q_nz = quantized_nonzero(out)
        line = f"  {name:8s} {tuple(out.shape[1:])}: non-zero {float_nz:.3f} float, {q_nz:.3f} at 4 bits"
        if out.ndim == 4:
            any3 = patch_any(np.abs(out).max(axis=3), 3, "same")
            line += f"; positions with a non-zero 3x3xC patch {np.mean(any3):.3f}"
        print(line)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=50.0, help="training time per probe model")
    parser.add_argument("--models", default="acb", help="which probes: letters of `probes`")
    parser.add_argument("--no-conv-bias", action="store_true", help="convolutions without bias (blank stays 0)")
    args = parser.parse_args()
    cfg = load(ROOT / "config.yaml")
    folder = Path(os.environ.get("MNIST_DIR", ROOT / cfg.data.dir))
    t0 = time.time()
    x_tr = preprocess(read(folder, "train-images-idx3-ubyte"), cfg.preprocess)
    x_te = preprocess(read(folder, "t10k-images-idx3-ubyte"), cfg.preprocess)
    y_tr = read(folder, "train-labels-idx1-ubyte")
    y_te = read(folder, "t10k-labels-idx1-ubyte")
    side = cfg.preprocess.size
    print(f"preprocessed {len(x_tr) + len(x_te)} digits in {time.time() - t0:.0f} s, input max {x_te.max()}")
    input_stats(x_te, side)
    probes = {
        "a": [("conv", 16), ("pool", 0), ("conv", 32), ("pool", 0), ("dense", 32)],
        "b": [("conv", 8), ("pool", 0), ("conv", 16), ("pool", 0), ("dense", 32)],
        "c": [("conv", 16), ("pool", 0), ("dense", 32)],
    }
    scale = float(x_te.max())
    for key in args.models:
        train_probe(probes[key], (x_tr / scale).reshape(-1, side, side, 1).astype(np.float32), y_tr,
                    (x_te / scale).reshape(-1, side, side, 1).astype(np.float32), y_te, side, args.seconds,
                    not args.no_conv_bias)


if __name__ == "__main__":
    main()
