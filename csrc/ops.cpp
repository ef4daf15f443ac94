// Schemas of coordnet's ops and the Python module that loads them. Each kernel file registers
// its own implementations (TORCH_LIBRARY_IMPL at the bottom of cpu/*.cpp; CUDA ones in
// cuda/ops_cuda.cpp); fake kernels and autograd formulas are registered from Python (coordnet/ops/).
#include <Python.h>
#include <torch/library.h>

#include "coordnet/version.h"

extern "C" {
// An empty module, so that `import coordnet._C` loads this library and runs the
// registrations below.
PyObject* PyInit__C(void) {
  static struct PyModuleDef module_def = {PyModuleDef_HEAD_INIT, "_C", "coordnet compiled ops", -1, nullptr};
  PyObject* module = PyModule_Create(&module_def);
  if (module == nullptr) return nullptr;
  // Checked on load by coordnet/ops/_extension.py: a build older than the Python side is stale.
  PyModule_AddIntConstant(module, "ABI_VERSION", COORDNET_ABI_VERSION);
#ifdef COORDNET_WITH_CUDA
  PyModule_AddIntConstant(module, "WITH_CUDA", 1);
#else
  PyModule_AddIntConstant(module, "WITH_CUDA", 0);
#endif
  return module;
}
}

TORCH_LIBRARY(coordnet, m) {
  m.def(
      "fourier_features(Tensor x, Tensor B, Tensor? amplitude, float factor, int group, int input_mode) "
      "-> Tensor");
  m.def(
      "fourier_features_backward(Tensor grad_out, Tensor x, Tensor B, Tensor? amplitude, float factor, int group, "
      "int input_mode, bool need_grad_x, bool need_grad_B) -> (Tensor, Tensor)");
  m.def("pack_signs_relu_(Tensor(a!) preact, Tensor(b!) packed, int word_offset, bool relu) -> ()");
  m.def("hash_patterns(Tensor packed, int hash_mask) -> Tensor");
  m.def("unique_patterns(Tensor packed, int hash_mask) -> (Tensor, Tensor)");
  m.def(
      "hashgrid_forward(Tensor x, Tensor table, float[] scales, int[] levels, int interpolation, float shift, "
      "bool ceil_corner) -> Tensor");
  m.def(
      "hashgrid_backward(Tensor grad_out, Tensor x, Tensor table, float[] scales, int[] levels, int interpolation, "
      "float shift, bool ceil_corner, bool need_grad_x, bool need_grad_table) -> (Tensor, Tensor)");
}
