// Multiresolution grid (hash grid) forward and backward on the CPU.
//
// Forward and the input gradient: threads take contiguous ranges of points; within its range a
// thread runs one level at a time over all its points, so that level's table stays in cache
// (the order tiny-cuda-nn uses on the GPU).
//
// Table gradient: scattered adds from many points into shared entries must not race. Each level
// owns a disjoint slice of the table, so the work is split into (level, point slice) tasks that
// threads pull from a shared counter, largest levels first. With at least as many levels as
// threads (the usual case) every level is one task, owned by one thread: plain, race-free and
// deterministic adds, no atomics and no per-thread copies of the table. With more threads than
// levels a level is cut into several point slices, and those tasks add with compare-and-swap
// atomics.
#include "kernels.h"

#include "hashgrid_checks.h"
#include "huge_pages.h"
#include "isa.h"
#include "coordnet/hashgrid.h"

#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/zeros.h>
#include <torch/library.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <vector>

// An AVX2+FMA copy of the level passes besides the generic one.
#define COORDNET_HASHGRID_CLONES COORDNET_CPU_CLONES("arch=x86-64-v3")

namespace coordnet {
namespace {

using hashgrid::Corners;
using hashgrid::Level;

enum class Pass { kForward, kGradTable, kGradX };

template <typename T>
struct Job {
  const T* x;
  const T* table;
  const T* grad;  // (N, L*F) incoming gradient (backward passes)
  T* out;         // (N, L*F) features (forward), or (P, F) table gradient, or (N, d) input gradient
  int64_t features;
  int64_t n_levels;
  const Level<T>* levels;
  T shift;
  int64_t interpolation;
  bool ceil_corner;
  bool atomic;  // table gradient: the level is shared with other tasks
};

inline void atomic_add(float* address, float value) {
  uint32_t* bits = reinterpret_cast<uint32_t*>(address);
  uint32_t expected = __atomic_load_n(bits, __ATOMIC_RELAXED);
  for (;;) {
    float current;
    std::memcpy(&current, &expected, sizeof(float));
    const float sum = current + value;
    uint32_t desired;
    std::memcpy(&desired, &sum, sizeof(float));
    if (__atomic_compare_exchange_n(bits, &expected, desired, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) return;
  }
}

inline void atomic_add(double* address, double value) {
  uint64_t* bits = reinterpret_cast<uint64_t*>(address);
  uint64_t expected = __atomic_load_n(bits, __ATOMIC_RELAXED);
  for (;;) {
    double current;
    std::memcpy(&current, &expected, sizeof(double));
    const double sum = current + value;
    uint64_t desired;
    std::memcpy(&desired, &sum, sizeof(double));
    if (__atomic_compare_exchange_n(bits, &expected, desired, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) return;
  }
}

// Points are handled in batches: first the vertices of every point of the batch are located and
// their table rows prefetched, then the rows are used. The random table accesses of a batch
// then overlap instead of each waiting for its cache miss.
constexpr int kBatch = 16;

template <typename T, int D>
using CornerDerivatives = T[Corners<T, D>::kCount][D];

template <typename T, int D>
inline __attribute__((always_inline)) void locate_batch(const Job<T>& job, const Level<T>& level, int64_t i0,
                                                         int nb, int count, int64_t F, bool for_write,
                                                         Corners<T, D>* cs, CornerDerivatives<T, D>* dweights) {
  for (int b = 0; b < nb; ++b) {
    hashgrid::corners<T, D>(job.x + (i0 + b) * D, level, job.shift, job.interpolation, job.ceil_corner, cs[b],
                            dweights != nullptr ? dweights[b] : nullptr);
    for (int k = 0; k < count; ++k) {
      if (for_write)
        __builtin_prefetch(job.out + cs[b].row[k] * F, 1);
      else
        __builtin_prefetch(job.table + cs[b].row[k] * F, 0);
    }
  }
}

// NF > 0: the number of features per level is known at compile time; 0: runtime, in chunks of 8.
template <typename T, int D, int NF>
inline __attribute__((always_inline)) void forward_points(const Job<T>& job, int64_t begin, int64_t end) {
  constexpr int kChunk = NF > 0 ? NF : 8;
  const int64_t F = NF > 0 ? NF : job.features;
  const int64_t columns = job.n_levels * F;
  const int count = job.interpolation == hashgrid::kNearest ? 1 : Corners<T, D>::kCount;
  Corners<T, D> cs[kBatch];
  for (int64_t l = 0; l < job.n_levels; ++l) {
    const Level<T> level = job.levels[l];
    for (int64_t i0 = begin; i0 < end; i0 += kBatch) {
      const int nb = static_cast<int>(std::min<int64_t>(kBatch, end - i0));
      locate_batch<T, D>(job, level, i0, nb, count, F, false, cs, nullptr);
      for (int b = 0; b < nb; ++b) {
        const Corners<T, D>& c = cs[b];
        T* o = job.out + (i0 + b) * columns + l * F;
        for (int64_t f0 = 0; f0 < F; f0 += kChunk) {
          const int64_t width = NF > 0 ? NF : std::min<int64_t>(kChunk, F - f0);
          T acc[kChunk];
          for (int f = 0; f < kChunk; ++f) acc[f] = T(0);
          for (int k = 0; k < count; ++k) {
            const T* v = job.table + c.row[k] * F + f0;
            const T w = c.weight[k];
            for (int64_t f = 0; f < width; ++f) acc[f] += w * v[f];
          }
          for (int64_t f = 0; f < width; ++f) o[f0 + f] = acc[f];
        }
      }
    }
  }
}

template <typename T, int D, int NF>
inline __attribute__((always_inline)) void grad_table_points(const Job<T>& job, int64_t l, int64_t begin,
                                                              int64_t end) {
  const int64_t F = NF > 0 ? NF : job.features;
  const int64_t columns = job.n_levels * F;
  const int count = job.interpolation == hashgrid::kNearest ? 1 : Corners<T, D>::kCount;
  const Level<T> level = job.levels[l];
  Corners<T, D> cs[kBatch];
  for (int64_t i0 = begin; i0 < end; i0 += kBatch) {
    const int nb = static_cast<int>(std::min<int64_t>(kBatch, end - i0));
    locate_batch<T, D>(job, level, i0, nb, count, F, true, cs, nullptr);
    for (int b = 0; b < nb; ++b) {
      const Corners<T, D>& c = cs[b];
      const T* g = job.grad + (i0 + b) * columns + l * F;
      for (int k = 0; k < count; ++k) {
        T* dst = job.out + c.row[k] * F;
        const T w = c.weight[k];
        if (job.atomic) {
          for (int64_t f = 0; f < F; ++f) atomic_add(dst + f, w * g[f]);
        } else {
          for (int64_t f = 0; f < F; ++f) dst[f] += w * g[f];
        }
      }
    }
  }
}

// job.out: (N, D) input gradient, zero-filled by the caller.
template <typename T, int D, int NF>
inline __attribute__((always_inline)) void grad_x_points(const Job<T>& job, int64_t begin, int64_t end) {
  const int64_t F = NF > 0 ? NF : job.features;
  const int64_t columns = job.n_levels * F;
  constexpr int kCount = Corners<T, D>::kCount;
  Corners<T, D> cs[kBatch];
  CornerDerivatives<T, D> dweights[kBatch];
  for (int64_t l = 0; l < job.n_levels; ++l) {
    const Level<T> level = job.levels[l];
    for (int64_t i0 = begin; i0 < end; i0 += kBatch) {
      const int nb = static_cast<int>(std::min<int64_t>(kBatch, end - i0));
      locate_batch<T, D>(job, level, i0, nb, kCount, F, false, cs, dweights);
      for (int b = 0; b < nb; ++b) {
        const T* g = job.grad + (i0 + b) * columns + l * F;
        T acc[D];
        for (int j = 0; j < D; ++j) acc[j] = T(0);
        for (int k = 0; k < kCount; ++k) {
          const T* v = job.table + cs[b].row[k] * F;
          T gv = T(0);
          for (int64_t f = 0; f < F; ++f) gv += g[f] * v[f];
          for (int j = 0; j < D; ++j) acc[j] += gv * dweights[b][k][j];
        }
        T* gx = job.out + (i0 + b) * D;
        for (int j = 0; j < D; ++j) gx[j] += acc[j];
      }
    }
  }
}

template <typename T, int D, int NF>
inline __attribute__((always_inline)) void run_pass(const Job<T>& job, Pass pass, int64_t level, int64_t begin,
                                                     int64_t end) {
  switch (pass) {
    case Pass::kForward:
      forward_points<T, D, NF>(job, begin, end);
      break;
    case Pass::kGradTable:
      grad_table_points<T, D, NF>(job, level, begin, end);
      break;
    case Pass::kGradX:
      grad_x_points<T, D, NF>(job, begin, end);
      break;
  }
}

// One non-template function per (dtype, d, F) so that each can be compiled for several
// instruction sets (FMA in the x86-64-v3 clone) and picked at load time.
#define COORDNET_HASHGRID_PASS(T, D, NF)                                                                   \
  COORDNET_HASHGRID_CLONES void pass_##T##_##D##_##NF(const Job<T>& job, Pass pass, int64_t level,         \
                                                     int64_t begin, int64_t end) {                         \
    run_pass<T, D, NF>(job, pass, level, begin, end);                                                      \
  }
#define COORDNET_HASHGRID_PASSES(T)                                                                        \
  COORDNET_HASHGRID_PASS(T, 1, 2)                                                                          \
  COORDNET_HASHGRID_PASS(T, 1, 0)                                                                          \
  COORDNET_HASHGRID_PASS(T, 2, 2)                                                                          \
  COORDNET_HASHGRID_PASS(T, 2, 0)                                                                          \
  COORDNET_HASHGRID_PASS(T, 3, 2)                                                                          \
  COORDNET_HASHGRID_PASS(T, 3, 0)                                                                          \
  COORDNET_HASHGRID_PASS(T, 4, 2)                                                                          \
  COORDNET_HASHGRID_PASS(T, 4, 0)

COORDNET_HASHGRID_PASSES(float)
COORDNET_HASHGRID_PASSES(double)

#define COORDNET_HASHGRID_SELECT(T)                                                                        \
  inline void dispatch(const Job<T>& job, int64_t d, Pass pass, int64_t level, int64_t begin, int64_t end) { \
    const bool two = job.features == 2;                                                                    \
    switch (d) {                                                                                           \
      case 1:                                                                                              \
        return two ? pass_##T##_1_2(job, pass, level, begin, end) : pass_##T##_1_0(job, pass, level, begin, end); \
      case 2:                                                                                              \
        return two ? pass_##T##_2_2(job, pass, level, begin, end) : pass_##T##_2_0(job, pass, level, begin, end); \
      case 3:                                                                                              \
        return two ? pass_##T##_3_2(job, pass, level, begin, end) : pass_##T##_3_0(job, pass, level, begin, end); \
      default:                                                                                             \
        return two ? pass_##T##_4_2(job, pass, level, begin, end) : pass_##T##_4_0(job, pass, level, begin, end); \
    }                                                                                                      \
  }

COORDNET_HASHGRID_SELECT(float)
COORDNET_HASHGRID_SELECT(double)

// Points per parallel chunk of the point-parallel passes.
constexpr int64_t kGrain = 1024;

template <typename T>
Job<T> make_job(const at::Tensor& x, const at::Tensor& table, const std::vector<Level<T>>& levels, double shift,
                int64_t interpolation, bool ceil_corner) {
  Job<T> job{};
  job.x = x.const_data_ptr<T>();
  job.table = table.const_data_ptr<T>();
  job.features = table.size(1);
  job.n_levels = static_cast<int64_t>(levels.size());
  job.levels = levels.data();
  job.shift = static_cast<T>(shift);
  job.interpolation = interpolation;
  job.ceil_corner = ceil_corner;
  return job;
}

// Table gradient: (level, point slice) tasks pulled from a shared counter, largest levels first.
template <typename T>
void accumulate_table_gradient(Job<T> job, int64_t n, int64_t d) {
  const int64_t threads = std::max<int64_t>(1, at::get_num_threads());
  const int64_t n_levels = job.n_levels;
  int64_t slices = (threads + n_levels - 1) / n_levels;
  slices = std::max<int64_t>(1, std::min<int64_t>(slices, (n + kGrain - 1) / kGrain));
  job.atomic = slices > 1;
  std::vector<int64_t> order(n_levels);
  for (int64_t l = 0; l < n_levels; ++l) order[l] = l;
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return job.levels[a].size > job.levels[b].size; });
  const int64_t tasks = n_levels * slices;
  std::atomic<int64_t> next{0};
  at::parallel_for(0, std::min(threads, tasks), 1, [&](int64_t, int64_t) {
    for (int64_t task = next.fetch_add(1); task < tasks; task = next.fetch_add(1)) {
      const int64_t level = order[task / slices];
      const int64_t slice = task % slices;
      const int64_t begin = n * slice / slices, end = n * (slice + 1) / slices;
      dispatch(job, d, Pass::kGradTable, level, begin, end);
    }
  });
}

}  // namespace

at::Tensor hashgrid_forward_cpu(const at::Tensor& x, const at::Tensor& table, c10::ArrayRef<double> scales,
                                c10::ArrayRef<int64_t> levels, int64_t interpolation, double shift,
                                bool ceil_corner) {
  check_hashgrid_inputs(x, table, scales, levels, interpolation, at::kCPU);
  const int64_t n = x.size(0), d = x.size(1);
  at::Tensor out = empty_with_huge_pages({n, static_cast<int64_t>(scales.size()) * table.size(1)}, x.options());
  if (n == 0 || out.numel() == 0) return out;
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "hashgrid_forward_cpu", [&] {
    const std::vector<Level<scalar_t>> unpacked = unpack_levels<scalar_t>(scales, levels);
    Job<scalar_t> job = make_job<scalar_t>(x, table, unpacked, shift, interpolation, ceil_corner);
    job.out = out.mutable_data_ptr<scalar_t>();
    at::parallel_for(0, n, kGrain, [&](int64_t begin, int64_t end) {
      dispatch(job, d, Pass::kForward, 0, begin, end);
    });
  });
  return out;
}

std::tuple<at::Tensor, at::Tensor> hashgrid_backward_cpu(const at::Tensor& grad_out, const at::Tensor& x,
                                                         const at::Tensor& table, c10::ArrayRef<double> scales,
                                                         c10::ArrayRef<int64_t> levels, int64_t interpolation,
                                                         double shift, bool ceil_corner, bool need_grad_x,
                                                         bool need_grad_table) {
  check_hashgrid_inputs(x, table, scales, levels, interpolation, at::kCPU);
  const int64_t n = x.size(0), d = x.size(1);
  check_hashgrid_grad(grad_out, x, static_cast<int64_t>(scales.size()) * table.size(1));
  at::Tensor grad_x = at::zeros({need_grad_x ? n : 0, d}, x.options());
  at::Tensor grad_table =
      empty_with_huge_pages({need_grad_table ? table.size(0) : 0, table.size(1)}, table.options()).zero_();
  if (n == 0 || scales.empty()) return {grad_x, grad_table};
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "hashgrid_backward_cpu", [&] {
    const std::vector<Level<scalar_t>> unpacked = unpack_levels<scalar_t>(scales, levels);
    Job<scalar_t> job = make_job<scalar_t>(x, table, unpacked, shift, interpolation, ceil_corner);
    job.grad = grad_out.const_data_ptr<scalar_t>();
    if (need_grad_table) {
      job.out = grad_table.mutable_data_ptr<scalar_t>();
      accumulate_table_gradient(job, n, d);
    }
    if (need_grad_x && interpolation != hashgrid::kNearest) {
      job.out = grad_x.mutable_data_ptr<scalar_t>();
      at::parallel_for(0, n, kGrain, [&](int64_t begin, int64_t end) {
        dispatch(job, d, Pass::kGradX, 0, begin, end);
      });
    }
  });
  return {grad_x, grad_table};
}

}  // namespace coordnet

// CPU implementations of the schemas in csrc/ops.cpp.
TORCH_LIBRARY_IMPL(coordnet, CPU, m) {
  m.impl("hashgrid_forward", &coordnet::hashgrid_forward_cpu);
  m.impl("hashgrid_backward", &coordnet::hashgrid_backward_cpu);
}
