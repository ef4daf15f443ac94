// CUDA registrations of coordnet's ops: check and unpack tensors, call the .cu launchers.
#include <ATen/Dispatch.h>
#include <ATen/cuda/CUDAContext.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/zeros.h>
#include <c10/cuda/CUDAGuard.h>
#include <torch/library.h>

#include <optional>
#include <tuple>

#include "checks.h"
#include "coordnet/fourier.h"
#include "fourier_cuda.h"
#include "hashgrid_checks.h"
#include "hashgrid_cuda.h"
#include "regions_cuda.h"

namespace coordnet {
namespace {

void check_cuda_dims(const at::Tensor& x) {
  TORCH_CHECK(x.size(1) <= cuda::kMaxFourierDims, "fourier_features on CUDA supports d <= ",
              cuda::kMaxFourierDims, ", got d = ", x.size(1));
}

at::Tensor fourier_features_cuda(const at::Tensor& x, const at::Tensor& B, const std::optional<at::Tensor>& amplitude,
                                 double factor, int64_t group, int64_t input_mode) {
  check_fourier_inputs(x, B, amplitude, group, input_mode, at::kCUDA);
  check_cuda_dims(x);
  const c10::cuda::CUDAGuard guard(x.device());
  at::Tensor out = at::empty({x.size(0), fourier::row_length(input_mode, x.size(1), B.size(0))}, x.options());
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "fourier_features_cuda", [&] {
    cuda::fourier_forward<scalar_t>(x.const_data_ptr<scalar_t>(), B.const_data_ptr<scalar_t>(),
                                    amplitude.has_value() ? amplitude->const_data_ptr<scalar_t>() : nullptr,
                                    static_cast<scalar_t>(factor / fourier::kTwoPi), x.size(0), x.size(1),
                                    B.size(0), group, input_mode, out.mutable_data_ptr<scalar_t>(),
                                    at::cuda::getCurrentCUDAStream());
  });
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return out;
}

std::tuple<at::Tensor, at::Tensor> fourier_features_backward_cuda(const at::Tensor& grad_out, const at::Tensor& x,
                                                                  const at::Tensor& B,
                                                                  const std::optional<at::Tensor>& amplitude,
                                                                  double factor, int64_t group, int64_t input_mode,
                                                                  bool need_grad_x, bool need_grad_B) {
  check_fourier_inputs(x, B, amplitude, group, input_mode, at::kCUDA);
  check_cuda_dims(x);
  check_fourier_grad(grad_out, x, fourier::row_length(input_mode, x.size(1), B.size(0)));
  const c10::cuda::CUDAGuard guard(x.device());
  at::Tensor grad_x = at::empty({need_grad_x ? x.size(0) : 0, x.size(1)}, x.options());
  at::Tensor grad_B = at::zeros({need_grad_B ? B.size(0) : 0, B.size(1)}, B.options());
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "fourier_features_backward_cuda", [&] {
    cuda::fourier_backward<scalar_t>(
        grad_out.const_data_ptr<scalar_t>(), x.const_data_ptr<scalar_t>(), B.const_data_ptr<scalar_t>(),
        amplitude.has_value() ? amplitude->const_data_ptr<scalar_t>() : nullptr,
        static_cast<scalar_t>(factor / fourier::kTwoPi), x.size(0), x.size(1), B.size(0), group, input_mode,
        need_grad_x ? grad_x.mutable_data_ptr<scalar_t>() : nullptr,
        need_grad_B ? grad_B.mutable_data_ptr<scalar_t>() : nullptr, at::cuda::getCurrentCUDAStream());
  });
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return {grad_x, grad_B};
}

void pack_signs_relu_cuda(const at::Tensor& preact, const at::Tensor& packed, int64_t word_offset, bool relu) {
  check_pack_inputs(preact, packed, word_offset, at::kCUDA);
  const c10::cuda::CUDAGuard guard(preact.device());
  AT_DISPATCH_FLOATING_TYPES(preact.scalar_type(), "pack_signs_relu_cuda", [&] {
    cuda::pack_signs_relu<scalar_t>(preact.mutable_data_ptr<scalar_t>(), packed.mutable_data_ptr<int64_t>(),
                                    preact.size(0), preact.size(1), packed.size(1), word_offset, relu,
                                    at::cuda::getCurrentCUDAStream());
  });
  C10_CUDA_KERNEL_LAUNCH_CHECK();
}

at::Tensor hash_patterns_cuda(const at::Tensor& packed, int64_t hash_mask) {
  check_packed_patterns("hash_patterns", packed, at::kCUDA);
  const c10::cuda::CUDAGuard guard(packed.device());
  at::Tensor hashes = at::empty({packed.size(0)}, packed.options());
  cuda::hash_patterns(packed.const_data_ptr<int64_t>(), packed.size(0), packed.size(1), hash_mask,
                      hashes.mutable_data_ptr<int64_t>(), at::cuda::getCurrentCUDAStream());
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return hashes;
}

}  // namespace
}  // namespace coordnet

namespace coordnet {
namespace {

template <typename T>
cuda::HashgridLevels<T> hashgrid_levels_cuda(c10::ArrayRef<double> scales, c10::ArrayRef<int64_t> levels) {
  TORCH_CHECK(static_cast<int64_t>(scales.size()) <= cuda::kMaxHashgridLevels, "hashgrid on CUDA supports at most ",
              cuda::kMaxHashgridLevels, " levels, got ", scales.size());
  cuda::HashgridLevels<T> out{};
  out.count = static_cast<int>(scales.size());
  for (int l = 0; l < out.count; ++l) out.level[l] = hashgrid::unpack_level<T>(levels.data() + 4 * l, scales[l]);
  return out;
}

const __half* half_table(const at::Tensor& table) {
  return reinterpret_cast<const __half*>(table.const_data_ptr<at::Half>());
}

at::Tensor hashgrid_forward_cuda(const at::Tensor& x, const at::Tensor& table, c10::ArrayRef<double> scales,
                                 c10::ArrayRef<int64_t> levels, int64_t interpolation, double shift,
                                 bool ceil_corner) {
  check_hashgrid_inputs(x, table, scales, levels, interpolation, at::kCUDA);
  const c10::cuda::CUDAGuard guard(x.device());
  at::Tensor out = at::empty({x.size(0), static_cast<int64_t>(scales.size()) * table.size(1)}, x.options());
  if (out.numel() == 0) return out;
  const cudaStream_t stream = at::cuda::getCurrentCUDAStream();
  if (table.scalar_type() == at::kHalf) {  // float x (checked): half parameters, float arithmetic
    cuda::hashgrid_forward<float, __half>(x.const_data_ptr<float>(), half_table(table), x.size(0), x.size(1),
                                          table.size(1), hashgrid_levels_cuda<float>(scales, levels),
                                          static_cast<float>(shift), interpolation, ceil_corner,
                                          out.mutable_data_ptr<float>(), stream);
  } else {
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "hashgrid_forward_cuda", [&] {
      cuda::hashgrid_forward<scalar_t, scalar_t>(x.const_data_ptr<scalar_t>(), table.const_data_ptr<scalar_t>(),
                                                 x.size(0), x.size(1), table.size(1),
                                                 hashgrid_levels_cuda<scalar_t>(scales, levels),
                                                 static_cast<scalar_t>(shift), interpolation, ceil_corner,
                                                 out.mutable_data_ptr<scalar_t>(), stream);
    });
  }
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return out;
}

std::tuple<at::Tensor, at::Tensor> hashgrid_backward_cuda(const at::Tensor& grad_out, const at::Tensor& x,
                                                          const at::Tensor& table, c10::ArrayRef<double> scales,
                                                          c10::ArrayRef<int64_t> levels, int64_t interpolation,
                                                          double shift, bool ceil_corner, bool need_grad_x,
                                                          bool need_grad_table) {
  check_hashgrid_inputs(x, table, scales, levels, interpolation, at::kCUDA);
  check_hashgrid_grad(grad_out, x, static_cast<int64_t>(scales.size()) * table.size(1));
  const c10::cuda::CUDAGuard guard(x.device());
  const bool half = table.scalar_type() == at::kHalf;
  at::Tensor grad_x = at::zeros({need_grad_x ? x.size(0) : 0, x.size(1)}, x.options());
  // The table gradient is accumulated in x's dtype (float32 for half tables) and returned in the table's.
  at::Tensor grad_table = at::zeros({need_grad_table ? table.size(0) : 0, table.size(1)}, x.options());
  if (x.size(0) == 0 || scales.empty() || (!need_grad_x && !need_grad_table)) {
    return {grad_x, grad_table.to(table.scalar_type())};
  }
  const cudaStream_t stream = at::cuda::getCurrentCUDAStream();
  if (half) {
    cuda::hashgrid_backward<float, __half>(
        grad_out.const_data_ptr<float>(), x.const_data_ptr<float>(), half_table(table), x.size(0), x.size(1),
        table.size(1), hashgrid_levels_cuda<float>(scales, levels), static_cast<float>(shift), interpolation,
        ceil_corner, need_grad_x ? grad_x.mutable_data_ptr<float>() : nullptr,
        need_grad_table ? grad_table.mutable_data_ptr<float>() : nullptr, stream);
  } else {
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "hashgrid_backward_cuda", [&] {
      cuda::hashgrid_backward<scalar_t, scalar_t>(
          grad_out.const_data_ptr<scalar_t>(), x.const_data_ptr<scalar_t>(), table.const_data_ptr<scalar_t>(),
          x.size(0), x.size(1), table.size(1), hashgrid_levels_cuda<scalar_t>(scales, levels),
          static_cast<scalar_t>(shift), interpolation, ceil_corner,
          need_grad_x ? grad_x.mutable_data_ptr<scalar_t>() : nullptr,
          need_grad_table ? grad_table.mutable_data_ptr<scalar_t>() : nullptr, stream);
    });
  }
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return {grad_x, half ? grad_table.to(at::kHalf) : grad_table};
}

}  // namespace
}  // namespace coordnet

TORCH_LIBRARY_IMPL(coordnet, CUDA, m) {
  m.impl("fourier_features", &coordnet::fourier_features_cuda);
  m.impl("fourier_features_backward", &coordnet::fourier_features_backward_cuda);
  m.impl("hashgrid_forward", &coordnet::hashgrid_forward_cuda);
  m.impl("hashgrid_backward", &coordnet::hashgrid_backward_cuda);
  m.impl("pack_signs_relu_", &coordnet::pack_signs_relu_cuda);
  m.impl("hash_patterns", &coordnet::hash_patterns_cuda);
  // unique_patterns has no CUDA kernel: coordnet.ops.unique_patterns dedupes CUDA patterns
  // from hash_patterns with device-side torch ops (unique_by_hash_sort).
}
