"""An encoder followed by a net, fed from the signal's coordinate domain."""

from __future__ import annotations

import math
from typing import Any, Optional, Sequence, Tuple, Union

import torch
from torch import Tensor, nn

Interval = Tuple[float, float]
Domain = Union[Interval, Sequence[Interval]]


def _interval(name: str, value: Any) -> Interval:
    ok = isinstance(value, (tuple, list)) and len(value) == 2
    if ok:
        low, high = value
        ok = all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
            for v in value
        )
        ok = ok and low < high
    if not ok:
        raise ValueError(
            f"{name} must be an interval (low, high) of finite numbers with low < high, got {value!r}"
        )
    return float(value[0]), float(value[1])


def module_size(module: nn.Module, name: str) -> int:
    """The integer attribute ``name`` (``"in_dim"``, ``"out_dim"``) of an encoder or net."""
    return int(getattr(module, name))


def _domain(name: str, value: Any, in_dim: int) -> Tuple[Interval, ...]:
    """One interval for every coordinate: ``(low, high)`` for all, or ``in_dim`` of them."""
    if (
        isinstance(value, (tuple, list))
        and len(value) > 0
        and all(isinstance(v, (tuple, list)) for v in value)
    ):
        if len(value) != in_dim:
            raise ValueError(
                f"{name} must give one interval per coordinate ({in_dim}), got {len(value)}: {value!r}"
            )
        return tuple(_interval(f"{name}[{i}]", v) for i, v in enumerate(value))
    return (_interval(name, value),) * in_dim


class CoordinateNet(nn.Module):
    """``encoder`` then ``net``, with signal coordinates mapped onto what the first stage expects.

    ``forward(x (..., in_dim)) -> (..., out_dim)``. Signal coordinates live in
    ``signal_domain`` (per coordinate; default ``[0, 1]``, coordnet's convention). Before
    the first stage they are mapped affinely, per coordinate, onto that stage's
    ``input_domain``: the encoder's if there is an encoder (``None`` there means no mapping:
    raw signal coordinates, as nerf-pytorch), else the net's (SIREN: ``[-1, 1]``; ReLU MLP:
    ``None``, raw coordinates). Coordinates outside ``signal_domain`` are mapped by the same
    affine map (extrapolation), never clamped.

    Args:
        encoder: an input encoding with ``in_dim``, ``out_dim`` (and optionally
            ``input_domain``), or ``None`` to feed the net coordinates directly.
        net: a net with ``in_dim``, ``out_dim`` and ``input_domain``; its ``in_dim`` must be
            the encoder's ``out_dim``.
        signal_domain: ``(low, high)`` for every coordinate, or one such pair per coordinate.

    Attributes:
        encoder, net, in_dim, out_dim, signal_domain (one pair per coordinate),
        target_domain (the first stage's ``input_domain``), spec (the
        :class:`~coordnet.nets.spec.ModelSpec` the model was built from, if any).
    """

    spec: Optional[Any] = None  # the ModelSpec it was built from (set by nets.spec.build_model)
    coordinate_scale: Tensor  # (in_dim,) float64 buffers of the map onto the first stage's domain
    coordinate_offset: Tensor

    def __init__(
        self, encoder: Optional[nn.Module], net: nn.Module, signal_domain: Domain = (0.0, 1.0)
    ) -> None:
        super().__init__()
        if not isinstance(net, nn.Module):
            raise TypeError(f"net must be an nn.Module, got {type(net).__name__}")
        if encoder is not None and not isinstance(encoder, nn.Module):
            raise TypeError(f"encoder must be an nn.Module or None, got {type(encoder).__name__}")
        for label, module in (("encoder", encoder), ("net", net)):
            if module is not None and not all(hasattr(module, a) for a in ("in_dim", "out_dim")):
                raise ValueError(
                    f"{label} {type(module).__name__} must have attributes in_dim and out_dim"
                )
        if encoder is not None and encoder.out_dim != net.in_dim:
            raise ValueError(
                f"encoder {type(encoder).__name__} has out_dim={encoder.out_dim} but net "
                f"{type(net).__name__} has in_dim={net.in_dim}; they must agree"
            )
        self.encoder = encoder
        self.net = net
        self.in_dim: int = module_size(encoder if encoder is not None else net, "in_dim")
        self.out_dim: int = module_size(net, "out_dim")
        self.signal_domain = _domain("signal_domain", signal_domain, self.in_dim)
        first = encoder if encoder is not None else net
        target = getattr(first, "input_domain", None)
        self.target_domain: Optional[Interval] = (
            None if target is None else _interval("input_domain", target)
        )
        if self.target_domain is None:
            scale, offset = [1.0] * self.in_dim, [0.0] * self.in_dim
        else:  # [low, high] -> [a, b]: x' = a + (x - low) (b - a) / (high - low)
            a, b = self.target_domain
            scale = [(b - a) / (high - low) for low, high in self.signal_domain]
            offset = [a - low * s for (low, _), s in zip(self.signal_domain, scale)]
        self.maps_coordinates = any(s != 1.0 for s in scale) or any(o != 0.0 for o in offset)
        self.register_buffer(
            "coordinate_scale", torch.tensor(scale, dtype=torch.float64), persistent=False
        )
        self.register_buffer(
            "coordinate_offset", torch.tensor(offset, dtype=torch.float64), persistent=False
        )

    def map_coordinates(self, x: Tensor) -> Tensor:
        """Signal coordinates ``(..., in_dim)`` -> inputs of the first stage ``(..., in_dim)``."""
        if not self.maps_coordinates:
            return x
        return x * self.coordinate_scale.to(x.dtype) + self.coordinate_offset.to(x.dtype)

    def forward(self, x: Tensor) -> Tensor:
        """``x (..., in_dim)`` in signal coordinates -> ``(..., out_dim)``."""
        if not isinstance(x, Tensor) or not x.is_floating_point():
            raise TypeError(f"CoordinateNet: x must be a floating-point tensor, got {x!r:.80}")
        if x.dim() == 0 or x.shape[-1] != self.in_dim:
            raise ValueError(
                f"CoordinateNet: x must have shape (..., {self.in_dim}), got {tuple(x.shape)}"
            )
        h = self.map_coordinates(x)
        if self.encoder is not None:
            h = self.encoder(h)
        return self.net(h)

    def num_parameters(self, trainable_only: bool = False) -> int:
        """Number of scalar parameters (buffers such as a fixed Gaussian ``B`` are not counted)."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad or not trainable_only)

    def extra_repr(self) -> str:
        domain = self.signal_domain[0] if len(set(self.signal_domain)) == 1 else self.signal_domain
        return (
            f"in_dim={self.in_dim}, out_dim={self.out_dim}, signal_domain={domain}, "
            f"target_domain={self.target_domain}"
        )
