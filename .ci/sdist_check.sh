#!/usr/bin/env bash
# Source distribution check: build the sdist and a wheel with `python -m build --no-isolation`
# (against the test venv's torch), `twine check` both, then follow the install section of
# docs/getting-started.md as written (the block between its `install-from-sdist` markers) in a clean virtual environment
# that starts with nothing: it installs torch from the local wheel, builds coordnet from the sdist
# without isolation (no build may fetch torch), and must import the compiled extension.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="$ROOT/.venv/bin/python"
BUILD_SPEC="build==1.6.1"
TWINE_SPEC="twine==7.0.0"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cd "$ROOT"

"$PY" -m pip install --quiet "$BUILD_SPEC" "$TWINE_SPEC"
# The sdist first, then the wheel built from that sdist (build's default): the wheel proves the
# sdist holds every file the extension needs.
"$PY" -m build --no-isolation --outdir "$WORK/dist" . >"$WORK/build.log" 2>&1 || { tail -40 "$WORK/build.log"; exit 1; }
SDIST=$(ls "$WORK"/dist/coordnet-*.tar.gz)
WHEEL=$(ls "$WORK"/dist/coordnet-*.whl)
echo "    built $(basename "$SDIST") and $(basename "$WHEEL")"
tar -tzf "$SDIST" >"$WORK/sdist.txt"
# csrc/include/coordnet/limits.h is generated from coordnet/ops/limits.py by setup.py.
for header in csrc/include/coordnet/hashgrid.h csrc/include/coordnet/limits.h coordnet/ops/limits.py \
  csrc/cpu/kernels.h csrc/checks.h csrc/cuda/ops_cuda.cpp coordnet/sweep/files/tancik2020_sigma.toml; do
  grep -qx "coordnet-[^/]*/$header" "$WORK/sdist.txt" || { echo "sdist lacks $header" >&2; exit 1; }
done
"$PY" -m twine check --strict "$SDIST" "$WHEEL"

# The documented install commands, run as written from a folder holding the sdist, in a fresh venv.
python_base=$("$PY" -c 'import sys; print(sys._base_executable)')
"$python_base" -m venv "$WORK/venv"
"$WORK/venv/bin/python" -m pip install --quiet --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
cp "$SDIST" "$WORK/"
INSTALL_DOC=docs/getting-started.md
sed -n '/<!-- install-from-sdist:begin -->/,/<!-- install-from-sdist:end -->/p' "$INSTALL_DOC" \
  | sed -n '/^```bash$/,/^```$/p' | grep -v '^```' >"$WORK/install.sh"
[ -s "$WORK/install.sh" ] || { echo "$INSTALL_DOC: no install-from-sdist block" >&2; exit 1; }
echo "    $INSTALL_DOC install block:"; sed 's/^/      /' "$WORK/install.sh"
(cd "$WORK" && PATH="$WORK/venv/bin:$PATH" VIRTUAL_ENV="$WORK/venv" bash -euo pipefail install.sh >"$WORK/install.log" 2>&1) \
  || { tail -40 "$WORK/install.log"; exit 1; }

cd "$WORK"
"$WORK/venv/bin/python" -W error::UserWarning - <<'PYEOF'
import os

import torch

import coordnet
import coordnet.ops as ops

assert "site-packages" in coordnet.__file__, coordnet.__file__
assert torch.__version__.startswith("2.13.0"), torch.__version__
assert ops.extension_available(), ops.extension_load_error
assert ops.backend("cpu") == "cpu", ops.backend("cpu")
from coordnet.encoders import HashGrid
y = HashGrid(3)(torch.rand(1024, 3))
assert y.shape == (1024, 32) and torch.isfinite(y).all()
print(f"    sdist install: {coordnet.__file__}, torch {torch.__version__}, backend(cpu) = cpu")
PYEOF
# A missing extra is one line naming it (ray is not in the documented install line).
if "$WORK/venv/bin/python" -c "import ray" 2>/dev/null; then echo "ray unexpectedly installed" >&2; exit 1; fi
printf 'images = ["camera"]\nsize = 16\nsteps = 2\n[[models]]\nspec = "relu:width=8"\n' >"$WORK/s.toml"
if msg=$("$WORK/venv/bin/coordnet" sweep "$WORK/s.toml" --ray auto --quiet --out "$WORK/out" 2>&1 >/dev/null); then
  echo "sweep --ray without ray should fail" >&2; exit 1
fi
[ "$msg" = "error: --ray needs Ray: pip install 'coordnet[ray]'" ] || { echo "unexpected: $msg" >&2; exit 1; }
echo "    missing extra: $msg"
