// Launchers of the CUDA hash-grid kernels: raw pointers, no torch.
// Shapes, layout and level geometry as in csrc/include/coordnet/hashgrid.h; arrays are contiguous.
#pragma once

#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "coordnet/hashgrid.h"

namespace coordnet {
namespace cuda {

constexpr int kMaxHashgridLevels = limits::kHashgridCudaMaxLevels;  // levels passed by value as a kernel argument

template <typename T>
struct HashgridLevels {
  int count;
  hashgrid::Level<T> level[kMaxHashgridLevels];
};

// x (n, d), table (P, F) -> out (n, count * F). The table holds T, or __half with T = float
// (read as half, interpolated and accumulated in float).
template <typename T, typename Param>
void hashgrid_forward(const T* x, const Param* table, int64_t n, int64_t d, int64_t features,
                      const HashgridLevels<T>& levels, T shift, int64_t interpolation, bool ceil_corner, T* out,
                      cudaStream_t stream);

// grad_x (n, d) and grad_table (P, F), both zero-filled by the caller, are each skipped when null.
// grad_table is accumulated in T whatever the table's type (the caller casts it back).
template <typename T, typename Param>
void hashgrid_backward(const T* grad_out, const T* x, const Param* table, int64_t n, int64_t d, int64_t features,
                       const HashgridLevels<T>& levels, T shift, int64_t interpolation, bool ceil_corner, T* grad_x,
                       T* grad_table, cudaStream_t stream);

}  // namespace cuda
}  // namespace coordnet
