// CPU kernels registered by csrc/ops.cpp.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/util/Optional.h>

#include <tuple>

namespace coordnet {

// Fourier features: x (N, d), B (M, d), amplitude (M,) or none -> (N, 2M) or (N, 2M + d) when
// input_mode copies x in; layout in csrc/include/coordnet/fourier.h.
at::Tensor fourier_features_cpu(const at::Tensor& x, const at::Tensor& B, const std::optional<at::Tensor>& amplitude,
                                double turns, int64_t group, int64_t input_mode);

// Gradients of fourier_features for grad_out shaped like its output: (grad_x (N, d), grad_B (M, d)).
// A gradient that is not asked for comes back with 0 rows.
std::tuple<at::Tensor, at::Tensor> fourier_features_backward_cpu(const at::Tensor& grad_out, const at::Tensor& x,
                                                                 const at::Tensor& B,
                                                                 const std::optional<at::Tensor>& amplitude,
                                                                 double turns, int64_t group, int64_t input_mode,
                                                                 bool need_grad_x, bool need_grad_B);

}  // namespace coordnet
