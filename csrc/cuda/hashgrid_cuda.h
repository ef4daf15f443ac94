// Launchers of the CUDA hash-grid kernels: raw pointers, no torch.
// Shapes, layout and level geometry as in csrc/include/coordnet/hashgrid.h; arrays are contiguous.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "coordnet/hashgrid.h"

namespace coordnet {
namespace cuda {

constexpr int kMaxHashgridLevels = 64;  // levels passed by value as a kernel argument

template <typename T>
struct HashgridLevels {
  int count;
  hashgrid::Level<T> level[kMaxHashgridLevels];
};

// x (n, d), table (P, F) -> out (n, count * F).
template <typename T>
void hashgrid_forward(const T* x, const T* table, int64_t n, int64_t d, int64_t features,
                      const HashgridLevels<T>& levels, T shift, int64_t interpolation, bool ceil_corner, T* out,
                      cudaStream_t stream);

// grad_x (n, d) and grad_table (P, F), both zero-filled by the caller, are each skipped when null.
template <typename T>
void hashgrid_backward(const T* grad_out, const T* x, const T* table, int64_t n, int64_t d, int64_t features,
                       const HashgridLevels<T>& levels, T shift, int64_t interpolation, bool ceil_corner, T* grad_x,
                       T* grad_table, cudaStream_t stream);

}  // namespace cuda
}  // namespace coordnet
