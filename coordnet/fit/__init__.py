"""Fitting signals: the fit runner, compare and render (the application around the training core).

The training core moved to :mod:`coordnet.training`; its names are re-exported here, and the
former module paths ``coordnet.fit.trainer``, ``.callbacks``, ``.checkpoint``, ``.metrics``,
``.learning_rates``, ``.precision`` and ``.stacked`` still import, with a ``DeprecationWarning``.
"""
from coordnet.training import *  # noqa: F401,F403  (the training core, re-exported)
from coordnet.training import __all__  # noqa: F401
