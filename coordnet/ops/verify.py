"""``coordnet doctor --verify``: every compiled kernel against its pure-PyTorch reference.

On each device, each compiled op (Fourier features, the hash grid with float32 and float16
tables, region counting) runs forward and backward on small random inputs, and the largest
error against the reference is compared with the tolerance the op tests use
(:mod:`coordnet.ops.tolerances`). The kernels are called directly (``torch.ops.coordnet``), so
no backend setting or small-problem shortcut hides them. A wrong kernel shows up here before it
can give a user wrong numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch
from torch import Tensor

from coordnet.ops import _extension, tolerances
from coordnet.ops.fourier_reference import (
    fourier_features_backward_reference,
    fourier_features_reference,
)
from coordnet.ops.hashgrid_reference import hashgrid_reference, tcnn_levels
from coordnet.ops.regions_reference import (
    hash_patterns_reference,
    pack_signs_relu_reference_,
    pattern_words,
    unique_patterns_reference,
)

#: (quantity, max error, tolerance) of one comparison.
Comparison = Tuple[str, float, float]


@dataclass(frozen=True)
class Check:
    """The outcome of one op on one device: ``status`` is ``"ok"``, ``"mismatch"``,
    ``"not built"`` or ``"error"`` (the kernel raised)."""

    op: str
    device: str
    status: str
    max_error: float = 0.0
    tolerance: float = 0.0
    detail: str = ""

    @property
    def failed(self) -> bool:
        return self.status in ("mismatch", "error")

    def line(self) -> str:
        """``op  device  ok`` / ``MISMATCH max err …`` / ``not built`` / ``ERROR …``, one line."""
        head = f"verify {self.op:<18} {self.device:<7}"
        if self.status == "ok":
            return f"{head} ok (max err {self.max_error:.2e}, tolerance {self.tolerance:.2e})"
        if self.status == "mismatch":
            return (
                f"{head} MISMATCH max err {self.max_error:.3g} > tolerance {self.tolerance:.3g}"
                f" ({self.detail})"
            )
        if self.status == "error":
            return f"{head} ERROR {self.detail}"
        return f"{head} not built ({self.detail})" if self.detail else f"{head} not built"


def _kernel(name: str) -> Callable:
    """``torch.ops.coordnet.<name>`` (one place, so that a test can substitute a wrong kernel)."""
    return getattr(torch.ops.coordnet, name)


def _err(got: Tensor, want: Tensor) -> float:
    if got.shape != want.shape:
        return math.inf
    if got.numel() == 0:
        return 0.0
    diff = (got.double().cpu() - want.double().cpu()).abs()
    return float(torch.where(torch.isnan(diff), torch.full_like(diff, math.inf), diff).max())


def _random(gen: torch.Generator, *shape: int, dtype=torch.float64, low=0.0, high=1.0) -> Tensor:
    return torch.rand(*shape, generator=gen, dtype=torch.float64).mul(high - low).add(low).to(dtype)


def _fourier(device: str, gen: torch.Generator) -> List[Comparison]:
    out: List[Comparison] = []
    factor, group, mode = 2 * math.pi, 4, 1  # sin/cos in groups of 4, x copied first
    for dtype in (torch.float32, torch.float64):
        x = _random(gen, 200, 3, dtype=dtype).to(device)
        B = _random(gen, 16, 3, dtype=dtype, low=-8, high=8).to(device)
        a = _random(gen, 16, dtype=dtype).to(device)
        got = _kernel("fourier_features")(x, B, a, factor, group, mode)
        want = fourier_features_reference(x.double(), B.double(), a.double(), factor, group, mode)
        tol = tolerances.phase_tolerance(tolerances.max_phase(x, B, factor), dtype)
        out.append((f"{dtype} forward", _err(got, want), tol))
        g = _random(gen, *got.shape, dtype=dtype, low=-1, high=1).to(device)
        gx, gB = _kernel("fourier_features_backward")(g, x, B, a, factor, group, mode, True, True)
        want_x, want_B, _ = fourier_features_backward_reference(
            g.double(), x.double(), B.double(), a.double(), factor, group, mode
        )
        tol_x, tol_B = tolerances.fourier_gradient_tolerance(g, x, B, dtype, factor, x.shape[1])
        out += [(f"{dtype} grad x", _err(gx, want_x), tol_x)]
        out += [(f"{dtype} grad B", _err(gB, want_B), tol_B)]
    return out


def _hashgrid_problem(device: str, gen: torch.Generator, dtype: torch.dtype):
    levels = tcnn_levels(3, 6, 2, 8, 4, 1.7)  # dense and hashed levels
    x = _random(gen, 150, 3, dtype=dtype).to(device)
    table = _random(gen, levels.num_entries, 2, dtype=dtype, low=-1, high=1).to(device)
    args = (list(levels.scales), levels.flat_levels(), 1, levels.shift, levels.ceil_corner)
    return levels, x, table, args


def _hashgrid_reference(x: Tensor, table: Tensor, levels, g: Tensor):
    """Features and (x, table) gradients of the reference, in x's dtype (as the tests compare)."""
    xr = x.detach().clone().requires_grad_()
    tr = table.detach().to(x.dtype).requires_grad_()
    want = hashgrid_reference(xr, tr, levels, "linear")
    want_x, want_t = torch.autograd.grad(want, (xr, tr), g)
    return want.detach(), want_x, want_t


def _relative(name: str, got: Tensor, want: Tensor, rtol: float, atol: float) -> Comparison:
    """``assert_close(got, want, rtol, atol)`` as a comparison: the largest
    ``|got - want| - rtol |want|`` against ``atol``."""
    if got.shape != want.shape:
        return (name, math.inf, atol)
    excess = (
        _err(got, want)
        if rtol == 0
        else float(((got.double() - want.double()).abs() - rtol * want.double().abs()).max().cpu())
    )
    return (name, excess, atol)


def _hashgrid_float32(device: str, gen: torch.Generator) -> List[Comparison]:
    out: List[Comparison] = []
    for dtype in (torch.float32, torch.float64):
        levels, x, table, args = _hashgrid_problem(device, gen, dtype)
        got = _kernel("hashgrid_forward")(x, table, *args)
        g = _random(gen, *got.shape, dtype=dtype, low=-1, high=1).to(device)
        want, want_x, want_t = _hashgrid_reference(x, table, levels, g)
        tol = tolerances.hashgrid_tolerance(dtype, table, levels.scales, x)
        out.append((f"{dtype} forward", _err(got, want), tol))
        gx, gt = _kernel("hashgrid_backward")(g, x, table, *args, True, True)
        for name, got_g, want_g in (("x", gx, want_x), ("table", gt, want_t)):
            if dtype == torch.float64:
                rel, atol = tolerances.HASHGRID_FLOAT64_GRAD, tolerances.HASHGRID_FLOAT64_GRAD
            else:
                rel = tolerances.HASHGRID_FLOAT32_GRAD
                atol = rel * float(want_g.abs().max())
            out.append(_relative(f"{dtype} grad {name}", got_g, want_g, rel, atol))
    return out


def _hashgrid_float16(device: str, gen: torch.Generator) -> List[Comparison]:
    """float16 tables: read as half by the CUDA kernels; on the CPU the table is upcast first
    (what :func:`coordnet.ops.hashgrid_encode` does), so the float32 kernel runs on its values."""
    levels, x, table32, args = _hashgrid_problem(device, gen, torch.float32)
    table = table32.half()
    kernel_table = table if device.startswith("cuda") else table.float()
    got = _kernel("hashgrid_forward")(x, kernel_table, *args)
    g = _random(gen, *got.shape, dtype=torch.float32, low=-1, high=1).to(device)
    want, _, want_t = _hashgrid_reference(x, table, levels, g)
    _, gt = _kernel("hashgrid_backward")(g, x, kernel_table, *args, False, True)
    rtol, atol = tolerances.HASHGRID_HALF_TABLE_GRAD
    tol = tolerances.hashgrid_tolerance(torch.float32, table32, levels.scales, x)
    return [
        ("float16 table forward", _err(got, want), tol),
        _relative("float16 table grad table", gt.half(), want_t.half(), rtol, atol),
    ]


def _regions(device: str, gen: torch.Generator) -> List[Comparison]:
    """Packing with ReLU, hashing and (CPU) deduplication: exact, so the tolerance is 0."""
    n, widths = 300, (7, 70)
    words = sum(pattern_words(w) for w in widths)
    pre = [_random(gen, n, w, low=-1, high=1).float().to(device) for w in widths]
    pre[0][:5] = 0.0  # ties: zero is inactive
    got_packed = torch.zeros(n, words, dtype=torch.int64, device=device)
    want_packed = torch.zeros(n, words, dtype=torch.int64)
    offset, out = 0, []
    for p in pre:
        got_p, want_p = p.clone(), p.cpu().clone()
        _kernel("pack_signs_relu_")(got_p, got_packed, offset, True)
        pack_signs_relu_reference_(want_p, want_packed, offset, relu=True)
        out.append((f"relu of {p.shape[1]} units", _err(got_p, want_p), 0.0))
        offset += pattern_words(p.shape[1])
    out.append(("packed patterns", float((got_packed.cpu() != want_packed).sum()), 0.0))
    mask = (1 << 62) - 1
    got_hash = _kernel("hash_patterns")(got_packed, mask).cpu()
    out.append(
        ("hashes", float((got_hash != hash_patterns_reference(want_packed, mask)).sum()), 0.0)
    )
    if device == "cpu":  # CUDA dedupes with torch ops on the hashes, not a kernel
        got_inv, got_first = _kernel("unique_patterns")(got_packed, mask)
        want_inv, want_first = unique_patterns_reference(want_packed)
        wrong = int((got_inv != want_inv).sum()) + int(not torch.equal(got_first, want_first))
        out.append(("region ids", float(wrong), 0.0))
    return out


#: Op name -> comparisons of its kernels with the reference on one device.
OPS: Dict[str, Callable[[str, torch.Generator], List[Comparison]]] = {
    "fourier_features": _fourier,
    "hashgrid[float32]": _hashgrid_float32,
    "hashgrid[float16]": _hashgrid_float16,
    "region counting": _regions,
}


def _not_built(device: str) -> Optional[str]:
    if not _extension.available():
        return f"coordnet._C: {_extension.load_error}"
    if device.startswith("cuda") and not _extension.has_cuda_kernels():
        return "the extension was built without its CUDA kernels"
    return None


def check_op(op: str, device: str, seed: int = 0) -> Check:
    """Run ``op``'s comparisons on ``device`` and summarise them (the worst one decides)."""
    missing = _not_built(device)
    if missing is not None:
        return Check(op, device, "not built", detail=missing)
    gen = torch.Generator().manual_seed(seed)
    try:
        comparisons = OPS[op](device, gen)
    except Exception as error:  # a kernel that raises fails the check, with its one line
        first = str(error).strip().splitlines()[0] if str(error).strip() else ""
        return Check(op, device, "error", detail=f"{type(error).__name__}: {first}")
    bad = [c for c in comparisons if not c[1] <= c[2]]  # NaN errors fail too
    name, worst, tol = bad[0] if bad else max(comparisons, key=lambda c: c[1] / max(c[2], 1e-300))
    if bad:
        return Check(op, device, "mismatch", worst, tol, detail=name)
    return Check(op, device, "ok", worst, tol)


def available_devices() -> List[str]:
    """``cpu`` and every visible CUDA device."""
    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    return ["cpu"] + [f"cuda:{i}" for i in range(count)]


def verify(devices: Optional[Sequence[str]] = None) -> List[Check]:
    """One :class:`Check` per op (:data:`OPS`) and device (default :func:`available_devices`).

    Runs on one intra-op thread: the problems are tiny, and on a loaded machine OpenMP's
    hand-offs between threads can make them many times slower (the thread count is restored)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return [check_op(op, device) for device in devices or available_devices() for op in OPS]
    finally:
        torch.set_num_threads(previous)
