// Fourier-feature math shared by the CPU and CUDA kernels.
//
// A Fourier-feature row is built from M phases measured in turns,
//     t_m = c * <x, B_m>          (x: d coordinates, B_m: row m of the (M, d) matrix B)
// where c = factor / (2*pi) ("factor_turns") for the op's phase factor (radians per unit of <x, B>)
// and written as the feature pair  a_m * sin(2*pi*t_m),  a_m * cos(2*pi*t_m).
// Working in turns lets the range reduction t - rint(t) be exact, so the phase
// error is only the rounding of t itself.
//
// Output layout of one row (length 2*M, plus d when the input is copied in):
//     M/group groups; group k holds  sin(t_{kg}) .. sin(t_{kg+g-1}), cos(t_{kg}) .. cos(t_{kg+g-1})
// group == M gives [sin block, cos block]; group == 1 gives sin/cos interleaved.
// input_mode copies x itself into the row: kInputNone, kInputFirst (before the
// features, as nerf-pytorch) or kInputLast (after them, as nerfstudio).
//
// Everything here is header-only, free of torch, and usable from host and device.
#pragma once

#include <cmath>
#include <cstdint>

#include "coordnet/host_device.h"
#include "coordnet/limits.h"

namespace coordnet {
namespace fourier {

constexpr double kTwoPi = 6.283185307179586476925286766559;

// Input modes, defined once in coordnet/ops/limits.py (the generated coordnet/limits.h).
constexpr int64_t kInputNone = limits::kFourierInputNone;
constexpr int64_t kInputFirst = limits::kFourierInputFirst;
constexpr int64_t kInputLast = limits::kFourierInputLast;

// Column where the features start, and where the copied input starts.
COORDNET_HD int64_t feature_offset(int64_t input_mode, int64_t d) { return input_mode == kInputFirst ? d : 0; }
COORDNET_HD int64_t input_offset(int64_t input_mode, int64_t m) { return input_mode == kInputFirst ? 0 : 2 * m; }
COORDNET_HD int64_t row_length(int64_t input_mode, int64_t d, int64_t m) {
  return 2 * m + (input_mode == kInputNone ? 0 : d);
}

// Column of sin(t_m) in an output row; the cosine sits `group` columns later.
COORDNET_HD int64_t sin_column(int64_t m, int64_t group, int64_t features_at) {
  const int64_t k = m / group;
  const int64_t r = m - k * group;
  return features_at + 2 * group * k + r;
}

template <typename T>
struct SinCos {
  T sin, cos;
};

// sin(2*pi*t) and cos(2*pi*t) for a phase t in turns, branch-free so that loops
// over it vectorise. Reduction: q = rint(4t) quadrants, r = t - q/4 in [-1/8, 1/8].
COORDNET_HD SinCos<float> sincos_turns(float t) {
  const float q = rintf(4.0f * t);
  const float r = fmaf(-0.25f, q, t);            // exact for |t| < 2^22
  const float x = r * 6.28318530717958647692f;   // angle in [-pi/4, pi/4]
  const float z = x * x;
  // Minimax polynomials on [-pi/4, pi/4] (Cephes single precision coefficients).
  const float sp = ((-1.9515295891e-4f * z + 8.3321608736e-3f) * z - 1.6666654611e-1f) * z * x + x;
  const float cp = ((2.443315711809948e-5f * z - 1.388731625493765e-3f) * z + 4.166664568298827e-2f) * z * z
                   - 0.5f * z + 1.0f;
  // q mod 4. Huge or NaN phases take quadrant 0 so that the conversion stays defined
  // (they carry no precision anyway, and r carries the NaN).
  const float q_finite = (q > -16777216.0f && q < 16777216.0f) ? q : 0.0f;
  const int quadrant = static_cast<int>(q_finite) & 3;
  const bool swap = quadrant & 1;
  const float sv = swap ? cp : sp;
  const float cv = swap ? sp : cp;
  return {(quadrant & 2) ? -sv : sv, ((quadrant + 1) & 2) ? -cv : cv};
}

COORDNET_HD SinCos<double> sincos_turns(double t) {
  const double r = t - rint(t);  // [-1/2, 1/2] turns, exact
#if defined(__CUDA_ARCH__)
  SinCos<double> out;
  sincospi(2.0 * r, &out.sin, &out.cos);
  return out;
#else
  const double x = r * kTwoPi;
  return {sin(x), cos(x)};
#endif
}

// Phase of row x against row m of B, already scaled to turns.
template <typename scalar_t>
COORDNET_HD scalar_t phase(const scalar_t* x, const scalar_t* b_row, int64_t d, scalar_t factor_turns) {
  scalar_t acc = 0;
  for (int64_t j = 0; j < d; ++j) acc += x[j] * b_row[j];
  return factor_turns * acc;
}

// d/dt of the loss for one feature pair: a * 2*pi * (g_sin * cos - g_cos * sin).
// The caller multiplies by the chain factor c (turns per unit) and 2*pi once,
// that is by the phase factor.
template <typename scalar_t>
COORDNET_HD scalar_t phase_gradient(scalar_t g_sin, scalar_t g_cos, scalar_t s, scalar_t c, scalar_t amplitude) {
  return amplitude * (g_sin * c - g_cos * s);
}

}  // namespace fourier
}  // namespace coordnet
