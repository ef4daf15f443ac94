"""Images: load PNG/JPEG/TIFF into a :class:`Signal`, save PNG atomically.

Decisions:
    * Channels are kept as stored: gray ``(H, W)`` -> 1 channel, RGB -> 3, RGBA -> 4 (alpha is
      an ordinary channel, neither dropped nor composited). Gray+alpha ``(H, W, 2)`` and any
      other channel count are refused, as are multi-page/stacked images.
    * Values: integer images are divided by their dtype's maximum (255 for 8-bit, 65535 for
      16-bit), bool images give 0/1, float images are clipped to ``[0, 1]``.
    * 16-bit RGB/RGBA PNGs are decoded by Pillow, which keeps only the high byte: they load
      at 8-bit precision, with a warning. 16-bit gray PNGs and 16-bit TIFFs keep full precision.
    * ``size=n`` resizes so that the longest side is ``n`` (the aspect ratio is kept, the other
      side rounded, :func:`target_shape`), ``size=(H, W)`` to ``H x W``, with
      ``skimage.transform.resize`` (bilinear, Gaussian anti-aliasing when shrinking).
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Optional, Tuple, Union

import numpy as np
import torch
from torch import Tensor

from coordnet.atomic import atomic_path, open_nofollow
from coordnet.memory_limit import check_memory
from coordnet.signals._files import (
    PathLike,
    check_image_memory,
    check_image_pixels,
    existing_file,
    finite_float32,
)
from coordnet.signals.errors import SignalError
from coordnet.signals.signal import Signal

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".tif", ".tiff")
# imageio plugin per extension: the extension picks the decoder (no trial of every plugin).
PLUGINS = {
    ".png": "pillow",
    ".jpg": "pillow",
    ".jpeg": "pillow",
    ".tif": "tifffile",
    ".tiff": "tifffile",
}
IMAGE_CHANNELS = (1, 3, 4)
Size = Union[int, Tuple[int, int]]


def check_size(size: Optional[Size], argument: str = "size") -> Optional[Tuple[int, int]]:
    """Normalise ``size`` (``None``, ``n`` or ``(H, W)``) to ``None`` or ``(H, W)``."""
    if size is None:
        return None
    if isinstance(size, (int, np.integer)) and not isinstance(size, bool):
        size = (int(size), int(size))
    if (
        not isinstance(size, (tuple, list))
        or len(size) != 2
        or any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 1 for s in size)
    ):
        raise SignalError(
            f"{argument} must be a positive int or a (height, width) pair of positive ints, got {size!r}"
        )
    return int(size[0]), int(size[1])


def target_shape(size: Optional[Size], height: int, width: int) -> Tuple[int, int]:
    """The ``(H, W)`` an image of ``height x width`` is resized to: ``None`` keeps it, ``n`` makes
    the longest side ``n`` and keeps the aspect ratio (the other side rounded, at least 1),
    ``(H, W)`` is taken as it is."""
    if size is None:
        return height, width
    if isinstance(size, (int, np.integer)) and not isinstance(size, bool):
        n, longest = int(size), max(height, width)
        return max(1, round(height * n / longest)), max(1, round(width * n / longest))
    return check_size(size)  # type: ignore[return-value]


def image_to_float(array: np.ndarray, source: str) -> np.ndarray:
    """An image array ``(H, W)`` or ``(H, W, C)`` as float32 ``(H, W, C)`` in ``[0, 1]``.

    ``C`` must be 1, 3 or 4. Unsigned integers are divided by their maximum, bools map to
    0/1, floats are clipped; signed integers are refused. ``source`` names the image in errors.
    """
    array = np.asarray(array)
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3 or array.shape[2] not in IMAGE_CHANNELS:
        gray_alpha = array.ndim == 3 and array.shape[2] == 2
        hint = " (gray+alpha is not supported: convert to gray or RGBA)" if gray_alpha else ""
        raise SignalError(
            f"{source}: unsupported image shape {tuple(array.shape)}; expected (H, W), (H, W, 1), "
            f"(H, W, 3) or (H, W, 4){hint}"
        )
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise SignalError(f"{source}: image is empty, shape {tuple(array.shape)}")
    if array.dtype == np.bool_:
        out = array.astype(np.float32)
    elif np.issubdtype(array.dtype, np.unsignedinteger):
        out = (array.astype(np.float64) / np.iinfo(array.dtype).max).astype(np.float32)
    elif np.issubdtype(array.dtype, np.floating):
        out = np.clip(finite_float32(array, source), 0.0, 1.0)
    else:
        raise SignalError(
            f"{source}: unsupported image dtype {array.dtype}; expected unsigned integers (8/16-bit), bool or float"
        )
    return np.ascontiguousarray(out, dtype=np.float32)


def resize_image(image: np.ndarray, size: Size) -> np.ndarray:
    """Resize float ``(H, W, C)`` to ``size`` (``n``: longest side ``n``, aspect ratio kept; or
    ``(H, W)``), values kept in [0, 1]."""
    from skimage.transform import resize

    check_size(size)
    height, width = target_shape(size, image.shape[0], image.shape[1])
    if image.shape[:2] == (height, width):
        return image
    check_image_memory(height, width, image.shape[2], "the resized image")
    shrinking = height < image.shape[0] or width < image.shape[1]
    out = resize(
        image, (height, width, image.shape[2]), order=1, mode="reflect", anti_aliasing=shrinking
    )
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def _png_is_16bit_color(path: Path) -> bool:
    """Whether ``path`` is a PNG whose header says 16-bit RGB or RGBA."""
    with open(path, "rb") as f:
        head = f.read(26)
    return (
        head[:8] == b"\x89PNG\r\n\x1a\n"
        and head[12:16] == b"IHDR"
        and head[24] == 16
        and head[25] in (2, 6)
    )


def _tiff_pages(path: Path) -> int:
    """Number of pages of a TIFF file (1 when tifffile, imageio's TIFF reader, is absent)."""
    try:
        import tifffile
    except ImportError:
        return 1
    try:
        with tifffile.TiffFile(path) as tiff:
            return len(tiff.pages)
    except Exception as exc:
        raise SignalError(
            f"cannot read image {str(path)!r} (corrupt or not a TIFF): {exc}"
        ) from exc


def image_signal(
    array: np.ndarray, name: str = "image", size: Optional[Size] = None, source: str = "image"
) -> Signal:
    """A :class:`Signal` of kind ``"image"`` from an ``(H, W)`` / ``(H, W, C)`` array (see :func:`image_to_float`)."""
    check_size(size)
    image = image_to_float(array, source)
    if size is not None:
        image = resize_image(image, size)
    return Signal(torch.from_numpy(image), name=name, kind="image")


def _bomb_warning() -> type:
    from PIL import Image

    return Image.DecompressionBombWarning


def _header(path: Path) -> Optional[Tuple[int, int, int, int]]:
    """``(height, width, channels, bytes per sample)`` from the image's header, without
    decoding its pixels; ``None`` when the header cannot be read (the decoder reports it)."""
    try:
        if path.suffix.lower() in (".tif", ".tiff"):
            import tifffile

            with tifffile.TiffFile(path) as tiff:
                page = tiff.pages[0]
                shape = page.shape
                itemsize = int(np.dtype(page.dtype).itemsize) if page.dtype is not None else 8
            channels = int(shape[2]) if len(shape) > 2 else 1
            return int(shape[0]), int(shape[1]), channels, itemsize
        from PIL import Image

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(path) as image:
                width, height = image.size
                channels = 4 if image.mode == "P" else len(image.getbands())
                itemsize = (
                    2 if image.mode.startswith("I;16") else 4 if image.mode in ("I", "F") else 1
                )
        return int(height), int(width), channels, itemsize
    except Exception:
        return None


def _check_header_size(path: Path, size: Optional[Size]) -> Optional[Tuple[int, Tuple[int, int]]]:
    """Read the image's size from its header (no decoding), refuse decompression bombs and
    images whose decoding exceeds the memory limit; returns the box-reduction factor that
    decoding applies for ``size`` (see :func:`_reduction`) and the target ``(H, W)``, or
    ``None`` without a header."""
    source = f"image {str(path)!r}"
    header = _header(path)
    if header is None:
        return None
    height, width, channels, itemsize = header
    check_image_pixels(height, width, source)
    target = target_shape(size, height, width)
    factor = _reduction(path, (height, width), None if size is None else target)
    reduced = (height // factor) * (width // factor)
    # the decoded samples, then (reduced) float64 and float32 copies and pixel coordinates
    check_memory(
        f"decoding {source} ({width}x{height} pixels)",
        height * width * channels * itemsize + reduced * (channels * (8 + 4) + 8),
    )
    return factor, target


#: Images of more pixels than this are box-reduced while decoding when ``size`` shrinks them
#: (smaller ones keep the exact anti-aliased resize of :func:`resize_image`).
REDUCE_ABOVE = 4 * 1024 * 1024


def _reduction(path: Path, shape: Tuple[int, int], size: Optional[Tuple[int, int]]) -> int:
    """The integer factor by which Pillow's ``reduce`` shrinks a large PNG/JPEG during
    loading, keeping at least twice the requested ``size`` for the anti-aliased resize after it."""
    if size is None or PLUGINS.get(path.suffix.lower()) != "pillow":
        return 1
    if shape[0] * shape[1] <= REDUCE_ABOVE:
        return 1
    return max(1, min(shape[0] // (2 * size[0]), shape[1] // (2 * size[1])))


def _decode_reduced(path: Path, factor: int, size: Tuple[int, int]) -> np.ndarray:
    """Decode a PNG/JPEG with Pillow, box-reduced by ``factor`` (JPEG: decoded at a reduced
    scale with ``draft``), as an array like imageio's (palettes applied)."""
    from PIL import Image

    with Image.open(path) as opened:
        if opened.format == "JPEG":
            opened.draft(opened.mode, (size[1] * 2, size[0] * 2))
        image: Image.Image = opened
        if image.mode == "P":
            image = image.convert("RGBA" if "transparency" in image.info else "RGB")
        elif image.mode == "CMYK":
            image = image.convert("RGB")
        factor = max(1, min(image.height // (2 * size[0]), image.width // (2 * size[1]), factor))
        if factor > 1:
            image = image.reduce(factor)
        return np.asarray(image)


def load_image(path: PathLike, size: Optional[Size] = None) -> Signal:
    """Load a PNG, JPEG or TIFF image as a :class:`Signal` with values ``(H, W, C)`` in ``[0, 1]``.

    Args:
        path: the image file, read with ``imageio.v3.imread`` (Pillow for PNG/JPEG, tifffile
            for TIFF; other extensions let imageio choose).
        size: ``None`` keeps the stored size; ``n`` resizes so that the longest side is ``n``
            (aspect ratio kept); ``(H, W)`` resizes to ``H x W``.

    Returns:
        a ``Signal`` of kind ``"image"``, ``C`` = 1 (gray), 3 (RGB) or 4 (RGBA, alpha kept as a
        channel), domain ``[0, 1]^2``, named after the file stem.

    Raises:
        SignalError: naming ``path``: missing, empty, unreadable/corrupt, unsupported shape
        (gray+alpha, multi-page TIFF, ...) or dtype.
    """
    import imageio.v3 as iio

    check_size(size)
    p = existing_file(path, "image")
    if p.suffix.lower() in (".tif", ".tiff"):
        pages = _tiff_pages(p)
        if pages > 1:
            raise SignalError(
                f"image {str(p)!r} is a multi-page TIFF ({pages} pages); only single images are supported"
            )
    header = _check_header_size(p, size)  # before any pixel is decoded
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", _bomb_warning())  # Pillow's warning: refuse, as above
            if header is not None and header[0] > 1:
                array = _decode_reduced(p, *header)
            else:
                plugin = PLUGINS.get(p.suffix.lower())
                array = iio.imread(p, plugin=plugin) if plugin else iio.imread(p)
    except SignalError:
        raise
    except Exception as exc:
        if (
            "DecompressionBomb" in type(exc).__name__
            or "DecompressionBomb" in type(exc.__cause__).__name__
            or "decompression bomb" in str(exc).lower()
        ):
            raise SignalError(
                f"image {str(p)!r}: image too large (decompression bomb?): {exc}"
            ) from None  # imageio/Pillow raise many types for bad files
        raise SignalError(f"cannot read image {str(p)!r} (corrupt or not an image): {exc}") from exc
    if array.dtype == np.uint8 and p.suffix.lower() == ".png" and _png_is_16bit_color(p):
        warnings.warn(
            f"{str(p)!r} is a 16-bit colour PNG; Pillow decodes it at 8-bit precision",
            RuntimeWarning,
            stacklevel=2,
        )
    return image_signal(array, name=p.stem, size=size, source=f"image {str(p)!r}")


def _as_uint8(array: Union[np.ndarray, Tensor]) -> np.ndarray:
    if isinstance(array, Tensor):
        array = array.detach().cpu().numpy()
    array = np.asarray(array)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (3, 4)):
        raise SignalError(
            f"save_image: array must have shape (H, W) or (H, W, C) with C in 1, 3, 4; got {array.shape}"
        )
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise SignalError(f"save_image: array is empty, shape {array.shape}")
    if array.dtype == np.uint8:
        return np.ascontiguousarray(array)
    if array.dtype == np.bool_ or np.issubdtype(array.dtype, np.floating):
        values = finite_float32(array, "save_image array")
        return np.ascontiguousarray(np.round(np.clip(values, 0.0, 1.0) * 255.0).astype(np.uint8))
    raise SignalError(
        f"save_image: array dtype must be float (values in [0, 1]) or uint8, got {array.dtype}"
    )


def save_image(path: PathLike, array: Union[np.ndarray, Tensor]) -> Path:
    """Write ``array`` as an 8-bit PNG at ``path``, atomically.

    Args:
        path: destination, must end in ``.png``; its folder must exist. An existing file is
            replaced.
        array: ``(H, W)`` or ``(H, W, C)`` with ``C`` in 1, 3, 4; floats in ``[0, 1]`` (clipped,
            then rounded to ``k/255``) or ``uint8``; numpy array or tensor.

    The PNG is encoded in memory, written to a temporary file in the destination folder and
    moved into place with ``os.replace``: readers see the old file or the complete new one,
    never a partial file, and no temporary file is left behind on errors.

    Returns the destination ``Path``.
    """
    import imageio.v3 as iio

    if not isinstance(path, (str, os.PathLike)):
        raise SignalError(
            f"save_image: path must be a str or os.PathLike, got {type(path).__name__}"
        )
    target = Path(path).expanduser()
    if target.suffix.lower() != ".png":
        raise SignalError(
            f"save_image writes PNG files; path must end in .png, got {str(target)!r}"
        )
    folder = target.parent
    if not folder.is_dir():
        raise SignalError(f"save_image: folder {str(folder)!r} of {str(target)!r} does not exist")
    encoded = iio.imwrite("<bytes>", _as_uint8(array), extension=".png")
    with atomic_path(str(target)) as temporary:
        with open_nofollow(temporary, "wb") as handle:
            handle.write(encoded)
    return target
