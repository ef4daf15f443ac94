// Launch geometry shared by the CUDA launchers (plain C++, no torch headers).
#pragma once

#include <cstdint>

namespace coordnet {
namespace cuda {

constexpr int kThreads = 256;  // threads per block of every kernel
constexpr int kWarp = 32;

// Blocks of a grid-stride loop over `work` items: at least 1, at most 65535.
inline int grid_stride_blocks(int64_t work) {
  const int64_t blocks = (work + kThreads - 1) / kThreads;
  return static_cast<int>(blocks < 65535 ? (blocks > 0 ? blocks : 1) : 65535);
}

// Blocks covering `work` items with one thread each (a grid's x dimension takes 2^31 - 1).
inline unsigned covering_blocks(int64_t work) { return static_cast<unsigned>((work + kThreads - 1) / kThreads); }

}  // namespace cuda
}  // namespace coordnet
