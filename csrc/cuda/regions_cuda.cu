// CUDA activation-pattern kernels: thin launchers around csrc/include/coordnet/regions.h.
#include "regions_cuda.h"
#include "launch.h"

#include "coordnet/regions.h"

namespace coordnet {
namespace cuda {
namespace {

constexpr unsigned kFullMask = 0xffffffffu;

// One warp per (row, word): lane l reads units 64k + l and 64k + 32 + l (coalesced), applies
// the ReLU, and two ballots gather the 64 sign bits. The loop bound is uniform across the
// warp, so every lane takes part in every ballot.
template <typename T>
__global__ void pack_kernel(T* __restrict__ preact, int64_t* __restrict__ packed, int64_t n, int64_t width,
                            int64_t row_words, int64_t word_offset, bool relu) {
  const int64_t layer_words = regions::words(width);
  const int64_t total = n * layer_words;
  const int lane = threadIdx.x % kWarp;
  const int64_t warps = static_cast<int64_t>(gridDim.x) * (blockDim.x / kWarp);
  for (int64_t task = (blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x) / kWarp; task < total;
       task += warps) {
    const int64_t row = task / layer_words;
    const int64_t k = task - row * layer_words;
    T* x = preact + row * width;
    const int64_t lo = k * regions::kWordBits + lane;
    const int64_t hi = lo + kWarp;
    bool lo_on = false, hi_on = false;
    if (lo < width) {
      const T v = x[lo];
      lo_on = regions::active(v);
      if (relu) x[lo] = regions::relu(v);
    }
    if (hi < width) {
      const T v = x[hi];
      hi_on = regions::active(v);
      if (relu) x[hi] = regions::relu(v);
    }
    const uint64_t word = static_cast<uint64_t>(__ballot_sync(kFullMask, lo_on)) |
                          (static_cast<uint64_t>(__ballot_sync(kFullMask, hi_on)) << kWarp);
    if (lane == 0) packed[row * row_words + word_offset + k] = static_cast<int64_t>(word);
  }
}

// One thread per row.
__global__ void hash_kernel(const int64_t* __restrict__ packed, int64_t n, int64_t row_words, uint64_t mask,
                            int64_t* __restrict__ hashes) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const uint64_t* row = reinterpret_cast<const uint64_t*>(packed + i * row_words);
    hashes[i] = static_cast<int64_t>(regions::hash_row(row, row_words) & mask);
  }
}

}  // namespace

template <typename T>
void pack_signs_relu(T* preact, int64_t* packed, int64_t n, int64_t width, int64_t row_words, int64_t word_offset,
                     bool relu, cudaStream_t stream) {
  const int64_t tasks = n * regions::words(width);
  if (tasks == 0) return;
  pack_kernel<T><<<grid_stride_blocks(tasks * kWarp), kThreads, 0, stream>>>(preact, packed, n, width, row_words,
                                                                     word_offset, relu);
}

void hash_patterns(const int64_t* packed, int64_t n, int64_t row_words, int64_t hash_mask, int64_t* hashes,
                   cudaStream_t stream) {
  if (n == 0) return;
  hash_kernel<<<grid_stride_blocks(n), kThreads, 0, stream>>>(packed, n, row_words, static_cast<uint64_t>(hash_mask),
                                                      hashes);
}

template void pack_signs_relu<float>(float*, int64_t*, int64_t, int64_t, int64_t, int64_t, bool, cudaStream_t);
template void pack_signs_relu<double>(double*, int64_t*, int64_t, int64_t, int64_t, int64_t, bool, cudaStream_t);

}  // namespace cuda
}  // namespace coordnet
