"""coordnet: coordinate-based MLPs and the input encodings that overcome spectral bias.

Entry points: :func:`fit`, :func:`compare` (a fit or a comparison with its outputs, as the
``coordnet`` command runs them) and :func:`load` (a trained model from its checkpoint).

Subpackages, from the top layer down (each imports only from those below it):
    coordnet.cli          the ``coordnet`` command: parse, call, print
    coordnet.experiments  reproductions of published experiments (``coordnet reproduce``)
    coordnet.sweep        sweep files: grids of images x models x seeds, run locally or on Ray
    coordnet.runs         whole jobs: the fit runner, compare, render, run presets, probes
    coordnet.spectral     spectral-bias measurement: spectra over training, convergence, NTK
    coordnet.regions      activation regions of ReLU networks: counts, maps, density, similarity
    coordnet.plots        figures (matplotlib) of the numbers the packages above compute
    coordnet.training     the training core: Trainer, callbacks, metrics, checkpoints
    coordnet.tcnn         a drop-in for tiny-cuda-nn's PyTorch API (``import coordnet.tcnn as tcnn``)
    coordnet.nets         coordinate networks (ReLU MLP, SIREN, ...) and model specs
    coordnet.encoders     input encodings, ``nn.Module``s on ``(..., d)`` inputs
    coordnet.signals      loading, normalising, gridding and splitting 1D/2D/3D signals
    coordnet.ops          compiled kernels and their pure-PyTorch references

Shared utilities (the bottom layer): ``validation`` (argument checks), ``config_errors`` (the
error of every configuration reader), ``config_files`` and ``json_config`` (reading them),
``memory_limit`` (refuse what cannot fit in memory), ``atomic`` (atomic writes),
``outdir_lock`` (one owner per output folder), ``extras`` (optional dependencies),
``suggest`` (did-you-mean for misspelt names).
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
