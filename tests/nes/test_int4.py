"""4-bit weights on the console: bit-exact with intnet/golden.py on every kernel path.

Synthetic networks in export/'s format with some layers packed to 4 bits (golden.pack_weights):
nibble product tables, 4-bit weights through the unpack tables on the product-table and
quarter-square kernels, mixed with 8-bit layers; odd output counts, tiles that start on a high
nibble, 24-bit accumulators, 16-bit wrap-around, 784 inputs in four chunks."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from common import layout
from intnet import golden
from nes.tools import gen_network, plan
from tests.nes.builds import LayerSpec, NesBuild, structured_inputs, write_network
from tests.nes.test_inference import compare


def write_network4(
    out: Path,
    specs: list[LayerSpec],
    weight_bits: list[int],
    input_max: int,
    seed: int,
    weights: list[np.ndarray | None] | None = None,
    biases: list[np.ndarray] | None = None,
) -> Path:
    """conftest_nes.write_network, then the layers with weight_bits 4 rewritten as packed 4-bit
    tables (random -8..7 unless `weights` gives them), as export/tables.py writes them."""
    export = write_network(out, specs, input_max, seed, biases=biases)
    manifest_path = export / layout.MANIFEST
    manifest = json.loads(manifest_path.read_text())
    rng = np.random.default_rng(seed + 1000)
    for i, (entry, bits) in enumerate(zip(manifest["layers"], weight_bits, strict=True)):
        given = weights[i] if weights else None
        if bits == 8:
            if given is not None:
                (export / entry["weights"]["file"]).write_bytes(np.asarray(given, np.int8).tobytes())
            continue
        w = given if given is not None else rng.integers(-8, 8, (entry["inputs"], entry["outputs"]))
        data = golden.pack_weights(np.asarray(w), 4)
        (export / entry["weights"]["file"]).write_bytes(data)
        entry["weight_bits"] = 4
        entry["weights"]["bytes"] = len(data)
    manifest_path.write_text(json.dumps(manifest, indent=2))
    return export


def build4(
    tmp: Path,
    name: str,
    specs: list[LayerSpec],
    weight_bits: list[int],
    input_max: int,
    multipliers: plan.Multipliers | None = None,
    **kw,
) -> NesBuild:
    """Write and build a network; `multipliers` forces the kernels (else the generator picks)."""
    from tests.nes.builds import build_rom

    export = write_network4(tmp / name / "export", specs, weight_bits, input_max, **kw)
    options = {"multipliers": multipliers} if multipliers else None
    outputs = build_rom(export / layout.MANIFEST, tmp / name / "nes", name=name, network_options=options)
    network = golden.load(export)
    assert [layer.weight_bits for layer in network.layers] == weight_bits
    return NesBuild(export, outputs.rom, network)


def constants(build: NesBuild) -> dict[str, int]:
    """The NAME = value lines of the generated network.inc."""
    text = (build.rom.parent / "gen" / "network.inc").read_text()
    return {m[1]: int(m[2]) for m in re.finditer(r"^(NN_\w+)\s*=\s*(-?\d+)", text, re.MULTILINE)}


@pytest.fixture(scope="session")
def nes_nibble(tmp_path_factory: pytest.TempPathFactory) -> NesBuild:
    """196-99-13-10 like the 14x14 target (inputs 0..8): layer 0 4-bit, 24-bit, two tiles of
    49 and 50 outputs (the second starts on a high nibble), nibble tables; layer 1 4-bit with
    inputs 0..15 (nibble tables, odd outputs, 16-bit); layer 2 8-bit on quarter squares."""
    specs = [
        LayerSpec(196, 99, 24, 6, activation_max=15),
        LayerSpec(99, 13, 16, 1, activation_max=200),
        LayerSpec(13, 10, 24, None),
    ]
    return build4(tmp_path_factory.mktemp("nes4"), "nibble", specs, [4, 4, 8], input_max=8, seed=21)


@pytest.fixture(scope="session")
def nes_unpack(tmp_path_factory: pytest.TempPathFactory) -> NesBuild:
    """49-25-16-10 with 4-bit weights on the 8-bit kernels (forced: the generator would take
    split nibble products for layer 1): layer 0 inputs 0..255 (quarter squares through the
    unpack tables, odd outputs), layer 1 inputs 0..31 (product tables through the unpack tables,
    24-bit), layer 2 8-bit on the product tables."""
    specs = [
        LayerSpec(49, 25, 16, 7, activation_max=31),
        LayerSpec(25, 16, 24, 4, activation_max=20),
        LayerSpec(16, 10, 16, None),
    ]
    kernels = plan.Multipliers(31, 0, (plan.SQUARES, plan.PRODUCTS, plan.PRODUCTS))
    return build4(tmp_path_factory.mktemp("nes4"), "unpack", specs, [4, 4, 8], 255, kernels, seed=22)


@pytest.fixture(scope="session")
def nes_split(tmp_path_factory: pytest.TempPathFactory) -> NesBuild:
    """49-24-15-10 with 4-bit layers whose inputs exceed the nibble tables (0..255, 0..40): each
    input in parts of at most 5 (forced, so inputs need up to 51 passes), 24 then 16 bits."""
    specs = [
        LayerSpec(49, 24, 24, 8, activation_max=40),
        LayerSpec(24, 15, 16, 0, activation_max=255),
        LayerSpec(15, 10, 16, None),
    ]
    split, sq = plan.SPLIT, plan.SQUARES
    kernels = plan.Multipliers(0, 5, (split, split, sq))
    return build4(tmp_path_factory.mktemp("nes4"), "split", specs, [4, 4, 8], 255, kernels, seed=26)


@pytest.fixture(scope="session")
def nes_int4_784(tmp_path_factory: pytest.TempPathFactory) -> NesBuild:
    """784-12-9-10, all 4-bit: four input chunks of packed columns (inputs 0..2, nibble tables),
    then inputs 0..17 (the largest nibble table), then 0..24 (in two parts)."""
    specs = [
        LayerSpec(784, 12, 16, 3, activation_max=17),
        LayerSpec(12, 9, 16, 2, activation_max=24),
        LayerSpec(9, 10, 16, None),
    ]
    return build4(tmp_path_factory.mktemp("nes4"), "int4in784", specs, [4, 4, 4], input_max=2, seed=23)


def wrap_weights(inputs: int, rng: np.random.Generator) -> np.ndarray:
    """Columns of +7 and -8 (the extremes), random extremes, outputs 4 and 8 identical."""
    w = rng.choice(np.array([7, -8, 6, -6]), (inputs, 10))
    w[:, 0] = 7
    w[:, 1] = -8
    w[:, 8] = w[:, 4]
    return w


WRAP_BIAS = np.array([30000, -30000, 0, 32767, 100, -32768, 5, -5, 100, 20000])


@pytest.fixture(scope="session")
def nes_wrap4_squares(tmp_path_factory: pytest.TempPathFactory) -> NesBuild:
    """49-10, one 4-bit 16-bit layer with inputs 0..255 (quarter squares): sums reach
    49*255*8 = 99,960 and wrap."""
    rng = np.random.default_rng(24)
    specs = [LayerSpec(49, 10, 16, None)]
    tmp = tmp_path_factory.mktemp("nes4")
    return build4(tmp, "wrap4q", specs, [4], 255, seed=24, weights=[wrap_weights(49, rng)], biases=[WRAP_BIAS])


@pytest.fixture(scope="session")
def nes_wrap4_nibble(tmp_path_factory: pytest.TempPathFactory) -> NesBuild:
    """196-10, one 4-bit 16-bit layer with inputs 0..8 (nibble tables): biases near +-32767
    plus sums up to 196*8*8 = 12,544 wrap."""
    rng = np.random.default_rng(25)
    specs = [LayerSpec(196, 10, 16, None)]
    tmp = tmp_path_factory.mktemp("nes4")
    return build4(tmp, "wrap4n", specs, [4], 8, seed=25, weights=[wrap_weights(196, rng)], biases=[WRAP_BIAS])


def test_rom_weights_4bit_layout() -> None:
    """Packed columns per output pair and 256-input chunk; offset nibbles w + 8; an odd last
    output pads its high nibble with w = 0 (8)."""
    w = np.random.default_rng(0).integers(-8, 8, (300, 5))
    data = gen_network.rom_weights(w, 4)
    n = w + 8
    pair = [n[:, 0] | n[:, 1] << 4, n[:, 2] | n[:, 3] << 4, n[:, 4] | 8 << 4]
    assert len(data) == 300 * 3
    # chunk 0: 256 inputs of pair 0, of pair 1, of pair 2; chunk 1: the remaining 44 of each
    for k in range(3):
        assert data[256 * k : 256 * (k + 1)] == bytes(pair[k][:256].astype(np.uint8))
        assert data[768 + 44 * k : 768 + 44 * (k + 1)] == bytes(pair[k][256:].astype(np.uint8))
    # The same bytes as the exported .bin with every nibble's sign bit flipped (^ 0x88).
    packed = np.frombuffer(golden.pack_weights(w, 4), np.uint8).reshape(300, 3) ^ 0x88
    assert data[:256] == packed[:256, 0].tobytes()
    with pytest.raises(gen_network.NetworkError, match=r"-8\.\.7"):
        gen_network.rom_weights(np.full((2, 2), 8), 4)


def _plans(shape: list[int], bits: list[int], act: list[int], width: int = 2) -> list[plan.LayerPlan]:
    return [
        plan.LayerPlan(i, n, m, width, 5, a, 1, Path("w"), Path("b"), b)
        for i, (n, m, b, a) in enumerate(zip(shape, shape[1:], bits, act, strict=False))
    ]


def test_choose_multipliers_for_4bit_layers() -> None:
    """The 14x14 targets: nibble tables for the 4-bit layers with small inputs, product tables
    where they fit, no quarter squares when no layer needs them; 4-bit weights count half."""
    nib, prod, sq, split = plan.NIBBLES, plan.PRODUCTS, plan.SQUARES, plan.SPLIT
    ui = 4096
    plans = _plans([196, 96, 32, 10], [4, 4, 8], [15, 15, 0])
    m = plan.choose_multipliers(plans, 8)
    assert m.layers == (nib, nib, prod) and (m.nibble_max, m.product_max) == (15, 15)
    assert not m.squares and not m.unpack(plans) and m.table_bytes(plans) == 30 * 512
    # 196-128-32-10 beside the UI: the 15 nibble pages fit, the product pages for layer 2 not.
    plans = _plans([196, 128, 32, 10], [4, 4, 8], [15, 15, 0])
    m = plan.choose_multipliers(plans, 8, ui)
    assert m.layers == (nib, nib, sq) and m.nibble_max == 15 and m.squares
    assert plan.prg_estimate(plans, m, ui) <= plan.PRG_SIZE
    # With less room, as many nibble pages as fit (13, not 14): layer 1's inputs 14 and 15
    # go in two parts.
    m = plan.choose_multipliers(plans, 8, ui + 1000)
    assert m.layers == (nib, split, sq) and m.nibble_max == 13 and not m.unpack(plans)
    assert m.table_bytes(plans) == 13 * 512 + 2048
    ranges = plan.input_ranges(plans, 8)
    assert plan.prg_estimate(plans, plan.assign(plans, ranges, 0, 14), ui + 1000) > plan.PRG_SIZE
    # Activations up to 31: all 17 pages where they fit (18..31 in two parts); with less room,
    # 15 pages take 16..30 in two parts and only 31 in three.
    plans = _plans([196, 96, 32, 10], [4, 4, 8], [31, 31, 0])
    assert plan.choose_multipliers(plans, 8, ui) == plan.Multipliers(0, 17, (nib, split, sq))
    assert plan.choose_multipliers(plans, 8, ui + 4000).nibble_max == 15
    assert plan.split_passes(31, 16) == 46 / 31 and plan.split_passes(31, 15) == 48 / 31
    # 8-bit hidden layers with 8-bit activations: quarter squares.
    plans = _plans([196, 128, 32, 10], [4, 8, 8], [255, 255, 0])
    m = plan.choose_multipliers(plans, 8, ui)
    assert m.layers == (nib, sq, sq) and not m.unpack(plans)
    assert plan.choose_multipliers(plans, 8, product_tables=False).layers == (sq, sq, sq)
    # 4-bit weights take half the bytes (an odd output count rounds up to a whole pair).
    assert _plans([196, 99], [4], [0])[0].weight_bytes == 196 * 50
    assert _plans([196, 99], [8], [0])[0].weight_bytes == 196 * 99


def test_nibble_network_kernels(nes_nibble: NesBuild) -> None:
    c = constants(nes_nibble)
    assert (c["NN_L0_MUL"], c["NN_L1_MUL"], c["NN_L2_MUL"]) == (2, 2, 0)
    assert (c["NN_NIBBLE_MAX"], c["NN_PRODUCT_MAX"], c["NN_SQUARES"], c["NN_UNPACK"]) == (15, 0, 1, 0)
    assert c["NN_TILE_MAX"] == 64  # 99 outputs in two tiles


# Each synthetic network: the kernels the generator (or the test) picked, the structured inputs
# (count, inputs, largest value, seed) and each hidden layer's activation top.
KERNEL_CASES = {
    "nes_nibble": ({"NN_L0_MUL": 2, "NN_L1_MUL": 2, "NN_L2_MUL": 0}, (160, 196, 8, 31), (15, 200)),
    "nes_unpack": (
        {"NN_L0_MUL": 0, "NN_L1_MUL": 1, "NN_L2_MUL": 1, "NN_PRODUCT_MAX": 31, "NN_NIBBLE_MAX": 0, "NN_SQUARES": 1,
         "NN_UNPACK": 1},
        (160, 49, 255, 32),
        (31, 20),
    ),
    "nes_split": ({"NN_L0_MUL": 3, "NN_L1_MUL": 3, "NN_L2_MUL": 0, "NN_NIBBLE_MAX": 5}, (120, 49, 255, 35), (40, 255)),
}


@pytest.mark.parametrize("fixture", list(KERNEL_CASES))
def test_int4_network_is_bit_exact(fixture: str, request: pytest.FixtureRequest) -> None:
    """The kernels are the expected ones, the inputs reach each hidden layer's clamp, zero and
    values between, and the console matches the golden model on every input."""
    build: NesBuild = request.getfixturevalue(fixture)
    expected, (count, width, top_input, seed), tops = KERNEL_CASES[fixture]
    c = constants(build)
    assert {key: c[key] for key in expected} == expected
    inputs = structured_inputs(count, width, top_input, seed=seed)
    trace = golden.run(build.network, inputs)
    for acts, top in zip(trace.activations, tops, strict=True):  # clamps, zeros and values between
        assert (acts == top).any() and (acts == 0).any() and ((acts > 0) & (acts < top)).any()
    assert compare(build, inputs) == []


def test_forced_multipliers_are_checked(tmp_path: Path) -> None:
    export = write_network4(tmp_path / "x", [LayerSpec(49, 10, 16, None)], [8], 8, 0)
    bad = plan.Multipliers(0, 8, (plan.NIBBLES,))  # nibble tables need 4-bit weights
    with pytest.raises(gen_network.NetworkError, match="cannot use multiplier"):
        gen_network.generate(export / "manifest.json", tmp_path / "gen", multipliers=bad)


def test_int4_784_inputs_in_chunks(nes_int4_784: NesBuild) -> None:
    c = constants(nes_int4_784)
    assert (c["NN_L0_MUL"], c["NN_L1_MUL"], c["NN_L2_MUL"]) == (2, 2, 3)  # 0..24 in two parts
    assert (c["NN_NIBBLE_MAX"], c["NN_PRODUCT_MAX"], c["NN_SQUARES"]) == (17, 0, 0)  # no quarter squares
    inputs = structured_inputs(40, 784, 2, seed=33)
    assert compare(nes_int4_784, inputs) == []


@pytest.mark.parametrize("fixture", ["nes_wrap4_squares", "nes_wrap4_nibble"])
def test_int4_16bit_wraparound(fixture: str, request: pytest.FixtureRequest) -> None:
    build: NesBuild = request.getfixturevalue(fixture)
    layer = build.network.layers[0]
    inputs = structured_inputs(60, layer.weights.shape[0], build.network.input_max, seed=34)
    raw = golden.raw_accumulators(layer, inputs)
    assert (np.abs(raw) > 32767).any(), "the test network must overflow int16"
    assert compare(build, inputs) == []
    # Ties: outputs 4 and 8 have the same weights and bias, so 8 never wins.
    assert 8 not in golden.run(build.network, inputs).digits


@pytest.mark.parametrize("value", ["zero", "max"])
@pytest.mark.parametrize("fixture", ["nes_nibble", "nes_unpack", "nes_split", "nes_int4_784"])
def test_int4_constant_inputs(fixture: str, value: str, request: pytest.FixtureRequest) -> None:
    build: NesBuild = request.getfixturevalue(fixture)
    n = build.network.layers[0].weights.shape[0]
    x = np.full((1, n), 0 if value == "zero" else build.network.input_max, np.uint8)
    assert compare(build, x) == []
