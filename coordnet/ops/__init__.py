"""Compiled kernels behind a backend switch, and their pure-PyTorch references.

This package is the only Python code that calls ``torch.ops.coordnet.*``. Callers use
the plain functions below and never branch on the backend.
"""

from coordnet.ops._extension import ExtensionWarning, has_cuda_kernels
from coordnet.ops._extension import available as extension_available
from coordnet.ops._extension import load_error as extension_load_error
from coordnet.ops.backend import (
    MODES,
    UnverifiedKernelWarning,
    backend,
    get_backend_mode,
    route,
    set_backend,
    supports,
)
from coordnet.ops.fourier import fourier_features
from coordnet.ops.fourier_reference import (
    fourier_features_backward_reference,
    fourier_features_reference,
)
from coordnet.ops.hashgrid import hashgrid_encode
from coordnet.ops.hashgrid_reference import (
    GridLevels,
    hashgrid_reference,
    nerfstudio_levels,
    tcnn_levels,
)
from coordnet.ops.regions import hash_patterns, pack_signs_relu_, pattern_words, unique_patterns
from coordnet.ops.regions_reference import (
    hash_patterns_reference,
    pack_signs_relu_reference_,
    unique_patterns_dense,
    unique_patterns_reference,
)

__all__ = [
    "MODES",
    "ExtensionWarning",
    "GridLevels",
    "backend",
    "extension_available",
    "extension_load_error",
    "fourier_features",
    "fourier_features_backward_reference",
    "fourier_features_reference",
    "get_backend_mode",
    "has_cuda_kernels",
    "hashgrid_encode",
    "hashgrid_reference",
    "hash_patterns",
    "hash_patterns_reference",
    "nerfstudio_levels",
    "pack_signs_relu_",
    "pack_signs_relu_reference_",
    "pattern_words",
    "route",
    "set_backend",
    "supports",
    "tcnn_levels",
    "unique_patterns",
    "unique_patterns_dense",
    "unique_patterns_reference",
    "UnverifiedKernelWarning",
]
