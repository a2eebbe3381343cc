"""Tests of `nes/`."""
