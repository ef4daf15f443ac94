"""A run cache: each run's result stored atomically under its key, reused when settings match."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Callable, Mapping

from coordnet.atomic import write_json

_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._=+-]*$")


def _normalise(value: Any) -> Any:
    """``value`` as it reads back from JSON (tuples become lists, keys strings)."""
    return json.loads(json.dumps(value, default=str))


class RunCache:
    """Stores ``folder/runs/<key>.json = {"key", "settings", "result"}``.

    A stored result is reused only when the file parses and its settings equal the given ones
    after JSON normalisation; otherwise the run is repeated and its result replaces the file.
    This is what lets an interrupted experiment resume where it stopped."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.runs = self.folder / "runs"

    def path(self, key: str) -> Path:
        """The file of ``key``; ``ValueError`` for a key that is not a safe file name."""
        if not isinstance(key, str) or not _KEY.match(key) or len(key) > 200:
            raise ValueError(f"run key {key!r} is not file-name safe (letters, digits, . _ = + -)")
        return self.runs / f"{key}.json"

    def load(self, key: str, settings: Mapping[str, Any]) -> dict | None:
        """The stored result of ``key`` if it exists, parses and was made with ``settings``."""
        path = self.path(key)
        try:
            stored = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        if not isinstance(stored, dict) or stored.get("settings") != _normalise(dict(settings)):
            return None
        result = stored.get("result")
        return result if isinstance(result, dict) else None

    def load_or_run(self, key: str, settings: Mapping[str, Any], fn: Callable[[], dict]) -> dict:
        """The stored result of ``key`` for these ``settings``, or ``fn()`` run and stored.

        The returned dict is always the JSON-normalised form, whether it was loaded or run."""
        cached = self.load(key, settings)
        if cached is not None:
            return cached
        result = fn()
        if not isinstance(result, dict):
            raise TypeError(f"run {key!r} returned {type(result).__name__}, expected a dict")
        payload = {"key": key, "settings": _normalise(dict(settings)), "result": _normalise(result)}
        self.runs.mkdir(parents=True, exist_ok=True)
        write_json(str(self.path(key)), payload)
        return payload["result"]

    def results(self) -> dict[str, dict]:
        """Every stored result that parses, by key (sorted)."""
        found: dict[str, dict] = {}
        if not self.runs.is_dir():
            return found
        for path in sorted(self.runs.glob("*.json")):
            try:
                stored = json.loads(path.read_text())
            except (OSError, ValueError):
                continue
            if isinstance(stored, dict) and isinstance(stored.get("result"), dict):
                found[str(stored.get("key", path.stem))] = stored["result"]
        return found
