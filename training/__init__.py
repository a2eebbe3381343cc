"""MNIST to Keras model: configuration, dataset, preprocessing and training."""
