// CPU kernels; each file registers its own (TORCH_LIBRARY_IMPL at its bottom) for the schemas in csrc/ops.cpp.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/util/ArrayRef.h>
#include <c10/util/Optional.h>

#include <tuple>

namespace coordnet {

// Fourier features: x (N, d), B (M, d), amplitude (M,) or none -> (N, 2M) or (N, 2M + d) when
// input_mode copies x in; layout in csrc/include/coordnet/fourier.h.
at::Tensor fourier_features_cpu(const at::Tensor& x, const at::Tensor& B, const std::optional<at::Tensor>& amplitude,
                                double factor, int64_t group, int64_t input_mode);

// Gradients of fourier_features for grad_out shaped like its output: (grad_x (N, d), grad_B (M, d)).
// A gradient that is not asked for comes back with 0 rows.
std::tuple<at::Tensor, at::Tensor> fourier_features_backward_cpu(const at::Tensor& grad_out, const at::Tensor& x,
                                                                 const at::Tensor& B,
                                                                 const std::optional<at::Tensor>& amplitude,
                                                                 double factor, int64_t group, int64_t input_mode,
                                                                 bool need_grad_x, bool need_grad_B);

// Activation patterns (layout and hash in csrc/include/coordnet/regions.h).
// Writes the sign bits of preact (n, w) into words [word_offset, word_offset + ceil(w/64)) of each
// row of packed (n, words) int64, and applies ReLU to preact in place when relu is set.
void pack_signs_relu_cpu(const at::Tensor& preact, const at::Tensor& packed, int64_t word_offset, bool relu);

// Row hashes of packed (n, words) int64 -> (n,) int64, ANDed with hash_mask.
at::Tensor hash_patterns_cpu(const at::Tensor& packed, int64_t hash_mask);

// Distinct rows of packed (n, words): (inverse (n,), first (u,)), ids in order of first occurrence;
// exact whatever hash_mask (colliding hashes are resolved by comparing rows).
std::tuple<at::Tensor, at::Tensor> unique_patterns_cpu(const at::Tensor& packed, int64_t hash_mask);

// Multiresolution grid (hash grid) encoding; math and argument meaning in
// csrc/include/coordnet/hashgrid.h. x (N, d), table (P, F), scales (L,), levels 4 ints per level
// (offset, size, resolution, mode) -> features (N, L*F).
at::Tensor hashgrid_forward_cpu(const at::Tensor& x, const at::Tensor& table, c10::ArrayRef<double> scales,
                                c10::ArrayRef<int64_t> levels, int64_t interpolation, double shift,
                                bool ceil_corner);

// Gradients for grad_out (N, L*F): (grad_x (N, d), grad_table (P, F)); one not asked for has 0 rows.
std::tuple<at::Tensor, at::Tensor> hashgrid_backward_cpu(const at::Tensor& grad_out, const at::Tensor& x,
                                                         const at::Tensor& table, c10::ArrayRef<double> scales,
                                                         c10::ArrayRef<int64_t> levels, int64_t interpolation,
                                                         double shift, bool ceil_corner, bool need_grad_x,
                                                         bool need_grad_table);

}  // namespace coordnet
