"""Fixtures shared by the tests; shared helper functions are in helpers.py."""

import pytest
import torch

import coordnet.ops as ops
import coordnet.ops.fourier as fourier_op


@pytest.fixture
def compiled_path(monkeypatch):
    """Route every problem size through the compiled kernel (no small-problem shortcut)."""
    if not ops.extension_available():
        pytest.skip(f"compiled extension unavailable: {ops.extension_load_error}")
    monkeypatch.setattr(fourier_op, "SMALL_PROBLEM_PAIRS", 0)
    previous = ops.get_backend_mode()
    ops.set_backend("compiled")
    yield
    ops.set_backend(previous)


@pytest.fixture
def reference_path():
    previous = ops.get_backend_mode()
    ops.set_backend("reference")
    yield
    ops.set_backend(previous)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.fixture(scope="module")
def one_thread():
    """One intra-op thread for a module of tiny problems: on 2 cores OpenMP's hand-offs make each
    tiny step many times slower. Use it with ``pytestmark = pytest.mark.usefixtures("one_thread")``."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
