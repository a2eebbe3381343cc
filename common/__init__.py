"""The shared base: settings (config.py), where outputs live (layout.py), atomic writes
(fsutil.py), MNIST's files and cache (mnist.py), and the one error type the build reports
cleanly (errors.py). Imports nothing else of the project."""
