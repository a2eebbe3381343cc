"""MNIST to Keras model: the dataset step, the preprocess step with its augmented copies, the
teacher, training and quantization-aware training, and the drawn evaluation. Imports `common`
and `intnet` only."""
