// CUDA hash-grid kernels: thin launchers around csrc/include/coordnet/hashgrid.h.
//
// Forward and table gradient: one thread per (point, level), the level in blockIdx.y so that a
// block reads one level's table (tiny-cuda-nn's order). Table gradients are scattered with
// atomicAdd. Input gradient: one thread per point, summing over the levels in registers.
#include "hashgrid_cuda.h"
#include "launch.h"

namespace coordnet {
namespace cuda {
namespace {

using hashgrid::Corners;

// Table entries as the arithmetic type: half parameters are widened to float on load.
__device__ __forceinline__ float widen(float v) { return v; }
__device__ __forceinline__ double widen(double v) { return v; }
__device__ __forceinline__ float widen(__half v) { return __half2float(v); }

// atomicAdd on doubles exists from sm_60 on; older architectures get a compare-and-swap loop.
__device__ __forceinline__ void add_to(float* address, float value) { atomicAdd(address, value); }
__device__ __forceinline__ void add_to(double* address, double value) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 600
  unsigned long long* bits = reinterpret_cast<unsigned long long*>(address);
  unsigned long long old = *bits, assumed;
  do {
    assumed = old;
    old = atomicCAS(bits, assumed, __double_as_longlong(value + __longlong_as_double(assumed)));
  } while (assumed != old);
#else
  atomicAdd(address, value);
#endif
}

template <typename T, typename Param, int D>
__global__ void forward_kernel(const T* __restrict__ x, const Param* __restrict__ table, int64_t n, int64_t features,
                               const HashgridLevels<T> levels, T shift, int64_t interpolation, bool ceil_corner,
                               T* __restrict__ out) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i >= n) return;
  const int l = static_cast<int>(blockIdx.y);
  Corners<T, D> c;
  hashgrid::corners<T, D>(x + i * D, levels.level[l], shift, interpolation, ceil_corner, c, nullptr);
  const int count = interpolation == hashgrid::kNearest ? 1 : Corners<T, D>::kCount;
  T* o = out + i * levels.count * features + l * features;
  for (int64_t f = 0; f < features; ++f) {
    T acc = T(0);
    for (int k = 0; k < count; ++k) acc += c.weight[k] * static_cast<T>(widen(table[c.row[k] * features + f]));
    o[f] = acc;
  }
}

template <typename T, int D>
__global__ void grad_table_kernel(const T* __restrict__ grad_out, const T* __restrict__ x, int64_t n,
                                  int64_t features, const HashgridLevels<T> levels, T shift, int64_t interpolation,
                                  bool ceil_corner, T* __restrict__ grad_table) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i >= n) return;
  const int l = static_cast<int>(blockIdx.y);
  Corners<T, D> c;
  hashgrid::corners<T, D>(x + i * D, levels.level[l], shift, interpolation, ceil_corner, c, nullptr);
  const int count = interpolation == hashgrid::kNearest ? 1 : Corners<T, D>::kCount;
  const T* g = grad_out + i * levels.count * features + l * features;
  for (int k = 0; k < count; ++k)
    for (int64_t f = 0; f < features; ++f) add_to(grad_table + c.row[k] * features + f, c.weight[k] * g[f]);
}

template <typename T, typename Param, int D>
__global__ void grad_x_kernel(const T* __restrict__ grad_out, const T* __restrict__ x, const Param* __restrict__ table,
                              int64_t n, int64_t features, const HashgridLevels<T> levels, T shift,
                              int64_t interpolation, bool ceil_corner, T* __restrict__ grad_x) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i >= n) return;
  T acc[D];
  for (int j = 0; j < D; ++j) acc[j] = T(0);
  for (int l = 0; l < levels.count; ++l) {
    Corners<T, D> c;
    T dweight[Corners<T, D>::kCount][D];
    hashgrid::corners<T, D>(x + i * D, levels.level[l], shift, interpolation, ceil_corner, c, dweight);
    const T* g = grad_out + i * levels.count * features + l * features;
    for (int k = 0; k < Corners<T, D>::kCount; ++k) {
      T gv = T(0);
      for (int64_t f = 0; f < features; ++f) gv += g[f] * static_cast<T>(widen(table[c.row[k] * features + f]));
      for (int j = 0; j < D; ++j) acc[j] += gv * dweight[k][j];
    }
  }
  for (int j = 0; j < D; ++j) grad_x[i * D + j] = acc[j];
}

dim3 level_grid(int64_t n, int levels) {
  return dim3(covering_blocks(n), static_cast<unsigned>(levels));
}

unsigned point_blocks(int64_t n) { return covering_blocks(n); }

template <typename T, typename Param, int D>
void forward_d(const T* x, const Param* table, int64_t n, int64_t features, const HashgridLevels<T>& levels, T shift,
               int64_t interpolation, bool ceil_corner, T* out, cudaStream_t stream) {
  forward_kernel<T, Param, D><<<level_grid(n, levels.count), kThreads, 0, stream>>>(x, table, n, features, levels, shift,
                                                                             interpolation, ceil_corner, out);
}

template <typename T, typename Param, int D>
void backward_d(const T* grad_out, const T* x, const Param* table, int64_t n, int64_t features,
                const HashgridLevels<T>& levels, T shift, int64_t interpolation, bool ceil_corner, T* grad_x,
                T* grad_table, cudaStream_t stream) {
  if (grad_table != nullptr) {
    grad_table_kernel<T, D><<<level_grid(n, levels.count), kThreads, 0, stream>>>(
        grad_out, x, n, features, levels, shift, interpolation, ceil_corner, grad_table);
  }
  if (grad_x != nullptr && interpolation != hashgrid::kNearest) {
    grad_x_kernel<T, Param, D><<<point_blocks(n), kThreads, 0, stream>>>(grad_out, x, table, n, features, levels, shift,
                                                                  interpolation, ceil_corner, grad_x);
  }
}

}  // namespace

template <typename T, typename Param>
void hashgrid_forward(const T* x, const Param* table, int64_t n, int64_t d, int64_t features,
                      const HashgridLevels<T>& levels, T shift, int64_t interpolation, bool ceil_corner, T* out,
                      cudaStream_t stream) {
  if (n == 0 || levels.count == 0) return;
  switch (d) {
    case 1: return forward_d<T, Param, 1>(x, table, n, features, levels, shift, interpolation, ceil_corner, out, stream);
    case 2: return forward_d<T, Param, 2>(x, table, n, features, levels, shift, interpolation, ceil_corner, out, stream);
    case 3: return forward_d<T, Param, 3>(x, table, n, features, levels, shift, interpolation, ceil_corner, out, stream);
    default: return forward_d<T, Param, 4>(x, table, n, features, levels, shift, interpolation, ceil_corner, out, stream);
  }
}

template <typename T, typename Param>
void hashgrid_backward(const T* grad_out, const T* x, const Param* table, int64_t n, int64_t d, int64_t features,
                       const HashgridLevels<T>& levels, T shift, int64_t interpolation, bool ceil_corner, T* grad_x,
                       T* grad_table, cudaStream_t stream) {
  if (n == 0 || levels.count == 0) return;
  switch (d) {
    case 1:
      return backward_d<T, Param, 1>(grad_out, x, table, n, features, levels, shift, interpolation, ceil_corner, grad_x,
                              grad_table, stream);
    case 2:
      return backward_d<T, Param, 2>(grad_out, x, table, n, features, levels, shift, interpolation, ceil_corner, grad_x,
                              grad_table, stream);
    case 3:
      return backward_d<T, Param, 3>(grad_out, x, table, n, features, levels, shift, interpolation, ceil_corner, grad_x,
                              grad_table, stream);
    default:
      return backward_d<T, Param, 4>(grad_out, x, table, n, features, levels, shift, interpolation, ceil_corner, grad_x,
                              grad_table, stream);
  }
}

#define COORDNET_INSTANTIATE(T, Param)                                                                          \
  template void hashgrid_forward<T, Param>(const T*, const Param*, int64_t, int64_t, int64_t,                   \
                                           const HashgridLevels<T>&, T, int64_t, bool, T*, cudaStream_t);       \
  template void hashgrid_backward<T, Param>(const T*, const T*, const Param*, int64_t, int64_t, int64_t,        \
                                            const HashgridLevels<T>&, T, int64_t, bool, T*, T*, cudaStream_t);

COORDNET_INSTANTIATE(float, float)
COORDNET_INSTANTIATE(double, double)
COORDNET_INSTANTIATE(float, __half)

}  // namespace cuda
}  // namespace coordnet
