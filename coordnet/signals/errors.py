"""The one exception type of :mod:`coordnet.signals`."""

from __future__ import annotations


class SignalError(ValueError):
    """A signal could not be loaded, built or split.

    Messages name the offending file or argument and what is wrong with it (missing,
    unreadable, unsupported shape or dtype, empty, unknown name, ...). Subclasses
    ``ValueError``, so callers that catch ``ValueError`` keep working.
    """
