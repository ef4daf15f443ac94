"""Build of coordnet and its compiled extension ``coordnet._C``.

The extension needs torch at build time, so build without isolation
(``pip install --no-build-isolation .``): an isolated build would fetch a
different torch (on most machines a multi-GB CUDA build) and compile against
its ABI. Without an importable torch the package installs without the
extension and runs on its pure-PyTorch reference path.

Environment switches:
  COORDNET_NO_EXTENSION=1   skip the extension entirely
  COORDNET_NO_CUDA=1        build the CPU kernels only, even with a CUDA toolkit
  TORCH_CUDA_ARCH_LIST      CUDA architectures (read by torch's build helpers)
"""

import glob
import os
import runpy
import sys

from setuptools import setup

HERE = os.path.dirname(os.path.abspath(__file__))
# The kernels' limits and enum codes are defined once, in coordnet/ops/limits.py; the C++ side
# reads them from this generated header (also shipped in source distributions).
LIMITS = runpy.run_path(os.path.join(HERE, "coordnet", "ops", "limits.py"))
LIMITS["write_header"](os.path.join(HERE, "csrc", "include", "coordnet", "limits.h"))


def _extension():
    if os.environ.get("COORDNET_NO_EXTENSION") == "1":
        return [], {}
    try:
        import torch
        from torch.utils import cpp_extension
    except ImportError:
        print(
            "coordnet: torch is not importable at build time; building without coordnet._C "
            "(use pip install --no-build-isolation)",
            file=sys.stderr,
        )
        return [], {}

    sources = ["csrc/ops.cpp"] + sorted(glob.glob("csrc/cpu/*.cpp"))
    # No -std: torch's build helpers pick the standard its headers need (C++17 or C++20).
    cxx = ["-O3", "-fopenmp"]
    macros = []
    with_cuda = (
        os.environ.get("COORDNET_NO_CUDA") != "1"
        and torch.version.cuda is not None
        and cpp_extension.CUDA_HOME is not None
    )
    if with_cuda:
        sources += sorted(glob.glob("csrc/cuda/*.cu")) + ["csrc/cuda/ops_cuda.cpp"]
        macros.append(("COORDNET_WITH_CUDA", None))
        extension_class = cpp_extension.CUDAExtension
    else:
        extension_class = cpp_extension.CppExtension
    extension = extension_class(
        "coordnet._C",
        sources,
        include_dirs=[os.path.join(HERE, "csrc", "include"), os.path.join(HERE, "csrc")],
        define_macros=macros,
        extra_compile_args={"cxx": cxx, "nvcc": ["-O3", "-std=c++17"]},
        extra_link_args=["-fopenmp"],
    )
    build_ext = cpp_extension.BuildExtension.with_options(use_ninja=True)
    return [extension], {"build_ext": build_ext}


ext_modules, cmdclass = _extension()
setup(ext_modules=ext_modules, cmdclass=cmdclass)
