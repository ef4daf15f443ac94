"""Bit-packed activation patterns, computed chunk by chunk without a dense boolean matrix.

A pattern has one bit per hidden unit (on iff its pre-activation is ``> 0``), packed into
64-bit words: hidden layer ``k`` starts at word ``ReluNetwork.word_offsets[k]`` and its unit
``j`` is bit ``j % 64`` of word ``offset + j // 64``. The forward pass runs in the model's
dtype under ``torch.no_grad`` in chunks of rows; each layer's ``addmm`` writes into a reused
chunk buffer that :func:`coordnet.ops.pack_signs_relu_` packs and rectifies in one pass.
Models in float16/bfloat16 are evaluated in float32 (their weights converted exactly).
"""

from __future__ import annotations

from typing import Callable, Optional

import torch
from torch import Tensor

from coordnet import ops
from coordnet.regions.memory import default_chunk
from coordnet.regions.network import ReluNetwork, relu_network
from coordnet.validation import check_count

#: ``source(start, end) -> (end - start, d)`` points of rows ``start..end-1``.
PointSource = Callable[[int, int], Tensor]

_POPCOUNT_MASKS = (0x5555555555555555, 0x3333333333333333, 0x0F0F0F0F0F0F0F0F, 0x0101010101010101)


def tensor_source(points: Tensor) -> PointSource:
    """A :data:`PointSource` reading rows of ``points (N, d)``."""
    return lambda start, end: points[start:end]


def resolve_chunk(chunk: Optional[int], network: ReluNetwork) -> int:
    """``chunk`` checked, or the default for ``network`` (:func:`~coordnet.regions.memory.default_chunk`)."""

    if chunk is None:
        return default_chunk(network.max_width)
    return check_count("chunk", chunk)


def packed_patterns_from(
    network: ReluNetwork, num_points: int, source: PointSource, chunk: int
) -> Tensor:
    """Packed patterns ``(num_points, network.num_words)`` int64 of the points ``source`` yields."""
    device = network.device
    if num_points == 0 or network.num_words == 0:
        return torch.zeros(num_points, network.num_words, dtype=torch.int64, device=device)
    # Every word belongs to one layer and pack_signs_relu_ overwrites all of a layer's words.
    packed = torch.empty(num_points, network.num_words, dtype=torch.int64, device=device)
    dtype = network.compute_dtype
    rows_max = min(chunk, num_points)
    buffers = [
        torch.empty(rows_max * network.max_width, dtype=dtype, device=device) for _ in range(2)
    ]
    layers = [(weight.t(), bias) for weight, bias in network.layer_weights()]
    offsets = network.word_offsets
    last = len(layers) - 1
    with torch.no_grad():
        for start in range(0, num_points, chunk):
            end = min(num_points, start + chunk)
            rows = end - start
            h = network.encode(source(start, end))
            target = packed[start:end]
            for index, (weight_t, bias) in enumerate(layers):
                width = weight_t.shape[1]
                out = buffers[index % 2][: rows * width].view(rows, width)
                if bias is None:
                    torch.mm(h, weight_t, out=out)
                else:
                    torch.addmm(bias, h, weight_t, out=out)
                # The last hidden layer's rectified values are never read: skip the ReLU there.
                ops.pack_signs_relu_(out, target, offsets[index], relu=index != last)
                h = out
    return packed


def activation_patterns(net, points: Tensor, *, chunk: Optional[int] = None) -> Tensor:
    """Bit-packed activation patterns of ``points``.

    Args:
        net: a ReLU model accepted by :func:`~coordnet.regions.relu_network`.
        points: ``(N, d)`` input points (signal coordinates for a ``CoordinateNet``).
        chunk: rows per forward chunk (default: :func:`~coordnet.regions.memory.default_chunk`).

    Returns:
        ``(N, words)`` int64, ``words = sum(ceil(width / 64))`` over the hidden layers; the
        layout is described in :mod:`coordnet.regions.patterns`.
    """
    network = relu_network(net)
    points = network.check_points(points)
    return packed_patterns_from(
        network, points.shape[0], tensor_source(points), resolve_chunk(chunk, network)
    )


def unpack_patterns(packed: Tensor, net) -> Tensor:
    """Packed patterns ``(N, words)`` -> dense booleans ``(N, units)``, layer after layer, input side first."""
    network = relu_network(net)
    if packed.dim() != 2 or packed.shape[1] != network.num_words or packed.dtype != torch.int64:
        raise ValueError(
            f"packed must be an int64 tensor of shape (N, {network.num_words}), "
            f"got {packed.dtype} {tuple(packed.shape)}"
        )
    shifts = torch.arange(64, device=packed.device, dtype=torch.int64)
    layers = []
    for offset, width in zip(network.word_offsets, network.widths):
        words = ops.pattern_words(width)
        bits = (packed[:, offset : offset + words, None] >> shifts) & 1
        layers.append(bits.reshape(packed.shape[0], words * 64)[:, :width].bool())
    if not layers:
        return torch.zeros(packed.shape[0], 0, dtype=torch.bool, device=packed.device)
    return torch.cat(layers, dim=1)


def popcount(words: Tensor) -> Tensor:
    """Set bits of each int64 of ``words`` (any shape) -> same shape, int64."""
    m1, m2, m4, h01 = _POPCOUNT_MASKS
    x = words - ((words >> 1) & m1)
    x = (x & m2) + ((x >> 2) & m2)
    x = (x + (x >> 4)) & m4
    return (x * h01) >> 56
