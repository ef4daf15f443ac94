#!/usr/bin/env bash
# CUDA compile check for coordnet's extension, for machines without a GPU.
#
#   1. nvcc compiles every csrc/cuda/*.cu (compile only, sm_80 + sm_90, warnings are errors).
#   2. A CUDA build of torch goes into a venv of its own (.venv-cuda, reused when it already
#      holds the right torch), and setup.py builds coordnet._C with CUDA against it.
#   3. The built library is checked: ops_cuda.cpp's object exists, the .so carries sm_80 and
#      sm_90 code, and, loaded into the CUDA torch (no GPU needed for that), it has CPU and CUDA
#      kernels for coordnet::fourier_features, ::pack_signs_relu_, ::hash_patterns and ::hashgrid_* (and a CPU
#      kernel for ::unique_patterns, whose CUDA path is device-side torch ops in coordnet/ops/regions.py);
#      the CPU kernels are run once against torch math.
#
# Usage: bash .ci/cuda_compile_check.sh   (from anywhere; works on the repo it lives in)
# Environment:
#   CUDA_HOME            CUDA toolkit root (default /usr/local/cuda); nvcc is $CUDA_HOME/bin/nvcc
#   CI=true              a missing nvcc is an error; otherwise the check is skipped with a message
#   COORDNET_CUDA_VENV   venv for the CUDA torch (default <repo>/.venv-cuda)
#   COORDNET_CUDA_TORCH  torch version to build against (default 2.14.1, a CUDA 13.0 build)
#   KEEP_CUDA_BUILD=1    keep the temporary build directory and print its path
#   MAX_JOBS             parallel compile jobs of the extension build (default: nproc)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

CUDA_HOME="${CUDA_HOME:-/usr/local/cuda}"
VENV="${COORDNET_CUDA_VENV:-$ROOT/.venv-cuda}"
TORCH_VERSION="${COORDNET_CUDA_TORCH:-2.14.1}"
GENCODE=(-gencode arch=compute_80,code=sm_80 -gencode arch=compute_90,code=sm_90)
# -Werror all-warnings turns nvcc's own warnings and the host compiler's into errors.
WARN_FLAGS=(-Werror all-warnings -Xcompiler=-Wall,-Wextra)

SCRIPT_START=$(date +%s)
STEP_START=$SCRIPT_START
STEP_NAME=""
step() {
  STEP_NAME="$*"
  STEP_START=$(date +%s)
  echo "==> [cuda-check] $STEP_NAME"
}
step_done() {
  echo "<== [cuda-check] $STEP_NAME: ok ($(($(date +%s) - STEP_START)) s)"
}
die() {
  echo "!!! [cuda-check] FAILED${STEP_NAME:+ in step '$STEP_NAME'}: $*" >&2
  exit 1
}

# ---------------------------------------------------------------------------- toolkit
NVCC="$CUDA_HOME/bin/nvcc"
if [[ ! -x "$NVCC" ]]; then
  if [[ "${CI:-}" == "true" ]]; then
    die "nvcc not found at $NVCC (set CUDA_HOME to the CUDA toolkit root); CI requires the CUDA compile check"
  fi
  echo "--- [cuda-check] SKIPPED: nvcc not found at $NVCC (set CUDA_HOME to the CUDA toolkit root)."
  echo "--- [cuda-check] The CUDA code was NOT compiled. Under CI=true this is an error."
  exit 0
fi
export CUDA_HOME
echo "--- [cuda-check] CUDA_HOME=$CUDA_HOME; $("$NVCC" --version | grep -i release)"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/coordnet-cuda-check.XXXXXX")"
if [[ "${KEEP_CUDA_BUILD:-0}" == "1" ]]; then
  trap 'echo "--- [cuda-check] build directory kept: $WORK"' EXIT
else
  trap 'rm -rf "$WORK"' EXIT
fi

# ---------------------------------------------------------------------------- 1. nvcc
step "1/4 nvcc -c csrc/cuda/*.cu (sm_80, sm_90, -Werror all-warnings)"
# The kernels' limits header is generated from coordnet/ops/limits.py (as setup.py does).
python3 coordnet/ops/limits.py csrc/include/coordnet/limits.h || die "cannot generate csrc/include/coordnet/limits.h"
shopt -s nullglob
CU_FILES=(csrc/cuda/*.cu)
shopt -u nullglob
((${#CU_FILES[@]} > 0)) || die "no csrc/cuda/*.cu files found"
mkdir -p "$WORK/nvcc"
for cu in "${CU_FILES[@]}"; do
  obj="$WORK/nvcc/$(basename "${cu%.cu}").o"
  t0=$(date +%s)
  "$NVCC" -c "$cu" -o "$obj" -std=c++17 -O3 "${GENCODE[@]}" "${WARN_FLAGS[@]}" \
    -Icsrc/include -Icsrc || die "nvcc failed on $cu"
  echo "    $cu: ok ($(($(date +%s) - t0)) s)"
done
step_done

# ---------------------------------------------------------------------------- 2. venv
step "2/4 venv with CUDA torch $TORCH_VERSION at ${VENV#"$ROOT"/}"
venv_ok() {
  "$VENV/bin/python" - "$TORCH_VERSION" <<'EOF' >/dev/null 2>&1
import sys
import torch, numpy, setuptools, wheel, ninja  # noqa: F401
assert torch.__version__.startswith(sys.argv[1]), torch.__version__
assert torch.version.cuda is not None, "torch is a CPU build"
EOF
}
if venv_ok; then
  echo "    reusing $VENV"
else
  if [[ -d "$VENV" ]] && ! "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
    echo "    $VENV exists but its python does not run: recreating it"
    rm -rf "$VENV"
  fi
  if [[ ! -x "$VENV/bin/python" ]]; then
    python3 -m venv "$VENV" || die "python3 -m venv $VENV failed"
  fi
  echo "    installing torch==$TORCH_VERSION numpy setuptools wheel ninja (several GB, takes a few minutes)"
  # (pip's notes about index folders of this machine's pip config that do not exist are dropped)
  "$VENV/bin/python" -m pip install --no-input --progress-bar off -q \
    "torch==$TORCH_VERSION" numpy setuptools wheel ninja 2>&1 |
    { grep -v "^WARNING: Location '.*' is ignored: it is neither a file nor a directory" || true; } ||
    die "pip install into $VENV failed"
  venv_ok || die "$VENV does not hold a CUDA build of torch $TORCH_VERSION after the install"
fi
PY="$VENV/bin/python"
echo "    $("$PY" -c 'import torch; print("torch", torch.__version__, "CUDA", torch.version.cuda)')"
step_done

# ---------------------------------------------------------------------------- 3. build
step "3/4 setup.py build_ext with CUDA (TORCH_CUDA_ARCH_LIST=8.0;9.0)"
# The toolkit here lacks the math libraries' headers (cusparse.h, cublas_v2.h, ...) that
# ATen/cuda/CUDAContext.h includes; the nvidia-* wheels that came with torch have them.
# CPATH dirs are searched after every -I dir, so the toolkit's own headers keep precedence.
SITE="$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
shopt -s nullglob
NV_INCLUDES=("$SITE"/nvidia/*/include)
shopt -u nullglob
((${#NV_INCLUDES[@]} > 0)) || die "no nvidia/*/include folders in $SITE"
NV_CPATH="$(IFS=:; echo "${NV_INCLUDES[*]}")"
echo "    CPATH += ${NV_CPATH//$ROOT\//}"
BUILD_LOG="$WORK/build.log"
if ! (
  export PATH="$VENV/bin:$PATH"  # ninja for torch's BuildExtension
  export CPATH="${CPATH:+$CPATH:}$NV_CPATH"
  export TORCH_CUDA_ARCH_LIST="8.0;9.0"
  export MAX_JOBS="${MAX_JOBS:-$(nproc)}"
  unset COORDNET_NO_CUDA COORDNET_NO_EXTENSION
  "$PY" setup.py build_ext --build-temp "$WORK/temp" --build-lib "$WORK/lib"
) >"$BUILD_LOG" 2>&1; then
  echo "---- last 150 lines of the build log ----" >&2
  tail -n 150 "$BUILD_LOG" >&2
  die "setup.py build_ext with CUDA failed"
fi
grep -E "^\[[0-9]+/[0-9]+\]" "$BUILD_LOG" | sed -E 's/^(\[[0-9]+\/[0-9]+\] [^ ]+).* -c ([^ ]+).*/\1 ... \2/; s/^(.{160}).*/\1.../; s/^/    /' || true
step_done

# ---------------------------------------------------------------------------- 4. verify
step "4/4 verify the built extension"
shopt -s nullglob
SO_FILES=("$WORK"/lib/coordnet/_C*.so)
shopt -u nullglob
((${#SO_FILES[@]} == 1)) || die "expected one coordnet/_C*.so under $WORK/lib, found ${#SO_FILES[@]}"
SO="${SO_FILES[0]}"
for obj in ops_cuda.o fourier_cuda.o regions_cuda.o hashgrid_cuda.o; do
  [[ -n "$(find "$WORK/temp" -path "*/csrc/cuda/$obj" -size +0 -print -quit)" ]] ||
    die "no csrc/cuda/$obj in $WORK/temp: the extension was not built with CUDA"
done
echo "    built $(basename "$SO") ($(du -k "$SO" | cut -f1) KiB) with objects for ops_cuda.cpp, fourier_cuda.cu, regions_cuda.cu and hashgrid_cuda.cu"
# cuobjdump: the toolkit's if it has one (this machine's does not), else the one triton ships.
CUOBJDUMP=""
for c in "$CUDA_HOME/bin/cuobjdump" "$SITE/triton/backends/nvidia/bin/cuobjdump" "$(command -v cuobjdump || true)"; do
  if [[ -n "$c" && -x "$c" ]]; then CUOBJDUMP="$c"; break; fi
done
if [[ -n "$CUOBJDUMP" ]]; then
  ELF_LIST="$("$CUOBJDUMP" --list-elf "$SO" 2>&1)" || die "$CUOBJDUMP --list-elf failed: $ELF_LIST"
  for sm in sm_80 sm_90; do
    grep -q "\.$sm\.cubin" <<<"$ELF_LIST" || die "no $sm device code in $SO; cuobjdump says: $ELF_LIST"
  done
  echo "    device code in the .so: $(grep -o 'sm_[0-9]*' <<<"$ELF_LIST" | sort -u | tr '\n' ' ')(cuobjdump: ${CUOBJDUMP#"$ROOT"/})"
else
  echo "    no cuobjdump found: the sm_80/sm_90 device code in the .so is not checked"
fi
# Loading needs no GPU: a CUDA build of torch imports fine without one.
"$PY" - "$SO" <<'EOF' || die "the CUDA build of coordnet._C does not load or lacks its registrations"
import importlib.util
import math
import sys

import torch

so = sys.argv[1]
torch.ops.load_library(so)
has = torch._C._dispatch_has_kernel_for_dispatch_key
for op in ("coordnet::fourier_features", "coordnet::fourier_features_backward", "coordnet::pack_signs_relu_",
           "coordnet::hash_patterns", "coordnet::hashgrid_forward", "coordnet::hashgrid_backward"):
    for key in ("CPU", "CUDA"):
        assert has(op, key), f"{op} has no {key} kernel"
        print(f"    {op}: {key} kernel registered")
assert has("coordnet::unique_patterns", "CPU"), "coordnet::unique_patterns has no CPU kernel"
print("    coordnet::unique_patterns: CPU kernel registered")

# The module itself reports that it was built with CUDA (loaded apart from the repo's
# coordnet package, whose import is not needed for this).
spec = importlib.util.spec_from_file_location("coordnet._C", so)
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
assert module.WITH_CUDA == 1, f"coordnet._C.WITH_CUDA = {module.WITH_CUDA}"
print("    coordnet._C.WITH_CUDA == 1")

# One run of the CPU kernel of this build, against plain torch (sin/cos blocks, no input copy).
g = torch.Generator().manual_seed(0)
x = torch.rand(7, 3, generator=g, dtype=torch.float64)
B = torch.randn(4, 3, generator=g, dtype=torch.float64)
out = torch.ops.coordnet.fourier_features(x, B, None, 2 * math.pi, 4, 0)  # phase factor 2π
angle = 2 * math.pi * (x @ B.T)
ref = torch.cat([torch.sin(angle), torch.cos(angle)], dim=1)
torch.testing.assert_close(out, ref, rtol=1e-9, atol=1e-9)
print(f"    CPU kernel of this build matches torch (max err {(out - ref).abs().max().item():.1e});"
      f" torch.cuda.is_available() = {torch.cuda.is_available()}")

# Activation patterns: sign bits of a layer of 70 units (two words) against plain torch.
pre = torch.randn(5, 70, generator=g)
packed = torch.zeros(5, 2, dtype=torch.int64)
torch.ops.coordnet.pack_signs_relu_(pre, packed, 0, True)
bits = torch.stack([(packed[:, j // 64] >> (j % 64)) & 1 for j in range(70)], dim=1)
assert torch.equal(bits.bool(), pre > 0) and bool((pre >= 0).all()), "pack_signs_relu_ disagrees with torch"
inverse, first = torch.ops.coordnet.unique_patterns(torch.cat([packed, packed]), -1)
assert torch.equal(inverse, torch.arange(5).repeat(2)) and torch.equal(first, torch.arange(5)), (inverse, first)
print("    CPU pattern kernels of this build match torch")

# Hash grid: one dense 1D level of resolution 5 (scale 4, no shift), linear interpolation
# between the two table rows around 4x, against plain torch.
xs = torch.rand(9, 1, generator=g, dtype=torch.float64)
table = torch.randn(8, 2, generator=g, dtype=torch.float64)
out = torch.ops.coordnet.hashgrid_forward(xs, table, [4.0], [0, 8, 5, 0], 1, 0.0, False)
pos = 4 * xs[:, 0]
low = pos.floor().long()
t = (pos - low)[:, None]
torch.testing.assert_close(out, table[low] * (1 - t) + table[low + 1] * t, rtol=1e-12, atol=1e-12)
print("    CPU hash-grid kernel of this build matches torch")
EOF
step_done

echo "=== [cuda-check] all CUDA compile checks passed in $(($(date +%s) - SCRIPT_START)) s"
