// CUDA Fourier-feature kernels: thin launchers around csrc/include/coordnet/fourier.h.
#include "fourier_cuda.h"
#include "launch.h"

#include "coordnet/fourier.h"

namespace coordnet {
namespace cuda {
namespace {

using fourier::phase;
using fourier::phase_gradient;
using fourier::sin_column;
using fourier::sincos_turns;

// One thread per (row, frequency); the frequency index runs fastest so writes coalesce.
template <typename T>
__global__ void forward_kernel(const T* __restrict__ x, const T* __restrict__ B, const T* __restrict__ amplitude,
                               T factor_turns, int64_t n, int64_t d, int64_t m, int64_t group, int64_t input_mode,
                               T* __restrict__ out) {
  const int64_t features_at = fourier::feature_offset(input_mode, d);
  const int64_t input_at = fourier::input_offset(input_mode, m);
  const int64_t out_columns = fourier::row_length(input_mode, d, m);
  const int64_t total = n * m;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t row = i / m;
    const int64_t k = i - row * m;
    const T* xr = x + row * d;
    const fourier::SinCos<T> v = sincos_turns(phase(xr, B + k * d, d, factor_turns));
    const T a = amplitude != nullptr ? amplitude[k] : T(1);
    T* orow = out + row * out_columns;
    const int64_t col = sin_column(k, group, features_at);
    orow[col] = a * v.sin;
    orow[col + group] = a * v.cos;
    if (input_mode != fourier::kInputNone && k < d) orow[input_at + k] = xr[k];
  }
}

// Phase gradient of one (row, frequency) pair, in units of d(loss)/d(phase in radians) / factor.
template <typename T>
__device__ __forceinline__ T pair_gradient(const T* grad_row, const T* xr, const T* b_row, const T* amplitude,
                                           T factor_turns, int64_t d, int64_t k, int64_t group, int64_t features_at) {
  const fourier::SinCos<T> v = sincos_turns(phase(xr, b_row, d, factor_turns));
  const int64_t col = sin_column(k, group, features_at);
  const T a = amplitude != nullptr ? amplitude[k] : T(1);
  return phase_gradient(grad_row[col], grad_row[col + group], v.sin, v.cos, a);
}

// grad_x: one warp per row, lanes stride over frequencies, shuffle reduction per coordinate.
template <typename T>
__global__ void grad_x_kernel(const T* __restrict__ grad_out, const T* __restrict__ x, const T* __restrict__ B,
                              const T* __restrict__ amplitude, T factor_turns, T factor, int64_t n, int64_t d,
                              int64_t m, int64_t group, int64_t input_mode, T* __restrict__ grad_x) {
  const int64_t features_at = fourier::feature_offset(input_mode, d);
  const int64_t input_at = fourier::input_offset(input_mode, m);
  const int64_t out_columns = fourier::row_length(input_mode, d, m);
  const int lane = threadIdx.x % kWarp;
  const int64_t warps = static_cast<int64_t>(gridDim.x) * (blockDim.x / kWarp);
  for (int64_t row = (blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x) / kWarp; row < n;
       row += warps) {
    const T* xr = x + row * d;
    const T* grow = grad_out + row * out_columns;
    T partial[kMaxFourierDims];
    for (int j = 0; j < kMaxFourierDims; ++j) partial[j] = 0;
    for (int64_t k = lane; k < m; k += kWarp) {
      const T w = pair_gradient(grow, xr, B + k * d, amplitude, factor_turns, d, k, group, features_at);
      for (int64_t j = 0; j < d; ++j) partial[j] += w * B[k * d + j];
    }
    for (int64_t j = 0; j < d; ++j) {
      T v = partial[j];
      for (int offset = kWarp / 2; offset > 0; offset /= 2) v += __shfl_down_sync(0xffffffffu, v, offset);
      if (lane == 0) grad_x[row * d + j] = factor * v + (input_mode != fourier::kInputNone ? grow[input_at + j] : T(0));
    }
  }
}

// grad_B: one thread per frequency; blockIdx.y walks a slice of rows; partial sums are added atomically.
template <typename T>
__global__ void grad_B_kernel(const T* __restrict__ grad_out, const T* __restrict__ x, const T* __restrict__ B,
                              const T* __restrict__ amplitude, T factor_turns, T factor, int64_t n, int64_t d,
                              int64_t m, int64_t group, int64_t input_mode, int64_t rows_per_slice,
                              T* __restrict__ grad_B) {
  const int64_t k = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (k >= m) return;
  const int64_t features_at = fourier::feature_offset(input_mode, d);
  const int64_t input_at = fourier::input_offset(input_mode, m);
  const int64_t out_columns = fourier::row_length(input_mode, d, m);
  const int64_t begin = blockIdx.y * rows_per_slice;
  const int64_t end = begin + rows_per_slice < n ? begin + rows_per_slice : n;
  T partial[kMaxFourierDims];
  for (int j = 0; j < kMaxFourierDims; ++j) partial[j] = 0;
  for (int64_t row = begin; row < end; ++row) {
    const T* xr = x + row * d;
    const T w = pair_gradient(grad_out + row * out_columns, xr, B + k * d, amplitude, factor_turns, d, k, group,
                              features_at);
    for (int64_t j = 0; j < d; ++j) partial[j] += w * xr[j];
  }
  for (int64_t j = 0; j < d; ++j) atomicAdd(grad_B + k * d + j, factor * partial[j]);
}

}  // namespace

template <typename T>
void fourier_forward(const T* x, const T* B, const T* amplitude, T factor_turns, int64_t n, int64_t d, int64_t m,
                     int64_t group, int64_t input_mode, T* out, cudaStream_t stream) {
  if (n == 0 || m == 0) return;
  forward_kernel<T><<<grid_stride_blocks(n * m), kThreads, 0, stream>>>(x, B, amplitude, factor_turns, n, d, m, group,
                                                               input_mode, out);
}

template <typename T>
void fourier_backward(const T* grad_out, const T* x, const T* B, const T* amplitude, T factor_turns, int64_t n,
                      int64_t d, int64_t m, int64_t group, int64_t input_mode, T* grad_x, T* grad_B,
                      cudaStream_t stream) {
  if (n == 0) return;
  const T factor = static_cast<T>(fourier::kTwoPi) * factor_turns;
  if (grad_x != nullptr) {
    grad_x_kernel<T><<<grid_stride_blocks(n * kWarp), kThreads, 0, stream>>>(
        grad_out, x, B, amplitude, factor_turns, factor, n, d, m, group, input_mode, grad_x);
  }
  if (grad_B != nullptr && m > 0) {
    const int64_t rows_per_slice = 256;
    const int64_t slices = (n + rows_per_slice - 1) / rows_per_slice;
    const dim3 grid(covering_blocks(m),
                    static_cast<unsigned>(slices < 65535 ? slices : 65535));
    const int64_t rows = (n + grid.y - 1) / grid.y;
    grad_B_kernel<T><<<grid, kThreads, 0, stream>>>(grad_out, x, B, amplitude, factor_turns, factor, n, d, m, group,
                                                    input_mode, rows, grad_B);
  }
}

#define COORDNET_INSTANTIATE(T)                                                                             \
  template void fourier_forward<T>(const T*, const T*, const T*, T, int64_t, int64_t, int64_t, int64_t, int64_t, \
                                   T*, cudaStream_t);                                                       \
  template void fourier_backward<T>(const T*, const T*, const T*, const T*, T, int64_t, int64_t, int64_t,     \
                                    int64_t, int64_t, T*, T*, cudaStream_t);

COORDNET_INSTANTIATE(float)
COORDNET_INSTANTIATE(double)

}  // namespace cuda
}  // namespace coordnet
