"""Tests of `export/`."""
