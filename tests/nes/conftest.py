"""Session fixtures of the NES tests: synthetic networks built into ROMs once per run."""

from __future__ import annotations

import numpy as np
import pytest

from tests.nes.builds import LayerSpec, NesBuild, build


@pytest.fixture(scope="session")
def nes_small(tmp_path_factory: pytest.TempPathFactory) -> NesBuild:
    """49-24-16-10, 16-bit accumulators, one clamp below 255: the default net's shape class."""
    specs = [LayerSpec(49, 24, 16, 9), LayerSpec(24, 16, 16, 6, activation_max=127), LayerSpec(16, 10, 16, None)]
    return build(tmp_path_factory.mktemp("nes"), "small", specs, seed=1)


@pytest.fixture(scope="session")
def nes_wide(tmp_path_factory: pytest.TempPathFactory) -> NesBuild:
    """196-100-12-10: a 24-bit first layer in two output tiles, a 24-bit output layer."""
    specs = [LayerSpec(196, 100, 24, 12), LayerSpec(100, 12, 16, 8, activation_max=200), LayerSpec(12, 10, 24, None)]
    return build(tmp_path_factory.mktemp("nes"), "wide", specs, seed=2)


@pytest.fixture(scope="session")
def nes_784(tmp_path_factory: pytest.TempPathFactory) -> NesBuild:
    """784-12-10: four input chunks (X indexes at most 256 inputs), 24 then 16 bits."""
    specs = [LayerSpec(784, 12, 24, 13), LayerSpec(12, 10, 16, None)]
    return build(tmp_path_factory.mktemp("nes"), "in784", specs, seed=3)


@pytest.fixture(scope="session")
def nes_product(tmp_path_factory: pytest.TempPathFactory) -> NesBuild:
    """49-24-16-10 with small values everywhere (input.max 32, activation_max 31 and 20): every
    layer uses the product tables, 24-bit (layers 0, 2) and 16-bit (layer 1)."""
    specs = [
        LayerSpec(49, 24, 24, 9, activation_max=31),
        LayerSpec(24, 16, 16, 5, activation_max=20),
        LayerSpec(16, 10, 24, None),
    ]
    return build(tmp_path_factory.mktemp("nes"), "product", specs, input_max=32, seed=5)


@pytest.fixture(scope="session")
def nes_wrap(tmp_path_factory: pytest.TempPathFactory) -> NesBuild:
    """49-10, one 16-bit output layer whose sums overflow int16 by far (columns of +-127),
    with outputs 4 and 8 identical (ties) and biases making them the largest at zero input."""
    rng = np.random.default_rng(4)
    w = rng.choice(np.array([127, -128, 100, -100], dtype=np.int8), (49, 10))
    w[:, 0] = 127
    w[:, 1] = -128
    w[:, 8] = w[:, 4]
    b = np.array([0, 5, -7, 100, 30000, -32768, 32767 - 1, 12, 30000, -1])
    b[6] = 29999
    specs = [LayerSpec(49, 10, 16, None)]
    return build(tmp_path_factory.mktemp("nes"), "wrap", specs, seed=4, weights=[w], biases=[b])
