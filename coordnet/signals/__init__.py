"""Signals: loading, normalising, gridding and splitting 1D/2D/3D signals; generated targets.

Knows nothing of networks. The entry point is :func:`load_signal` (bundled name or path ->
:class:`Signal`), then :func:`split_signal` (-> training/test coordinates and values).

Conventions: values ``(*grid_shape, C)`` float32; coordinates on Tancik et al.'s half-open
grid ``linspace(low, high, n+1)[:-1]`` of the domain (``[0, 1]^d`` by default); images in
``[0, 1]``, audio in ``[-1, 1]``; every loader error is a :class:`SignalError` (a ``ValueError``)
naming the file or argument.
"""

from coordnet.signals.audio import AUDIO_EXTENSIONS, load_audio
from coordnet.signals.errors import SignalError
from coordnet.signals.image import IMAGE_EXTENSIONS, image_signal, load_image, save_image
from coordnet.signals.registry import BUNDLED_SIGNALS, DEFAULT_SIGNAL, EXTENSIONS, load_signal
from coordnet.signals.series import (
    SERIES_EXTENSIONS,
    load_csv_series,
    load_npy_series,
    load_series,
    series_from_array,
)
from coordnet.signals.signal import KINDS, Signal, grid_axis
from coordnet.signals.split import SPLITS, SplitSignal, parse_split, split_signal
from coordnet.signals.synthetic import text_image
from coordnet.signals.volume import VOLUME_SHAPES, iou, load_volume, make_volume, volume_from_array

__all__ = [
    "AUDIO_EXTENSIONS",
    "BUNDLED_SIGNALS",
    "DEFAULT_SIGNAL",
    "EXTENSIONS",
    "IMAGE_EXTENSIONS",
    "KINDS",
    "SERIES_EXTENSIONS",
    "SPLITS",
    "VOLUME_SHAPES",
    "Signal",
    "SignalError",
    "SplitSignal",
    "grid_axis",
    "image_signal",
    "iou",
    "load_audio",
    "load_csv_series",
    "load_image",
    "load_npy_series",
    "load_series",
    "load_signal",
    "load_volume",
    "make_volume",
    "parse_split",
    "save_image",
    "series_from_array",
    "split_signal",
    "text_image",
    "volume_from_array",
]
