#!/usr/bin/env python
"""Build ``coordnet/_C`` in place with ``torch.utils.cpp_extension.load`` (no setuptools, no pip).

The fallback of ``scripts/gpu_check.sh`` where ``pip install --no-build-isolation -e .`` cannot
build (an old setuptools, a locked system interpreter): the same sources, flags and macros as
setup.py, compiled with ninja for ``TORCH_CUDA_ARCH_LIST``, and the library copied to
``coordnet/_C<EXT_SUFFIX>`` so that ``import coordnet`` from the repository root finds it.

Usage: python scripts/build_extension_inplace.py [--no-cuda] [--target PATH]
"""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import sys
import sysconfig
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main(argv: list) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--no-cuda", action="store_true", help="CPU kernels only")
    parser.add_argument("--target", help="where the library goes (default coordnet/_C<EXT_SUFFIX>)")
    args = parser.parse_args(argv)
    import runpy

    import torch
    from torch.utils import cpp_extension

    limits = runpy.run_path(os.path.join(ROOT, "coordnet", "ops", "limits.py"))
    limits["write_header"](os.path.join(ROOT, "csrc", "include", "coordnet", "limits.h"))

    with_cuda = (
        not args.no_cuda and torch.version.cuda is not None and cpp_extension.CUDA_HOME is not None
    )
    sources = [os.path.join(ROOT, "csrc", "ops.cpp")] + sorted(
        glob.glob(os.path.join(ROOT, "csrc", "cpu", "*.cpp"))
    )
    macros = []
    if with_cuda:
        sources += sorted(glob.glob(os.path.join(ROOT, "csrc", "cuda", "*.cu")))
        sources.append(os.path.join(ROOT, "csrc", "cuda", "ops_cuda.cpp"))
        macros.append("-DCOORDNET_WITH_CUDA")
    build = tempfile.mkdtemp(prefix="coordnet-build-")
    cpp_extension.load(
        name="_C",
        sources=sources,
        extra_include_paths=[os.path.join(ROOT, "csrc", "include"), os.path.join(ROOT, "csrc")],
        extra_cflags=["-O3", "-fopenmp", *macros],
        extra_cuda_cflags=["-O3", "-std=c++17", *macros],
        extra_ldflags=["-fopenmp"],
        build_directory=build,
        with_cuda=with_cuda,
        is_python_module=False,
        verbose=True,
    )
    built = os.path.join(build, "_C.so")
    target = args.target or os.path.join(
        ROOT, "coordnet", "_C" + sysconfig.get_config_var("EXT_SUFFIX")
    )
    shutil.copyfile(built, target + ".tmp")
    os.replace(target + ".tmp", target)
    print(f"built {target} (CUDA kernels: {with_cuda})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
