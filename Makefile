# Set-up, demo and tests. Every target creates the virtual environment it needs.
#   make demo    set up, then run `coordnet compare` with its defaults on the bundled default image
#   make test    set up, then run the test suite
#   make bench   set up, then run the encoder benchmark
#   make docs    set up, then build the documentation site (site/) with --strict
#   make docs-test  make docs, then run the docs' code examples and the notebooks in examples/

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The CPU build of torch; a bare `torch` requirement would pull a multi-GB CUDA build.
TORCH_SPEC ?= torch==2.13.0
SOURCES := setup.py pyproject.toml $(shell find csrc -type f 2>/dev/null)

.PHONY: setup lint demo test test-all bench clean gpu-check gpu-tancik tancik-data docs docs-test docs-serve

setup: $(VENV)/.installed

$(VENV)/.venv-created:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "$(TORCH_SPEC)" "setuptools>=77" wheel ninja
	touch $@

# --no-build-isolation: build against the torch installed above, never fetch another.
$(VENV)/.installed: $(VENV)/.venv-created $(SOURCES)
	$(BIN)/python -m pip install --quiet --no-build-isolation -e ".[test]"
	touch $@

# Real code of other projects, for the equivalence tests (pure Python, no torch pulled),
# tensorboard and ray for the logging and sweep tests, import-linter for the layer contracts
# (their dependencies do not include torch), ruff and mypy for lint, format and types.
TEST_EXTRAS_DEPS := tensorboard==2.21.0 ray==2.60.0 import-linter==2.16 ruff==0.17.6 mypy==2.4.1
TEST_EXTRAS := nerfstudio==1.1.5 viser==0.2.7 jaxtyping==0.3.11 rich==15.0.0 msgspec==0.22.0 websockets==17.4 mlxtend==0.25.0

$(VENV)/.test-extras: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet --no-deps $(TEST_EXTRAS)
	$(BIN)/python -m pip install --quiet $(TEST_EXTRAS_DEPS)
	touch $@

# The documentation site (MkDocs, Material, mkdocstrings) and the notebook runner; the same pins
# as the `docs` extra in pyproject.toml.
DOCS_DEPS := mkdocs==1.6.1 mkdocs-material==9.8.2 mkdocstrings==1.0.8 mkdocstrings-python==2.0.11 \
	griffelib==2.4.1 nbclient==0.11.0 nbformat==5.11.1 ipykernel==7.4.0

$(VENV)/.docs-deps: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet $(DOCS_DEPS)
	touch $@

docs: setup $(VENV)/.docs-deps
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

docs-serve: setup $(VENV)/.docs-deps
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve

docs-test: docs
	$(BIN)/python -m pytest -q -p no:cacheprovider -m "slow or not slow" tests/docs

demo: setup
	$(BIN)/coordnet doctor
	rm -rf out/demo
	$(BIN)/coordnet compare --quiet --out out/demo

lint: setup $(VENV)/.test-extras
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest -q

test-all: lint
	$(BIN)/python -m pytest -q -m "slow or not slow"

bench: setup
	$(BIN)/python scripts/bench_encoders.py

# On a GPU machine, from the repository root, with its own python3 and torch (no venv, no network):
# build, doctor, the cuda-marked op tests and both GPU benchmarks (< 9 min); then the Tancik paper run.
# Results go to $$OUT when set (else out/gpu-check/). Without a GPU: one line, what can run, exit 0.
GPU_PYTHON ?= python3
TANCIK_SOURCE ?= ../shared/datasets/tancik2020

gpu-check:
	GPU_PYTHON="$(GPU_PYTHON)" bash scripts/gpu_check.sh check

gpu-tancik:
	GPU_PYTHON="$(GPU_PYTHON)" bash scripts/gpu_check.sh tancik

# The Tancik images (git-ignored) that travel with the checkout to the GPU machine.
tancik-data:
	@test -d "$(TANCIK_SOURCE)/div2k" || { echo "tancik-data: no images at $(TANCIK_SOURCE) (set TANCIK_SOURCE)"; exit 1; }
	mkdir -p data/tancik2020
	cp -R "$(TANCIK_SOURCE)/." data/tancik2020/

clean:
	rm -rf build *.egg-info coordnet/_C*.so out .pytest_cache site
