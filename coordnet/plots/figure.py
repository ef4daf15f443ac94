"""Shared figure plumbing: the Agg backend, atomic PNG writes, image panels."""
from __future__ import annotations

import numpy as np

from coordnet.atomic import write_atomically


def pyplot():
    """``matplotlib.pyplot`` on the non-interactive Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path: str, dpi: int = 100) -> None:
    """Write ``fig`` to ``path`` as PNG atomically, then close it."""
    write_atomically(path, lambda temporary: fig.savefig(temporary, dpi=dpi, format="png", bbox_inches="tight"))
    pyplot().close(fig)


def show_image(ax, image: np.ndarray, title: str) -> None:
    """An image with values in [0, 1]: ``(H, W)``, ``(H, W, 1)``, RGB or RGBA."""
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    ax.imshow(np.clip(image, 0, 1), cmap="gray" if image.ndim == 2 else None, vmin=0, vmax=1)
    ax.set_title(title, fontsize=9)
    ax.axis("off")
