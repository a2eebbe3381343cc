"""Which networks the console engine runs (`unsupported`), and the console's tasks for one it
cannot run: each fails at once with one message instead of generating, assembling or
emulating anything.

The engine (nes/src/inference.s, conv.inc; issue 15 step 6) runs dense layers, and 3x3
'valid' convolutions with 4-bit weights on inputs up to 17 (4-bit activations), stride 1 or 2,
each 2x2 max pool fused into the stride-1 conv before it. What the config cannot tell (16-bit
accumulators, the RAM) gen_network and the budget check at build time, in one line each."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from common.architecture import PoolSpec
from common.config import Config
from common.errors import BuildError
from pipeline.steps import call, task

CONSOLE_TASKS = ("nes_network", "nes_ui", "nes_asm", "rom", "paddrawn", "evaluate", "screenshot", "report")
"""The tasks that need the ROM (the report shows the screen and the pad-drawn digits)."""

CONV_ACTIVATION_BITS = 4  # conv.inc's nibble tables take inputs up to 17: 4-bit activations (0..15)


class ConsolePendingError(BuildError):
    """The console cannot run this network yet."""


def unsupported(cfg: Config) -> str | None:
    """Why the console engine cannot run this config's network (None: it can)."""
    if not cfg.model.convolutional:
        return None
    weighted = cfg.plan.weighted
    bits = cfg.quantize.bits_per_layer(len(weighted))
    specs = cfg.model.layer_specs
    problems = []
    for number, (layer, width) in enumerate(zip(weighted, bits, strict=True)):
        if layer.kind != "conv":
            continue
        where = f"model.layers[{layer.index}]"
        if layer.spec.kernel != 3:
            problems.append(f"{where}: kernel {layer.spec.kernel} (the console runs 3x3 convolutions)")
        if layer.spec.padding != "valid":
            problems.append(f"{where}: padding {layer.spec.padding!r} (the console runs 'valid' convolutions so far)")
        pooled = layer.index + 1 < len(specs) and isinstance(specs[layer.index + 1], PoolSpec)
        if layer.spec.stride != 1 and pooled:
            problems.append(
                f"{where}: stride {layer.spec.stride} before a pool (the console runs strided convolutions unpooled: "
                "drop the pool, or use stride 1)"
            )
        if width != 4:
            problems.append(f"quantize.weight_bits[{number}] = {width} (the console's convolutions take 4-bit weights)")
    if cfg.quantize.activation_bits > CONV_ACTIVATION_BITS:
        problems.append(
            f"quantize.activation_bits = {cfg.quantize.activation_bits} (a convolution's inputs must fit "
            f"{CONV_ACTIVATION_BITS} bits on the console)"
        )
    return "; ".join(problems) or None


def message(config: Path, task_name: str, reason: str) -> str:
    return (
        f"{task_name}: the console engine cannot run this network: {reason}; build up to "
        f"`doit config={config} drawn metrics` (float, QAT and integer accuracy, the drawn digits), "
        "or change those layers for a ROM"
    )


def fail(config: Path, task_name: str, reason: str) -> None:
    raise ConsolePendingError(message(config, task_name, reason))


def pending(config: Path, task_name: str, reason: str) -> dict[str, Any]:
    """A task that fails with `message` (no targets, no inputs: asking for it is the mistake)."""
    return task(
        actions=[call("pipeline.console:fail", config, task_name, reason)],
        doc=f"Not for this network: the console engine cannot run it ({reason}).",
        uptodate=[False],
    )
