"""Many same-shape ReLU MLPs evaluated and trained as one: weights stacked along a model axis.

``StackedMLP(M, ...)`` holds ``M`` independent copies of ``ReluMLP(in_dim, out_dim, width,
depth, output_activation)``: layer ``k`` has weights ``(M, fan_in, fan_out)`` and biases
``(M, 1, fan_out)``, applied with one batched matrix product (``torch.baddbmm``) per layer.
The models share no parameter, so the gradient of a sum of per-model losses with respect to
model ``m``'s parameters is exactly that model's own gradient, and an elementwise optimiser
(Adam, SGD) on the stacked tensors moves each model as its solo fit would.
"""

from __future__ import annotations

import math
from typing import List, Optional, Sequence

import torch
from torch import Tensor, nn

from coordnet.nets.mlp import ReluMLP
from coordnet.validation import check_choice, check_count

INITS = ("torch", "glorot")
# Standard deviation of a standard normal truncated to (-2, 2).
_TRUNCATED_STD = 0.87962566103423978


def round_to_tf32(x: Tensor) -> Tensor:
    """``x`` (float32, any shape) rounded to TF32 (10 mantissa bits, round to nearest even), same shape."""
    if x.dtype != torch.float32:
        raise ValueError(f"round_to_tf32 needs float32, got {x.dtype}")
    bits = x.contiguous().view(torch.int32)
    lsb = (bits >> 13) & 1
    rounded = (bits + 0xFFF + lsb) & ~0x1FFF
    return rounded.view(torch.float32)


class _TF32BatchedMatmul(torch.autograd.Function):
    """``a @ b`` with both operands (and the incoming gradient) rounded to TF32, fp32 accumulation:
    how TF32 tensor cores compute a float32 matmul and its two backward matmuls."""

    @staticmethod
    def forward(ctx, a: Tensor, b: Tensor) -> Tensor:
        ra, rb = round_to_tf32(a), round_to_tf32(b)
        ctx.save_for_backward(ra, rb)
        return torch.matmul(ra, rb)

    @staticmethod
    def backward(ctx, grad: Tensor):
        ra, rb = ctx.saved_tensors
        g = round_to_tf32(grad)
        grad_a = torch.matmul(g, rb.transpose(-1, -2))
        grad_b = torch.matmul(ra.transpose(-1, -2), g)
        if grad_b.dim() > rb.dim():  # a shared (N, in) input broadcast over the model axis
            grad_b = grad_b.sum(0)
        if grad_a.dim() > ra.dim():
            grad_a = grad_a.sum(0)
        return grad_a, grad_b


class StackedMLP(nn.Module):
    """``models`` independent ReLU MLPs of one shape: ``(N, in_dim)`` or ``(M, N, in_dim) -> (M, N, out_dim)``.

    Member ``m`` computes exactly ``ReluMLP(in_dim, out_dim, width, depth, output_activation)``
    (``depth`` hidden ``Linear -> ReLU`` layers, a linear head, optional sigmoid). A 2-D input
    ``(N, in_dim)`` is shared by every member (e.g. one coordinate grid with one encoding);
    a 3-D input gives each member its own ``(N, in_dim)``.

    Args:
        models: number of stacked models ``M``.
        in_dim, out_dim, width, depth, output_activation: as :class:`~coordnet.nets.ReluMLP`.
        init: ``"torch"`` (``nn.Linear``'s default: weights and biases ``U(-1/√fan_in, 1/√fan_in)``)
            or ``"glorot"`` (weights Glorot-normal truncated to two standard deviations, as
            ``jax.nn.initializers.glorot_normal``; biases ``N(0, 0.01²)``, as stax's ``Dense``).
        same_init: every member starts from the same draw (one model drawn, then copied).
        generator: the random source of the initialisation (``None``: torch's global one).
        tf32: compute every matmul (forward and backward) with operands rounded to TF32 and
            float32 accumulation, emulating TF32 tensor cores on any device.
        dtype, device: of the parameters.

    Attributes:
        weights: ``ParameterList`` of ``(M, fan_in, fan_out)``; biases: of ``(M, 1, fan_out)``.
    """

    def __init__(
        self,
        models: int,
        in_dim: int,
        out_dim: int,
        width: int = 256,
        depth: int = 3,
        output_activation: str = "none",
        *,
        init: str = "torch",
        same_init: bool = False,
        generator: Optional[torch.Generator] = None,
        tf32: bool = False,
        dtype: torch.dtype = torch.float32,
        device: Optional[torch.device | str] = None,
    ) -> None:
        super().__init__()
        self.models = check_count("models", models)
        self.in_dim = check_count("in_dim", in_dim)
        self.out_dim = check_count("out_dim", out_dim)
        self.width = check_count("width", width)
        self.depth = check_count("depth", depth, minimum=0)
        self.output_activation = check_choice(
            "output_activation", output_activation, ("none", "sigmoid")
        )
        self.init = check_choice("init", init, INITS)
        self.tf32 = bool(tf32)
        sizes = [in_dim] + [width] * depth + [out_dim]
        drawn = 1 if same_init else models
        weights: List[nn.Parameter] = []
        biases: List[nn.Parameter] = []
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            w = torch.empty(drawn, fan_in, fan_out, dtype=dtype, device=device)
            b = torch.empty(drawn, 1, fan_out, dtype=dtype, device=device)
            if init == "torch":
                bound = 1.0 / math.sqrt(fan_in)
                w.uniform_(-bound, bound, generator=generator)
                b.uniform_(-bound, bound, generator=generator)
            else:
                std = math.sqrt(2.0 / (fan_in + fan_out)) / _TRUNCATED_STD
                nn.init.trunc_normal_(w, std=std, a=-2 * std, b=2 * std, generator=generator)
                b.normal_(0.0, 0.01, generator=generator)
            weights.append(nn.Parameter(w.expand(models, -1, -1).clone()))
            biases.append(nn.Parameter(b.expand(models, -1, -1).clone()))
        self.weights = nn.ParameterList(weights)
        self.biases = nn.ParameterList(biases)

    def forward(self, x: Tensor) -> Tensor:
        """``x (N, in_dim)`` (shared) or ``(M, N, in_dim)`` -> ``(M, N, out_dim)``."""
        if (
            x.dim() not in (2, 3)
            or x.shape[-1] != self.in_dim
            or (x.dim() == 3 and x.shape[0] != self.models)
        ):
            raise ValueError(
                f"input must be (N, {self.in_dim}) or ({self.models}, N, {self.in_dim}), got {tuple(x.shape)}"
            )
        h = x
        last = len(self.weights) - 1
        for index, (w, b) in enumerate(zip(self.weights, self.biases)):
            if self.tf32:
                h = _TF32BatchedMatmul.apply(h, w) + b
            elif h.dim() == 2:
                h = torch.matmul(h, w) + b
            else:
                h = torch.baddbmm(b, h, w)
            if index < last:
                h = torch.relu(h)
        return torch.sigmoid(h) if self.output_activation == "sigmoid" else h

    @torch.no_grad()
    def member(self, index: int) -> ReluMLP:
        """Model ``index`` as a standalone :class:`~coordnet.nets.ReluMLP` (a copy of its parameters)."""
        if not 0 <= index < self.models:
            raise ValueError(f"index must be in [0, {self.models}), got {index}")
        mlp = ReluMLP(
            self.in_dim,
            self.out_dim,
            self.width,
            self.depth,
            output_activation=self.output_activation,
        )
        mlp = mlp.to(dtype=self.weights[0].dtype, device=self.weights[0].device)
        linears = [m for m in mlp.layers if isinstance(m, nn.Linear)]
        for linear, w, b in zip(linears, self.weights, self.biases):
            linear.weight.copy_(w[index].T)
            linear.bias.copy_(b[index, 0])
        return mlp

    @classmethod
    @torch.no_grad()
    def from_mlps(cls, mlps: Sequence[ReluMLP], **kwargs) -> "StackedMLP":
        """The stack of ``mlps`` (all :class:`~coordnet.nets.ReluMLP` of one shape, with biases);
        ``kwargs`` go to the constructor (e.g. ``tf32``)."""
        if not mlps:
            raise ValueError("from_mlps needs at least one ReluMLP")
        first = mlps[0]
        shape = (first.in_dim, first.out_dim, first.width, first.depth, first.output_activation)
        for mlp in mlps:
            if (mlp.in_dim, mlp.out_dim, mlp.width, mlp.depth, mlp.output_activation) != shape:
                raise ValueError(
                    f"every ReluMLP must have the shape {shape}, one has a different one"
                )
        weight = next(first.parameters())
        stacked = cls(
            len(mlps),
            *shape[:4],
            output_activation=shape[4],
            dtype=weight.dtype,
            device=weight.device,
            **kwargs,
        )
        for layer, (w, b) in enumerate(zip(stacked.weights, stacked.biases)):
            for m, mlp in enumerate(mlps):
                linear = [x for x in mlp.layers if isinstance(x, nn.Linear)][layer]
                if linear.bias is None:
                    raise ValueError("from_mlps needs ReluMLPs with biases")
                w[m].copy_(linear.weight.T)
                b[m, 0].copy_(linear.bias)
        return stacked
