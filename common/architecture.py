"""The network's layers as the config describes them (`model.layers`), their shapes, and what
the console can run (issue 15, docs/cnn-plan.md section 5).

`model.layers` lists convolutions, 2x2 max pools and dense layers in order; a flatten
(channels-last) is implied before the first dense layer and the 10-unit output layer after
the last one. `model.hidden: [144, 32]` means `[{dense: 144}, {dense: 32}]`.

This module walks the layers over the input shape (`place`) and lists every problem, one line
each, naming the layer and the fix; `intnet.layers` computes the same shapes on the arrays (a
test compares them). No numpy: the config and `doit list` load it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag

NUM_CLASSES = 10
CONSOLE_KERNEL = 3
"""The console's convolution kernel (docs/cnn-plan.md: the gather and its unrolled taps)."""
ZERO_PAGE_ACCUMULATOR_BYTES = 192
"""Zero page for the accumulator planes (a layer's 16-bit accumulators, two bytes an output),
and with convolutions also their work variables and a pooled conv's running maxima: what the
UI, the NMI and the engine's pointers leave of the 256 bytes (the link is the proof)."""
CONV_WORK_BYTES = 26
"""conv.inc's zero-page work variables (nes/src/conv_vars.inc, whose size inference.s asserts),
taken from the accumulators' budget when the network has a convolution."""
CONV_ACCUMULATOR_BYTES = ZERO_PAGE_ACCUMULATOR_BYTES - CONV_WORK_BYTES
POOLED_CONV_CHANNELS = CONV_ACCUMULATOR_BYTES // 4  # 2 accumulator + 2 maximum bytes a channel
CONV_CHANNELS = CONV_ACCUMULATOR_BYTES // 2  # 2 accumulator bytes a channel


class _Layer(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def conv_output_side(side: int, kernel: int, stride: int, padding: str) -> int:
    """Output rows (or columns) of a convolution for `side` input ones, Keras's rule: 'valid'
    (side - kernel) // stride + 1 (the kernel must fit), 'same' ceil(side / stride). The one
    definition that the config, the integer contract and the console's plan all use."""
    if padding == "same":
        return -(-side // stride)
    return (side - kernel) // stride + 1


class ConvSpec(_Layer):
    """A 3x3 convolution with ReLU, stride 1 or 2: `{conv: 16, kernel: 3, padding: valid, bias: false}`
    (`stride: 2` takes every second position, Keras's `strides=2`)."""

    conv: Annotated[int, Field(ge=1, le=256)] = Field(description="output channels")
    kernel: Annotated[int, Field(ge=1, le=7)] = Field(default=CONSOLE_KERNEL, description="kernel side")
    padding: Literal["same", "valid"] = Field(description="same: zeros around the map; valid: none")
    bias: bool = Field(description="a trained bias (false: blank stays 0, a sparser map for the console)")
    l1: Annotated[float, Field(ge=0.0, le=1.0)] = Field(
        default=0.0,
        description="L1 penalty on the output map while training: more zero activations, whose MACs the "
        "console skips in the next layer (0: none)",
    )

    stride: Literal[1, 2] = Field(
        default=1,
        # left out of the dump at 1, so the tasks of a config written before strides existed
        # (dodo's config_changed of the model section) stay up to date
        exclude_if=lambda stride: stride == 1,
        description="1: every position; 2: every second row and column (a quarter of the positions)",
    )

    @property
    def code(self) -> str:
        """'conv16v', 'conv64vs2': stride 1 keeps the names from before strides."""
        return f"conv{self.conv}{self.padding[0]}" + (f"s{self.stride}" if self.stride != 1 else "")

    def output_side(self, side: int) -> int:
        return conv_output_side(side, self.kernel, self.stride, self.padding)


class PoolSpec(_Layer):
    """2x2 max pooling, stride 2 (fused into the convolution before it on the console)."""

    pool: Literal[2]

    @property
    def code(self) -> str:
        return "pool2"


class DenseSpec(_Layer):
    """A hidden dense layer with ReLU."""

    dense: Annotated[int, Field(ge=1, le=1024)] = Field(description="units")

    @property
    def code(self) -> str:
        return f"dense{self.dense}"


KINDS = ("conv", "pool", "dense")


def _kind(value: Any) -> str | None:
    if isinstance(value, dict):
        found = [kind for kind in KINDS if kind in value]
        return f"<{found[0]}>" if len(found) == 1 else None
    if isinstance(value, BaseModel):
        return f"<{type(value).__name__.removesuffix('Spec').lower()}>"
    return None


LayerSpec = Annotated[
    Annotated[ConvSpec, Tag("<conv>")] | Annotated[PoolSpec, Tag("<pool>")] | Annotated[DenseSpec, Tag("<dense>")],
    Discriminator(
        _kind,
        custom_error_type="layer_kind",
        custom_error_message="a layer is one of {conv: channels, kernel: 3, padding: same|valid, bias: true|false}, "
        "{pool: 2} or {dense: units}",
    ),
]
"""One entry of `model.layers`; the tags in angle brackets never show in messages (config._key_path)."""


Shape = tuple[int, ...]


@dataclass(frozen=True)
class Placed:
    """A layer of the whole network with its shapes: `index` into model.layers (None for the
    implied flatten and output layer), `kind` conv / pool / flatten / dense / output."""

    index: int | None
    kind: str
    input_shape: Shape
    output_shape: Shape
    spec: ConvSpec | PoolSpec | DenseSpec | None = None

    @property
    def weighted(self) -> bool:
        return self.kind in ("conv", "dense", "output")

    @property
    def fan_in(self) -> int:
        """Inputs per output: the patch (k*k*cin) of a convolution, the vector of a dense layer."""
        if isinstance(self.spec, ConvSpec):
            return self.spec.kernel * self.spec.kernel * self.input_shape[2]
        return self.input_shape[0]

    @property
    def outputs(self) -> int:
        return self.output_shape[-1]


@dataclass(frozen=True)
class Plan:
    """The placed layers and every problem found (empty: the console can run it)."""

    layers: list[Placed]
    problems: list[str]

    @property
    def weighted(self) -> list[Placed]:
        return [layer for layer in self.layers if layer.weighted]

    @property
    def convolutional(self) -> bool:
        return any(layer.kind == "conv" for layer in self.layers)

    def codes(self, input_shape: Shape) -> list[str]:
        """Short names: ['14x14x1', 'conv16v', 'pool2', 'dense32', '10'] (flatten left out)."""
        names = ["x".join(map(str, input_shape))]
        for layer in self.layers:
            if layer.kind == "output":
                names.append(str(layer.outputs))
            elif layer.spec is not None:
                names.append(layer.spec.code)
        return names


def _side(shape: Shape) -> str:
    return f"{shape[0]}x{shape[1]}"


def _stride_text(spec: ConvSpec) -> str:
    return f" stride {spec.stride}" if spec.stride != 1 else ""


def place(specs: list[ConvSpec | PoolSpec | DenseSpec], size: int, key: str = "model.layers") -> Plan:
    """Walk `specs` over a size x size x 1 input: shapes, the implied flatten and output layer,
    and one problem line per layer that does not fit or that the console cannot run."""
    placed: list[Placed] = []
    problems: list[str] = []
    shape: Shape = (size, size, 1)
    dense_seen = False
    for index, spec in enumerate(specs):
        where = f"{key}[{index}]"
        previous = specs[index - 1] if index else None
        following_pool = index + 1 < len(specs) and isinstance(specs[index + 1], PoolSpec)
        if isinstance(spec, DenseSpec):
            if not dense_seen and len(shape) == 3:
                placed.append(Placed(None, "flatten", shape, (shape[0] * shape[1] * shape[2],)))
                shape = placed[-1].output_shape
            dense_seen = True
            placed.append(Placed(index, "dense", shape, (spec.dense,), spec))
            shape = (spec.dense,)
            continue
        if dense_seen:
            kind = "conv" if isinstance(spec, ConvSpec) else "pool"
            problems.append(f"{where}: {kind} after a dense layer: convolutions and pools must come first")
            continue
        if isinstance(spec, ConvSpec):
            if spec.kernel != CONSOLE_KERNEL:
                problems.append(
                    f"{where}.kernel = {spec.kernel}: the console runs 3x3 convolutions (the golden model takes any)"
                )
            limit = POOLED_CONV_CHANNELS if following_pool else CONV_CHANNELS
            if spec.conv > limit:
                what = (
                    "a pooled conv keeps 2 accumulator and 2 maximum bytes per channel"
                    if following_pool
                    else "a conv keeps 2 accumulator bytes per channel"
                )
                problems.append(
                    f"{where}.conv = {spec.conv}: {what} in the {CONV_ACCUMULATOR_BYTES} bytes of zero page "
                    f"that the UI and the engine's pointers leave: at most {limit} channels"
                )
            if spec.padding == "valid" and (shape[0] < spec.kernel or shape[1] < spec.kernel):
                problems.append(
                    f"{where}: a {spec.kernel}x{spec.kernel} 'valid' convolution does not fit a {_side(shape)} "
                    "map: use padding same, or fewer layers or pools before it"
                )
                return Plan(placed, problems)
            out: Shape = (spec.output_side(shape[0]), spec.output_side(shape[1]), spec.conv)
            placed.append(Placed(index, "conv", shape, out, spec))
            shape = out
            continue
        # a pool
        if not isinstance(previous, ConvSpec):
            problems.append(
                f"{where}: pool 2 must follow a convolution (the console fuses it into the conv before it)"
                + ("" if previous is None else ": drop this pool or put a conv before it")
            )
            if shape[0] < 2 or shape[1] < 2:
                return Plan(placed, problems)
        if shape[0] % 2 or shape[1] % 2:
            if isinstance(previous, ConvSpec):
                made = placed[-1]
                how = f"makes {_side(made.input_shape)} -> {_side(made.output_shape)}"
                # at stride 1 an odd kernel keeps the parity of the map whatever the padding: only
                # the pool can go (a strided conv runs unpooled on the console anyway)
                fix = "drop this pool, or change the layers before it so the map is even"
                problems.append(
                    f"{where}: pool 2 needs an even map, got {_side(shape)} "
                    f"(layer {index - 1}, conv '{previous.padding}'{_stride_text(previous)}, {how}): {fix}"
                )
            else:
                problems.append(f"{where}: pool 2 needs an even map, got {_side(shape)}: drop this pool")
        out = (shape[0] // 2, shape[1] // 2, shape[2])
        placed.append(Placed(index, "pool", shape, out, spec))
        shape = out
    if len(shape) == 3:
        placed.append(Placed(None, "flatten", shape, (shape[0] * shape[1] * shape[2],)))
        shape = placed[-1].output_shape
    placed.append(Placed(None, "output", shape, (NUM_CLASSES,)))
    return Plan(placed, problems)


def table_bytes(plan: Plan, bits: list[int]) -> int:
    """About how many bytes the weight and bias tables take (24-bit biases: the upper bound)."""
    return sum(
        -(-layer.fan_in * layer.outputs * b // 8) + 3 * layer.outputs
        for layer, b in zip(plan.weighted, bits, strict=True)
    )
