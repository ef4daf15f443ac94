"""Deprecated location of :mod:`coordnet.training.precision` (the training core moved there)."""
import sys
import warnings

from coordnet.training import precision as _moved

warnings.warn("coordnet.fit.precision moved to coordnet.training.precision; import it from there",
              DeprecationWarning, stacklevel=2)
sys.modules[__name__] = _moved
