"""Compiled kernels behind a backend switch, and their pure-PyTorch references.

This package is the only Python code that calls ``torch.ops.coordnet.*``. Callers use
the plain functions below and never branch on the backend.
"""
from coordnet.ops._extension import ExtensionWarning, has_cuda_kernels
from coordnet.ops._extension import available as extension_available
from coordnet.ops._extension import load_error as extension_load_error
from coordnet.ops.backend import MODES, backend, get_backend_mode, set_backend
from coordnet.ops.fourier import fourier_features
from coordnet.ops.fourier_reference import fourier_features_backward_reference, fourier_features_reference

__all__ = [
    "MODES",
    "ExtensionWarning",
    "backend",
    "extension_available",
    "extension_load_error",
    "fourier_features",
    "fourier_features_backward_reference",
    "fourier_features_reference",
    "get_backend_mode",
    "has_cuda_kernels",
    "set_backend",
]
