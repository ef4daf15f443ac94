// Fused Fourier-feature forward and backward on the CPU.
//
// Each thread takes a contiguous range of rows. Per row the phases, their sines and
// cosines and (in backward) the phase gradients live in small row buffers, so no
// (N, M) intermediate is ever materialised. The row loops are compiled for several
// instruction sets and the best one is picked at load time.
#include "kernels.h"

#include "checks.h"
#include "huge_pages.h"
#include "isa.h"
#include "coordnet/fourier.h"

#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/zeros.h>
#include <torch/library.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <vector>

// AVX-512 and AVX2+FMA copies of the row loops besides the generic one.
#define COORDNET_CLONES COORDNET_CPU_CLONES("arch=x86-64-v4", "arch=x86-64-v3")

namespace coordnet {
namespace {

using fourier::sin_column;
using fourier::sincos_turns;

struct FourierShape {
  int64_t n, d, m, group, input_mode, features_at, input_at, out_columns;

  FourierShape(const at::Tensor& x, const at::Tensor& B, int64_t group_, int64_t input_mode_)
      : n(x.size(0)), d(x.size(1)), m(B.size(0)), group(group_), input_mode(input_mode_),
        features_at(fourier::feature_offset(input_mode_, x.size(1))),
        input_at(fourier::input_offset(input_mode_, B.size(0))),
        out_columns(fourier::row_length(input_mode_, x.size(1), B.size(0))) {}
  bool has_input() const { return input_mode != fourier::kInputNone; }
};

// t[m] = factor_turns * <x, B_m>, with B given transposed as bt (d, M) so the inner loop is contiguous.
template <typename T>
inline __attribute__((always_inline)) void row_phases(const T* __restrict x, const T* __restrict bt, int64_t d,
                                                       int64_t m, T factor_turns, T* __restrict t) {
  for (int64_t k = 0; k < m; ++k) t[k] = 0;
  for (int64_t j = 0; j < d; ++j) {
    const T xj = x[j];
    const T* __restrict col = bt + j * m;
#pragma omp simd
    for (int64_t k = 0; k < m; ++k) t[k] += xj * col[k];
  }
#pragma omp simd
  for (int64_t k = 0; k < m; ++k) t[k] *= factor_turns;
}

template <typename T>
inline __attribute__((always_inline)) void row_sincos(const T* __restrict t, int64_t m, T* __restrict s,
                                                       T* __restrict c) {
#pragma omp simd
  for (int64_t k = 0; k < m; ++k) {
    const fourier::SinCos<T> v = sincos_turns(t[k]);
    s[k] = v.sin;
    c[k] = v.cos;
  }
}

template <typename T>
inline __attribute__((always_inline)) void forward_rows(const T* x, const T* bt, const T* amplitude, T factor_turns,
                                                         const FourierShape& sh, T* out,
                                                         int64_t begin, int64_t end) {
  std::vector<T> buffer(3 * sh.m);
  T* t = buffer.data();
  T* s = t + sh.m;
  T* c = s + sh.m;
  for (int64_t n = begin; n < end; ++n) {
    const T* xr = x + n * sh.d;
    T* orow = out + n * sh.out_columns;
    row_phases(xr, bt, sh.d, sh.m, factor_turns, t);
    row_sincos(t, sh.m, s, c);
    if (amplitude != nullptr) {
#pragma omp simd
      for (int64_t k = 0; k < sh.m; ++k) {
        s[k] *= amplitude[k];
        c[k] *= amplitude[k];
      }
    }
    if (sh.has_input()) std::memcpy(orow + sh.input_at, xr, sizeof(T) * sh.d);
    for (int64_t k0 = 0; k0 < sh.m; k0 += sh.group) {
      T* dst = orow + sin_column(k0, sh.group, sh.features_at);
      std::memcpy(dst, s + k0, sizeof(T) * sh.group);
      std::memcpy(dst + sh.group, c + k0, sizeof(T) * sh.group);
    }
  }
}

// Backward over a row range. grad_x rows are written directly; grad_B contributions
// are summed into acc (d, M) in double precision.
template <typename T>
inline __attribute__((always_inline)) void backward_rows(const T* grad, const T* x, const T* bt, const T* amplitude,
                                                          T factor_turns, T factor, const FourierShape& sh,
                                                          T* grad_x, double* acc,
                                                          int64_t begin, int64_t end) {
  std::vector<T> buffer(5 * sh.m);
  T* t = buffer.data();
  T* s = t + sh.m;
  T* c = s + sh.m;
  T* gs = c + sh.m;
  T* gc = gs + sh.m;
  for (int64_t n = begin; n < end; ++n) {
    const T* xr = x + n * sh.d;
    const T* grow = grad + n * sh.out_columns;
    for (int64_t k0 = 0; k0 < sh.m; k0 += sh.group) {
      const T* src = grow + sin_column(k0, sh.group, sh.features_at);
      std::memcpy(gs + k0, src, sizeof(T) * sh.group);
      std::memcpy(gc + k0, src + sh.group, sizeof(T) * sh.group);
    }
    row_phases(xr, bt, sh.d, sh.m, factor_turns, t);
    row_sincos(t, sh.m, s, c);
    // Reuse t for the phase gradient w_k = a_k (g_sin cos - g_cos sin).
#pragma omp simd
    for (int64_t k = 0; k < sh.m; ++k) {
      const T a = amplitude != nullptr ? amplitude[k] : T(1);
      t[k] = fourier::phase_gradient(gs[k], gc[k], s[k], c[k], a);
    }
    if (grad_x != nullptr) {
      for (int64_t j = 0; j < sh.d; ++j) {
        const T* __restrict col = bt + j * sh.m;
        T sum = 0;
#pragma omp simd reduction(+ : sum)
        for (int64_t k = 0; k < sh.m; ++k) sum += t[k] * col[k];
        grad_x[n * sh.d + j] = factor * sum + (sh.has_input() ? grow[sh.input_at + j] : T(0));
      }
    }
    if (acc != nullptr) {
      for (int64_t j = 0; j < sh.d; ++j) {
        const double xj = xr[j];
        double* __restrict a = acc + j * sh.m;
#pragma omp simd
        for (int64_t k = 0; k < sh.m; ++k) a[k] += xj * static_cast<double>(t[k]);
      }
    }
  }
}

#define COORDNET_DEFINE_ROW_LOOPS(T)                                                                         \
  COORDNET_CLONES void forward_rows_##T(const T* x, const T* bt, const T* amplitude, T factor_turns,               \
                                        const FourierShape& sh, T* out, int64_t begin,  \
                                        int64_t end) {                                                      \
    forward_rows<T>(x, bt, amplitude, factor_turns, sh, out, begin, end);                           \
  }                                                                                                         \
  COORDNET_CLONES void backward_rows_##T(const T* grad, const T* x, const T* bt, const T* amplitude,        \
                                         T factor_turns, T factor, const FourierShape& sh,      \
                                         T* grad_x, double* acc, int64_t begin, int64_t end) {              \
    backward_rows<T>(grad, x, bt, amplitude, factor_turns, factor, sh, grad_x, acc, begin, end);     \
  }

COORDNET_DEFINE_ROW_LOOPS(float)
COORDNET_DEFINE_ROW_LOOPS(double)

inline void forward_dispatch(const float* x, const float* bt, const float* a, float factor_turns,
                             const FourierShape& sh, float* out, int64_t b, int64_t e) {
  forward_rows_float(x, bt, a, factor_turns, sh, out, b, e);
}
inline void forward_dispatch(const double* x, const double* bt, const double* a, double factor_turns,
                             const FourierShape& sh, double* out, int64_t b, int64_t e) {
  forward_rows_double(x, bt, a, factor_turns, sh, out, b, e);
}
inline void backward_dispatch(const float* g, const float* x, const float* bt, const float* a, float factor_turns,
                              float factor, const FourierShape& sh, float* gx, double* acc, int64_t b,
                              int64_t e) {
  backward_rows_float(g, x, bt, a, factor_turns, factor, sh, gx, acc, b, e);
}
inline void backward_dispatch(const double* g, const double* x, const double* bt, const double* a, double factor_turns,
                              double factor, const FourierShape& sh, double* gx, double* acc, int64_t b,
                              int64_t e) {
  backward_rows_double(g, x, bt, a, factor_turns, factor, sh, gx, acc, b, e);
}

// Rows per task: enough work (rows * M sincos) to amortise scheduling.
int64_t grain_size(int64_t m) { return std::max<int64_t>(1, 32768 / std::max<int64_t>(m, 1)); }

}  // namespace

at::Tensor fourier_features_cpu(const at::Tensor& x, const at::Tensor& B, const std::optional<at::Tensor>& amplitude,
                                double factor, int64_t group, int64_t input_mode) {
  check_fourier_inputs(x, B, amplitude, group, input_mode, at::kCPU);
  const FourierShape sh(x, B, group, input_mode);
  at::Tensor out = empty_with_huge_pages({sh.n, sh.out_columns}, x.options());
  if (sh.n == 0) return out;
  const at::Tensor bt = B.t().contiguous();
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "fourier_features_cpu", [&] {
    const scalar_t* xp = x.const_data_ptr<scalar_t>();
    const scalar_t* btp = bt.const_data_ptr<scalar_t>();
    const scalar_t* ap = amplitude.has_value() ? amplitude->const_data_ptr<scalar_t>() : nullptr;
    scalar_t* op = out.mutable_data_ptr<scalar_t>();
    at::parallel_for(0, sh.n, grain_size(sh.m), [&](int64_t begin, int64_t end) {
      forward_dispatch(xp, btp, ap, static_cast<scalar_t>(factor / fourier::kTwoPi), sh, op, begin, end);
    });
  });
  return out;
}

std::tuple<at::Tensor, at::Tensor> fourier_features_backward_cpu(const at::Tensor& grad_out, const at::Tensor& x,
                                                                 const at::Tensor& B,
                                                                 const std::optional<at::Tensor>& amplitude,
                                                                 double factor, int64_t group, int64_t input_mode,
                                                                 bool need_grad_x, bool need_grad_B) {
  check_fourier_inputs(x, B, amplitude, group, input_mode, at::kCPU);
  const FourierShape sh(x, B, group, input_mode);
  check_fourier_grad(grad_out, x, sh.out_columns);
  at::Tensor grad_x = at::empty({need_grad_x ? sh.n : 0, sh.d}, x.options());
  at::Tensor grad_B = at::zeros({need_grad_B ? sh.m : 0, sh.d}, B.options());
  if (sh.n == 0 || (!need_grad_x && !need_grad_B)) return {grad_x, grad_B};
  const at::Tensor bt = B.t().contiguous();
  const double factor_turns = factor / fourier::kTwoPi;  // phase in turns per unit of <x, B>
  std::vector<double> total(need_grad_B ? sh.d * sh.m : 0, 0.0);
  std::mutex total_mutex;
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "fourier_features_backward_cpu", [&] {
    const scalar_t* gp = grad_out.const_data_ptr<scalar_t>();
    const scalar_t* xp = x.const_data_ptr<scalar_t>();
    const scalar_t* btp = bt.const_data_ptr<scalar_t>();
    const scalar_t* ap = amplitude.has_value() ? amplitude->const_data_ptr<scalar_t>() : nullptr;
    scalar_t* gxp = need_grad_x ? grad_x.mutable_data_ptr<scalar_t>() : nullptr;
    at::parallel_for(0, sh.n, grain_size(sh.m), [&](int64_t begin, int64_t end) {
      std::vector<double> local(total.size(), 0.0);
      backward_dispatch(gp, xp, btp, ap, static_cast<scalar_t>(factor_turns), static_cast<scalar_t>(factor), sh,
                        gxp, need_grad_B ? local.data() : nullptr, begin, end);
      if (need_grad_B) {
        std::lock_guard<std::mutex> lock(total_mutex);
        for (size_t i = 0; i < local.size(); ++i) total[i] += local[i];
      }
    });
    if (need_grad_B) {
      scalar_t* gbp = grad_B.mutable_data_ptr<scalar_t>();
      for (int64_t k = 0; k < sh.m; ++k)
        for (int64_t j = 0; j < sh.d; ++j) gbp[k * sh.d + j] = static_cast<scalar_t>(factor * total[j * sh.m + k]);
    }
  });
  return {grad_x, grad_B};
}

}  // namespace coordnet

// CPU implementations of the schemas in csrc/ops.cpp.
TORCH_LIBRARY_IMPL(coordnet, CPU, m) {
  m.impl("fourier_features", &coordnet::fourier_features_cpu);
  m.impl("fourier_features_backward", &coordnet::fourier_features_backward_cpu);
}
