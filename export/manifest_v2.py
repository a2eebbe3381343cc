"""The `format: 2` manifest of a network with convolutions (docs/cnn-plan.md section 5).

`layers` lists every layer in order, each with its `type`:

- `conv2d`: `kernel` [kh, kw], `stride` 1 or 2, `padding` same|valid, `input_shape` and
  `output_shape` [H, W, C], `use_bias` (false: trained without bias; the bias table then holds
  only the rounding constant), and the weighted layer's fields below, with `inputs` the patch
  length kh*kw*cin and `outputs` cout: the weights file is `golden.pack_weights` of
  `layers.patch_matrix`, rows (dy*kw + dx)*cin + c;
- `maxpool2d`: `size` 2, shapes; no tables (the console fuses it into the conv before it:
  pool the wrapped accumulators, then requantize once);
- `flatten`: `order` "hwc", shapes: input (y*W + x)*C + c of the following dense layer;
- `dense`: as in v1 (`inputs`, `outputs`).

Weighted layers (conv2d, dense) keep v1's fields: `index` (the table number of
layer<index>_weights.bin / _bias.bin, counting weighted layers only), `relu`, `weight_bits`,
`accumulator_bits` (proven over every training and test image, every position of a conv),
`shift` (null for the output layer), `activation_max`, `weights` / `bias` (file, offset, bytes,
layout) and `quantization`. Every entry has `position`, its place in `layers`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from common.config import Config
from common.layout import bias_file, weights_file
from intnet import golden, layers
from intnet.netquant import QuantizedNet

FORMAT = 2
CONV_LAYOUT = "int4 row-major [(dy*kw+dx)*cin+c][out], two per byte: even output in the low nibble"
CONV_LAYOUT_8 = "int8 row-major [(dy*kw+dx)*cin+c][out]"
DENSE_LAYOUT = "int4 row-major [input][output], two per byte: even output in the low nibble"
DENSE_LAYOUT_8 = "int8 row-major [input][output]"
BIAS_LAYOUT = "planar little-endian two's complement: low bytes, then higher bytes"


def table_matrix(layer: layers.ConvLayer | golden.IntLayer) -> np.ndarray:
    """The (inputs, outputs) matrix a weighted layer's `.bin` packs."""
    return layers.patch_matrix(layer) if isinstance(layer, layers.ConvLayer) else layer.weights


def build(cfg: Config, net: QuantizedNet, input_info: dict[str, Any]) -> dict[str, Any]:
    entries: list[dict[str, Any]] = []
    offset = 0
    params = 0
    weighted = iter(zip(net.weighted, net.reports, strict=True))
    index = 0
    for position, (placed, layer) in enumerate(zip(cfg.plan.layers, net.layers, strict=True)):
        shapes = {"input_shape": list(placed.input_shape), "output_shape": list(placed.output_shape)}
        if placed.kind == "pool":
            entries.append({"position": position, "type": "maxpool2d", "size": 2, **shapes})
            continue
        if placed.kind == "flatten":
            entries.append({"position": position, "type": "flatten", "order": "hwc", **shapes})
            continue
        int_layer, report = next(weighted)
        assert int_layer is layer
        matrix = table_matrix(int_layer)
        inputs, outputs = matrix.shape
        weight_bytes = golden.weight_bytes(inputs, outputs, int_layer.weight_bits)
        bias_bytes = outputs * int_layer.accumulator_bits // 8
        entry: dict[str, Any] = {"position": position, "index": index}
        if isinstance(int_layer, layers.ConvLayer):
            layout = CONV_LAYOUT if int_layer.weight_bits == 4 else CONV_LAYOUT_8
            entry |= {
                "type": "conv2d", "kernel": list(int_layer.kernel), "stride": int_layer.stride,
                "padding": int_layer.padding,
                **shapes, "use_bias": bool(getattr(placed.spec, "bias", True)),
            }
            shift: int | None = int_layer.shift
        else:
            layout = DENSE_LAYOUT if int_layer.weight_bits == 4 else DENSE_LAYOUT_8
            entry |= {"type": "dense"}
            shift = int_layer.shift
        entry |= {
            "inputs": inputs,
            "outputs": outputs,
            "relu": placed.kind != "output",
            "weight_bits": int_layer.weight_bits,
            "accumulator_bits": int_layer.accumulator_bits,
            "shift": shift,
            "activation_max": int_layer.activation_max,
            "weights": {"file": weights_file(index), "offset": offset, "bytes": weight_bytes, "layout": layout},
            "bias": {"file": bias_file(index), "offset": offset + weight_bytes, "bytes": bias_bytes,
                     "layout": BIAS_LAYOUT},
            "quantization": report.as_dict(),
        }
        entries.append(entry)
        offset += weight_bytes + bias_bytes
        params += inputs * outputs + outputs
        index += 1
    return {
        "format": FORMAT,
        "name": cfg.name,
        "input": {**input_info, "shape": list(cfg.input_shape)},
        "layer_codes": cfg.layer_codes,
        "params": params,
        "tables_bytes": offset,
        "layers": entries,
    }
