"""Knowledge distillation's teacher: a small convolutional network trained on the same inputs
first, whose softened scores the MLP then learns besides the labels (`teacher:` in config.yaml).

Run as a program so TensorFlow stays out of the doit process:

    python -m training.teacher CONFIG INPUTS_NPZ OUT_DIR

The teacher never goes on the cartridge: a CNN sees which strokes belong together, and its
scores ("this 7 looks a little like a 1") carry that to the MLP, which then generalises better
than from the labels alone. Writes OUT_DIR/scores.npz (the logits for every training and
validation image, in `fitting.training_arrays` order, with their labels as a check) and
OUT_DIR/teacher_eval.json (the teacher's own test accuracy).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np

from common import layout
from common.config import NUM_CLASSES, Config
from common.fsutil import atomic_path
from training import fitting

SEED_OFFSET = 17  # the teacher's initialisation and shuffling, apart from the student's


def build_teacher(cfg: Config, keras: Any) -> Any:
    """Two 3x3 convolutions (max pooling between them), a dense layer and the scores."""
    t = cfg.teacher
    side = cfg.preprocess.size
    layers = keras.layers
    inputs = keras.Input(shape=(cfg.input_count,), name="pixels")
    x = layers.Reshape((side, side, 1))(inputs)
    x = layers.Conv2D(t.filters[0], 3, padding="same", activation="relu")(x)
    x = layers.MaxPooling2D()(x)
    x = layers.Conv2D(t.filters[1], 3, padding="same", activation="relu")(x)
    x = layers.Flatten()(x)
    x = layers.Dropout(t.dropout)(x)
    x = layers.Dense(t.dense, activation="relu")(x)
    x = layers.Dropout(t.dropout)(x)
    logits = layers.Dense(NUM_CLASSES)(x)
    return keras.Model(inputs, logits, name=f"{cfg.name}_teacher")


def train_teacher(cfg: Config, inputs_path: Path, out_dir: Path) -> dict[str, float]:
    t = cfg.teacher
    keras, _ = fitting.start_keras(cfg.train.seed + SEED_OFFSET)
    arrays = fitting.training_arrays(cfg, inputs_path)
    model = build_teacher(cfg, keras)
    steps_per_epoch = -(-len(arrays.x_fit) // t.batch_size)
    rate = keras.optimizers.schedules.CosineDecay(t.learning_rate, decay_steps=t.epochs * steps_per_epoch)
    fitting.compile_model(model, keras, keras.optimizers.Adam(learning_rate=rate), None)
    print(f"teacher: convolutions {t.filters[0]}, {t.filters[1]}, dense {t.dense}, on {len(arrays.x_fit)} "
          f"images, {t.epochs} epochs", flush=True)
    model.fit(
        arrays.x_fit,
        arrays.y_fit,
        batch_size=t.batch_size,
        epochs=t.epochs,
        validation_data=arrays.validation,
        shuffle=True,
        verbose=fitting.verbosity(),
    )
    accuracy, loss = fitting.evaluate_test(model, arrays, keras)
    x_val, y_val = arrays.validation or (arrays.x_fit[:0], arrays.y_fit[:0])

    def scores(x: np.ndarray) -> np.ndarray:
        if not len(x):
            return np.zeros((0, NUM_CLASSES), dtype=np.float16)
        return model.predict(x, batch_size=4096, verbose=0).astype(np.float16)

    with atomic_path(out_dir / layout.TEACHER_SCORES) as tmp:
        np.savez(tmp, logits=scores(arrays.x_fit), labels=arrays.y_fit, val_logits=scores(x_val), val_labels=y_val)
    print(f"teacher: test accuracy {accuracy:.4f} on {len(arrays.y_test)} images", flush=True)
    return fitting.write_eval(out_dir / layout.TEACHER_EVAL, accuracy, loss, len(arrays.y_test))


def main(argv: list[str] | None = None) -> int:
    return fitting.command_line(__doc__, [], train_teacher, argv)


if __name__ == "__main__":
    sys.exit(main())
