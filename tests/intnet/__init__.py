"""Tests of `intnet/`."""
