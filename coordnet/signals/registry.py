"""``load_signal``: one entry point from a name or a path to a :class:`Signal`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Dict, Optional, Union

from coordnet.signals._files import existing_file, read_npy
from coordnet.signals.audio import AUDIO_EXTENSIONS, load_audio
from coordnet.signals.errors import SignalError
from coordnet.signals.image import IMAGE_EXTENSIONS, Size, image_signal, load_image
from coordnet.signals.series import load_csv_series, series_from_array
from coordnet.signals.signal import Signal
from coordnet.signals.synthetic import text_image
from coordnet.signals.volume import (
    DEFAULT_RESOLUTION,
    VOLUME_SHAPES,
    make_volume,
    volume_from_array,
)

DEFAULT_SIGNAL = "camera"
TEXT_DEFAULT_SIZE = 256

BUNDLED_SIGNALS: Dict[str, str] = {
    "camera": "scikit-image 'camera': 512x512 gray photograph (CC0, Lav Varshney), from the installed scikit-image",
    "astronaut": "scikit-image 'astronaut': 512x512 RGB photograph of Eileen Collins (NASA, public domain)",
    "text": f"generated text image, {TEXT_DEFAULT_SIZE}x{TEXT_DEFAULT_SIZE} RGB, coloured lines on a light background",
    **{
        shape: f"procedural 3D occupancy volume, {DEFAULT_RESOLUTION}^3 by default (also 'volume:{shape}')"
        for shape in VOLUME_SHAPES
    },
}
EXTENSIONS = IMAGE_EXTENSIONS + AUDIO_EXTENSIONS + (".npy", ".csv")
Source = Union[str, "os.PathLike[str]", None]


def _accepted() -> str:
    return (
        f"bundled names: {', '.join(BUNDLED_SIGNALS)} (volumes also as 'volume:<shape>'); "
        f"or a file ending in {', '.join(EXTENSIONS)}"
    )


def _no_size(size: Optional[Size], what: str) -> None:
    if size is not None:
        raise SignalError(
            f"size={size!r} does not apply to {what}; size applies to images and volumes by name"
        )


def _bundled(name: str, size: Optional[Size]) -> Signal:
    if name in ("camera", "astronaut"):
        import skimage.data

        try:
            array = getattr(skimage.data, name)()
        except Exception as exc:  # both images ship inside the scikit-image wheel
            raise SignalError(
                f"cannot load bundled image {name!r} from scikit-image: {exc}"
            ) from exc
        return image_signal(array, name=name, size=size, source=f"bundled image {name!r}")
    if name == "text":
        return text_image(TEXT_DEFAULT_SIZE if size is None else size)
    shape = name[len("volume:") :] if name.startswith("volume:") else name
    if shape not in VOLUME_SHAPES:
        raise SignalError(f"unknown signal {name!r}; accepted: {_accepted()}")
    if size is None:
        return make_volume(shape)
    if isinstance(size, bool) or not isinstance(size, int):
        raise SignalError(f"size of a volume must be an int (samples per axis), got {size!r}")
    return make_volume(shape, size)


def _from_path(path: Path, size: Optional[Size]) -> Signal:
    suffix = path.suffix.lower()
    if suffix in IMAGE_EXTENSIONS:
        return load_image(path, size=size)
    if suffix in AUDIO_EXTENSIONS:
        _no_size(size, f"audio {str(path)!r}")
        return load_audio(path)
    if suffix == ".csv":
        _no_size(size, f"series {str(path)!r}")
        return load_csv_series(path)
    if suffix == ".npy":
        array = read_npy(path)
        if array.ndim in (1, 2):
            _no_size(size, f"series {str(path)!r}")
            return series_from_array(array, name=path.stem, source=f".npy series {str(path)!r}")
        if array.ndim == 3:
            _no_size(size, f".npy volume {str(path)!r}")
            return volume_from_array(array, name=path.stem, source=f".npy volume {str(path)!r}")
        raise SignalError(
            f".npy file {str(path)!r}: unsupported shape {tuple(array.shape)}; expected (N,) or (N, C) for a "
            f"1D series or (D, H, W) for a volume"
        )
    existing_file(path, "signal")  # a missing file is reported as missing
    raise SignalError(
        f"unsupported file extension {suffix or '(none)'!r} of {str(path)!r}; accepted: {_accepted()}"
    )


def load_signal(source: Source = None, size: Optional[Size] = None) -> Signal:
    """Load a signal by bundled name or file path.

    Args:
        source: ``None`` -> the default ``"camera"``; a bundled name (``camera``, ``astronaut``,
            ``text``, or a volume shape ``sphere``/``torus``/``gyroid``/``bumpy_sphere``, also
            written ``volume:<shape>``); or a file path, dispatched by extension:
            ``.png .jpg .jpeg .tif .tiff`` -> :func:`load_image`; ``.wav`` -> :func:`load_audio`;
            ``.csv`` -> 1D series; ``.npy`` -> 1D series for ``(N,)``/``(N, C)`` arrays, volume
            for ``(D, H, W)`` (values must lie in ``[0, 1]``).
        size: images: ``n`` (the longest side, aspect ratio kept) or ``(H, W)``; ``text``:
            ``n`` (``n x n``) or ``(H, W)``; volumes by name: samples per
            axis (default 64). Not accepted for audio, series or ``.npy`` volumes.

    Raises:
        SignalError: unknown name or extension (listing what is accepted), or any loader error.
    """
    if source is None:
        source = DEFAULT_SIGNAL
    if isinstance(source, os.PathLike):
        return _from_path(Path(source).expanduser(), size)
    if not isinstance(source, str):
        raise SignalError(f"source must be a name, a path or None, got {type(source).__name__}")
    path = Path(source).expanduser()
    if path.suffix.lower() in EXTENSIONS:
        return _from_path(path, size)
    key = source.strip().lower()
    if key in BUNDLED_SIGNALS or key.startswith("volume:"):
        return _bundled(key, size)
    if path.is_file():
        return _from_path(path, size)
    raise SignalError(
        f"unknown signal {source!r} (neither a bundled name nor an existing file); accepted: {_accepted()}"
    )
