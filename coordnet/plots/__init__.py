"""Figures (matplotlib, Agg backend). Computing lives elsewhere; these modules only draw.

One module per subject: :mod:`coordnet.plots.fit` (fits and comparisons), and the
analysis figures beside it. ``coordnet.plots`` re-exports the fit figures.
"""

from coordnet.plots.fit import error_map, save_comparison, save_curves, save_error_map, save_series

__all__ = ["error_map", "save_comparison", "save_curves", "save_error_map", "save_series"]
