"""Whole fitting jobs: the fit runner, compare, render, run presets and probes (the application
around the training core in :mod:`coordnet.training`)."""
