// Launchers of the CUDA Fourier-feature kernels: raw pointers, no torch.
// Shapes and layout as in csrc/include/coordnet/fourier.h; all arrays are contiguous.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "coordnet/limits.h"

namespace coordnet {
namespace cuda {

constexpr int kMaxFourierDims = limits::kFourierCudaMaxDims;  // d handled in registers by the backward kernels

template <typename T>
void fourier_forward(const T* x, const T* B, const T* amplitude, T factor_turns, int64_t n, int64_t d, int64_t m,
                     int64_t group, int64_t input_mode, T* out, cudaStream_t stream);

// grad_x (n, d) and grad_B (m, d, zero-filled by the caller) are each skipped when null.
template <typename T>
void fourier_backward(const T* grad_out, const T* x, const T* B, const T* amplitude, T factor_turns, int64_t n,
                      int64_t d, int64_t m, int64_t group, int64_t input_mode, T* grad_x, T* grad_B,
                      cudaStream_t stream);

}  // namespace cuda
}  // namespace coordnet
