"""Deprecated location of :mod:`coordnet.training.metrics` (the training core moved there)."""
import sys
import warnings

from coordnet.training import metrics as _moved

warnings.warn("coordnet.fit.metrics moved to coordnet.training.metrics; import it from there",
              DeprecationWarning, stacklevel=2)
sys.modules[__name__] = _moved
