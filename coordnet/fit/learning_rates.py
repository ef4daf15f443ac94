"""Deprecated location of :mod:`coordnet.training.learning_rates` (the training core moved there)."""
import sys
import warnings

from coordnet.training import learning_rates as _moved

warnings.warn("coordnet.fit.learning_rates moved to coordnet.training.learning_rates; import it from there",
              DeprecationWarning, stacklevel=2)
sys.modules[__name__] = _moved
