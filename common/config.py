"""Load and validate a build configuration (`config.yaml` or a preset).

Every setting lives in the YAML file; this module only checks it. A config may name a
`base:` file (relative to itself) whose settings it overrides key by key, so presets and
test configs state only what differs from `config.yaml`.

Errors are raised as `ConfigError` with one line per problem naming the key path, the
value and what is allowed; `dodo.py` prints them without a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from common import ldcfg
from common.architecture import NUM_CLASSES as NUM_CLASSES  # re-exported: the stages import it from here
from common.architecture import ConvSpec, DenseSpec, LayerSpec, Plan, PoolSpec, place, table_bytes
from common.errors import BuildError

PRG_RESERVED = 8192
"""PRG kept for code, multiply tables and the UI: the weight tables get the rest. The link
checks the exact budget; this early check stops a hopeless model before training it."""
MNIST_SIZE = 28
NORMALIZE_MIN = 8
"""Smallest `preprocess.normalize` box: nearest-neighbour sampling that shrinks a 28-pixel digit by
more than 3.5 would drop most of its strokes."""


PROBLEMS = "config_problems"
"""The error type of a check that finds several problems, one line each, each naming its key."""


class ConfigError(BuildError):
    """A configuration file that cannot be used; the message says why and how to fix it."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class DataConfig(_Strict):
    dir: str = Field(description="folder with the four MNIST IDX files (.gz or raw)")
    download: bool = Field(description="download missing files from the mirrors")
    mirrors: list[str] = Field(min_length=1)
    train_limit: Annotated[int, Field(ge=100)] | None = Field(
        description="use only the first N training images (tests); null for all"
    )
    test_limit: Annotated[int, Field(ge=10)] | None = Field(
        description="use only the first N test images (tests); null for all"
    )


class PreprocessConfig(_Strict):
    size: Annotated[int, Field(ge=2, le=MNIST_SIZE)]
    resize: Literal["area", "bilinear"]
    levels: Annotated[int, Field(ge=2, le=256)]
    deskew: bool
    center: bool
    window: Annotated[int, Field(ge=1, le=MNIST_SIZE)] | None = Field(
        default=None,
        description="side of the centred square of the 28x28 field the area sums cover (null: all 28)",
    )
    ink: list[Annotated[int, Field(ge=1, le=255)]] | None = Field(
        default=None,
        description="the 0..255 pixel values at which a scanned digit's pixel reaches each canvas level above 0 "
        "(levels - 1 rising values; null: round to the nearest level)",
    )
    normalize: Annotated[int, Field(ge=NORMALIZE_MIN, le=MNIST_SIZE)] | None = Field(
        default=None,
        description="size normalisation: scale the ink's bounding box, aspect kept, to fit a normalize x "
        "normalize box in the middle of the field before deskew and centring, as MNIST did with 20 (null: off)",
    )

    @property
    def window_side(self) -> int:
        """Side of the summed square: `window`, or the whole field."""
        return MNIST_SIZE if self.window is None else self.window

    @property
    def window_start(self) -> int:
        """First row (and column) of the summed square, centred on pixel 14, where centring puts the mass."""
        return MNIST_SIZE // 2 - self.window_side // 2

    @property
    def half_pixels(self) -> bool:
        """True when blocks are an odd number of half pixels a side (e.g. 1.5 px: size 14, window
        21): the sums then count each pixel's four quarter-pixel squares (`preprocess.area_sum`)."""
        return self.window_side % self.size != 0

    @property
    def block(self) -> int:
        """Side of one area-sum block: in pixels, or in half pixels when `half_pixels`."""
        return self.window_side * (2 if self.half_pixels else 1) // self.size

    @model_validator(mode="after")
    def _window_splits_into_blocks(self) -> PreprocessConfig:
        if self.resize == "bilinear":
            if self.window is not None:
                raise ValueError("window needs resize 'area' (the bilinear resize always covers the whole field)")
            if self.normalize is not None:
                raise ValueError("normalize needs resize 'area' (the bilinear origin preset has no size normalisation)")
            return self
        if (2 * self.window_side) % self.size:
            raise ValueError(
                f"size {self.size} does not split the {self.window_side}-pixel window into blocks of whole "
                "or half pixels: use a size that divides twice the window (with no window: 7, 8, 14 or 28) "
                "or a window that is a multiple of size / 2 (e.g. size 7 with window 21: 3x3-pixel blocks, "
                "size 14 with window 21: 1.5x1.5)"
            )
        return self

    @model_validator(mode="after")
    def _ink_rises_once_per_level(self) -> PreprocessConfig:
        if self.ink is not None and (
            len(self.ink) != self.levels - 1 or any(b <= a for a, b in zip(self.ink, self.ink[1:], strict=False))
        ):
            raise ValueError(
                f"ink {self.ink} must give {self.levels - 1} rising pixel values, one per level above 0 "
                f"(levels is {self.levels}), e.g. [16, 160] for 3 levels; or null to round to the nearest level"
            )
        return self

    @model_validator(mode="after")
    def _bilinear_is_origin_only(self) -> PreprocessConfig:
        if self.resize == "bilinear" and (
            self.levels != 256 or self.center or self.deskew or self.normalize is not None or self.ink is not None
        ):
            raise ValueError(
                "resize 'bilinear' reproduces the origin project only: it needs levels 256, "
                "deskew false, center false, normalize null and ink null (the console can only mirror resize 'area')"
            )
        return self


class AugmentConfig(_Strict):
    copies: Annotated[int, Field(ge=0, le=20)] = Field(description="augmented copies per training image")
    shift: Annotated[int, Field(ge=0, le=6)] = Field(description="largest translation, 28x28 pixels")
    rotate: Annotated[float, Field(ge=0.0, le=45.0)] = Field(description="largest rotation, degrees")
    scale: Annotated[float, Field(ge=0.0, le=0.5)] = Field(description="largest relative size change")
    thickness: Annotated[int, Field(ge=0, le=2)] = Field(
        description="largest stroke thickness change, pixels (grey dilation or erosion)"
    )
    elastic: Annotated[float, Field(ge=0.0, le=4.0)] = Field(
        description="largest elastic displacement, pixels (smooth random warp; 0: none)"
    )
    pad: Annotated[int, Field(ge=0, le=20)] = Field(
        description="more copies per training image redrawn as on the cartridge (D-pad runs, the console's brush)"
    )
    pad_step: Annotated[int, Field(ge=1, le=6)] = Field(
        description="the pad copies' D-pad runs snap to grids of 1..pad_step cells (1: follow the skeleton)"
    )
    coarse: Annotated[int, Field(ge=0, le=20)] = Field(
        description="more copies per training image made blocky (averaged over a coarse grid, scaled back up)"
    )
    coarse_grid: list[Annotated[int, Field(ge=2, le=14)]] = Field(
        min_length=1, max_length=8, description="blocks a side of the coarse copies' grids, one chosen per copy"
    )


class ModelConfig(_Strict):
    hidden: list[Annotated[int, Field(ge=1, le=1024)]] | None = Field(
        default=None, max_length=8, description="hidden dense layer sizes (dense-only networks; or give layers)"
    )
    layers: list[LayerSpec] | None = Field(
        default=None,
        max_length=16,
        description="convolutions, 2x2 max pools and dense layers in order (common/architecture.py; or give hidden)",
    )
    activation: Literal["relu"] = Field(description="the integer network clamps at zero and 255, which is ReLU")
    dropout: Annotated[float, Field(ge=0.0, lt=1.0)]

    @model_validator(mode="after")
    def _hidden_or_layers(self) -> ModelConfig:
        if self.hidden is not None and self.layers is not None:
            raise ValueError(
                "give model.hidden (dense layers) or model.layers, not both; a config based on config.yaml "
                "sets `hidden: null` to use layers"
            )
        if self.hidden is None and self.layers is None:
            raise ValueError("give model.layers, or model.hidden for a network of dense layers only")
        return self

    @property
    def layer_specs(self) -> list[ConvSpec | PoolSpec | DenseSpec]:
        """`layers`, or `hidden` as dense layers."""
        if self.layers is not None:
            return list(self.layers)
        return [DenseSpec(dense=units) for units in self.hidden or []]

    @property
    def convolutional(self) -> bool:
        return any(not isinstance(spec, DenseSpec) for spec in self.layer_specs)


class TrainConfig(_Strict):
    epochs: Annotated[int, Field(ge=1, le=1000)]
    batch_size: Annotated[int, Field(ge=1, le=65536)]
    optimizer: Literal["adam", "sgd", "rmsprop"]
    learning_rate: Annotated[float, Field(gt=0.0, le=10.0)]
    lr_schedule: Literal["constant", "cosine"]
    validation_split: Annotated[float, Field(ge=0.0, lt=0.5)]
    seed: Annotated[int, Field(ge=0, le=2**31 - 1)]


class TeacherConfig(_Strict):
    """Knowledge distillation (training/teacher.py): a small CNN trained first, whose softened
    scores the MLP learns besides the labels. It never goes on the cartridge."""

    epochs: Annotated[int, Field(ge=0, le=1000)] = Field(description="teacher training epochs (0: no teacher)")
    filters: list[Annotated[int, Field(ge=1, le=256)]] = Field(
        min_length=2, max_length=2, description="filters of its two 3x3 convolutions"
    )
    dense: Annotated[int, Field(ge=1, le=2048)] = Field(description="units of its dense layer")
    dropout: Annotated[float, Field(ge=0.0, lt=1.0)]
    batch_size: Annotated[int, Field(ge=1, le=65536)]
    learning_rate: Annotated[float, Field(gt=0.0, le=10.0)]
    temperature: Annotated[float, Field(gt=0.0, le=100.0)] = Field(description="softening of the scores")
    weight: Annotated[float, Field(ge=0.0, le=1.0)] = Field(
        description="share of the MLP's loss that follows the teacher (the rest: the labels)"
    )


WeightBits = Literal[4, 8]


class QatConfig(_Strict):
    epochs: Annotated[int, Field(ge=0, le=1000)] = Field(
        description="quantization-aware fine-tuning epochs after float training (0: off)"
    )
    learning_rate: Annotated[float, Field(gt=0.0, le=10.0)]


class QuantizeConfig(_Strict):
    weight_bits: WeightBits | list[WeightBits] = Field(
        description="4 or 8, for every layer or as a list with one entry per layer"
    )
    activation_bits: Annotated[int, Field(ge=2, le=8)]
    accumulator_bits: Literal["auto", 16, 24]
    calibration_percentile: Annotated[float, Field(gt=50.0, le=100.0)]
    search: bool = Field(description="per layer, try a finer weight step and the shifts beside the calibrated one")
    qat: QatConfig

    def bits_per_layer(self, layer_count: int) -> list[int]:
        """The weight width of each of `layer_count` layers."""
        if isinstance(self.weight_bits, list):
            return list(self.weight_bits)
        return [self.weight_bits] * layer_count


NesColour = Annotated[int, Field(ge=0, le=0x3F)]


class UiColours(_Strict):
    background: NesColour = Field(description="screen background (NES colour index)")
    border: NesColour = Field(description="canvas frame")
    mid: NesColour = Field(description="canvas cells at the middle grey level")
    ink: NesColour = Field(description="canvas cells at full ink; all text")
    bar: NesColour = Field(description="confidence bars")
    highlight: NesColour = Field(description="the winner's bar and the big digit")
    cursor: NesColour = Field(description="the cursor sprite")

    @model_validator(mode="after")
    def _no_forbidden_black(self) -> UiColours:
        bad = [name for name, value in self.model_dump().items() if value == 0x0D]
        if bad:
            raise ValueError(f"colour $0D ({', '.join(bad)}) confuses some TVs' sync; use $0F for black")
        return self


class UiConfig(_Strict):
    repeat_delay: Annotated[int, Field(ge=1, le=255)] = Field(description="frames before a held direction repeats")
    repeat_rate: Annotated[int, Field(ge=1, le=255)] = Field(description="frames between repeated moves")
    classify_after: Annotated[int, Field(ge=1, le=255)] = Field(
        description="classify once the canvas has not changed for this many frames"
    )
    classify_every: Annotated[int, Field(ge=0, le=255)] = Field(
        description="while the canvas keeps changing, classify every this many frames (0: never)"
    )
    colors: UiColours


class DrawnConfig(_Strict):
    """How test digits are transformed to look drawn on the console (the `drawn` evaluation)."""

    seed: Annotated[int, Field(ge=0, le=2**31 - 1)]
    offset: Annotated[int, Field(ge=0, le=8)] = Field(description="off-centre: translation, 28x28 pixels")
    small: Annotated[float, Field(gt=0.3, le=1.0)] = Field(description="smaller: size factor")
    large: Annotated[float, Field(ge=1.0, le=1.6)] = Field(description="larger: size factor")
    thin: Annotated[int, Field(ge=0, le=2)] = Field(description="thinner strokes: erosion, pixels")
    thick: Annotated[int, Field(ge=0, le=2)] = Field(description="thicker strokes: dilation, pixels")
    pad_step: Annotated[int, Field(ge=1, le=6)] = Field(
        description="pad: redrawn with the console's brush in D-pad runs snapped to grids of 1..pad_step cells"
    )
    coarse_grid: list[Annotated[int, Field(ge=2, le=14)]] = Field(
        min_length=1, max_length=8, description="coarse: blocks a side of the grids, one chosen per digit"
    )


class SweepConfig(_Strict):
    configs: list[str] = Field(min_length=1, description="config files, relative to the repository")
    jobs: Annotated[int, Field(ge=0, le=64)] = Field(description="builds at once (0: one per CPU core)")
    evaluate: bool = Field(description="also measure each ROM on the emulated console")


class Config(_Strict):
    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
    data: DataConfig
    preprocess: PreprocessConfig
    augment: AugmentConfig
    model: ModelConfig
    train: TrainConfig
    teacher: TeacherConfig
    quantize: QuantizeConfig
    drawn: DrawnConfig
    ui: UiConfig
    sweep: SweepConfig

    @model_validator(mode="after")
    def _layers_fit(self) -> Config:
        """Every problem of the layer list, one line each (common/architecture.py)."""
        key = "model.layers" if self.model.layers is not None else "model.hidden"
        problems = place(self.model.layer_specs, self.preprocess.size, key).problems
        if problems:
            raise PydanticCustomError(PROBLEMS, "\n".join(problems))
        return self

    @model_validator(mode="after")
    def _bits_per_layer(self) -> Config:
        bits = self.quantize.weight_bits
        weighted = self.plan.weighted
        if isinstance(bits, list) and len(bits) != len(weighted):
            kinds = ", ".join(layer.kind for layer in weighted)
            raise PydanticCustomError(
                PROBLEMS,
                f"quantize.weight_bits lists {len(bits)} widths for {len(weighted)} weighted layers ({kinds}); "
                "give one per layer in that order, or a single 4 or 8"
            )
        return self

    @model_validator(mode="after")
    def _fits_the_cartridge(self) -> Config:
        plan = self.plan
        needed = table_bytes(plan, self.quantize.bits_per_layer(len(plan.weighted)))
        prg = ldcfg.memory()["PRG"].size
        room = prg - PRG_RESERVED
        if needed > room:
            raise ValueError(
                f"layers {self.shape_text} need about {needed} bytes of weight tables, "
                f"{needed - room} more than the {room} bytes a {prg // 1024} KiB NROM cartridge has for them; "
                + (
                    "use fewer units in the first dense layer, fewer channels in the last conv, or more pools"
                    if plan.convolutional
                    else "shrink model.hidden or preprocess.size"
                )
            )
        return self

    @property
    def input_count(self) -> int:
        return self.preprocess.size * self.preprocess.size

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return self.preprocess.size, self.preprocess.size, 1

    @property
    def plan(self) -> Plan:
        """The layers with their shapes, the implied flatten and output layer included."""
        return place(self.model.layer_specs, self.preprocess.size)

    @property
    def layer_codes(self) -> list[str]:
        """Short names of the layers, e.g. ['14x14x1', 'conv16v', 'pool2', 'dense32', '10']."""
        return self.plan.codes(self.input_shape)

    @property
    def shape_text(self) -> str:
        """196-144-32-10, or for a CNN 14x14x1-conv16v-pool2-dense32-10."""
        return "-".join(self.layer_codes if self.model.convolutional else map(str, self.layer_sizes))

    @property
    def layer_sizes(self) -> list[int]:
        """Inputs, hidden units and outputs of a dense-only network (a CNN has `layer_codes`)."""
        if self.model.convolutional:
            raise AttributeError("layer_sizes describes dense-only networks; use layer_codes")
        return [self.input_count, *(layer.outputs for layer in self.plan.weighted)]


def _deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file; pass an existing one with config=PATH") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config file ({exc.strerror})") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        where = ""
        mark = getattr(exc, "problem_mark", None)
        if mark is not None:
            where = f" at line {mark.line + 1}, column {mark.column + 1}"
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{path}: not valid YAML{where}: {problem}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of settings, got {type(raw).__name__}")
    return raw


def load_raw(path: Path, _seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    """Read a config file and the chain of `base:` files below it, merged."""
    path = path.resolve()
    if path in _seen:
        chain = " -> ".join(str(p) for p in (*_seen, path))
        raise ConfigError(f"{path}: 'base' files form a loop: {chain}")
    raw = _read_yaml(path)
    base = raw.pop("base", None)
    if base is None:
        return raw
    if not isinstance(base, str):
        raise ConfigError(f"{path}: base = {base!r}: must be the path of another config file")
    return _deep_merge(load_raw(path.parent / base, (*_seen, path)), raw)


def _key_path(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif "[" in str(part) or "function-after" in str(part) or str(part).startswith("<"):
            continue  # pydantic's internal validator names, not config keys
        else:
            text += f".{part}" if text else str(part)
    return text or "(top level)"


def _describe(error: dict[str, Any]) -> str:
    key = _key_path(tuple(error["loc"]))
    kind = error["type"]
    if kind == PROBLEMS:  # lines that name their keys themselves
        return "\n  ".join(error["msg"].splitlines())
    if kind == "missing":
        return f"{key}: missing; every setting must be given (see config.yaml)"
    if kind == "extra_forbidden":
        return f"{key}: unknown setting; remove it or check its spelling (see config.yaml)"
    message = error["msg"].removeprefix("Value error, ")
    if isinstance(error["input"], dict):  # a check across several settings: the message names them
        return f"{key}: {message}"
    return f"{key} = {error['input']!r}: {message}"


def parse(raw: dict[str, Any], source: str) -> Config:
    """Validate merged settings; `source` names the file in messages."""
    try:
        return Config.model_validate(raw)
    except ValidationError as exc:
        lines = [_describe(err) for err in exc.errors()]
        raise ConfigError(f"{source}: invalid configuration:\n  " + "\n  ".join(lines)) from None


def load(path: str | Path) -> Config:
    """Load, merge and validate the config file at `path`."""
    path = Path(path)
    return parse(load_raw(path), str(path))
