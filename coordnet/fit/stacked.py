"""Deprecated location of :mod:`coordnet.training.stacked` (the training core moved there)."""
import sys
import warnings

from coordnet.training import stacked as _moved

warnings.warn("coordnet.fit.stacked moved to coordnet.training.stacked; import it from there",
              DeprecationWarning, stacklevel=2)
sys.modules[__name__] = _moved
