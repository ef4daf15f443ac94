"""Shared figure plumbing: figures on their own Agg canvas, atomic PNG writes, image panels.

Figures are built from :class:`matplotlib.figure.Figure` with a
:class:`~matplotlib.backends.backend_agg.FigureCanvasAgg` attached, never through
``pyplot``'s global state: importing or calling coordnet leaves the user's matplotlib
backend, open figures and interactive mode untouched (notebooks keep working).
"""

from __future__ import annotations

from typing import Any, Tuple

import numpy as np

from coordnet.atomic import write_atomically


def subplots(
    nrows: int = 1, ncols: int = 1, *, figsize: Tuple[float, float] = (6.4, 4.8), **kwargs: Any
):
    """A new figure on an Agg canvas and its axes, as ``pyplot.subplots`` returns them.

    ``kwargs`` go to :meth:`matplotlib.figure.Figure.subplots` (``squeeze``, ``sharex``,
    ``sharey``, ``gridspec_kw``, ...). The figure is registered nowhere; drop it or pass it to
    :func:`save_figure`.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, **kwargs)
    return fig, axes


def colormap(name: str):
    """The registered matplotlib colormap ``name`` (e.g. ``"viridis"``), without pyplot."""
    import matplotlib

    return matplotlib.colormaps[name]


def pyplot():
    """``matplotlib.pyplot`` as the user has configured it (coordnet's own figures never use it)."""
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path: str, dpi: int = 100) -> None:
    """Write ``fig`` to ``path`` as PNG atomically."""
    write_atomically(
        path, lambda temporary: fig.savefig(temporary, dpi=dpi, format="png", bbox_inches="tight")
    )


def show_image(ax, image: np.ndarray, title: str) -> None:
    """An image with values in [0, 1]: ``(H, W)``, ``(H, W, 1)``, RGB or RGBA."""
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    ax.imshow(np.clip(image, 0, 1), cmap="gray" if image.ndim == 2 else None, vmin=0, vmax=1)
    ax.set_title(title, fontsize=9)
    ax.axis("off")
