"""No function or method in coordnet/ is longer than 80 lines (aim: 50), decorators excluded."""

import ast
from pathlib import Path

import coordnet

LIMIT = 80
ROOT = Path(coordnet.__file__).resolve().parent


def long_functions(root: Path = ROOT, limit: int = LIMIT):
    """``[(path:line name, lines)]`` of every function or method under ``root`` longer than ``limit``."""
    found = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > limit:
                    where = f"{path.relative_to(root.parent)}:{node.lineno} {node.name}"
                    found.append((where, lines))
    return found


def test_no_function_is_longer_than_80_lines():
    assert long_functions() == []


def test_the_checker_finds_a_long_function(tmp_path):
    body = "\n".join(f"    x{i} = {i}" for i in range(LIMIT))
    (tmp_path / "long.py").write_text(f"def short():\n    return 1\n\n\ndef long():\n{body}\n")
    assert long_functions(tmp_path) == [(f"{tmp_path.name}/long.py:5 long", LIMIT + 1)]
