"""``Encoding``, ``Network`` and ``NetworkWithInputEncoding`` with tiny-cuda-nn's PyTorch API.

Each module owns one flat trainable parameter, ``params`` ``(n_params,)`` float32, in
tiny-cuda-nn's layout (a network's weight matrices, input layer first, each ``(fan_out, fan_in)``
row-major; then the encoding's parameters, nested encodings in order), so a ``params`` vector or
``state_dict()`` saved from tiny-cuda-nn loads unchanged. The computation is coordnet's torch
model of the same config (:func:`coordnet.encoders.from_config`,
:class:`coordnet.nets.tcnn_model.TcnnModel`), run on slices of ``params`` with
:func:`torch.func.functional_call`, on whatever device the module is on.

Conventions kept from tiny-cuda-nn: inputs ``(batch, n_input_dims)`` (any leading shape is
accepted) are cast to float32; grids expect coordinates in [0, 1]; a network's input is padded
to a multiple of 16 with ones and its output layer has ``next_multiple(n_output_dims, 16)``
rows, of which the first ``n_output_dims`` are returned; outputs are ``dtype`` (float16 by
default where CUDA runs, tiny-cuda-nn's choice) for CUDA inputs and float32 for CPU inputs.
"""

from __future__ import annotations

import copy
import functools
import warnings
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

import torch
from torch import Tensor, nn

from coordnet.encoders.base import Encoder
from coordnet.encoders.config import from_config, load_config
from coordnet.nets.tcnn_model import TcnnModel, _encoding_parameters, parse_network_config
from coordnet.tcnn.runtime import (
    Precision,
    default_loss_scale,
    preferred_precision,
    torch_precision,
)
from coordnet.validation import check_count

Builder = Callable[[int], Tuple[nn.Module, List[Tensor]]]


class NativeModule:
    """What tiny-cuda-nn exposes as ``module.native_tcnn_module``: sizes, precision, config."""

    def __init__(
        self,
        name: str,
        n_input_dims: int,
        n_output_dims: int,
        n_params: int,
        precision: Precision,
        hyperparams: Dict[str, Any],
        builder: Builder,
    ) -> None:
        self._name, self._n_input_dims, self._n_output_dims = name, n_input_dims, n_output_dims
        self._n_params, self._precision, self._hyperparams, self._builder = (
            n_params,
            precision,
            hyperparams,
            builder,
        )
        self.jit_fusion = False

    def name(self) -> str:
        return self._name

    def n_input_dims(self) -> int:
        return self._n_input_dims

    def n_output_dims(self) -> int:
        return self._n_output_dims

    def n_params(self) -> int:
        return self._n_params

    def param_precision(self) -> Precision:
        return self._precision

    def output_precision(self) -> Precision:
        return self._precision

    def hyperparams(self) -> Dict[str, Any]:
        return copy.deepcopy(self._hyperparams)

    def initial_params(self, seed: int) -> Tensor:
        """A freshly initialised flat parameter vector ``(n_params,)`` float32 for ``seed``."""
        _, ordered = self._builder(int(seed))
        return flatten(ordered)


def flatten(parameters: List[Tensor]) -> Tensor:
    """``parameters`` concatenated into one float32 vector (a detached copy)."""
    if not parameters:
        return torch.zeros(0)
    return torch.cat([p.detach().reshape(-1).float() for p in parameters])


def _detach_parameters(model: nn.Module, ordered: List[Tensor]) -> List[Tuple[str, torch.Size]]:
    """Turn ``model``'s parameters into non-persistent buffers; the names and shapes of ``ordered``.

    The buffers stay in ``model`` so that ``.to(device)`` moves them and ``functional_call`` can
    replace them by slices of the flat vector; every other buffer becomes non-persistent too, so
    the owning module's ``state_dict`` is ``{"params": ...}`` exactly, as tiny-cuda-nn's.
    """
    names = {id(p): name for name, p in model.named_parameters(remove_duplicate=False)}
    missing = [i for i, p in enumerate(ordered) if id(p) not in names]
    if missing:
        raise RuntimeError(
            f"parameters {missing} of the tiny-cuda-nn layout are not parameters of the model"
        )
    layout = [(names[id(p)], p.shape) for p in ordered]
    for name, _ in list(model.named_parameters(remove_duplicate=False)):
        owner_name, _, attribute = name.rpartition(".")
        owner = model.get_submodule(owner_name)
        tensor = owner._parameters.pop(attribute)
        if tensor is not None:  # a parameter slot set to None holds nothing to keep
            owner.register_buffer(attribute, tensor.detach(), persistent=False)
    for module in model.modules():
        module._non_persistent_buffers_set.update(module._buffers.keys())
    return layout


class Module(nn.Module):
    """Base of the three modules: one flat ``params`` and a coordnet model computing from it.

    Attributes (tiny-cuda-nn's): ``n_input_dims``, ``n_output_dims``, ``seed``, ``dtype`` (the
    output precision on CUDA), ``params`` (``nn.Parameter`` ``(n_params,)`` float32),
    ``loss_scale``, ``native_tcnn_module`` (:class:`NativeModule`), ``jit_fusion`` (always off).
    """

    n_input_dims: int
    n_output_dims: int

    def __init__(
        self,
        name: str,
        builder: Builder,
        hyperparams: Dict[str, Any],
        seed: int,
        dtype: torch.dtype,
    ) -> None:
        super().__init__()
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise TypeError(f"seed must be an int, got {seed!r}")
        self.seed = seed
        self.dtype = dtype
        model, ordered = builder(seed)
        initial = flatten(ordered)
        self._layout = _detach_parameters(model, ordered)
        self.model = model
        self.params = nn.Parameter(initial, requires_grad=True)
        precision = Precision.Fp16 if dtype == torch.half else Precision.Fp32
        self.native_tcnn_module = NativeModule(
            name,
            self.n_input_dims,
            self.n_output_dims,
            initial.numel(),
            precision,
            hyperparams,
            builder,
        )
        self.loss_scale = default_loss_scale(precision)

    @property
    def jit_fusion(self) -> bool:
        return False

    @jit_fusion.setter
    def jit_fusion(self, value: bool) -> None:
        if value:
            warnings.warn(
                "coordnet.tcnn: JIT fusion is not available; the modules run unfused", stacklevel=2
            )

    def _tensors(self) -> Dict[str, Tensor]:
        flat = self.params.float()
        tensors, offset = {}, 0
        for name, shape in self._layout:
            count = shape.numel()
            tensors[name] = flat[offset : offset + count].view(shape)
            offset += count
        return tensors

    def forward(self, x: Tensor) -> Tensor:
        """``x (batch, n_input_dims)`` (any leading shape) -> ``(batch, n_output_dims)``, see the module docstring."""
        if not isinstance(x, Tensor) or x.dim() == 0 or x.shape[-1] != self.n_input_dims:
            shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
            raise ValueError(
                f"{type(self).__name__}: input must have shape (batch, {self.n_input_dims}), got {shape}"
            )
        y = torch.func.functional_call(self.model, self._tensors(), (x.to(torch.float32),))
        return y.to(self.dtype if x.is_cuda else torch.float32)

    def extra_repr(self) -> str:
        return (
            f"n_input_dims={self.n_input_dims}, n_output_dims={self.n_output_dims}, seed={self.seed}, "
            f"dtype={self.dtype}, hyperparams={self.native_tcnn_module.hyperparams()}"
        )


def _dtype(dtype: Optional[torch.dtype]) -> torch.dtype:
    if dtype is None:
        return torch_precision(preferred_precision())
    if dtype not in (torch.float32, torch.float16):
        raise ValueError(f"Encoding only supports fp32 or fp16 precision, but got {dtype}")
    return dtype


class Encoding(Module):
    """tiny-cuda-nn's ``Encoding``: ``(batch, n_input_dims) -> (batch, n_output_dims)``.

    Args:
        n_input_dims: input width.
        encoding_config: a tiny-cuda-nn encoding config (dict, JSON string or file; see
            :func:`coordnet.encoders.from_config`).
        seed: initialisation seed of the trainable encodings (grids).
        dtype: output precision on CUDA, ``torch.float32`` or ``torch.float16``; ``None``: float16
            where CUDA runs, else float32.
    """

    def __init__(
        self,
        n_input_dims: int,
        encoding_config: Any,
        seed: int = 1337,
        dtype: Optional[torch.dtype] = None,
    ) -> None:
        check_count("n_input_dims", n_input_dims)
        config = load_config(encoding_config)
        self.n_input_dims = n_input_dims
        self.encoding_config = encoding_config

        build = functools.partial(_build_encoding, config, n_input_dims)
        probe, _ = build(0)
        self.n_output_dims = int(probe.out_dim)
        resolved = _dtype(dtype)
        self.precision = Precision.Fp16 if resolved == torch.half else Precision.Fp32
        super().__init__("Encoding", build, getattr(probe, "config", config), seed, resolved)


def _build_encoding(
    config: Mapping[str, Any], n_input_dims: int, seed: int
) -> Tuple[Encoder, List[Tensor]]:
    encoder = from_config(config, n_input_dims, seed=seed)
    return encoder, _encoding_parameters(encoder)


def _build_model(
    n_input_dims: int, n_output_dims: int, encoding: Any, network: Mapping[str, Any], seed: int
) -> Tuple[TcnnModel, List[Tensor]]:
    model = TcnnModel(n_input_dims, n_output_dims, encoding, network, seed=seed)
    return model, model._parameter_list()


def _model_builder(
    n_input_dims: int, n_output_dims: int, encoding: Any, network: Mapping[str, Any]
) -> Builder:
    return functools.partial(_build_model, n_input_dims, n_output_dims, encoding, network)


class NetworkWithInputEncoding(Module):
    """tiny-cuda-nn's ``NetworkWithInputEncoding``: an encoding, then a network (no biases).

    ``(batch, n_input_dims) -> (batch, n_output_dims)``; ``params`` holds the network's weights,
    then the encoding's parameters.
    """

    def __init__(
        self,
        n_input_dims: int,
        n_output_dims: int,
        encoding_config: Any,
        network_config: Mapping[str, Any],
        seed: int = 1337,
    ) -> None:
        check_count("n_input_dims", n_input_dims)
        check_count("n_output_dims", n_output_dims)
        self.n_input_dims, self.n_output_dims = n_input_dims, n_output_dims
        self.encoding_config, self.network_config = encoding_config, network_config
        encoding = load_config(encoding_config)
        network = parse_network_config(network_config)
        hyperparams = {"encoding": encoding, "network": network}
        builder = _model_builder(n_input_dims, n_output_dims, encoding, network)
        super().__init__(
            "NetworkWithInputEncoding",
            builder,
            hyperparams,
            seed,
            torch_precision(preferred_precision()),
        )


class Network(Module):
    """tiny-cuda-nn's ``Network``: ``FullyFusedMLP`` / ``CutlassMLP`` on inputs padded with ones to
    a multiple of 16, ``(batch, n_input_dims) -> (batch, n_output_dims)``."""

    def __init__(
        self,
        n_input_dims: int,
        n_output_dims: int,
        network_config: Mapping[str, Any],
        seed: int = 1337,
    ) -> None:
        check_count("n_input_dims", n_input_dims)
        check_count("n_output_dims", n_output_dims)
        self.n_input_dims, self.n_output_dims = n_input_dims, n_output_dims
        self.network_config = network_config
        network = parse_network_config(network_config)
        builder = _model_builder(n_input_dims, n_output_dims, {"otype": "Identity"}, network)
        super().__init__("Network", builder, network, seed, torch_precision(preferred_precision()))


__all__ = ["Encoding", "Module", "NativeModule", "Network", "NetworkWithInputEncoding"]
