"""coordnet's package docstring is the map a newcomer reads first: every subpackage and every
top-level module is on it."""

from pathlib import Path

import coordnet

ROOT = Path(coordnet.__file__).resolve().parent


def test_the_package_docstring_lists_every_subpackage_and_module():
    doc = coordnet.__doc__
    packages = [p.name for p in ROOT.iterdir() if (p / "__init__.py").is_file()]
    modules = [p.stem for p in ROOT.glob("*.py") if not p.stem.startswith("_")]
    assert packages and modules
    missing = [f"coordnet.{name}" for name in packages if f"coordnet.{name} " not in doc]
    missing += [name for name in modules if f"``{name}``" not in doc]
    assert missing == []
