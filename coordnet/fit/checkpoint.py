"""Deprecated location of :mod:`coordnet.training.checkpoint` (the training core moved there)."""
import sys
import warnings

from coordnet.training import checkpoint as _moved

warnings.warn("coordnet.fit.checkpoint moved to coordnet.training.checkpoint; import it from there",
              DeprecationWarning, stacklevel=2)
sys.modules[__name__] = _moved
