"""Figures of activation regions: region-id maps, boundary maps, region counts over training.

Region maps are drawn one pixel per grid sample (no resampling), with a random colour per
region from a seeded generator, so the same map always gives the same PNG:

* 2D grids ``(H, W)``: an ``H x W`` image (axis 0 = rows, as images);
* 1D grids ``(N,)``: a strip ``STRIP_ROWS(N) x N`` (the line repeated down the rows);
* 3D grids ``(D, H, W)``: a montage of up to :data:`MONTAGE_SLICES` slices along axis 0,
  evenly spaced, tiled left to right and top to bottom with :data:`MONTAGE_GAP` white
  pixels between tiles.

The images are computed with numpy alone (:func:`region_image`, :func:`boundary_image`);
:func:`save_region_map` and :func:`save_boundary_map` draw them on the grid's axes with a title
giving the count (and saying so when the grid is too coarse: nearly one region per sample).
"""

from __future__ import annotations

import math
from typing import List, Mapping, Optional, Sequence, Tuple

import numpy as np

from coordnet.plots import figure as _figure
from coordnet.plots.figure import save_figure as _save

#: Slices of a 3D map shown in its montage, at most.
MONTAGE_SLICES = 16
#: White pixels between the tiles of a 3D montage.
MONTAGE_GAP = 2
#: Channel values of region colours are drawn in ``[COLOUR_LOW, 255]`` (no near-black regions,
#: so boundaries drawn in black stay visible beside them).
COLOUR_LOW = 48


def strip_rows(n: int) -> int:
    """Rows of the strip a 1D map of ``n`` samples is drawn as: ``n // 16`` within [8, 64]."""
    return int(min(64, max(8, n // 16)))


def region_colours(num_regions: int, seed: int = 0) -> np.ndarray:
    """``(num_regions, 3)`` uint8 random RGB colours, the same for the same ``seed``."""
    if num_regions < 0:
        raise ValueError(f"num_regions must be >= 0, got {num_regions}")
    rng = np.random.default_rng(seed)
    return rng.integers(COLOUR_LOW, 256, size=(num_regions, 3), dtype=np.uint8)


def _to_numpy(array) -> np.ndarray:
    if hasattr(array, "detach"):
        array = array.detach().cpu().numpy()
    return np.asarray(array)


def montage(volume: np.ndarray, fill) -> np.ndarray:
    """Slices of ``volume (D, H, W[, C])`` along axis 0 tiled into one ``(rows, cols[, C])`` image.

    Up to :data:`MONTAGE_SLICES` slices, evenly spaced (first and last included), in a grid
    of ``ceil(sqrt(k))`` columns, separated by :data:`MONTAGE_GAP` pixels of ``fill``.
    """
    depth = volume.shape[0]
    count = min(depth, MONTAGE_SLICES)
    picks = np.unique(np.round(np.linspace(0, depth - 1, count)).astype(int))
    columns = int(math.ceil(math.sqrt(len(picks))))
    rows = int(math.ceil(len(picks) / columns))
    height, width = volume.shape[1:3]
    gap = MONTAGE_GAP
    shape = (
        rows * height + (rows - 1) * gap,
        columns * width + (columns - 1) * gap,
    ) + volume.shape[3:]
    out = np.empty(shape, dtype=volume.dtype)
    out[...] = fill
    for tile, index in enumerate(picks):
        r, c = divmod(tile, columns)
        top, left = r * (height + gap), c * (width + gap)
        out[top : top + height, left : left + width] = volume[index]
    return out


def _layout(array: np.ndarray, fill) -> np.ndarray:
    """A 1D/2D/3D grid (with an optional trailing channel axis handled by the caller) as a 2D image."""
    if array.ndim == 1:
        return np.repeat(array[None], strip_rows(array.shape[0]), axis=0)
    if array.ndim == 2:
        return array
    if array.ndim == 3:
        return montage(array, fill)
    raise ValueError(f"region maps have 1 to 3 axes, got an array of shape {array.shape}")


def region_image(ids, seed: int = 0) -> np.ndarray:
    """Region ids ``(*shape)`` (1 to 3 axes, ids ``0..U-1``) -> ``(rows, cols, 3)`` uint8 RGB.

    Region ``k`` gets ``region_colours(U, seed)[k]``; layout as in the module docstring
    (a 2D map of shape ``(H, W)`` gives an ``H x W`` image).
    """
    ids = _to_numpy(ids)
    if ids.ndim == 0 or ids.size == 0:
        raise ValueError(f"ids must be a non-empty grid of region ids, got shape {ids.shape}")
    if not np.issubdtype(ids.dtype, np.integer) or ids.min() < 0:
        raise ValueError("ids must hold non-negative integer region ids")
    if ids.ndim > 3:
        raise ValueError(f"region maps have 1 to 3 axes, got ids of shape {ids.shape}")
    rgb = region_colours(int(ids.max()) + 1, seed)[ids]  # (*shape, 3)
    if ids.ndim == 1:
        return np.repeat(rgb[None], strip_rows(ids.shape[0]), axis=0)
    if ids.ndim == 3:
        return montage(rgb, np.uint8(255))
    return rgb


def boundary_image(boundary) -> np.ndarray:
    """Boundary mask ``(*shape)`` bool -> ``(rows, cols)`` uint8: boundary samples black, others white."""
    boundary = _to_numpy(boundary)
    if boundary.ndim == 0 or boundary.size == 0:
        raise ValueError(f"boundary must be a non-empty grid, got shape {boundary.shape}")
    pixels = np.where(boundary.astype(bool), np.uint8(0), np.uint8(255))
    return _layout(pixels, np.uint8(255))


Domain = Optional[Sequence[Tuple[float, float]]]


def map_title(num_regions: int, shape: Sequence[int], title: str = "", note: str = "") -> str:
    """``"[title: ]U regions among N samples (WxH grid)"``, and ``note`` on a second line (e.g.
    that the grid is too coarse when the count is nearly one region per sample)."""
    samples = int(np.prod(shape))
    size = "x".join(str(n) for n in reversed(tuple(shape)))
    text = f"{num_regions} regions among {samples} samples ({size} grid)"
    if title:
        text = f"{title}: {text}"
    return f"{text}\n{note}" if note else text


def _draw_map(path: str, image: np.ndarray, shape, domain: Domain, title: str, gray: bool) -> None:
    """``image`` (laid out by :func:`_layout`) in a figure with the grid's axes and ``title``."""
    dims = len(shape)
    box = list(domain) if domain is not None else [(0.0, 1.0)] * dims
    rows, cols = image.shape[:2]
    width = 6.0
    height = min(max(width * rows / max(cols, 1), 1.6), 9.0)
    fig, ax = _figure.subplots(figsize=(width, height + 0.9))
    kwargs = {"cmap": "gray", "vmin": 0, "vmax": 255} if gray else {}
    if dims == 3:  # a montage: slices along axis 0, no common coordinates
        ax.imshow(image, interpolation="nearest", **kwargs)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_xlabel(f"slices along axis 0 (of {shape[0]}), left to right, top to bottom")
    else:
        (x0, x1) = box[-1]
        (y0, y1) = box[0] if dims == 2 else (0.0, 1.0)
        ax.imshow(image, interpolation="nearest", extent=(x0, x1, y1, y0), aspect="auto", **kwargs)
        ax.set_xlabel("x (axis 1)" if dims == 2 else "x")
        if dims == 2:
            ax.set_ylabel("y (axis 0)")
        else:
            ax.set_yticks([])
    ax.set_title(title, fontsize=9)
    _save(fig, path)


def save_region_map(
    path: str, ids, seed: int = 0, *, domain: Domain = None, title: str = "", note: str = ""
) -> None:
    """Write the region map of ``ids (*shape)`` to ``path`` (PNG, atomically): the colours of
    :func:`region_image` on the grid's axes (``domain``: ``(low, high)`` per axis, default
    ``[0, 1]``), titled with the count (:func:`map_title`; ``title`` goes in front)."""
    ids = _to_numpy(ids)
    image = region_image(ids, seed)
    count = int(ids.max()) + 1
    text = map_title(count, ids.shape, title, note)
    _draw_map(path, image, ids.shape, domain, text, gray=False)


def save_boundary_map(
    path: str,
    boundary,
    *,
    num_regions: Optional[int] = None,
    domain: Domain = None,
    title: str = "",
    note: str = "",
) -> None:
    """Write :func:`boundary_image` of ``boundary (*shape)`` to ``path`` (PNG, atomically) on the
    grid's axes, titled with ``num_regions`` (:func:`map_title`) when given."""
    boundary = _to_numpy(boundary)
    image = boundary_image(boundary)
    if num_regions is not None:
        text = map_title(num_regions, boundary.shape, title, note)
    else:
        text = title or f"region boundaries ({'x'.join(map(str, reversed(boundary.shape)))} grid)"
    _draw_map(path, image, boundary.shape, domain, text, gray=True)


Curve = Tuple[Sequence[int], Sequence[int]]


def save_count_curves(
    path: str,
    curves: Mapping[str, Curve],
    title: str = "",
    limit: Optional[int] = None,
    xlabel: str = "training step",
) -> None:
    """Region count against training step, one line per label (log scale).

    Args:
        curves: label -> ``(steps, counts)``.
        limit: draw a dashed line at this count (e.g. the number of grid samples, which no
            sampled count can exceed).
    """
    fig, ax = _figure.subplots(figsize=(6.5, 4.2))
    for index, (label, (steps, counts)) in enumerate(curves.items()):
        ax.plot(
            list(steps), list(counts), marker="o", markersize=3, color=f"C{index % 10}", label=label
        )
    if limit is not None:
        ax.axhline(limit, color="0.5", linestyle="--", linewidth=1, label=f"grid samples ({limit})")
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("activation regions (distinct patterns)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title, fontsize=10)
    _save(fig, path)


def save_panels(
    path: str, rows: Mapping[str, List[Tuple[str, np.ndarray]]], title: str = ""
) -> None:
    """A grid of images: one row per label, each row a list of ``(caption, image)``.

    Images are ``(H, W)`` gray (uint8, or floats in [0, 1]) or ``(H, W, 3)`` RGB, shown
    pixel for pixel (no interpolation).
    """
    columns = max((len(panels) for panels in rows.values()), default=1)
    fig, axes = _figure.subplots(
        len(rows), columns, figsize=(2.6 * columns, 2.7 * len(rows)), squeeze=False
    )
    for r, (label, panels) in enumerate(rows.items()):
        for c in range(columns):
            ax = axes[r, c]
            ax.set_xticks([])  # no tick objects at all: laying out many image panels stays fast
            ax.set_yticks([])
            ax.axis("off")
            if c >= len(panels):
                continue
            caption, image = panels[c]
            image = np.asarray(image)
            if image.ndim == 3 and image.shape[-1] == 1:
                image = image[..., 0]
            if image.ndim == 2:
                top = 255 if image.dtype == np.uint8 else 1.0
                ax.imshow(image, cmap="gray", vmin=0, vmax=top, interpolation="nearest")
            else:
                ax.imshow(image, interpolation="nearest")
            ax.set_title(f"{label}\n{caption}" if c == 0 else caption, fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.subplots_adjust(
        left=0.02, right=0.98, bottom=0.02, top=0.9 if title else 0.95, wspace=0.08, hspace=0.35
    )
    _save(fig, path)


def save_lines_1d(
    path: str,
    frequencies: Sequence[float],
    final_counts: Mapping[str, Sequence[int]],
    curves: Mapping[str, Curve],
    psnrs: Optional[Mapping[str, Sequence[float]]] = None,
    needed: Optional[Sequence[float]] = None,
) -> None:
    """The 1D experiment: regions along the line after training against the target frequency
    ``k`` (left, with the ``needed`` reference, e.g. ``2k`` monotone pieces), regions against
    training step per ``k`` (middle), and final PSNR against ``k`` (right, if given)."""
    panels = 3 if psnrs else 2
    fig, axes = _figure.subplots(1, panels, figsize=(5 * panels, 3.8))
    left, middle = axes[0], axes[1]
    for index, (label, counts) in enumerate(final_counts.items()):
        left.plot(list(frequencies), list(counts), marker="o", color=f"C{index % 10}", label=label)
    if needed is not None:
        left.plot(
            list(frequencies),
            list(needed),
            color="0.5",
            linestyle="--",
            label="2k (monotone pieces of the target)",
        )
    left.set_xlabel("target frequency k")
    left.set_ylabel("regions along [0, 1] after training")
    left.set_yscale("log")
    left.grid(alpha=0.3, which="both")
    left.legend(fontsize=7)
    for index, (label, (steps, counts)) in enumerate(curves.items()):
        middle.plot(
            list(steps),
            list(counts),
            color=_figure.colormap("viridis")(index / max(len(curves) - 1, 1)),
            label=label,
        )
    middle.set_xlabel("training step")
    middle.set_ylabel("regions along [0, 1] (exact)")
    middle.set_yscale("log")
    middle.grid(alpha=0.3, which="both")
    middle.legend(fontsize=7, ncol=2)
    if psnrs:
        right = axes[2]
        for index, (label, values) in enumerate(psnrs.items()):
            right.plot(
                list(frequencies), list(values), marker="o", color=f"C{index % 10}", label=label
            )
        right.set_xlabel("target frequency k")
        right.set_ylabel("final PSNR (dB)")
        right.grid(alpha=0.3)
        right.legend(fontsize=7)
    fig.tight_layout()
    _save(fig, path)


__all__ = [
    "boundary_image",
    "map_title",
    "montage",
    "region_colours",
    "region_image",
    "save_boundary_map",
    "save_count_curves",
    "save_lines_1d",
    "save_panels",
    "save_region_map",
    "strip_rows",
]
