"""The fixed limits and enum codes of the compiled kernels: their one definition.

Everything that must agree between the C++/CUDA kernels and the Python side (argument checks,
fake kernels, routing, references) is defined here once. The build writes these values into the
C++ header ``csrc/include/coordnet/limits.h`` (``setup.py`` and the build scripts call
:func:`write_header`; the header is generated, never edited), and the Python side imports them
from this module. This file imports only the standard library, so the build can run it as a
plain script before anything else is importable::

    python coordnet/ops/limits.py csrc/include/coordnet/limits.h
"""

from __future__ import annotations

import os
import sys
from typing import Dict, Tuple

# Fourier features: where the input copy goes in an output row (the op's ``input_mode``).
FOURIER_INPUT_NONE = 0
FOURIER_INPUT_FIRST = 1
FOURIER_INPUT_LAST = 2
#: Columns of ``x`` the CUDA Fourier backward kernels hold in registers.
FOURIER_CUDA_MAX_DIMS = 8

#: Columns of ``x`` the hash-grid kernels handle (CPU and CUDA).
HASHGRID_MAX_DIMS = 4
#: Levels the CUDA hash-grid kernels take by value as a kernel argument.
HASHGRID_CUDA_MAX_LEVELS = 64
# How a level indexes its table (the op's per-level ``mode``).
HASHGRID_MODE_DENSE = 0
HASHGRID_MODE_HASH = 1
HASHGRID_MODE_ZERO = 2
#: Interpolation names, indexed by their codes (the op's ``interpolation``).
HASHGRID_INTERPOLATIONS = ("nearest", "linear", "smoothstep")
HASHGRID_NEAREST = HASHGRID_INTERPOLATIONS.index("nearest")
HASHGRID_LINEAR = HASHGRID_INTERPOLATIONS.index("linear")
HASHGRID_SMOOTHSTEP = HASHGRID_INTERPOLATIONS.index("smoothstep")
#: Integers per level in the op's flat ``levels`` list: offset, size, resolution, mode.
HASHGRID_LEVEL_FIELDS = 4
#: Largest table size of one level (sizes are held as uint32 and masked or reduced modulo).
HASHGRID_MAX_LEVEL_SIZE = 1 << 31
#: Largest grid resolution of one level (uint32).
HASHGRID_MAX_RESOLUTION = 0xFFFFFFFF
#: Grid positions ``scale * x + shift`` are clamped to ``[-2^30, 2^30]``.
HASHGRID_POSITION_LIMIT = float(1 << 30)

#: Bits per word of a packed activation pattern (int64 words).
PATTERN_WORD_BITS = 64

# Python name -> (C++ name in namespace coordnet::limits, C++ type).
_HEADER: Dict[str, Tuple[str, str]] = {
    "FOURIER_INPUT_NONE": ("kFourierInputNone", "int64_t"),
    "FOURIER_INPUT_FIRST": ("kFourierInputFirst", "int64_t"),
    "FOURIER_INPUT_LAST": ("kFourierInputLast", "int64_t"),
    "FOURIER_CUDA_MAX_DIMS": ("kFourierCudaMaxDims", "int"),
    "HASHGRID_MAX_DIMS": ("kHashgridMaxDims", "int"),
    "HASHGRID_CUDA_MAX_LEVELS": ("kHashgridCudaMaxLevels", "int"),
    "HASHGRID_MODE_DENSE": ("kHashgridModeDense", "int64_t"),
    "HASHGRID_MODE_HASH": ("kHashgridModeHash", "int64_t"),
    "HASHGRID_MODE_ZERO": ("kHashgridModeZero", "int64_t"),
    "HASHGRID_NEAREST": ("kHashgridNearest", "int64_t"),
    "HASHGRID_LINEAR": ("kHashgridLinear", "int64_t"),
    "HASHGRID_SMOOTHSTEP": ("kHashgridSmoothstep", "int64_t"),
    "HASHGRID_LEVEL_FIELDS": ("kHashgridLevelFields", "int"),
    "HASHGRID_MAX_LEVEL_SIZE": ("kHashgridMaxLevelSize", "int64_t"),
    "HASHGRID_MAX_RESOLUTION": ("kHashgridMaxResolution", "int64_t"),
    "HASHGRID_POSITION_LIMIT": ("kHashgridPositionLimit", "double"),
    "PATTERN_WORD_BITS": ("kPatternWordBits", "int"),
}


def header_constants() -> Dict[str, Tuple[str, str, object]]:
    """C++ name -> (type, Python name, value) of every constant the header defines."""
    values = globals()  # not sys.modules: setup.py runs this file with runpy, outside the package
    return {cpp: (ctype, name, values[name]) for name, (cpp, ctype) in _HEADER.items()}


def _literal(ctype: str, value: object) -> str:
    if ctype == "double":
        return repr(float(value))  # type: ignore[arg-type]
    return f"{int(value)}" if ctype == "int" else f"INT64_C({int(value)})"  # type: ignore[call-overload]


def header_text() -> str:
    """The C++ header ``csrc/include/coordnet/limits.h``: every constant as a ``constexpr``."""
    lines = [
        "// Generated from coordnet/ops/limits.py by the build (setup.py); do not edit.",
        "#pragma once",
        "",
        "#include <cstdint>",
        "",
        "namespace coordnet {",
        "namespace limits {",
        "",
    ]
    for cpp, (ctype, name, value) in header_constants().items():
        lines.append(f"constexpr {ctype} {cpp} = {_literal(ctype, value)};  // {name}")
    lines += ["", "}  // namespace limits", "}  // namespace coordnet", ""]
    return "\n".join(lines)


def write_header(path: str) -> bool:
    """Write :func:`header_text` to ``path`` unless it already holds it (so that an unchanged
    header triggers no rebuild). Returns whether the file was written."""
    text = header_text()
    try:
        with open(path, encoding="utf-8") as existing:
            if existing.read() == text:
                return False
    except OSError:
        pass
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path + ".tmp", "w", encoding="utf-8") as out:
        out.write(text)
    os.replace(path + ".tmp", path)
    return True


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python coordnet/ops/limits.py OUTPUT_HEADER")
    write_header(sys.argv[1])
