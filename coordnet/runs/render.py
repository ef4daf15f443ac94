"""Rendering a fitted image model on a pixel grid of any size, in bounded memory."""

from __future__ import annotations

import os
import re
from typing import Optional, Tuple

import numpy as np
import torch

from coordnet.memory_limit import check_memory
from coordnet.outdir_lock import folder_not_in_use
from coordnet.signals import grid_axis, save_image
from coordnet.training.checkpoint import CheckpointError, load, load_checkpoint


def parse_size(text: str) -> Tuple[int, int]:
    """``"640x480"`` -> ``(height, width)`` = ``(480, 640)``."""
    match = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", text or "")
    if not match or int(match.group(1)) < 1 or int(match.group(2)) < 1:
        raise ValueError(f"--size must look like WIDTHxHEIGHT, e.g. 1024x768; got {text!r}")
    return int(match.group(2)), int(match.group(1))


def render_image(
    model: torch.nn.Module, shape: Tuple[int, int], domain, chunk: int = 65536
) -> np.ndarray:
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


def render_checkpoint(
    path: str, out_file: str, size: Optional[str] = None, chunk: int = 65536
) -> Tuple[int, int]:
    """Render the image model of checkpoint ``path`` into ``out_file`` (PNG); returns ``(H, W)``."""

    document = load_checkpoint(path)
    signal_info = document.get("signal")
    if signal_info is None:
        raise CheckpointError(
            f"checkpoint {path!r} lacks the 'signal' entry (which kind of signal was fitted)"
        )
    if signal_info["kind"] != "image" or len(signal_info["shape"]) != 3:
        raise ValueError(
            f"checkpoint {path!r} was fitted to a {signal_info['kind']} signal; render draws images"
        )
    shape = (
        parse_size(size) if size else (int(signal_info["shape"][0]), int(signal_info["shape"][1]))
    )
    channels = int(document["model_config"]["out_dim"])
    pixels = shape[0] * shape[1]
    # the float32 image, its uint8 copy and the PNG encoder's buffer
    check_memory(
        f"rendering {shape[1]}x{shape[0]} pixels (--size)", pixels * channels * (4 + 1 + 1)
    )
    model = load(path)
    folder = os.path.dirname(os.path.abspath(out_file))
    if not os.path.isdir(folder):
        raise ValueError(f"the folder {folder!r} of --out {out_file!r} does not exist")
    with folder_not_in_use(folder):  # no lock file: the PNG is no resumable folder
        image = render_image(model, shape, document["model_config"]["signal_domain"], chunk)
        save_image(out_file, image)
    return shape
