"""The one error type of coordnet's configuration readers: model specs, tiny-cuda-nn encoding
and network configs, and sweep files.

Every message has the form ``"<source> <where>: <problem>"``: ``source`` names what was read
(``model spec 'gauss:sigma=x'``, ``encoding config``, ``sweep file 'a.toml', line 4``) and
``where`` the path of the bad key inside it (``part 'gauss'``, ``encoding.nested[1]
(HashGrid)``, ``key 'models[0].grid.sigma'``), so that one line says what to fix and where.
"""

from __future__ import annotations

import re
from typing import Mapping, NoReturn, Sequence, Union


class ConfigError(ValueError):
    """A configuration with a bad key or value.

    Attributes:
        source: what was read; ``where``: the path of the bad key (may be empty);
        ``problem``: what is wrong with it.
    """

    def __init__(self, source: str, where: str, problem: str) -> None:
        self.source, self.where, self.problem = source, where, problem
        super().__init__(f"{source} {where}: {problem}" if where else f"{source}: {problem}")


def key_path(parts: Sequence[Union[str, int]]) -> str:
    """``("models", 0, "grid", "sigma")`` -> ``"models[0].grid.sigma"``."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def config_error(source: str, where: str, problem: str) -> NoReturn:
    """Raise :class:`ConfigError` (see its message form)."""
    raise ConfigError(source, where, problem)


def names_in_message(message: str, names: Mapping[str, str]) -> str:
    """``message`` with every whole-word occurrence of a key of ``names`` replaced by its value
    (an error raised under a constructor's argument names, told in a config's or spec's keys)."""
    if not names:
        return message
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, names)) + r")\b")
    return pattern.sub(lambda match: names[match.group(1)], message)


__all__ = ["ConfigError", "config_error", "key_path", "names_in_message"]
