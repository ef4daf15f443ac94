"""Audio: ``.wav`` files as 1D signals with values in ``[-1, 1]``.

PCM 8/16/24/32-bit files are read with the standard library's ``wave`` module. Other WAV
encodings (32/64-bit float, ``WAVE_FORMAT_EXTENSIBLE`` on Python < 3.12) go through
``scipy.io.wavfile`` when scipy is installed.
"""

from __future__ import annotations

import wave
from typing import Optional, Tuple

import numpy as np
import torch

from coordnet.signals._files import PathLike, check_max_samples, existing_file, finite_float32
from coordnet.signals.errors import SignalError
from coordnet.signals.signal import Signal

AUDIO_EXTENSIONS = (".wav",)


def _pcm_to_float(raw: bytes, width: int, channels: int) -> np.ndarray:
    """Interleaved little-endian PCM bytes -> float64 ``(N, channels)`` in ``[-1, 1]``."""
    if width == 1:  # 8-bit WAV is unsigned, centred on 128
        data = (np.frombuffer(raw, dtype=np.uint8).astype(np.float64) - 128.0) / 128.0
    elif width == 2:
        data = np.frombuffer(raw, dtype="<i2").astype(np.float64) / 32768.0
    elif width == 3:
        b = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        ints = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        ints = np.where(ints >= 1 << 23, ints - (1 << 24), ints)
        data = ints.astype(np.float64) / float(1 << 23)
    elif width == 4:
        data = np.frombuffer(raw, dtype="<i4").astype(np.float64) / float(1 << 31)
    else:
        raise ValueError(f"unsupported sample width of {width} bytes")
    return data.reshape(-1, channels)


def _read_wave(path) -> Tuple[np.ndarray, int]:
    with wave.open(str(path), "rb") as f:
        channels, width, rate, frames = (
            f.getnchannels(),
            f.getsampwidth(),
            f.getframerate(),
            f.getnframes(),
        )
        raw = f.readframes(frames)
    usable = len(raw) - len(raw) % (width * channels)  # a truncated last frame is dropped
    return _pcm_to_float(raw[:usable], width, channels), rate


def _read_scipy(path) -> Tuple[np.ndarray, int]:
    from scipy.io import wavfile

    rate, data = wavfile.read(str(path))
    data = np.asarray(data)
    if data.ndim == 1:
        data = data[:, None]
    if data.dtype == np.uint8:
        out = (data.astype(np.float64) - 128.0) / 128.0
    elif np.issubdtype(data.dtype, np.signedinteger):
        out = data.astype(np.float64) / float(np.iinfo(data.dtype).max + 1)
    elif np.issubdtype(data.dtype, np.floating):
        out = data.astype(np.float64)
        finite_float32(out, f"audio {str(path)!r}")  # NaN and +-Inf refused, not clipped
        out = np.clip(out, -1.0, 1.0)
    else:
        raise ValueError(f"unsupported sample dtype {data.dtype}")
    return out, int(rate)


def load_audio(path: PathLike, max_samples: Optional[int] = None) -> Signal:
    """Load a ``.wav`` file as a :class:`Signal` of kind ``"audio"``.

    Args:
        path: the WAV file.
        max_samples: keep only the first ``max_samples`` samples (``None``: all).

    Returns:
        values ``(N, C)`` float32 in ``[-1, 1]`` (``C`` = number of channels; integer PCM is
        divided by ``2**(bits-1)``, 8-bit PCM is centred on 128 first, float WAVs are clipped),
        domain ``[0, 1]``, ``sample_rate`` from the file, named after the file stem. Float WAVs
        holding NaN or infinite samples are refused.

    Raises:
        SignalError: naming ``path``: missing, empty, corrupt/unsupported encoding, no samples.
    """
    check_max_samples(max_samples)
    p = existing_file(path, "audio")
    try:
        data, rate = _read_wave(p)
    except MemoryError:
        raise
    except Exception as exc:  # wave.Error, EOFError, struct errors, ...: try scipy's reader
        if not str(exc).strip():
            exc = type(exc)(f"{type(exc).__name__} from the wave module")
        try:
            data, rate = _read_scipy(p)
        except SignalError:
            raise
        except ImportError:
            raise SignalError(
                f"cannot read audio {str(p)!r}: {exc} (only PCM WAV is read without scipy)"
            ) from exc
        except Exception as exc2:
            reason = str(exc2).strip() or type(exc2).__name__
            raise SignalError(
                f"cannot read audio {str(p)!r} (corrupt or unsupported WAV): {exc}; scipy: {reason}"
            ) from exc2
    if data.shape[0] == 0 or data.shape[1] == 0:
        raise SignalError(f"audio {str(p)!r} contains no samples")
    if rate <= 0:
        raise SignalError(f"audio {str(p)!r} has an invalid sample rate {rate}")
    if max_samples is not None:
        data = data[:max_samples]
    values = torch.from_numpy(finite_float32(data, f"audio {str(p)!r}"))
    return Signal(values, name=p.stem, kind="audio", sample_rate=rate)
