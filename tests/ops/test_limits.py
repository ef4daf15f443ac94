"""The kernels' limits and enum codes have one definition, coordnet/ops/limits.py: the C++ side
reads the header generated from it, and every Python user imports it."""

import importlib
import re
from pathlib import Path

import pytest
import torch
from helpers import requires_extension

from coordnet import ops
from coordnet.ops import fake_checks, limits

ROOT = Path(__file__).resolve().parents[2]
CSRC = ROOT / "csrc"
GENERATED = CSRC / "include" / "coordnet" / "limits.h"
# (coordnet.ops re-exports functions under some module names: import the modules themselves)
backend_module = importlib.import_module("coordnet.ops.backend")
fourier_op = importlib.import_module("coordnet.ops.fourier")
fourier_reference = importlib.import_module("coordnet.ops.fourier_reference")
hashgrid_reference = importlib.import_module("coordnet.ops.hashgrid_reference")
regions_reference = importlib.import_module("coordnet.ops.regions_reference")


def test_header_defines_every_constant_with_its_value():
    text = limits.header_text()
    for cpp, (ctype, name, value) in limits.header_constants().items():
        line = next(line for line in text.splitlines() if f" {cpp} = " in line)
        assert line.startswith(f"constexpr {ctype} {cpp} = ") and line.endswith(f"// {name}")
        literal = line.split(" = ")[1].split(";")[0]
        number = (
            float(literal[len("INT64_C(") : -1])
            if literal.startswith("INT64_C")
            else float(literal)
        )
        assert number == float(value), (cpp, literal, value)


def test_write_header_is_idempotent(tmp_path):
    path = tmp_path / "include" / "limits.h"
    assert limits.write_header(str(path)) is True
    before = path.stat().st_mtime_ns
    assert limits.write_header(str(path)) is False  # unchanged: no rebuild triggered
    assert path.stat().st_mtime_ns == before and path.read_text() == limits.header_text()


def test_the_build_generated_the_header_from_this_module():
    # setup.py writes it on every build; a stale header means the extension was built from
    # other values than the Python side uses.
    if not GENERATED.exists() and not ops.extension_available():
        pytest.skip("no build in this checkout (setup.py has not run)")
    assert GENERATED.read_text() == limits.header_text()


def test_no_kernel_source_defines_a_limit_of_its_own():
    sources = {
        p: p.read_text()
        for p in CSRC.rglob("*")
        if p.suffix in (".h", ".cpp", ".cu") and p != GENERATED
    }
    used = "\n".join(sources.values())
    for cpp in limits.header_constants():
        assert f"limits::{cpp}" in used, f"{cpp} is generated but no kernel source reads it"
    # The kernel-side names are aliases of the generated constants, never literals.
    aliases = ["kMaxDims", "kModeDense", "kModeHash", "kModeZero", "kNearest", "kLinear"]
    aliases += ["kSmoothstep", "kLevelFields", "kPositionLimit", "kInputNone", "kInputFirst"]
    aliases += ["kInputLast", "kWordBits", "kMaxFourierDims", "kMaxHashgridLevels"]
    for name in aliases:
        for path, text in sources.items():
            for match in re.finditer(rf"constexpr \w+ {name} = ([^;]+);", text):
                assert match.group(1).startswith("limits::"), (path.name, match.group(0))


def test_python_users_read_the_single_source():
    assert backend_module.FOURIER_CUDA_MAX_DIMS is limits.FOURIER_CUDA_MAX_DIMS
    assert backend_module.HASHGRID_MAX_DIMS is limits.HASHGRID_MAX_DIMS
    assert backend_module.HASHGRID_CUDA_MAX_LEVELS is limits.HASHGRID_CUDA_MAX_LEVELS
    assert fake_checks.LEVEL_FIELDS is limits.HASHGRID_LEVEL_FIELDS
    assert hashgrid_reference.INTERPOLATIONS is limits.HASHGRID_INTERPOLATIONS
    assert hashgrid_reference.MAX_DIMS is limits.HASHGRID_MAX_DIMS
    assert hashgrid_reference.POSITION_LIMIT is limits.HASHGRID_POSITION_LIMIT
    assert hashgrid_reference.MAX_ENTRIES is limits.HASHGRID_MAX_LEVEL_SIZE
    assert (hashgrid_reference.MODE_DENSE, hashgrid_reference.MODE_HASH) == (
        limits.HASHGRID_MODE_DENSE,
        limits.HASHGRID_MODE_HASH,
    )
    assert regions_reference.WORD_BITS is limits.PATTERN_WORD_BITS
    assert fourier_reference.INPUT_LAST is limits.FOURIER_INPUT_LAST
    assert fourier_op.INPUT_MODES["first"] is limits.FOURIER_INPUT_FIRST


def test_routing_follows_the_limits(monkeypatch):
    monkeypatch.setattr(backend_module, "HASHGRID_MAX_DIMS", 2)  # what supports() reads
    assert not backend_module.supports("hashgrid", "cpu", d=3)
    monkeypatch.undo()
    assert backend_module.supports("hashgrid", "cpu", d=limits.HASHGRID_MAX_DIMS)
    assert not backend_module.supports("hashgrid", "cpu", d=limits.HASHGRID_MAX_DIMS + 1)


@requires_extension
def test_the_built_kernels_enforce_the_same_limits():
    d = limits.HASHGRID_MAX_DIMS + 1
    x, table = torch.rand(3, d), torch.rand(8, 2)
    with pytest.raises(RuntimeError, match=f"1 <= d <= {limits.HASHGRID_MAX_DIMS}"):
        torch.ops.coordnet.hashgrid_forward(x, table, [1.0], [0, 8, 2, 0], 1, 0.5, False)
    bad_mode = limits.FOURIER_INPUT_LAST + 1
    with pytest.raises(RuntimeError, match=f"got {bad_mode}"):
        torch.ops.coordnet.fourier_features(
            torch.rand(4, 2), torch.rand(4, 2), None, 1.0, 4, bad_mode
        )
    bad_interpolation = len(limits.HASHGRID_INTERPOLATIONS)
    with pytest.raises(RuntimeError, match=f"got {bad_interpolation}"):
        torch.ops.coordnet.hashgrid_forward(
            torch.rand(3, 2), table, [1.0], [0, 8, 2, 0], bad_interpolation, 0.5, False
        )
