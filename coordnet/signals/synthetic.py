"""Generated targets: a text image in the style of Tancik et al. 2020's text set.

Rendered with Pillow (a dependency of imageio and matplotlib) in the DejaVu fonts that ship
inside matplotlib (``mpl-data/fonts/ttf``, never system fonts). There is no randomness: the
image is the same on every run with the same Pillow/FreeType and matplotlib versions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence

import numpy as np
import torch

from coordnet.memory_limit import check_memory
from coordnet.signals.errors import SignalError
from coordnet.signals.image import Size, check_size
from coordnet.signals.signal import Signal

DEFAULT_LINES = (
    "coordnet",
    "Fourier features",
    "let networks learn",
    "high frequency",
    "functions 0123456789",
)
BACKGROUND = (250, 248, 240)
PALETTE = (
    (200, 30, 45),
    (25, 90, 190),
    (20, 140, 60),
    (150, 40, 160),
    (220, 120, 10),
    (10, 130, 140),
)
FONTS = (
    "DejaVuSans-Bold.ttf",
    "DejaVuSerif.ttf",
    "DejaVuSans-Oblique.ttf",
    "DejaVuSansMono-Bold.ttf",
    "DejaVuSans.ttf",
)


def _font_path(filename: str) -> str:
    """Path of a font file in matplotlib's own ``mpl-data/fonts/ttf`` (never a system font)."""
    import matplotlib

    path = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / filename
    if not path.is_file():
        raise SignalError(
            f"font {filename!r} not found in matplotlib's data folder {str(path.parent)!r}"
        )
    return str(path)


def text_image(size: Size = 256, lines: Optional[Sequence[str]] = None) -> Signal:
    """Coloured lines of text on a light background: an RGB image :class:`Signal` ``(H, W, 3)``.

    Args:
        size: ``n`` for ``n x n`` or ``(H, W)``; default 256.
        lines: the text lines (default :data:`DEFAULT_LINES`); each line gets its own colour
            and font (DejaVu Sans/Serif/Mono, cycling) and is scaled to fill ~90% of the width,
            with the line height capped at ``H / len(lines)``.

    Values lie in ``[0, 1]`` (8-bit levels); name ``"text"``.
    """
    from PIL import Image, ImageDraw, ImageFont

    height, width = check_size(size)  # type: ignore[misc]
    # Pillow's RGB canvas (4 bytes a pixel), the float32 values and their copy, the fit's
    # float32 coordinates: refused before the canvas is allocated
    check_memory(
        f"text image at {width}x{height} pixels (size)", height * width * (4 + 12 + 12 + 8)
    )
    lines = DEFAULT_LINES if lines is None else tuple(lines)
    if not lines or not all(isinstance(line, str) and line.strip() for line in lines):
        raise SignalError(f"lines must be a non-empty sequence of non-blank strings, got {lines!r}")
    image = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(image)
    slot = height / len(lines)
    for i, line in enumerate(lines):
        path = _font_path(FONTS[i % len(FONTS)])
        reference = 100
        left, top, right, bottom = draw.textbbox(
            (0, 0), line, font=ImageFont.truetype(path, reference)
        )
        scale = min(0.9 * width / max(right - left, 1), 0.8 * slot / max(bottom - top, 1))
        font = ImageFont.truetype(path, max(int(reference * scale), 4))
        left, top, right, bottom = draw.textbbox((0, 0), line, font=font)
        x = (width - (right - left)) / 2 - left
        y = slot * i + (slot - (bottom - top)) / 2 - top
        draw.text((x, y), line, fill=PALETTE[i % len(PALETTE)], font=font)
    values = np.asarray(image, dtype=np.float32) / 255.0
    return Signal(torch.from_numpy(values.copy()), name="text", kind="image")
