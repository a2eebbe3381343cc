"""The integer-network contract: the preprocessing (prep.py, mirrored by nes/src/prep.s), the
golden model and table format (golden.py), the quantization rules (quantize.py) and the float
model file they start from (h5weights.py). Training (QAT), export and the cartridge tools obey
it; it imports only `common`."""
