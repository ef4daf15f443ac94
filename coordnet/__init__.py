"""coordnet: coordinate-based MLPs and the input encodings that overcome spectral bias.

Subpackages:
    coordnet.encoders  input encodings, ``nn.Module``s on ``(..., d)`` inputs
    coordnet.ops       compiled kernels and their pure-PyTorch references
"""

__version__ = "0.1.0"


def load(path: str, device: str = "cpu"):
    """The model of a ``checkpoint.pt`` written by ``coordnet fit``, ready to evaluate:
    ``model(coords (..., d)) -> (..., C)`` with coordinates in the fitted signal's domain."""
    from coordnet.training.checkpoint import load as load_checkpoint_model

    return load_checkpoint_model(path, device=device)


#: Entry points imported on first use (``import coordnet`` stays light): name -> module.
_LAZY = {"fit": "coordnet.runs.api", "compare": "coordnet.runs.api"}


def __getattr__(name: str):
    """``coordnet.fit`` and ``coordnet.compare`` (:mod:`coordnet.runs.api`), imported on first use."""
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'coordnet' has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *_LAZY])


__all__ = ["compare", "fit", "load"]
