"""Lazzari & Liu (2023)'s local measures: activation-pattern Hamming distance and gradient confusion.

* Hamming distance between the activation patterns of two inputs: the number of hidden ReLU
  units that are on for one and off for the other (``0``: same activation region).
* Gradient confusion between two inputs: the cosine similarity of their per-sample gradients
  with respect to all trainable parameters. Values near 1 mean a gradient step for one input
  moves the other the same way; negative values mean the two inputs pull the parameters in
  opposite directions (confusion, which slows gradient descent). Computed with
  ``torch.func`` (``functional_call`` + ``vmap(grad)``) for any differentiable model, ReLU
  or not.

:func:`compare_pairs` summarises both for nearby and distant pairs (:func:`~coordnet.regions.sample_pairs`).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Callable, Dict, Iterator, Optional

import torch
from torch import Tensor, nn

from coordnet import ops
from coordnet.regions.network import relu_network
from coordnet.regions.pairs import PointPairs, pair_distances
from coordnet.regions.patterns import activation_patterns, popcount
from coordnet.validation import check_count

#: Pairs whose gradients are held in memory at once by :func:`gradient_confusion`.
DEFAULT_GRADIENT_CHUNK = 64

Target = Callable[[Tensor], Tensor]


def _check_pair(a: Tensor, b: Tensor) -> None:
    for name, x in (("a", a), ("b", b)):
        if not isinstance(x, Tensor) or not x.is_floating_point() or x.dim() != 2:
            raise ValueError(
                f"{name} must be a floating-point tensor of shape (P, d), got {x!r:.80}"
            )
    if a.shape != b.shape:
        raise ValueError(
            f"a and b must have the same shape, got {tuple(a.shape)} and {tuple(b.shape)}"
        )


def hamming_distance(
    net, a: Tensor, b: Tensor, *, normalize: bool = False, chunk: Optional[int] = None
) -> Tensor:
    """Hamming distance between the activation patterns of ``a[i]`` and ``b[i]``.

    Args:
        net: a ReLU model (see :func:`~coordnet.regions.relu_network`).
        a, b: ``(P, d)`` input points.
        normalize: divide by the number of hidden units.
        chunk: rows per forward chunk.

    Returns:
        ``(P,)`` int64 numbers of units whose on/off state differs (float64 fractions with
        ``normalize``).
    """
    _check_pair(a, b)
    network = relu_network(net)
    packed_a = activation_patterns(network, a, chunk=chunk)
    packed_b = activation_patterns(network, b, chunk=chunk)
    distance = popcount(packed_a ^ packed_b).sum(dim=1)
    if normalize:
        return distance.to(torch.float64) / max(network.num_units, 1)
    return distance


@contextlib.contextmanager
def _reference_ops() -> Iterator[None]:
    """Run coordnet's ops on their pure-PyTorch references (which ``vmap`` can batch)."""
    previous = ops.get_backend_mode()
    ops.set_backend("reference")
    try:
        yield
    finally:
        ops.set_backend(previous)


def _trainable(model: nn.Module) -> Dict[str, Tensor]:
    params = {name: p.detach() for name, p in model.named_parameters() if p.requires_grad}
    if not params:
        raise ValueError(
            f"{type(model).__name__} has no trainable parameters; gradients are undefined"
        )
    return params


def per_sample_gradients(model: nn.Module, x: Tensor, targets: Optional[Tensor] = None) -> Tensor:
    """Gradient of each sample's loss with respect to all trainable parameters, flattened.

    The loss of sample ``i`` is ``sum((model(x_i) - targets_i)²)`` with targets, else the
    summed output ``sum(model(x_i))``. Computed with ``torch.func.vmap(grad(...))`` over
    ``functional_call``.

    Args:
        model: any differentiable ``nn.Module`` mapping ``(n, d) -> (n, C)``.
        x: ``(N, d)`` inputs (converted to the parameters' dtype and device).
        targets: ``(N, C)`` targets, or ``None``.

    Returns:
        ``(N, P)`` in the parameters' dtype, ``P`` the number of trainable parameters, in the
        order of ``model.named_parameters()``.
    """
    from torch.func import functional_call, grad, vmap

    params = _trainable(model)
    reference = next(iter(params.values()))
    buffers = {name: b.detach() for name, b in model.named_buffers()}
    x = x.to(device=reference.device, dtype=reference.dtype)
    if targets is not None:
        if not isinstance(targets, Tensor) or targets.shape[0] != x.shape[0]:
            raise ValueError(
                f"targets must be a tensor with {x.shape[0]} rows, got {targets!r:.80}"
            )
        targets = targets.to(device=reference.device, dtype=reference.dtype)

    def loss(p: Dict[str, Tensor], xi: Tensor, yi: Optional[Tensor]) -> Tensor:
        out = functional_call(model, (p, buffers), (xi.unsqueeze(0),))
        if yi is None:
            return out.sum()
        return ((out - yi.reshape(out.shape)) ** 2).sum()

    with _reference_ops():
        grads = vmap(grad(loss), in_dims=(None, 0, None if targets is None else 0))(
            params, x, targets
        )
    return torch.cat([grads[name].reshape(x.shape[0], -1) for name in params], dim=1)


def gradient_confusion(
    model: nn.Module,
    a: Tensor,
    b: Tensor,
    targets_a: Optional[Tensor] = None,
    targets_b: Optional[Tensor] = None,
    *,
    chunk: int = DEFAULT_GRADIENT_CHUNK,
) -> Tensor:
    """Cosine similarity of the per-sample parameter gradients of ``a[i]`` and ``b[i]``.

    Args:
        model: any differentiable model (ReLU or not).
        a, b: ``(P, d)`` inputs.
        targets_a, targets_b: ``(P, C)`` targets (both or neither): per-sample squared-error
            losses; without them the summed output is differentiated.
        chunk: pairs whose gradients are held at once (memory ``2 × chunk × parameters``).

    Returns:
        ``(P,)`` float64 cosines in ``[-1, 1]``; 0 where a gradient is zero.
    """
    _check_pair(a, b)
    if (targets_a is None) != (targets_b is None):
        raise ValueError("give targets for both a and b, or for neither")
    check_count("chunk", chunk)
    cosines = []
    for start in range(0, a.shape[0], chunk):
        rows = slice(start, start + chunk)
        ga = per_sample_gradients(
            model, a[rows], None if targets_a is None else targets_a[rows]
        ).double()
        gb = per_sample_gradients(
            model, b[rows], None if targets_b is None else targets_b[rows]
        ).double()
        norms = ga.norm(dim=1) * gb.norm(dim=1)
        dots = (ga * gb).sum(dim=1)
        cosines.append(
            torch.where(norms > 0, dots / norms.clamp_min(1e-300), torch.zeros_like(dots)).cpu()
        )
    return torch.cat(cosines) if cosines else torch.zeros(0, dtype=torch.float64)


@dataclass
class GroupSummary:
    """Mean and standard deviation (population) of a measure over one group of pairs.

    ``hamming_*`` are ``None`` for models without ReLU structure.
    """

    pairs: int
    distance_mean: float
    hamming_mean: Optional[float]
    hamming_std: Optional[float]
    confusion_mean: float
    confusion_std: float


@dataclass(eq=False)
class PairComparison:
    """Hamming distances and gradient confusion of nearby vs distant pairs.

    Attributes:
        near, far: :class:`GroupSummary` of each group.
        hamming_near, hamming_far: ``(P,)`` int64 Hamming distances (``None`` without ReLU structure).
        confusion_near, confusion_far: ``(P,)`` float64 gradient cosines.
        num_units: hidden ReLU units (``None`` without ReLU structure).
        near_radius, far_radius: the pair sampler's radii.
    """

    near: GroupSummary
    far: GroupSummary
    hamming_near: Optional[Tensor]
    hamming_far: Optional[Tensor]
    confusion_near: Tensor
    confusion_far: Tensor
    num_units: Optional[int]
    near_radius: float
    far_radius: float

    def to_dict(self) -> dict:
        from dataclasses import asdict

        return {
            "near": asdict(self.near),
            "far": asdict(self.far),
            "num_units": self.num_units,
            "near_radius": self.near_radius,
            "far_radius": self.far_radius,
        }


def _stats(values: Tensor) -> "tuple[float, float]":
    values = values.to(torch.float64)
    return float(values.mean()), float(values.std(correction=0))


def _has_relu_structure(model: nn.Module) -> bool:
    try:
        relu_network(model)
    except (TypeError, ValueError):
        return False
    return True


def compare_pairs(
    model: nn.Module,
    pairs: PointPairs,
    *,
    target: Optional[Target] = None,
    hamming: Optional[bool] = None,
    chunk: int = DEFAULT_GRADIENT_CHUNK,
) -> PairComparison:
    """Hamming distance and gradient confusion for the nearby and the distant pairs of ``pairs``.

    Args:
        model: any differentiable model; Hamming distances need a ReLU model.
        pairs: from :func:`~coordnet.regions.sample_pairs`.
        target: optional ``target(points (n, d)) -> values (n, C)``; with it gradient confusion
            uses per-sample squared-error losses, without it the summed output.
        hamming: compute Hamming distances (``None``: when the model has ReLU structure;
            ``True`` on another model raises the structure error).
        chunk: pairs per gradient chunk.
    """
    if hamming is None:
        hamming = _has_relu_structure(model)
    groups = {}
    for name, (a, b) in (
        ("near", (pairs.near_a, pairs.near_b)),
        ("far", (pairs.far_a, pairs.far_b)),
    ):
        ya = yb = None
        if target is not None:
            ya, yb = target(a), target(b)
        confusion = gradient_confusion(model, a, b, ya, yb, chunk=chunk)
        distances = hamming_distance(model, a, b) if hamming else None
        c_mean, c_std = _stats(confusion)
        h_mean, h_std = _stats(distances) if distances is not None else (None, None)
        summary = GroupSummary(
            pairs=int(a.shape[0]),
            distance_mean=float(pair_distances(a, b).mean()),
            hamming_mean=h_mean,
            hamming_std=h_std,
            confusion_mean=c_mean,
            confusion_std=c_std,
        )
        groups[name] = (summary, distances, confusion)
    return PairComparison(
        near=groups["near"][0],
        far=groups["far"][0],
        hamming_near=groups["near"][1],
        hamming_far=groups["far"][1],
        confusion_near=groups["near"][2],
        confusion_far=groups["far"][2],
        num_units=relu_network(model).num_units if hamming else None,
        near_radius=pairs.near_radius,
        far_radius=pairs.far_radius,
    )
