"""Deprecated location of :mod:`coordnet.training.callbacks` (the training core moved there)."""
import sys
import warnings

from coordnet.training import callbacks as _moved

warnings.warn("coordnet.fit.callbacks moved to coordnet.training.callbacks; import it from there",
              DeprecationWarning, stacklevel=2)
sys.modules[__name__] = _moved
