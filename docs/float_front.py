"""The float front of docs/cnn-plan.md section 8: how accurate a float network of a given shape gets
on a build's own inputs, and how many multiply-adds it costs, with no console limits applied.

    python -m doit config=training/presets/cnn.yaml preprocess     # build/cnn/inputs.npz
    PYTHONPATH=. python docs/float_front.py --inputs build/cnn/inputs.npz --layers c16s2,c64s2,d32

Layers, comma-separated, in order (a channels-last flatten before the first dense layer, the
10-unit output layer after the last): `c16` a 3x3 'valid' conv of 16 channels, `c16s2` the same
with stride 2, `C16` a 3x3 'same' conv, `D` a 3x3 'valid' depthwise conv (each channel on its
own), `p` 2x2 max pooling, `d32` a dense layer of 32; ReLU after each, no conv bias. It trains
with the training recipe of `--config` (optimizer, learning rate and its schedule, batch size)
on the inputs' training images and augmented copies, for `--epochs`, then scores the 10,000
test images. No quantization: an upper bound for what QAT and the console can keep (on
`cnn-s16-s64` they kept 99.06 of 99.21 %). One JSON line per run goes to `--out`.

`--config` is the config that made the inputs (its preprocessing scores the `--drawn` variants
of the test digits, as `doit drawn` does); `--copies-only` trains on the augmented copies alone
(with `augment: {copies: 0, coarse: 4}`: the blocky copies alone, the `coarse` ceiling probe).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

KERNEL = 3


def build(keras: Any, side: int, layers: list[str]) -> tuple[Any, int]:
    """The Keras model for `layers` on side x side inputs, and its multiply-adds per digit."""
    inputs = keras.Input(shape=(side * side,))
    x = keras.layers.Reshape((side, side, 1))(inputs)
    channels, macs = 1, 0
    for layer in layers:
        kind = layer[0]
        if kind in "cC":
            count, _, stride_text = layer[1:].partition("s")
            filters, stride = int(count), int(stride_text or 1)
            padding = "valid" if kind == "c" else "same"
            conv = keras.layers.Conv2D(filters, KERNEL, strides=stride, padding=padding, use_bias=False)
            x = keras.layers.ReLU()(conv(x))
            side = (side - KERNEL) // stride + 1 if padding == "valid" else -(-side // stride)
            macs += side * side * KERNEL * KERNEL * channels * filters
            channels = filters
        elif layer == "D":
            x = keras.layers.DepthwiseConv2D(KERNEL, padding="valid", use_bias=False, activation="relu")(x)
            side -= KERNEL - 1
            macs += side * side * KERNEL * KERNEL * channels
        elif layer == "p":
            x = keras.layers.MaxPooling2D(2)(x)
            side //= 2
        elif kind == "d":
            if len(x.shape) == 4:
                x = keras.layers.Flatten()(x)
                channels *= side * side
            units = int(layer[1:])
            x = keras.layers.Dense(units, activation="relu")(x)
            macs += channels * units
            channels = units
        else:
            raise SystemExit(f"error: unknown layer {layer!r} (c16, c16s2, C16, D, p, d32)")
    if len(x.shape) == 4:  # no dense layer: the output layer reads the flattened map
        x = keras.layers.Flatten()(x)
        channels *= side * side
    outputs = keras.layers.Dense(10)(x)
    return keras.Model(inputs, outputs), macs + channels * 10


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=Path, required=True, help="a build's inputs.npz (doit preprocess)")
    parser.add_argument("--layers", required=True, help="e.g. c16s2,c64s2,d32 (see the module's doc)")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--config", type=Path, default=Path("training/presets/cnn.yaml"), help="training recipe")
    parser.add_argument("--out", type=Path, default=Path("build/float_front.jsonl"))
    parser.add_argument("--copies-only", action="store_true", help="train on the augmented copies alone")
    parser.add_argument("--drawn", default="", help="also score these drawn variants, e.g. thin,coarse")
    parser.add_argument("--mnist", type=Path, default=Path("build/mnist/mnist.npz"), help="the dataset cache")
    args = parser.parse_args(argv)

    import numpy as np

    from common import config
    from training import fitting
    from training.train import make_optimizer

    raw = config.load_raw(args.config)
    raw["train"]["epochs"] = args.epochs
    cfg = config.parse(raw, str(args.config))
    from intnet.prep import input_max

    with np.load(args.inputs) as stored:  # (one read for both facts below)
        stored_max, copies = int(stored["input_max"]), int(stored["aug_source"].size)
    if args.drawn and input_max(cfg.preprocess) != stored_max:
        raise SystemExit(f"error: --config's preprocessing makes inputs up to {input_max(cfg.preprocess)}, "
                         f"{args.inputs} holds inputs up to {stored_max}: give the config that made them")
    keras, _ = fitting.start_keras(cfg.train.seed)
    arrays = fitting.training_arrays(cfg, args.inputs)
    x_fit, y_fit = arrays.x_fit, arrays.y_fit
    if args.copies_only:  # (training_arrays puts the training images first, their copies after)
        if cfg.train.validation_split:
            raise SystemExit("error: --copies-only needs train.validation_split: 0 in --config")
        plain = len(arrays.y_fit) - copies
        x_fit, y_fit = x_fit[plain:], y_fit[plain:]
    side = round(arrays.x_fit.shape[1] ** 0.5)
    layers = [layer for layer in args.layers.split(",") if layer]
    model, macs = build(keras, side, layers)
    steps = -(-len(x_fit) // cfg.train.batch_size)
    model.compile(
        optimizer=make_optimizer(cfg, steps, keras),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    started = time.time()
    model.fit(x_fit, y_fit, batch_size=cfg.train.batch_size, epochs=args.epochs, shuffle=True, verbose=2)
    accuracy = float(model.evaluate(arrays.x_test, arrays.y_test, verbose=0)[1])
    result = {
        "inputs": str(args.inputs),
        "layers": args.layers,
        "epochs": args.epochs,
        "copies_only": args.copies_only,
        "float_accuracy": round(100 * accuracy, 2),
        "macs": macs,
        "params": model.count_params(),
        "seconds": round(time.time() - started),
    }
    if args.drawn:
        from common.mnist import load_cache
        from intnet.prep import preprocess
        from training.variants import variant_images

        test = load_cache(args.mnist)
        scale = 1.0 / input_max(cfg.preprocess)
        for variant in args.drawn.split(","):
            changed = variant_images(test.x_test, variant, cfg.drawn, cfg.preprocess)
            x_changed = preprocess(changed, cfg.preprocess).astype(np.float32) * scale
            score = float(model.evaluate(x_changed, test.y_test, verbose=0)[1])
            result[f"float_{variant}"] = round(100 * score, 2)
    print(json.dumps(result))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("a") as log:
        log.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
