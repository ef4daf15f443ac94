"""Versioned checkpoints that prove their integrity: everything needed to rebuild a model,
evaluate it, or resume its training, with a content hash checked on every load.

A checkpoint is a ``torch.save`` file of a dict (plain types and tensors) holding ``format``,
``version``, the caller's entries and ``sha256``: the SHA-256 of a canonical walk over every
other entry (keys, types, tensor dtypes, shapes and bytes; :func:`content_hash`).
``torch.load`` checks no CRC, so a flipped byte in tensor data would otherwise load as
different weights; here it is a :class:`CheckpointError` naming the file. Files of version 1
(before the hash) still load, with a warning that their integrity cannot be checked; files of
versions 1 and 2 (before model specs took the constructors' names, ``gauss:sigma`` for
``gauss:scale``, ``hash:num_levels`` for ``hash:n_levels``, ...) load with their spec keys renamed
(:func:`upgrade`): this is the one reader of every version.
"""

from __future__ import annotations

import hashlib
import math
import os
import warnings
from typing import Any, Dict, Iterable, List, Mapping

import torch

from coordnet.atomic import write_atomically
from coordnet.nets import CoordinateNet, build_model
from coordnet.ops.devices import check_device

FORMAT = "coordnet-checkpoint"
VERSION = 3
#: Versions this coordnet reads (1: no content hash; 1 and 2: model-spec keys of before 3).
READABLE_VERSIONS = (1, 2, 3)
#: Model-spec keys that version 3 renamed, per encoder: old key -> new key.
SPEC_KEYS_BEFORE_3 = {
    "gauss": {"scale": "sigma"},
    "hash": {
        "n_levels": "num_levels",
        "n_features_per_level": "num_features_per_level",
        "log2_hashmap_size": "log2_table_size",
        "base_resolution": "min_resolution",
        "per_level_scale": "growth",
    },
    "oneblob": {"n_bins": "num_bins"},
    "triwave": {"n_frequencies": "num_frequencies"},
}
HASH_KEY = "sha256"
#: The entries every checkpoint has (besides the header); ``signal`` is added by ``coordnet fit``.
REQUIRED = ("model_spec", "model_config", "trainer")


class CheckpointError(ValueError):
    """A checkpoint file is missing, unreadable, corrupt, malformed, or of an unknown version."""


def _feed(digest: "hashlib._Hash", value: Any) -> None:
    """Add ``value`` to ``digest`` in a canonical, type-tagged form (see :func:`content_hash`)."""
    if isinstance(value, torch.Tensor):
        data = value.detach().cpu().contiguous()
        digest.update(f"T{data.dtype}{tuple(data.shape)}:".encode())
        if data.numel():
            digest.update(data.reshape(-1).view(torch.uint8).numpy().tobytes())
    elif isinstance(value, Mapping):
        items = sorted(value.items(), key=lambda item: (type(item[0]).__name__, repr(item[0])))
        digest.update(f"D{len(items)}:".encode())
        for key, item in items:
            _feed(digest, key)
            _feed(digest, item)
    elif isinstance(value, (list, tuple)):
        digest.update(f"{'L' if isinstance(value, list) else 'U'}{len(value)}:".encode())
        for item in value:
            _feed(digest, item)
    elif isinstance(value, (bytes, bytearray)):
        digest.update(f"B{len(value)}:".encode() + bytes(value))
    else:  # None, bool, int, float, str and other scalars: their type and repr
        text = repr(value).encode()
        digest.update(f"S{type(value).__name__}{len(text)}:".encode() + text)


def content_hash(document: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of every entry of ``document`` but ``sha256``, walked canonically:
    dict keys sorted, tensors by dtype, shape and raw bytes, scalars by type and ``repr``."""
    digest = hashlib.sha256()
    _feed(digest, {key: value for key, value in document.items() if key != HASH_KEY})
    return digest.hexdigest()


def save_checkpoint(path: str, payload: Dict[str, Any]) -> None:
    """Write ``payload`` (plain types and tensors) with the format header and its content hash,
    atomically: an interrupted write leaves any previous checkpoint at ``path`` intact."""
    document = {"format": FORMAT, "version": VERSION, **payload}
    document[HASH_KEY] = content_hash(document)
    write_atomically(path, lambda temporary: torch.save(document, temporary))


def _fail(path: str, problem: str) -> "CheckpointError":
    return CheckpointError(f"checkpoint {path!r}: {problem}")


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _check_model_config(path: str, config: Any) -> None:
    if not isinstance(config, Mapping):
        raise _fail(path, f"entry 'model_config' must be a dict, got {type(config).__name__}")
    for key in ("in_dim", "out_dim"):
        if not _positive_int(config.get(key)):
            raise _fail(
                path,
                f"entry 'model_config.{key}' must be a positive integer, got {config.get(key)!r}",
            )
    if not isinstance(config.get("output_activation"), str):
        raise _fail(
            path,
            f"entry 'model_config.output_activation' must be a name, got "
            f"{config.get('output_activation')!r}",
        )
    domain = config.get("signal_domain")
    ok = (
        isinstance(domain, (list, tuple))
        and len(domain) == config["in_dim"]
        and all(
            isinstance(pair, (list, tuple))
            and len(pair) == 2
            and all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                for v in pair
            )
            and pair[0] < pair[1]
            for pair in domain
        )
    )
    if not ok:
        raise _fail(
            path,
            f"entry 'model_config.signal_domain' must hold {config['in_dim']} finite [low, high] "
            f"pairs with low < high, got {domain!r}",
        )


def _check_signal(path: str, signal: Any) -> None:
    if not isinstance(signal, Mapping):
        raise _fail(path, f"entry 'signal' must be a dict, got {type(signal).__name__}")
    if not isinstance(signal.get("kind"), str):
        raise _fail(path, f"entry 'signal.kind' must be a name, got {signal.get('kind')!r}")
    shape = signal.get("shape")
    if (
        not isinstance(shape, (list, tuple))
        or not shape
        or not all(_positive_int(n) for n in shape)
    ):
        raise _fail(
            path, f"entry 'signal.shape' must be a list of positive integers, got {shape!r}"
        )


def _check_trainer(path: str, trainer: Any) -> None:
    if not isinstance(trainer, Mapping):
        raise _fail(path, f"entry 'trainer' must be a dict, got {type(trainer).__name__}")
    weights = trainer.get("model")
    if not isinstance(weights, Mapping) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in weights.items()
    ):
        raise _fail(path, "entry 'trainer.model' must map parameter names to tensors")
    step = trainer.get("step", 0)
    if isinstance(step, bool) or not isinstance(step, int) or step < 0:
        raise _fail(path, f"entry 'trainer.step' must be a non-negative integer, got {step!r}")


#: Why a fit stopped, as its final checkpoint records it in ``stop``: all its steps trained,
#: an early stop on the validation split, or its time limit.
STOP_REASONS = ("steps", "plateau", "time_limit")


def _check_stop(path: str, stop: Any) -> None:
    """``stop``: ``None`` (saved during training) or ``{"reason": one of STOP_REASONS, "step": n}``."""
    if stop is None:
        return
    ok = (
        isinstance(stop, Mapping)
        and stop.get("reason") in STOP_REASONS
        and isinstance(stop.get("step"), int)
        and not isinstance(stop.get("step"), bool)
        and stop["step"] >= 0
    )
    if not ok:
        raise _fail(
            path,
            f"entry 'stop' must be null or {{'reason': {'|'.join(STOP_REASONS)}, 'step': n}}, "
            f"got {stop!r:.120}",
        )


def check_document(path: str, document: Any) -> Dict[str, Any]:
    """Validate the structure of a loaded checkpoint ``document``; errors name ``path`` and the entry."""
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise CheckpointError(f"{path!r} is not a coordnet checkpoint")
    version = document.get("version")
    if version not in READABLE_VERSIONS:
        raise _fail(
            path,
            f"format version {version!r}; this coordnet reads versions "
            f"{', '.join(map(str, READABLE_VERSIONS))}",
        )
    for key in REQUIRED:
        if key not in document:
            raise _fail(path, f"lacks the {key!r} entry")
    if not isinstance(document["model_spec"], Mapping):
        raise _fail(
            path, f"entry 'model_spec' must be a dict, got {type(document['model_spec']).__name__}"
        )
    _check_model_config(path, document["model_config"])
    _check_trainer(path, document["trainer"])
    if "signal" in document:
        _check_signal(path, document["signal"])
    _check_stop(path, document.get("stop"))
    return document


def _read(path: str) -> Any:
    if not os.path.isfile(path):
        raise CheckpointError(f"checkpoint {path!r} does not exist")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except MemoryError:
        raise _fail(path, "too large to load into memory") from None
    except Exception as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise CheckpointError(
            f"checkpoint {path!r} is unreadable or corrupt ({type(error).__name__}: {first})"
        ) from None


def _verify(path: str, document: Dict[str, Any]) -> None:
    if document.get("version") == 1:
        warnings.warn(
            f"checkpoint {path!r} has format version 1, without a content hash: its integrity cannot be "
            "checked",
            UserWarning,
            stacklevel=3,
        )
        return
    stored = document.get(HASH_KEY)
    if not isinstance(stored, str):
        raise _fail(
            path,
            f"lacks its content hash ({HASH_KEY!r}); the file is corrupt or was not written by coordnet",
        )
    if stored != content_hash(document):
        raise CheckpointError(
            f"checkpoint {path!r} is corrupt: its content does not match its {HASH_KEY} hash"
        )


def load_checkpoint(path: str) -> Dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint`, verify its content hash and structure.

    Raises:
        CheckpointError: naming ``path`` (and the entry): missing, unreadable, corrupt (hash
        mismatch), not a coordnet checkpoint, unknown version, or malformed entries.
    """
    document = _read(path)
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise CheckpointError(f"{path!r} is not a coordnet checkpoint")
    version = document.get("version")
    if version not in READABLE_VERSIONS:
        raise CheckpointError(
            f"checkpoint {path!r} has format version {version!r}; this coordnet reads versions "
            f"{', '.join(map(str, READABLE_VERSIONS))}"
        )
    _verify(path, document)
    return check_document(path, upgrade(document))


def upgrade(document: Dict[str, Any]) -> Dict[str, Any]:
    """``document`` (a verified checkpoint of any readable version) in the current version's
    terms: the model-spec keys of versions before 3 renamed (:data:`SPEC_KEYS_BEFORE_3`)."""
    spec = document.get("model_spec")
    if document.get("version", VERSION) >= 3 or not isinstance(spec, Mapping):
        return document
    renamed: Dict[str, Any] = {}
    for role, section in spec.items():
        if isinstance(section, Mapping):
            keys = SPEC_KEYS_BEFORE_3.get(str(section.get("type")), {})
            section = {keys.get(key, key): value for key, value in section.items()}
        renamed[role] = section
    return {**document, "model_spec": renamed}


def _listed(keys: Iterable[str], limit: int = 6) -> str:
    keys = sorted(keys)
    shown = ", ".join(keys[:limit])
    return shown + (f" and {len(keys) - limit} more" if len(keys) > limit else "")


def load_weights(model: torch.nn.Module, state: Mapping[str, torch.Tensor], path: str) -> None:
    """``model.load_state_dict(state)`` whose mismatches name the checkpoint and the keys:
    missing, unexpected, and those whose shapes differ."""
    expected = model.state_dict()
    missing = [key for key in expected if key not in state]
    unexpected = [key for key in state if key not in expected]
    shapes = [
        f"{key} {tuple(state[key].shape)} vs {tuple(value.shape)}"
        for key, value in expected.items()
        if key in state and tuple(state[key].shape) != tuple(value.shape)
    ]
    problems: List[str] = []
    if missing:
        problems.append(f"missing keys {_listed(missing)}")
    if unexpected:
        problems.append(f"unexpected keys {_listed(unexpected)}")
    if shapes:
        problems.append(f"shape mismatches {_listed(shapes, 4)}")
    if problems:
        raise _fail(
            path, "its weights do not fit the model its spec builds: " + "; ".join(problems)
        )
    try:
        model.load_state_dict(state)
    except RuntimeError as error:
        raise _fail(
            path, f"its weights do not fit the model: {str(error).splitlines()[0]}"
        ) from None


def build_from_checkpoint(document: Mapping[str, Any], path: str) -> CoordinateNet:
    """The untrained model that ``document``'s ``model_spec`` and ``model_config`` describe."""

    config = document["model_config"]
    try:
        return build_model(
            document["model_spec"],
            in_dim=config["in_dim"],
            out_dim=config["out_dim"],
            output_activation=config["output_activation"],
            signal_domain=tuple(tuple(pair) for pair in config["signal_domain"]),
        )
    except (ValueError, TypeError) as error:
        raise _fail(
            path, f"entry 'model_spec'/'model_config' does not build a model: {error}"
        ) from None


def load(path: str, device: str = "cpu") -> CoordinateNet:
    """The trained model of a checkpoint, on ``device`` and in eval mode: ``model(coords (..., d)) -> (..., C)``.

    The file's content hash and structure are verified first (:func:`load_checkpoint`).
    ``ValueError`` naming ``device`` when coordnet cannot run on it here (before reading the file)."""
    target = check_device(device, "load(device):")
    document = load_checkpoint(path)
    model = build_from_checkpoint(document, path)
    load_weights(model, document["trainer"]["model"], path)
    return model.to(target).eval()
