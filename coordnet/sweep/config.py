"""Sweep files: TOML -> :class:`SweepConfig`, with errors that name the key and its line.

A sweep file::

    name = "sigma"                  # optional, for titles
    images = ["camera", "photos/"]  # bundled names, image files, folders (their images, sorted);
                                    # relative paths are relative to the sweep file; $VARS expand
    size = 256                      # optional: resize images to size x size on load
    split = "tancik"                # full | tancik | holdout:FRACTION
    steps = 2000
    seeds = [0, 1, 2]               # a list of seeds, or a count n (seeds 0..n-1)
    lr = 1e-3                       # optional: default per model family (coordnet.training.learning_rates)
    eval_every = 500                # optional (default: steps)
    schedule = "constant"           # optional
    batch_size = 16384              # optional (default: full batch)
    device = "cpu"                  # optional: cpu | cuda

    [[models]]
    spec = "gauss:num_frequencies=256+relu:width=256"
    name = "gauss"                  # optional: the series name in tables and plots
    lr = 1e-3                       # optional: this model's learning rate
    [models.grid]
    sigma = [1, 2, 4, 8, 10, 16, 32, 64]  # encoder keys, net keys, or "encoder.KEY" / "net.KEY"

Python's TOML parser reports line numbers for syntax errors only; for a key whose value is
wrong, the line is found in the text (:func:`key_line`).
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

from coordnet.config_errors import ConfigError, key_path
from coordnet.config_files import parse_nested, read_text_file
from coordnet.nets import ModelSpec, parse_spec
from coordnet.nets.named import NAMED_ENCODERS, NAMED_NETS
from coordnet.training.trainer import SCHEDULES

try:
    import tomllib  # Python >= 3.11
except ModuleNotFoundError:  # pragma: no cover - Python < 3.11
    import tomli as tomllib  # type: ignore[no-redef]

TOP_KEYS = (
    "name",
    "images",
    "size",
    "split",
    "steps",
    "seeds",
    "lr",
    "eval_every",
    "schedule",
    "batch_size",
    "device",
    "models",
)
MODEL_KEYS = ("spec", "name", "lr", "grid")
KeyPath = Tuple[Union[str, int], ...]
MAX_COUNT = 2**63 - 1  # integers (steps, seeds, sizes) beyond int64 reach no tensor
MAX_SEEDS = 100_000  # a seed count expands to a list of runs


class SweepFileError(ConfigError):
    """A sweep file that cannot be read, is not TOML, or holds a key with a wrong value."""


@dataclass(frozen=True)
class ModelGrid:
    """One ``[[models]]`` entry: a base spec and the values of each grid key.

    Attributes:
        name: the series name (default: the base spec's label).
        spec: the base :class:`ModelSpec` (grid keys not yet applied).
        grid: ``(role, canonical key) -> values``, role ``"encoder"`` or ``"net"``, in file order.
        lr: learning rate of this model, or ``None`` (the sweep's, else the family default).
    """

    name: str
    spec: ModelSpec
    grid: Dict[Tuple[str, str], List[Any]] = field(default_factory=dict)
    lr: Optional[float] = None


@dataclass(frozen=True)
class ImageEntry:
    """One image of the sweep: ``source`` as :func:`coordnet.signals.load_signal` takes it and
    the ``images`` entry (``group``) it came from."""

    source: str
    group: str


@dataclass(frozen=True)
class SweepConfig:
    """A parsed, validated sweep file (see the module docstring for the keys)."""

    name: str
    images: List[ImageEntry]
    models: List[ModelGrid]
    steps: int
    seeds: List[int]
    split: str = "tancik"
    size: Optional[int] = None
    lr: Optional[float] = None
    eval_every: Optional[int] = None
    schedule: str = "constant"
    batch_size: Optional[int] = None
    device: str = "cpu"
    source: Optional[str] = None


def _headers(line: str) -> Optional[Tuple[bool, Tuple[str, ...]]]:
    match = re.match(r"\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$", line)
    if match is None:
        return None
    parts = tuple(p.strip().strip("\"'") for p in match.group(2).split("."))
    return match.group(1) == "[[", parts


def key_line(text: str, path: KeyPath) -> Optional[int]:
    """The 1-based line where the key at ``path`` (``("models", 1, "grid", "sigma")``) is set,
    or the line of the closest enclosing table or key; ``None`` when none is found.

    Understands ``[table]`` and ``[[array]]`` headers and dotted keys; values inside inline
    tables are attributed to the line of the key holding the inline table."""
    counts: Dict[Tuple[str, ...], int] = {}
    current: KeyPath = ()
    best: Tuple[int, Optional[int]] = (-1, None)  # (length of the matched prefix, line)
    for number, line in enumerate(text.splitlines(), start=1):
        header = _headers(line)
        if header is not None:
            is_array, names = header
            resolved: List[Union[str, int]] = []
            for depth, name in enumerate(names):
                resolved.append(name)
                prefix = tuple(names[: depth + 1])
                if is_array and depth == len(names) - 1:
                    counts[prefix] = counts.get(prefix, -1) + 1
                    resolved.append(counts[prefix])
                elif prefix in counts:
                    resolved.append(counts[prefix])
            current = tuple(resolved)
            candidate = current
        else:
            match = re.match(r"\s*([A-Za-z0-9_\-.\"' ]+?)\s*=", line)
            if match is None or line.lstrip().startswith("#"):
                continue
            candidate = current + tuple(p.strip().strip("\"'") for p in match.group(1).split("."))
        length = 0
        while length < min(len(candidate), len(path)) and candidate[length] == path[length]:
            length += 1
        if length == len(candidate) and length > best[0]:  # candidate is a prefix of path
            best = (length, number)
    return best[1]


def format_path(path: KeyPath) -> str:
    """``("models", 1, "grid", "sigma")`` -> ``"models[1].grid.sigma"``."""
    return key_path(path)


class _Reader:
    """Validation helpers that raise :class:`SweepFileError` naming the file, the line and the key."""

    def __init__(self, text: str, source: str) -> None:
        self.text = text
        self.source = source

    def fail(self, path: KeyPath, problem: str) -> SweepFileError:
        line = key_line(self.text, path)
        where = self.source + (f", line {line}" if line is not None else "")
        return SweepFileError("sweep file", f"{where}: key {format_path(path)!r}", problem)

    def count(self, path: KeyPath, value: Any, minimum: int = 1, maximum: int = MAX_COUNT) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self.fail(path, f"must be an integer >= {minimum}, got {value!r}")
        if value > maximum:
            raise self.fail(path, f"must be at most {maximum}, got {value!r}")
        return value

    def number(self, path: KeyPath, value: Any) -> float:
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
            or value <= 0
        ):
            raise self.fail(path, f"must be a positive number, got {value!r}")
        return float(value)

    def string(self, path: KeyPath, value: Any, choices: Optional[Sequence[str]] = None) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(path, f"must be a non-empty string, got {value!r}")
        if choices is not None and value not in choices:
            raise self.fail(path, f"must be one of {', '.join(map(repr, choices))}, got {value!r}")
        return value

    def device(self, path: KeyPath, value: Any) -> str:
        """A device string of the form torch accepts with type cpu or cuda (``"cpu"``, ``"cuda:1"``);
        whether this machine has it is checked where the runs start, not here."""
        import torch

        device = self.string(path, value)
        try:
            parsed = torch.device(device)
        except RuntimeError:
            raise self.fail(path, f"{device!r} is not a device: use cpu, cuda or cuda:N") from None
        if parsed.type not in ("cpu", "cuda"):
            raise self.fail(path, f"{device!r}: coordnet runs on cpu or cuda[:N]")
        return device

    def unknown(self, path: KeyPath, data: Dict[str, Any], valid: Sequence[str]) -> None:
        for key in data:
            if key not in valid:
                raise self.fail(path + (key,), f"unknown key; valid keys: {', '.join(valid)}")


def _image_entries(reader: _Reader, value: Any, base: Path) -> List[ImageEntry]:
    from coordnet.signals.image import IMAGE_EXTENSIONS
    from coordnet.signals.registry import BUNDLED_SIGNALS

    path: KeyPath = ("images",)
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise reader.fail(
            path,
            f"must be a non-empty list of bundled names, image files or folders, got {value!r}",
        )
    entries: List[ImageEntry] = []
    for index, item in enumerate(value):
        item_path = path + (index,)
        reader.string(item_path, item)
        if item.strip().lower() in BUNDLED_SIGNALS or item.strip().lower().startswith("volume:"):
            entries.append(ImageEntry(item.strip().lower(), item))
            continue
        expanded = os.path.expandvars(os.path.expanduser(item))
        if "$" in expanded:
            raise reader.fail(item_path, f"{item!r} names an unset environment variable")
        location = Path(expanded) if os.path.isabs(expanded) else base / expanded
        if location.is_dir():
            files = sorted(p for p in location.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS)
            if not files:
                raise reader.fail(
                    item_path,
                    f"folder {str(location)!r} holds no images ({', '.join(IMAGE_EXTENSIONS)})",
                )
            entries += [ImageEntry(str(p.resolve()), item) for p in files]
        elif location.is_file():
            entries.append(ImageEntry(str(location.resolve()), item))
        else:
            raise reader.fail(
                item_path,
                f"{item!r} is neither a bundled name nor an existing file or folder "
                f"(looked for {str(location)!r}); bundled: {', '.join(BUNDLED_SIGNALS)}",
            )
    return entries


def _grid_key(reader: _Reader, path: KeyPath, key: str, spec: ModelSpec) -> Tuple[str, str]:
    role, _, name = key.rpartition(".")
    parts = {"encoder": NAMED_ENCODERS[spec.encoder], "net": NAMED_NETS[spec.net]}
    roles = [role] if role else ["encoder", "net"]
    if role and role not in parts:
        raise reader.fail(path, "a grid key is KEY, encoder.KEY or net.KEY")
    for candidate in roles:
        targets = parts[candidate].resolve(name)
        if targets is not None:
            if len(targets) != 1:
                raise reader.fail(
                    path, f"{name!r} sets several keys ({', '.join(targets)}); grid one of them"
                )
            return candidate, targets[0]
    valid = "; ".join(f"{r} {parts[r].name!r}: {parts[r].describe_keys()}" for r in roles)
    raise reader.fail(path, f"not a key of the model; valid keys: {valid}")


def _model(reader: _Reader, index: int, data: Any) -> ModelGrid:
    path: KeyPath = ("models", index)
    if not isinstance(data, dict):
        raise reader.fail(path, f"must be a table ([[models]]), got {data!r}")
    reader.unknown(path, data, MODEL_KEYS)
    if "spec" not in data:
        raise reader.fail(
            path, "missing key 'spec' (a model spec such as \"gauss:sigma=10+relu:width=256\")"
        )
    try:
        spec = parse_spec(data["spec"]) if isinstance(data["spec"], (str, dict)) else None
    except ValueError as error:
        raise reader.fail(path + ("spec",), str(error)) from error
    if spec is None:
        raise reader.fail(path + ("spec",), f"must be a spec string or table, got {data['spec']!r}")
    grid_data = data.get("grid", {})
    if not isinstance(grid_data, dict):
        raise reader.fail(path + ("grid",), f"must be a table of key = [values], got {grid_data!r}")
    grid: Dict[Tuple[str, str], List[Any]] = {}
    for key, values in grid_data.items():
        key_path = path + ("grid", key)
        target = _grid_key(reader, key_path, key, spec)
        if target in grid:
            raise reader.fail(key_path, f"{target[0]} key {target[1]!r} is gridded twice")
        if not isinstance(values, list) or not values:
            raise reader.fail(key_path, f"must be a non-empty list of values, got {values!r}")
        if len(set(map(repr, values))) != len(values):
            raise reader.fail(key_path, f"lists a value twice: {values!r}")
        for value in values:  # each value must make a valid model
            role, name = target
            args = dict(spec.encoder_args if role == "encoder" else spec.net_args, **{name: value})
            try:
                ModelSpec(
                    spec.encoder,
                    args if role == "encoder" else spec.encoder_args,
                    spec.net,
                    args if role == "net" else spec.net_args,
                )
            except ValueError as error:
                raise reader.fail(key_path, f"value {value!r}: {error}") from error
        grid[target] = list(values)
    name = _name(reader, path + ("name",), data["name"]) if "name" in data else spec.label
    lr = reader.number(path + ("lr",), data["lr"]) if "lr" in data else None
    return ModelGrid(name, spec, grid, lr)


MAX_NAME = 200  # characters of a sweep's or a model's name (titles, table cells, file names)


def _name(reader: "_Reader", path: KeyPath, value: Any) -> str:
    """A name for titles and tables: a string of 1 to :data:`MAX_NAME` printable characters."""
    name = reader.string(path, value)
    if not name.strip() or len(name) > MAX_NAME or not name.isprintable():
        raise reader.fail(
            path,
            f"must be 1 to {MAX_NAME} printable characters, got {len(name)} characters"
            + ("" if name.isprintable() else " with control characters"),
        )
    return name


def _check_run_count(
    reader: "_Reader", images: Sequence[Any], models: Sequence[Any], seeds: Sequence[int]
) -> None:
    """Refuse, before any run is expanded or any grid value checked, a sweep of more than
    :data:`coordnet.memory_limit.MAX_RUNS` runs (images x grid points x seeds)."""
    from coordnet.memory_limit import check_run_count

    points = 0
    for model in models:
        grid = model.get("grid", {}) if isinstance(model, dict) else {}
        product = 1
        for values in grid.values() if isinstance(grid, dict) else ():
            product *= max(len(values), 1) if isinstance(values, list) else 1
        points += product
    try:
        check_run_count(
            f"{len(images)} image(s) x {points:,} grid point(s) x {len(seeds)} seed(s)",
            len(images) * points * len(seeds),
        )
    except ValueError as error:
        raise reader.fail(("models",), str(error)) from None


def parse_sweep(
    text: str,
    source: str = "<string>",
    base: Union[str, Path, None] = None,
    overrides: Optional[Dict[str, Any]] = None,
) -> SweepConfig:
    """Parse and validate a sweep file's ``text``; relative image paths are relative to ``base``
    (default: the current folder). ``overrides`` replace top-level keys of the file (e.g.
    ``{"images": [...], "steps": 300}``) before validation. Raises :class:`SweepFileError`
    naming ``source``, the line and the key."""
    reader = _Reader(text, source)
    try:
        data = parse_nested(tomllib.loads, text, f"sweep file {source}")
    except tomllib.TOMLDecodeError as error:
        raise SweepFileError("sweep file", source, f"not valid TOML: {error}") from error
    data.update(overrides or {})
    reader.unknown((), data, TOP_KEYS)
    for required in ("images", "steps", "models"):
        if required not in data:
            raise SweepFileError("sweep file", source, f"missing key {required!r}")
    images = _image_entries(reader, data["images"], Path(base) if base is not None else Path.cwd())
    steps = reader.count(("steps",), data["steps"])
    seeds_value = data.get("seeds", 1)
    if isinstance(seeds_value, list):
        if not seeds_value:
            raise reader.fail(("seeds",), "must be a non-empty list of integers or a count")
        seeds = [reader.count(("seeds", i), s, minimum=0) for i, s in enumerate(seeds_value)]
        if len(set(seeds)) != len(seeds):
            raise reader.fail(("seeds",), f"lists a seed twice: {seeds!r}")
    else:
        seeds = list(range(reader.count(("seeds",), seeds_value, maximum=MAX_SEEDS)))
    split = reader.string(("split",), data.get("split", "tancik"))
    try:
        from coordnet.signals.split import parse_split

        parse_split(split)
    except ValueError as error:
        raise reader.fail(("split",), str(error)) from error
    models_data = data["models"]
    if not isinstance(models_data, list) or not models_data:
        raise reader.fail(("models",), "must be one or more [[models]] tables")
    _check_run_count(reader, images, models_data, seeds)
    models = [_model(reader, i, m) for i, m in enumerate(models_data)]
    names = [m.name for m in models]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise reader.fail(
                ("models", i, "name"), f"two models are named {name!r}; give each a distinct name"
            )
    return SweepConfig(
        name=_name(reader, ("name",), data["name"]) if "name" in data else Path(source).stem,
        images=images,
        models=models,
        steps=steps,
        seeds=seeds,
        split=split,
        size=reader.count(("size",), data["size"], minimum=2) if "size" in data else None,
        lr=reader.number(("lr",), data["lr"]) if "lr" in data else None,
        eval_every=reader.count(("eval_every",), data["eval_every"])
        if "eval_every" in data
        else None,
        schedule=reader.string(("schedule",), data.get("schedule", "constant"), SCHEDULES),
        batch_size=reader.count(("batch_size",), data["batch_size"])
        if "batch_size" in data
        else None,
        device=reader.device(("device",), data.get("device", "cpu")),
        source=source,
    )


def shipped_sweep(name: str) -> Path:
    """The path of a sweep file shipped with coordnet (``coordnet/sweep/files/<name>.toml``)."""
    path = Path(__file__).resolve().parent / "files" / f"{name}.toml"
    if not path.is_file():
        shipped = sorted(p.stem for p in path.parent.glob("*.toml"))
        raise ValueError(f"no shipped sweep {name!r}; shipped: {', '.join(shipped) or '(none)'}")
    return path


def load_sweep(
    path: Union[str, "os.PathLike[str]"], overrides: Optional[Dict[str, Any]] = None
) -> SweepConfig:
    """Read and validate the sweep file at ``path`` (image paths relative to its folder);
    ``overrides`` as in :func:`parse_sweep`."""
    name = os.fspath(path)
    try:
        text = read_text_file(name, "sweep file")
    except OSError as error:
        raise SweepFileError(
            "sweep file", repr(name), f"cannot read it: {error.strerror or error}"
        ) from error
    return parse_sweep(text, repr(name), base=Path(name).resolve().parent, overrides=overrides)
