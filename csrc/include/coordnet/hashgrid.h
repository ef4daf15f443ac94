// Multiresolution grid math shared by the CPU and CUDA kernels (instant-NGP's hash grid).
//
// Inputs: x (N, d) positions, d in 1..4; a table (P, F) of feature vectors holding the levels'
// tables one after the other; per level l a scale s_l (exactly representable in float32) and an
// int64 row  offset, size, resolution, mode  (see coordnet/ops/hashgrid_reference.py, the oracle).
//
// Per level and coordinate:  p = fma(s_l, x, shift)  (tiny-cuda-nn: shift 0.5), clamped to
// [-2^30, 2^30];  cell c = floor(p) as uint32 (two's complement of the integer);  t = p - floor(p).
// The lower vertex is c, the upper c + 1 (or ceil(p) when `ceil_corner`, nerfstudio's choice:
// the two coincide at integer p). Interpolation weight of the upper vertex: t (linear),
// t^2 (3 - 2t) (smoothstep); nearest uses vertex c alone.
//
// A vertex v maps to entry  offset + (index(v) mod size)  where, in uint32 arithmetic,
//   dense:  index = sum_j v_j R^j        (R = resolution; wraps outside the grid)
//   hash:   index = XOR_j v_j * prime_j  (primes 1, 2654435761, 805459861, 3674653429)
//   zero:   index = 0                    (tiny-cuda-nn's dense levels too fine to index)
// Output row: L*F features, level-major.
//
// Everything here is header-only, free of torch, and usable from host and device.
#pragma once

#include <cmath>
#include <cstdint>

#include "coordnet/host_device.h"
#include "coordnet/limits.h"

namespace coordnet {
namespace hashgrid {

// Limits and enum codes, defined once in coordnet/ops/limits.py (the generated coordnet/limits.h).
constexpr int kMaxDims = limits::kHashgridMaxDims;
constexpr int64_t kModeDense = limits::kHashgridModeDense;
constexpr int64_t kModeHash = limits::kHashgridModeHash;
constexpr int64_t kModeZero = limits::kHashgridModeZero;
constexpr int64_t kNearest = limits::kHashgridNearest;
constexpr int64_t kLinear = limits::kHashgridLinear;
constexpr int64_t kSmoothstep = limits::kHashgridSmoothstep;
constexpr int kLevelFields = limits::kHashgridLevelFields;  // offset, size, resolution, mode
constexpr double kPositionLimit = limits::kHashgridPositionLimit;  // 2^30

COORDNET_HD uint32_t prime(int j) {
  return j == 0 ? 1u : (j == 1 ? 2654435761u : (j == 2 ? 805459861u : 3674653429u));
}

// One level, unpacked from its int64 row and its scale.
template <typename T>
struct Level {
  int64_t offset;      // first entry of the level in the table
  uint32_t size;       // entries of the level
  uint32_t mask;       // size - 1 when size is a power of two, else 0
  uint32_t resolution;
  int32_t mode;
  T scale;
};

template <typename T>
COORDNET_HD Level<T> unpack_level(const int64_t* row, double scale) {
  Level<T> level;
  level.offset = row[0];
  level.size = static_cast<uint32_t>(row[1]);
  level.mask = (level.size & (level.size - 1u)) == 0u ? level.size - 1u : 0u;
  level.resolution = static_cast<uint32_t>(row[2]);
  level.mode = static_cast<int32_t>(row[3]);
  level.scale = static_cast<T>(scale);
  return level;
}

COORDNET_HD float fused(float a, float b, float c) { return fmaf(a, b, c); }
COORDNET_HD double fused(double a, double b, double c) { return fma(a, b, c); }
COORDNET_HD float floor_of(float v) { return floorf(v); }
COORDNET_HD double floor_of(double v) { return floor(v); }

// Where one coordinate falls in a level: lower and upper vertex, the upper vertex's weight w,
// and dw = d(w)/d(x) (zero where the position was clamped, or for nearest interpolation).
template <typename T>
struct Axis {
  uint32_t lower, upper;
  T w, dw;
};

template <typename T>
COORDNET_HD Axis<T> locate(T x, T scale, T shift, int64_t interpolation, bool ceil_corner) {
  const T limit = static_cast<T>(kPositionLimit);
  T p = fused(scale, x, shift);
  const bool inside = p >= -limit && p <= limit;  // false for NaN
  p = p < -limit ? -limit : (p > limit ? limit : p);
  const T fl = floor_of(p);
  const T t = p - fl;
  Axis<T> a;
  a.lower = fl == fl ? static_cast<uint32_t>(static_cast<int64_t>(fl)) : 0u;  // NaN: vertex 0
  a.upper = a.lower + (ceil_corner ? (t > T(0) ? 1u : 0u) : 1u);
  if (interpolation == kSmoothstep) {
    a.w = t * t * (T(3) - T(2) * t);
    a.dw = T(6) * t * (T(1) - t);
  } else {
    a.w = t;
    a.dw = T(1);
  }
  a.dw = (inside && interpolation != kNearest) ? a.dw * scale : T(0);
  return a;
}

// Index contribution of vertex coordinate v along axis j (combined over axes by `combine`).
COORDNET_HD uint32_t axis_term(uint32_t v, int j, int32_t mode, uint32_t resolution) {
  if (mode == kModeHash) return v * prime(j);
  uint32_t stride = 1u;
  for (int k = 0; k < j; ++k) stride *= resolution;
  return v * stride;
}

COORDNET_HD uint32_t combine(uint32_t index, uint32_t term, int32_t mode) {
  return mode == kModeHash ? (index ^ term) : index + term;
}

// Table row of a level-local index.
template <typename T>
COORDNET_HD int64_t entry(const Level<T>& level, uint32_t index) {
  if (level.mode == kModeZero) return level.offset;
  const uint32_t local = level.mask != 0u || level.size == 1u
                             ? (index & level.mask)
                             : (index < level.size ? index : index % level.size);
  return level.offset + static_cast<int64_t>(local);
}

// The 2^D vertices around x in one level: table rows and interpolation weights, plus (when
// `dweight` is given) the derivative of each weight with respect to each coordinate.
// Corner c takes the upper vertex along axis j when bit j of c is set (tiny-cuda-nn's order).
template <typename T, int D>
struct Corners {
  static constexpr int kCount = 1 << D;
  int64_t row[kCount];
  T weight[kCount];
};

template <typename T, int D>
COORDNET_HD void corners(const T* x, const Level<T>& level, T shift, int64_t interpolation, bool ceil_corner,
                         Corners<T, D>& out, T (*dweight)[D]) {
  uint32_t lo[D], hi[D];
  T w[D], dw[D];
  for (int j = 0; j < D; ++j) {
    const Axis<T> a = locate<T>(x[j], level.scale, shift, interpolation, ceil_corner);
    lo[j] = axis_term(a.lower, j, level.mode, level.resolution);
    hi[j] = axis_term(a.upper, j, level.mode, level.resolution);
    w[j] = a.w;
    dw[j] = a.dw;
  }
  if (interpolation == kNearest) {
    uint32_t index = lo[0];
    for (int j = 1; j < D; ++j) index = combine(index, lo[j], level.mode);
    out.row[0] = entry(level, index);
    out.weight[0] = T(1);
    for (int c = 1; c < Corners<T, D>::kCount; ++c) {
      out.row[c] = out.row[0];
      out.weight[c] = T(0);
    }
    if (dweight != nullptr)
      for (int c = 0; c < Corners<T, D>::kCount; ++c)
        for (int j = 0; j < D; ++j) dweight[c][j] = T(0);
    return;
  }
  for (int c = 0; c < Corners<T, D>::kCount; ++c) {
    uint32_t index = (c & 1) ? hi[0] : lo[0];
    T weight = (c & 1) ? w[0] : T(1) - w[0];
    for (int j = 1; j < D; ++j) {
      const bool up = (c >> j) & 1;
      index = combine(index, up ? hi[j] : lo[j], level.mode);
      weight *= up ? w[j] : T(1) - w[j];
    }
    out.row[c] = entry(level, index);
    out.weight[c] = weight;
    if (dweight != nullptr) {
      for (int j = 0; j < D; ++j) {
        T g = ((c >> j) & 1) ? dw[j] : -dw[j];
        for (int k = 0; k < D; ++k)
          if (k != j) g *= ((c >> k) & 1) ? w[k] : T(1) - w[k];
        dweight[c][j] = g;
      }
    }
  }
}

}  // namespace hashgrid
}  // namespace coordnet
