"""Deprecated location of :mod:`coordnet.training.trainer` (the training core moved there)."""
import sys
import warnings

from coordnet.training import trainer as _moved

warnings.warn("coordnet.fit.trainer moved to coordnet.training.trainer; import it from there",
              DeprecationWarning, stacklevel=2)
sys.modules[__name__] = _moved
