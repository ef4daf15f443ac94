"""Reduced precision for the MLP: whether bfloat16 matmuls pay off on this machine.

bf16 autocast touches only the net's matmuls; encoders compute their phases and
interpolations in float32 whatever the autocast state (:func:`coordnet.encoders.base.no_autocast`).
On a CPU, bf16 is worth trying only where the instruction set has bf16 dot products
(AVX512-BF16 or AMX); elsewhere PyTorch emulates them and they are much slower than float32.
Even where the instructions exist, small matrices may not gain, so :func:`choose_bf16` times
the model's own net both ways once and keeps the faster (the decision is cached per process).
"""

from __future__ import annotations

import copy
import time
from typing import Dict, Optional, Tuple, Union

import torch
from torch import nn

#: ``/proc/cpuinfo`` flags of CPUs with native bf16 dot products.
BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")
#: bf16 must be at least this much faster than float32 (time ratio) to be chosen automatically.
MIN_SPEEDUP = 1.2
#: Samples used by the start-up benchmark (fewer if the batch is smaller).
BENCH_SAMPLES = 16384

BF16Setting = Union[bool, str, None]
_decisions: Dict[Tuple, bool] = {}


def cpu_flags(path: str = "/proc/cpuinfo") -> frozenset:
    """The CPU feature flags listed in ``path`` (empty where the file does not exist, e.g. not Linux)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if line.startswith("flags"):
                    return frozenset(line.partition(":")[2].split())
    except OSError:
        pass
    return frozenset()


def cpu_has_bf16(flags: Optional[frozenset] = None) -> bool:
    """True where the CPU has native bf16 dot products (AVX512-BF16 or AMX) and PyTorch runs
    its AVX512 kernels (``torch.backends.cpu.get_cpu_capability()``)."""
    flags = cpu_flags() if flags is None else flags
    capability = torch.backends.cpu.get_cpu_capability()
    return capability.startswith("AVX512") and any(flag in flags for flag in BF16_CPU_FLAGS)


def _step_seconds(net: nn.Module, x: torch.Tensor, bf16: bool) -> float:
    """Wall time of one forward + backward of ``net`` on ``x (N, in_dim)``."""
    started = time.perf_counter()
    with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=bf16):
        out = net(x)
    out.float().square().mean().backward()
    return time.perf_counter() - started


def benchmark_bf16(
    net: nn.Module,
    in_dim: int,
    samples: int,
    device: Union[str, torch.device] = "cpu",
    reps: int = 3,
) -> Tuple[float, float]:
    """Seconds of one forward + backward of a copy of ``net`` on ``samples`` random inputs
    ``(samples, in_dim)``: ``(float32, bf16 autocast)``, best of ``reps`` interleaved runs each. ``net`` itself is untouched."""
    probe = copy.deepcopy(net).to(device)
    x = torch.rand(samples, in_dim, device=device)
    _step_seconds(probe, x, False), _step_seconds(probe, x, True)  # warm-up
    fp32, bf16 = [], []
    for _ in range(reps):  # interleaved, so that load from other processes hits both alike
        fp32.append(_step_seconds(probe, x, False))
        bf16.append(_step_seconds(probe, x, True))
    return min(fp32), min(bf16)


def net_of(model: nn.Module) -> nn.Module:
    """The part of ``model`` that bf16 would speed up: ``model.net`` of a
    :class:`~coordnet.nets.CoordinateNet`, else the model itself."""
    return getattr(model, "net", model)


def choose_bf16(
    model: nn.Module,
    batch: int,
    device: Union[str, torch.device] = "cpu",
    setting: BF16Setting = "auto",
) -> bool:
    """Whether to train ``model`` (batches of ``batch`` samples) with bf16 autocast on its net.

    ``setting``: ``True``/``"on"`` forces bf16, ``False``/``"off"`` forces float32,
    ``"auto"``/``None`` chooses bf16 only on a CPU with native bf16 (:func:`cpu_has_bf16`)
    where :func:`benchmark_bf16` measures it at least :data:`MIN_SPEEDUP` times faster for this
    net; the decision is cached per process for each (net architecture, batch size, device).
    Other devices than the CPU are never chosen automatically.
    """
    if setting is True or setting == "on":
        return True
    if setting is False or setting == "off":
        return False
    if setting not in ("auto", None):
        raise ValueError(
            f"bf16 setting must be True, False, 'on', 'off' or 'auto', got {setting!r}"
        )
    device = torch.device(device)
    if device.type != "cpu" or not cpu_has_bf16():
        return False
    net = net_of(model)
    in_dim = getattr(net, "in_dim", None)
    if in_dim is None:
        return False
    samples = max(1, min(batch, BENCH_SAMPLES))
    key = (repr(net), samples, str(device), torch.get_num_threads())
    if key not in _decisions:
        fp32, bf16 = benchmark_bf16(net, in_dim, samples, device)
        _decisions[key] = fp32 / bf16 >= MIN_SPEEDUP
    return _decisions[key]
