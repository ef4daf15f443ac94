#!/usr/bin/env bash
# Regular (non-editable) install check: build a wheel against the test venv's torch, unpack it
# into an empty folder, and import it from there with nothing else of the repository in reach.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="$ROOT/.venv/bin/python"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cd "$ROOT"
"$PY" -m pip wheel --quiet --no-build-isolation --no-deps . -w "$WORK/wheel" 2>&1 | grep -v "^WARNING: Location" || true
WHEEL=$(ls "$WORK"/wheel/coordnet-*.whl)
echo "    built $(basename "$WHEEL")"
mkdir "$WORK/site"
(cd "$WORK/site" && "$PY" -m zipfile -e "$WHEEL" .)
(cd "$WORK" && PYTHONPATH="$WORK/site" "$PY" -W error::UserWarning - <<'PYEOF'
import coordnet
import coordnet.ops as ops
import torch
from coordnet.encoders import GaussianFourierFeatures

assert coordnet.__file__.startswith(__import__("os").getcwd()), coordnet.__file__
assert ops.extension_available(), ops.extension_load_error
assert ops.backend("cpu") == "cpu"
y = GaussianFourierFeatures(2, 64, 5.0)(torch.rand(4096, 2))
assert y.shape == (4096, 128) and torch.isfinite(y).all()
from coordnet.sweep.config import shipped_sweep
assert shipped_sweep("tancik2020_sigma").is_file(), "package data: coordnet/sweep/files/*.toml missing"
print(f"    wheel imports from {coordnet.__file__} with the compiled CPU backend")
PYEOF
)
