// Argument checks of the hash-grid ops, shared by the CPU and CUDA registrations.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/util/ArrayRef.h>
#include <c10/util/Exception.h>

#include <vector>

#include "coordnet/hashgrid.h"

namespace coordnet {

inline void check_hashgrid_inputs(const at::Tensor& x, const at::Tensor& table, c10::ArrayRef<double> scales,
                                  c10::ArrayRef<int64_t> levels, int64_t interpolation, c10::DeviceType device) {
  TORCH_CHECK(x.dim() == 2 && x.size(1) >= 1 && x.size(1) <= hashgrid::kMaxDims,
              "hashgrid: x must have shape (N, d) with 1 <= d <= ", hashgrid::kMaxDims, ", got ", x.sizes());
  TORCH_CHECK(x.scalar_type() == at::kFloat || x.scalar_type() == at::kDouble,
              "hashgrid: x must be float32 or float64, got ", x.scalar_type());
  TORCH_CHECK(table.dim() == 2 && table.size(1) >= 1, "hashgrid: table must have shape (P, F) with F >= 1, got ",
              table.sizes());
  // float16 tables (tiny-cuda-nn's half-precision parameters) are read by the CUDA kernels only,
  // with float32 positions, features and accumulation.
  const bool half_table =
      device == c10::DeviceType::CUDA && table.scalar_type() == at::kHalf && x.scalar_type() == at::kFloat;
  TORCH_CHECK(table.scalar_type() == x.scalar_type() || half_table, "hashgrid: table dtype ", table.scalar_type(),
              " differs from x dtype ", x.scalar_type(), " (float16 tables need float32 x and a CUDA device)");
  TORCH_CHECK(x.device().type() == device && table.device() == x.device(), "hashgrid: x and table must be on ",
              device, ", got ", x.device(), " and ", table.device());
  TORCH_CHECK(x.is_contiguous() && table.is_contiguous(), "hashgrid: x and table must be contiguous");
  TORCH_CHECK(interpolation >= hashgrid::kNearest && interpolation <= hashgrid::kSmoothstep,
              "hashgrid: interpolation must be 0 (nearest), 1 (linear) or 2 (smoothstep), got ", interpolation);
  const int64_t n_levels = static_cast<int64_t>(scales.size());
  TORCH_CHECK(static_cast<int64_t>(levels.size()) == hashgrid::kLevelFields * n_levels,
              "hashgrid: levels must hold 4 integers (offset, size, resolution, mode) per scale; got ",
              levels.size(), " integers for ", n_levels, " scales");
  for (int64_t l = 0; l < n_levels; ++l) {
    const int64_t* row = levels.data() + hashgrid::kLevelFields * l;
    const int64_t offset = row[0], size = row[1], resolution = row[2], mode = row[3];
    TORCH_CHECK(size >= 1 && size <= limits::kHashgridMaxLevelSize && offset >= 0 && offset + size <= table.size(0),
                "hashgrid: level ", l, " (offset ", offset, ", size ", size, ") does not fit a table of ",
                table.size(0), " entries");
    TORCH_CHECK(resolution >= 1 && resolution <= limits::kHashgridMaxResolution, "hashgrid: level ", l,
                " has resolution ", resolution);
    TORCH_CHECK(mode >= hashgrid::kModeDense && mode <= hashgrid::kModeZero, "hashgrid: level ", l,
                " has mode ", mode, " (0 dense, 1 hash, 2 zero)");
  }
}

inline void check_hashgrid_grad(const at::Tensor& grad_out, const at::Tensor& x, int64_t out_columns) {
  TORCH_CHECK(grad_out.dim() == 2 && grad_out.size(0) == x.size(0) && grad_out.size(1) == out_columns,
              "hashgrid_backward: grad_out must have shape (", x.size(0), ", ", out_columns, "), got ",
              grad_out.sizes());
  TORCH_CHECK(grad_out.scalar_type() == x.scalar_type() && grad_out.device() == x.device() &&
                  grad_out.is_contiguous(),
              "hashgrid_backward: grad_out must be a contiguous ", x.scalar_type(), " tensor on ", x.device());
}

template <typename T>
std::vector<hashgrid::Level<T>> unpack_levels(c10::ArrayRef<double> scales, c10::ArrayRef<int64_t> levels) {
  std::vector<hashgrid::Level<T>> out;
  out.reserve(scales.size());
  for (size_t l = 0; l < scales.size(); ++l) out.push_back(hashgrid::unpack_level<T>(levels.data() + hashgrid::kLevelFields * l, scales[l]));
  return out;
}

}  // namespace coordnet
