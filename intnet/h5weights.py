"""Read the Dense (and Conv2D) layers' float weights from a Keras `model.h5` with h5py (no TensorFlow)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from common.architecture import Plan
from common.errors import BuildError


@dataclass(frozen=True)
class FloatLayer:
    """One Dense layer of the float model."""

    kernel: np.ndarray  # (inputs, outputs) float32; a convolution's (kh, kw, cin, cout)
    bias: np.ndarray  # (outputs,) float32 (zeros for a convolution trained without bias)


def dense_name(index: int) -> str:
    """Name of the index-th Dense layer in `model.h5`: training names its layers so, and the
    exporter and QAT find the weights by these names."""
    return f"dense_{index}"


def conv_name(index: int) -> str:
    """Name of a Conv2D layer that is the index-th weighted layer (convolutions and dense
    layers counted together; a dense layer of such a network keeps `dense_name(index)`)."""
    return f"conv_{index}"


def layer_names(plan: Plan) -> list[str]:
    """The names of the weighted layers of `plan` in model.h5, in order."""
    return [conv_name(i) if layer.kind == "conv" else dense_name(i) for i, layer in enumerate(plan.weighted)]


class ModelFileError(BuildError):
    """`model.h5` does not hold the expected Dense layers."""


def _find(group: h5py.Group, suffix: str, optional: bool = False) -> np.ndarray | None:
    found: list[np.ndarray] = []

    def visit(name: str, item: h5py.HLObject) -> None:
        if isinstance(item, h5py.Dataset) and name.split("/")[-1].split(":")[0] == suffix:
            found.append(np.asarray(item, dtype=np.float32))

    group.visititems(visit)
    if optional and not found:
        return None
    if len(found) != 1:
        raise ModelFileError(f"{group.name}: expected one '{suffix}' array, found {len(found)}")
    return found[0]


def read_dense_layers(path: Path, names: list[str]) -> list[FloatLayer]:
    """The kernel and bias of each named Dense or Conv2D layer, in the given order."""
    try:
        with h5py.File(path, "r") as h5:
            weights = h5.get("model_weights", h5)
            layers = []
            for name in names:
                if name not in weights:
                    raise ModelFileError(f"{path}: no layer '{name}'; retrain with the current config (doit train)")
                kernel = _find(weights[name], "kernel")
                bias = _find(weights[name], "bias", optional=True)
                assert kernel is not None
                if bias is None:  # a convolution trained without bias (bias: false)
                    bias = np.zeros(kernel.shape[-1], dtype=np.float32)
                layers.append(FloatLayer(kernel=kernel, bias=bias))
            return layers
    except OSError as exc:
        raise ModelFileError(f"{path}: cannot read the model ({exc}); rerun the train task") from None
