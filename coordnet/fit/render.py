"""Rendering a fitted image model on a pixel grid of any size, in bounded memory."""
from __future__ import annotations

import re
from typing import Optional, Tuple

import numpy as np
import torch

from coordnet.fit.checkpoint import load, load_checkpoint
from coordnet.signals import grid_axis


def parse_size(text: str) -> Tuple[int, int]:
    """``"640x480"`` -> ``(height, width)`` = ``(480, 640)``."""
    match = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", text or "")
    if not match or int(match.group(1)) < 1 or int(match.group(2)) < 1:
        raise ValueError(f"--size must look like WIDTHxHEIGHT, e.g. 1024x768; got {text!r}")
    return int(match.group(2)), int(match.group(1))


def render_image(model: torch.nn.Module, shape: Tuple[int, int], domain, chunk: int = 65536) -> np.ndarray:
    """Evaluate ``model`` on an ``H x W`` grid over ``domain`` -> ``(H, W, C)`` float32 in [0, 1].

    Rows are produced in chunks of about ``chunk`` pixels, so memory stays
    O(chunk x width of the network) whatever the image size.
    """
    height, width = shape
    (y0, y1), (x0, x1) = domain
    ys = grid_axis(y0, y1, height)  # the same half-open pixel grid as the fitted signal
    xs = grid_axis(x0, x1, width)
    rows_per_chunk = max(1, chunk // width)
    out = None
    with torch.no_grad():
        for start in range(0, height, rows_per_chunk):
            y = ys[start : start + rows_per_chunk]
            coords = torch.stack(torch.meshgrid(y, xs, indexing="ij"), dim=-1).reshape(-1, 2)
            values = model(coords).float().clamp(0, 1).numpy()
            if out is None:
                out = np.empty((height, width, values.shape[-1]), dtype=np.float32)
            out[start : start + y.shape[0]] = values.reshape(y.shape[0], width, -1)
    return out


def render_checkpoint(path: str, out_file: str, size: Optional[str] = None, chunk: int = 65536) -> Tuple[int, int]:
    """Render the image model of checkpoint ``path`` into ``out_file`` (PNG); returns ``(H, W)``."""
    from coordnet.signals import save_image

    document = load_checkpoint(path)
    signal_info = document["signal"]
    if signal_info.get("kind") != "image":
        raise ValueError(f"checkpoint {path!r} was fitted to a {signal_info.get('kind')} signal; render draws images")
    shape = parse_size(size) if size else tuple(signal_info["shape"][:2])
    model = load(path)
    image = render_image(model, shape, document["model_config"]["signal_domain"], chunk)
    save_image(out_file, image)
    return shape
