"""1D series: ``.npy`` arrays and ``.csv`` columns sampled on a uniform grid.

The coordinates are implicit (sample ``i`` of ``N`` sits at ``i / N`` in ``[0, 1]``); every
array column or CSV column is a channel. Values are kept as stored (not normalised).
"""

from __future__ import annotations

import csv
from typing import List, Optional, Union

import numpy as np
import torch

from coordnet.signals._files import (
    PathLike,
    check_max_samples,
    existing_file,
    finite_float32,
    read_npy,
)
from coordnet.signals.errors import SignalError
from coordnet.signals.signal import Signal

SERIES_EXTENSIONS = (".npy", ".csv")


def series_from_array(
    array: np.ndarray,
    name: str = "series",
    max_samples: Optional[int] = None,
    source: str = "series",
) -> Signal:
    """A :class:`Signal` of kind ``"1d"`` from ``(N,)`` or ``(N, C)`` numbers (``source`` names it in errors)."""
    check_max_samples(max_samples)
    array = np.asarray(array)
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2:
        raise SignalError(
            f"{source}: a 1D series must have shape (N,) or (N, C), got {tuple(array.shape)}"
        )
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise SignalError(f"{source}: series is empty, shape {tuple(array.shape)}")
    if not (array.dtype == np.bool_ or np.issubdtype(array.dtype, np.number)) or np.iscomplexobj(
        array
    ):
        raise SignalError(f"{source}: series dtype must be real numeric or bool, got {array.dtype}")
    if max_samples is not None:
        array = array[:max_samples]
    return Signal(torch.from_numpy(finite_float32(array, source).copy()), name=name, kind="1d")


def _sniff_delimiter(line: str) -> Optional[str]:
    for delimiter in (",", ";", "\t"):
        if delimiter in line:
            return delimiter
    return None  # whitespace-separated


def _read_csv_rows(path) -> List[List[Union[int, str]]]:
    """The non-empty, non-comment lines of a CSV file: ``[line number, cell, cell, ...]``."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        lines = [(i + 1, line) for i, line in enumerate(f)]
    content = [(i, line) for i, line in lines if line.strip() and not line.lstrip().startswith("#")]
    if not content:
        return []
    delimiter = _sniff_delimiter(content[0][1])
    rows: List[List[Union[int, str]]] = []
    for number, line in content:
        if delimiter is None:
            cells = line.split()
        else:
            cells = next(csv.reader([line], delimiter=delimiter))
        rows.append([number] + [c.strip() for c in cells])
    return rows


def load_csv_series(path: PathLike, max_samples: Optional[int] = None) -> Signal:
    """Load the numeric columns of a CSV file as a 1D :class:`Signal` ``(N, C)``.

    The delimiter is ``,``, ``;``, tab or whitespace (from the first data line). Blank lines
    and lines starting with ``#`` are skipped. The first row is a header when any of its
    cells is not a number. Every later row must have the same number of numeric cells.
    """
    check_max_samples(max_samples)
    p = existing_file(path, "CSV")
    try:
        rows = _read_csv_rows(p)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise SignalError(f"cannot read CSV {str(p)!r}: {exc}") from exc

    def parse(row):
        return [float(c) for c in row[1:]]

    if rows:
        try:
            parse(rows[0])
        except ValueError:
            rows = rows[1:]  # header
    if not rows:
        raise SignalError(f"CSV {str(p)!r} contains no data rows")
    width = len(rows[0]) - 1
    data = []
    for row in rows:
        if len(row) - 1 != width:
            raise SignalError(
                f"CSV {str(p)!r} line {row[0]}: expected {width} columns, got {len(row) - 1}"
            )
        try:
            data.append(parse(row))
        except ValueError:
            raise SignalError(
                f"CSV {str(p)!r} line {row[0]}: non-numeric value in {row[1:]!r}"
            ) from None
    array = np.array(data, dtype=np.float64)
    return series_from_array(array, name=p.stem, max_samples=max_samples, source=f"CSV {str(p)!r}")


def load_npy_series(path: PathLike, max_samples: Optional[int] = None) -> Signal:
    """Load a ``(N,)`` or ``(N, C)`` ``.npy`` array as a 1D :class:`Signal` ``(N, C)``."""
    p = existing_file(path, ".npy")
    return series_from_array(
        read_npy(p), name=p.stem, max_samples=max_samples, source=f".npy series {str(p)!r}"
    )


def load_series(path: PathLike, max_samples: Optional[int] = None) -> Signal:
    """Load a 1D series from ``.npy`` or ``.csv`` (by extension); see the two loaders."""
    p = existing_file(path, "series")
    suffix = p.suffix.lower()
    if suffix == ".npy":
        return load_npy_series(p, max_samples)
    if suffix == ".csv":
        return load_csv_series(p, max_samples)
    raise SignalError(
        f"series file {str(p)!r}: unsupported extension {suffix!r}; expected .npy or .csv"
    )
