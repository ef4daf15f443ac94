"""A drop-in for tiny-cuda-nn's PyTorch API (``import coordnet.tcnn as tcnn``), on CPU and CUDA.

``Encoding(n_input_dims, encoding_config, seed=1337, dtype=None)``,
``Network(n_input_dims, n_output_dims, network_config, seed=1337)`` and
``NetworkWithInputEncoding(n_input_dims, n_output_dims, encoding_config, network_config, seed=1337)``
take tiny-cuda-nn's configs and have its attributes and parameter layout (see
:mod:`coordnet.tcnn.modules`); the module-level helpers projects call are in
:mod:`coordnet.tcnn.runtime`. Code written for tiny-cuda-nn switches with one line before it
imports ``tinycudann``::

    import sys, coordnet.tcnn
    sys.modules["tinycudann"] = coordnet.tcnn

``load_config(path)`` reads a tiny-cuda-nn / instant-NGP JSON config file as those projects
do: ``//`` and ``/* */`` comments, and ``"parent"`` inheritance (see
:func:`coordnet.encoders.config.load_config`).

Initial values come from torch generators seeded with ``seed``, not tiny-cuda-nn's random
stream: the same seed gives other numbers than tiny-cuda-nn, but a ``params`` vector trained
there loads and computes the same function here.
"""

from coordnet.encoders.config import load_config
from coordnet.tcnn.modules import Encoding, Module, NativeModule, Network, NetworkWithInputEncoding
from coordnet.tcnn.runtime import (
    Precision,
    batch_size_granularity,
    default_loss_scale,
    free_temporary_memory,
    preferred_precision,
    rtc_set_cache_dir,
    supports_jit_fusion,
)

__all__ = [
    "Encoding",
    "load_config",
    "Module",
    "NativeModule",
    "Network",
    "NetworkWithInputEncoding",
    "Precision",
    "batch_size_granularity",
    "default_loss_scale",
    "free_temporary_memory",
    "preferred_precision",
    "rtc_set_cache_dir",
    "supports_jit_fusion",
]
