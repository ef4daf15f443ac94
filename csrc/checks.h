// Argument checks shared by the CPU and CUDA registrations of the ops.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/util/Exception.h>

#include <optional>

#include "coordnet/fourier.h"

namespace coordnet {

inline void check_fourier_inputs(const at::Tensor& x, const at::Tensor& B, const std::optional<at::Tensor>& amplitude,
                                 int64_t group, int64_t input_mode, c10::DeviceType device) {
  TORCH_CHECK(x.dim() == 2, "fourier_features: x must have shape (N, d), got ", x.sizes());
  TORCH_CHECK(B.dim() == 2, "fourier_features: B must have shape (M, d), got ", B.sizes());
  TORCH_CHECK(B.size(1) == x.size(1), "fourier_features: B has ", B.size(1), " columns but x has d = ", x.size(1));
  TORCH_CHECK(x.scalar_type() == at::kFloat || x.scalar_type() == at::kDouble,
              "fourier_features: x must be float32 or float64, got ", x.scalar_type());
  TORCH_CHECK(B.scalar_type() == x.scalar_type(), "fourier_features: B dtype ", B.scalar_type(),
              " differs from x dtype ", x.scalar_type());
  TORCH_CHECK(x.device().type() == device && B.device() == x.device(), "fourier_features: x and B must be on ",
              device, ", got ", x.device(), " and ", B.device());
  TORCH_CHECK(x.is_contiguous() && B.is_contiguous(), "fourier_features: x and B must be contiguous");
  TORCH_CHECK(group >= 1 && B.size(0) % group == 0, "fourier_features: group = ", group,
              " must be positive and divide M = ", B.size(0));
  TORCH_CHECK(input_mode >= fourier::kInputNone && input_mode <= fourier::kInputLast,
              "fourier_features: input_mode must be 0 (none), 1 (first) or 2 (last), got ", input_mode);
  if (amplitude.has_value()) {
    const at::Tensor& a = *amplitude;
    TORCH_CHECK(a.dim() == 1 && a.size(0) == B.size(0), "fourier_features: amplitude must have shape (M,) = (",
                B.size(0), ",), got ", a.sizes());
    TORCH_CHECK(a.scalar_type() == x.scalar_type() && a.device() == x.device() && a.is_contiguous(),
                "fourier_features: amplitude must be a contiguous ", x.scalar_type(), " tensor on ", x.device());
  }
}

inline void check_fourier_grad(const at::Tensor& grad_out, const at::Tensor& x, int64_t out_columns) {
  TORCH_CHECK(grad_out.dim() == 2 && grad_out.size(0) == x.size(0) && grad_out.size(1) == out_columns,
              "fourier_features_backward: grad_out must have shape (", x.size(0), ", ", out_columns, "), got ",
              grad_out.sizes());
  TORCH_CHECK(grad_out.scalar_type() == x.scalar_type() && grad_out.device() == x.device() &&
                  grad_out.is_contiguous(),
              "fourier_features_backward: grad_out must be a contiguous ", x.scalar_type(), " tensor on ",
              x.device());
}

// pack_signs_relu_: preact (n, w) float, packed (n, words) int64, the layer's words in range.
inline void check_pack_inputs(const at::Tensor& preact, const at::Tensor& packed, int64_t word_offset,
                              c10::DeviceType device) {
  TORCH_CHECK(preact.dim() == 2, "pack_signs_relu_: preact must have shape (n, w), got ", preact.sizes());
  TORCH_CHECK(packed.dim() == 2, "pack_signs_relu_: packed must have shape (n, words), got ", packed.sizes());
  TORCH_CHECK(preact.scalar_type() == at::kFloat || preact.scalar_type() == at::kDouble,
              "pack_signs_relu_: preact must be float32 or float64, got ", preact.scalar_type());
  TORCH_CHECK(packed.scalar_type() == at::kLong, "pack_signs_relu_: packed must be int64, got ",
              packed.scalar_type());
  TORCH_CHECK(preact.device().type() == device && packed.device() == preact.device(),
              "pack_signs_relu_: preact and packed must be on ", device, ", got ", preact.device(), " and ",
              packed.device());
  TORCH_CHECK(preact.is_contiguous() && packed.is_contiguous(),
              "pack_signs_relu_: preact and packed must be contiguous");
  TORCH_CHECK(packed.size(0) == preact.size(0), "pack_signs_relu_: packed has ", packed.size(0),
              " rows but preact has ", preact.size(0));
  const int64_t words = (preact.size(1) + 63) / 64;
  TORCH_CHECK(word_offset >= 0 && word_offset + words <= packed.size(1), "pack_signs_relu_: word_offset = ",
              word_offset, " out of range: a layer of ", preact.size(1), " units takes ", words,
              " word(s) and packed has ", packed.size(1));
}

// hash_patterns / unique_patterns: packed (n, words) int64, contiguous.
inline void check_packed_patterns(const char* op, const at::Tensor& packed, c10::DeviceType device) {
  TORCH_CHECK(packed.dim() == 2, op, ": packed must have shape (n, words), got ", packed.sizes());
  TORCH_CHECK(packed.scalar_type() == at::kLong, op, ": packed must be int64, got ", packed.scalar_type());
  TORCH_CHECK(packed.device().type() == device, op, ": packed must be on ", device, ", got ", packed.device());
  TORCH_CHECK(packed.is_contiguous(), op, ": packed must be contiguous");
}

}  // namespace coordnet
