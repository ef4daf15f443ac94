"""Rendering a fitted image model on a pixel grid of any size, in bounded memory."""

from __future__ import annotations

import os
import re
from typing import Optional, Tuple

import numpy as np
import torch

from coordnet.atomic import check_replaceable
from coordnet.memory_limit import check_memory, format_bytes
from coordnet.outdir_lock import folder_not_in_use, resolve_output_folder
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
    if out is None:  # pragma: no cover - sizes are checked to be at least 1
        raise ValueError(f"nothing to render at {height}x{width}")
    return out


def _check_image_signal(signal_info: object, path: str) -> None:
    """Refuse (one line naming ``path`` and the entry) a checkpoint not fitted to an image."""
    if not isinstance(signal_info, dict) or not isinstance(signal_info.get("shape"), (list, tuple)):
        raise CheckpointError(
            f"checkpoint {path!r}: its 'signal' entry must be a table with 'kind' and 'shape', "
            f"got {str(signal_info)[:80]!r}"
        )
    kind, shape = signal_info.get("kind"), list(signal_info["shape"])
    if kind != "image":
        article = "an" if str(kind)[:1] in "aeiou" else "a"
        raise ValueError(
            f"checkpoint {path!r} was fitted to {article} {kind} signal (signal.kind); render draws images"
        )
    if len(shape) != 3 or not all(isinstance(n, int) and n >= 1 for n in shape):
        raise CheckpointError(
            f"checkpoint {path!r}: its image signal has shape {shape} (signal.shape), not "
            "(height, width, channels); the checkpoint is not one render can draw"
        )


def check_render_memory(
    model: torch.nn.Module, document: dict, shape: Tuple[int, int], chunk: int
) -> None:
    """Refuse (one-line ``MemoryLimitError``) a render whose image copies plus one chunk's
    coordinates and activations exceed the memory limit: the float32 image, its uint8 copy and
    the PNG encoder's buffer (6 bytes per channel and pixel), and per chunk pixel the float32
    coordinates and the widest layer's activations (4 bytes each, a few live at once)."""
    height, width = shape
    channels = int(document["model_config"]["out_dim"])
    pixels = height * width
    rows = max(1, min(height, chunk // width if chunk >= width else 1))
    chunk_pixels = rows * width
    widest = max(
        [channels, 2]
        + [int(getattr(m, "out_features", 0) or 0) for m in model.modules()]
        + [
            int(getattr(m, "out_dim", 0) or 0)
            for m in model.modules()
            if isinstance(getattr(m, "out_dim", None), int)
        ]
    )
    image_bytes = pixels * channels * (4 + 1 + 1)
    chunk_bytes = chunk_pixels * (2 + 4 * widest) * 4
    check_memory(
        f"rendering {width}x{height} pixels (--size) in chunks of {chunk_pixels} pixels (--chunk {chunk})",
        image_bytes + chunk_bytes,
        f"image {format_bytes(image_bytes)}, one chunk {format_bytes(chunk_bytes)}",
    )


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
    _check_image_signal(signal_info, path)
    shape = (
        parse_size(size) if size else (int(signal_info["shape"][0]), int(signal_info["shape"][1]))
    )
    out_file = resolve_output_folder(out_file)  # one path for the checks, the lock and the PNG
    check_replaceable(out_file)  # never a device, FIFO, folder or link given as --out
    folder = os.path.dirname(out_file)
    if not os.path.isdir(folder):
        raise ValueError(f"the folder {folder!r} of --out {out_file!r} does not exist")
    model = load(path)
    check_render_memory(model, document, shape, chunk)
    with folder_not_in_use(folder):  # no lock file: the PNG is no resumable folder
        image = render_image(model, shape, document["model_config"]["signal_domain"], chunk)
        save_image(out_file, image)
    return shape
