"""Reduced precision for the MLP: whether to train its matmuls in bfloat16, by a fixed rule.

bf16 autocast touches only the net's matmuls; encoders compute their phases and
interpolations in float32 whatever the autocast state (:func:`coordnet.encoders.base.no_autocast`).

The ``"auto"`` rule (:func:`decide_bf16`) reads only the CPU's capabilities and the net's
shapes, never a timing, so the same command on the same machine always trains in the same
precision, however loaded the machine is:

1. the device is a CPU;
2. the CPU has native bf16 dot products: PyTorch runs its AVX512 kernels
   (``torch.backends.cpu.get_cpu_capability()``) and ``/proc/cpuinfo`` lists ``avx512_bf16``
   or ``amx_bf16`` (elsewhere PyTorch emulates bf16, much slower than float32);
3. the net's hidden layers do at least as many multiply-adds per sample as its input layer:
   ``sum(in * out of the hidden linear layers) >= in * out of the first``. Autocast converts the
   input layer's float32 features to bf16 on every step; with wide encodings (e.g. 512 Fourier
   features into a 2x128 net) that conversion costs more than the bf16 matmuls save (measured
   on a 2-core AMD EPYC with AVX512-BF16: 240 ms bf16 against 198 ms float32 per full-batch
   step on camera's 65,536 training pixels; 75 against 103 ms for a 2x128 net on raw
   coordinates).

The decision (:class:`PrecisionDecision`) is printed by ``coordnet fit``, written to
``metrics.json`` and the checkpoint, and a resumed fit reuses the stored one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Union

import torch
from torch import nn

#: ``/proc/cpuinfo`` flags of CPUs with native bf16 dot products.
BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")

BF16Setting = Union[bool, str, None]


@dataclass(frozen=True)
class PrecisionDecision:
    """Whether the net trains under bf16 autocast, and why (one line for people)."""

    bf16: bool
    reason: str

    @property
    def precision(self) -> str:
        """``"bf16"`` or ``"float32"``."""
        return "bf16" if self.bf16 else "float32"

    def to_dict(self) -> dict:
        return {"precision": self.precision, "bf16": self.bf16, "reason": self.reason}


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


def net_of(model: nn.Module) -> nn.Module:
    """The part of ``model`` that bf16 would speed up: ``model.net`` of a
    :class:`~coordnet.nets.CoordinateNet`, else the model itself."""
    return getattr(model, "net", model)


def layer_macs(net: nn.Module) -> "tuple[int, int]":
    """Multiply-adds per sample of ``net``'s first linear layer and of its hidden ones (the
    linear layers between the first and the last): ``(input, hidden)``; ``(0, 0)`` without
    linear layers."""
    linears = [module for module in net.modules() if isinstance(module, nn.Linear)]
    if not linears:
        return 0, 0
    first = linears[0].in_features * linears[0].out_features
    hidden = sum(layer.in_features * layer.out_features for layer in linears[1:-1])
    return first, hidden


def decide_bf16(
    model: nn.Module,
    device: Union[str, torch.device] = "cpu",
    setting: BF16Setting = "auto",
    flags: Optional[frozenset] = None,
) -> PrecisionDecision:
    """The precision of ``model``'s net: ``setting`` ``True``/``"on"`` forces bf16,
    ``False``/``"off"`` float32, ``"auto"``/``None`` applies the module's rule (CPU with native
    bf16 and hidden multiply-adds >= input-layer multiply-adds). ``flags``: CPU flags to use
    instead of ``/proc/cpuinfo`` (tests)."""
    if setting is True or setting == "on":
        return PrecisionDecision(True, "bf16 forced")
    if setting is False or setting == "off":
        return PrecisionDecision(False, "float32 forced")
    if setting not in ("auto", None):
        raise ValueError(
            f"bf16 setting must be True, False, 'on', 'off' or 'auto', got {setting!r}"
        )
    device = torch.device(device)
    if device.type != "cpu":
        return PrecisionDecision(False, f"auto: float32 on {device.type} (the rule covers CPUs)")
    if not cpu_has_bf16(flags):
        capability = torch.backends.cpu.get_cpu_capability()
        return PrecisionDecision(
            False, f"auto: float32, the CPU has no native bf16 ({capability}, no avx512_bf16/amx)"
        )
    first, hidden = layer_macs(net_of(model))
    if first == 0 or hidden < first:
        return PrecisionDecision(
            False,
            f"auto: float32, hidden layers {hidden} < input layer {first} multiply-adds per sample",
        )
    return PrecisionDecision(
        True,
        f"auto: bf16, native bf16 CPU and hidden layers {hidden} >= input layer {first} "
        "multiply-adds per sample",
    )
