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

namespace coordnet {
namespace {

void check_cuda_dims(const at::Tensor& x) {
  TORCH_CHECK(x.size(1) <= cuda::kMaxFourierDims, "fourier_features on CUDA supports d <= ",
              cuda::kMaxFourierDims, ", got d = ", x.size(1));
}

at::Tensor fourier_features_cuda(const at::Tensor& x, const at::Tensor& B, const std::optional<at::Tensor>& amplitude,
                                 double turns, int64_t group, int64_t input_mode) {
  check_fourier_inputs(x, B, amplitude, group, input_mode, at::kCUDA);
  check_cuda_dims(x);
  const c10::cuda::CUDAGuard guard(x.device());
  at::Tensor out = at::empty({x.size(0), fourier::row_length(input_mode, x.size(1), B.size(0))}, x.options());
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "fourier_features_cuda", [&] {
    cuda::fourier_forward<scalar_t>(x.const_data_ptr<scalar_t>(), B.const_data_ptr<scalar_t>(),
                                    amplitude.has_value() ? amplitude->const_data_ptr<scalar_t>() : nullptr,
                                    static_cast<scalar_t>(turns), x.size(0), x.size(1), B.size(0), group,
                                    input_mode, out.mutable_data_ptr<scalar_t>(),
                                    at::cuda::getCurrentCUDAStream());
  });
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return out;
}

std::tuple<at::Tensor, at::Tensor> fourier_features_backward_cuda(const at::Tensor& grad_out, const at::Tensor& x,
                                                                  const at::Tensor& B,
                                                                  const std::optional<at::Tensor>& amplitude,
                                                                  double turns, int64_t group, int64_t input_mode,
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
        amplitude.has_value() ? amplitude->const_data_ptr<scalar_t>() : nullptr, static_cast<scalar_t>(turns),
        x.size(0), x.size(1), B.size(0), group, input_mode,
        need_grad_x ? grad_x.mutable_data_ptr<scalar_t>() : nullptr,
        need_grad_B ? grad_B.mutable_data_ptr<scalar_t>() : nullptr, at::cuda::getCurrentCUDAStream());
  });
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return {grad_x, grad_B};
}

}  // namespace
}  // namespace coordnet

TORCH_LIBRARY_IMPL(coordnet, CUDA, m) {
  m.impl("fourier_features", &coordnet::fourier_features_cuda);
  m.impl("fourier_features_backward", &coordnet::fourier_features_backward_cuda);
}
