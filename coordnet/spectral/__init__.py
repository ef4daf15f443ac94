"""Spectral-bias measurement: frequency-resolved learning, convergence rates, NTK spectra."""
