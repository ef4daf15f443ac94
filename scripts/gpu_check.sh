#!/usr/bin/env bash
# GPU check of coordnet, run from the repository root of a GPU machine as one command.
#
#   scripts/gpu_check.sh check    (make gpu-check)   build against this machine's python and torch
#                                                     (CUDA arch of the local GPU, MAX_JOBS = cores),
#                                                     coordnet doctor --verify (every kernel against its
#                                                     reference, first), the cuda-marked op/encoder/regions
#                                                     tests, bench_encoders.py and bench_regions.py
#   scripts/gpu_check.sh tancik   (make gpu-tancik)  Tancik et al. 2020 Table 1 at the paper's budget
#                                                     (coordnet reproduce tancik2020 --budget gpu-paper)
#
# Each part has a time budget (seconds) and the whole stays under GPU_CHECK_TOTAL (default 530 s);
# a part that runs out is interrupted (its JSON is written after every row) and the next one runs.
# Writes into $OUT when set (else out/gpu-check/): the log, the benchmark JSON, the test summary,
# a PNG of the measured ratios against their targets, and the Tancik results (at most 8 files,
# flat). Without a GPU it says so in one line, runs what it can (extension check, doctor, the test
# selection, whose cuda cases skip) and exits 0.
#
# Environment: GPU_PYTHON (default python3), TANCIK_DATA (default data/tancik2020, see
# `make tancik-data`), GPU_CHECK_TOTAL. Only the standard library, torch, numpy, scipy, scikit-image,
# scikit-learn, matplotlib, click, tqdm and pytest are needed: no network, no virtualenv.
set -uo pipefail

MODE="${1:-check}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT" || exit 1
PY="${GPU_PYTHON:-python3}"
DEST="${OUT:-$ROOT/out/gpu-check}"
mkdir -p "$DEST"
WORK="$ROOT/out/gpu-work"
mkdir -p "$WORK"
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONUNBUFFERED=1
TOTAL="${GPU_CHECK_TOTAL:-530}"
START=$(date +%s)

case "$MODE" in
  check) LOG="$DEST/gpu_check.log" ;;
  tancik) LOG="$DEST/gpu_tancik.log" ;;
  *) echo "gpu_check.sh: error: mode must be 'check' or 'tancik', got '$MODE'" >&2; exit 2 ;;
esac
exec > >(tee -a "$LOG") 2>&1

# part NAME BUDGET_S COMMAND...: run under min(budget, time left), SIGINT first, report rc and time.
part() {
  local name="$1" budget="$2"
  shift 2
  local left=$((TOTAL - ($(date +%s) - START)))
  ((budget > left)) && budget=$left
  if ((budget < 5)); then
    echo "<== [$name] skipped: the ${TOTAL} s budget is spent"
    return 0
  fi
  echo "==> [$name] (budget ${budget} s): $*"
  local t0 rc
  t0=$(date +%s)
  timeout --signal=INT --kill-after=15 "$budget" "$@"
  rc=$?
  if ((rc == 124 || rc == 130 || rc == 137)); then
    echo "<== [$name] interrupted at its ${budget} s budget (rc $rc) after $(($(date +%s) - t0)) s"
  else
    echo "<== [$name] rc $rc in $(($(date +%s) - t0)) s"
  fi
  return 0
}

gpu_present() {
  "$PY" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" >/dev/null 2>&1
}

echo "coordnet gpu_check ($MODE) at $(date -u '+%Y-%m-%d %H:%M:%S UTC') on $(hostname), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
"$PY" -c "import sys, torch; print('python', sys.version.split()[0], '| torch', torch.__version__, '| CUDA', torch.version.cuda)" ||
  { echo "gpu_check.sh: error: $PY cannot import torch"; exit 1; }
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader

if ! gpu_present; then
  echo "gpu_check.sh: no CUDA GPU on this machine (torch.cuda.is_available() is False): GPU parts skipped."
  part extension 60 "$PY" -c "import coordnet.ops as o; assert o.extension_available(), o.extension_load_error; print('coordnet._C loads; CUDA kernels:', o.has_cuda_kernels())"
  part doctor-verify 60 "$PY" -m coordnet doctor --verify
  if [[ "$MODE" == check ]]; then
    part tests 300 "$PY" -m pytest -q -p no:cacheprovider -m cuda tests/ops/test_fourier.py tests/ops/test_hashgrid.py \
      tests/ops/test_regions.py tests/ops/test_encoders_on_devices.py
  fi
  exit 0
fi

if [[ "$MODE" == check ]]; then
  ARCH="$("$PY" -c "import torch; print('%d.%d' % torch.cuda.get_device_capability())")"
  export TORCH_CUDA_ARCH_LIST="$ARCH" MAX_JOBS="$(nproc)" PIP_BREAK_SYSTEM_PACKAGES=1
  if [[ -z "${CUDA_HOME:-}" ]] && command -v nvcc >/dev/null; then
    CUDA_HOME="$(dirname "$(dirname "$(readlink -f "$(command -v nvcc)")")")"
    export CUDA_HOME
  fi
  # ATen/cuda/CUDAContext.h includes the math libraries' headers (cublas_v2.h, cusparse.h, ...),
  # which a bare toolkit may lack and torch's nvidia-* wheels carry; CPATH comes after every -I.
  NV_CPATH="$("$PY" -c "import glob, os, torch; site = os.path.dirname(os.path.dirname(torch.__file__)); print(':'.join(sorted(glob.glob(os.path.join(site, 'nvidia', '*', 'include')))))")"
  [[ -n "$NV_CPATH" ]] && export CPATH="${CPATH:+$CPATH:}$NV_CPATH"
  echo "--- TORCH_CUDA_ARCH_LIST=$TORCH_CUDA_ARCH_LIST MAX_JOBS=$MAX_JOBS CUDA_HOME=${CUDA_HOME:-?} CPATH+=${NV_CPATH:-nothing}"
  rm -f coordnet/_C*.so
  part build 240 "$PY" -m pip install --no-build-isolation --no-deps --no-input -q -e .
  if ! "$PY" -c "import coordnet.ops as o, sys; sys.exit(0 if o.has_cuda_kernels() else 1)" 2>/dev/null; then
    echo "--- pip build gave no CUDA extension: building it in place with torch.utils.cpp_extension"
    part build-inplace 240 "$PY" scripts/build_extension_inplace.py
  fi
  # Every compiled op against its reference on every device, before anything else uses them.
  part doctor-verify 60 "$PY" -m coordnet doctor --verify
  part tests 120 "$PY" -m pytest -q -p no:cacheprovider -m cuda -rfEs --junitxml="$DEST/tests_cuda.xml" \
    tests/ops/test_fourier.py tests/ops/test_hashgrid.py tests/ops/test_regions.py tests/ops/test_encoders_on_devices.py
  part bench-encoders 150 "$PY" scripts/bench_encoders.py --device cuda --min-run-time 0.3 --json "$DEST/bench_encoders.json"
  part bench-regions 90 "$PY" scripts/bench_regions.py --device cuda --repeats 3 --json "$DEST/bench_regions.json"
  part plot 30 "$PY" scripts/plot_gpu_bench.py --encoders "$DEST/bench_encoders.json" \
    --regions "$DEST/bench_regions.json" --out "$DEST/bench_ratios.png"
else
  DATA="${TANCIK_DATA:-$ROOT/data/tancik2020}"
  if [[ ! -d "$DATA/div2k" || ! -d "$DATA/text" ]]; then
    echo "gpu_check.sh: error: no Tancik images at $DATA (run \`make tancik-data\` before carrying the tree)"
    exit 1
  fi
  part tancik 530 "$PY" -m coordnet reproduce tancik2020 --data "$DATA" --budget gpu-paper --device cuda --out "$WORK/tancik2020"
  # Bring back the run's tables and figures (top level only; 8 files at most with the log).
  find "$WORK/tancik2020" -maxdepth 1 -type f \( -name '*.md' -o -name '*.json' -o -name '*.png' \) | sort | head -n 6 |
    while read -r f; do cp "$f" "$DEST/tancik_$(basename "$f")"; done
fi
echo "gpu_check ($MODE) finished in $(($(date +%s) - START)) s; results in $DEST"
exit 0
