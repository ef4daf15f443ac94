// Launchers of the CUDA activation-pattern kernels: raw pointers, no torch.
// Layout and hash as in csrc/include/coordnet/regions.h; all arrays are contiguous.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace coordnet {
namespace cuda {

// Sign bits of preact (n, width) into words [word_offset, word_offset + ceil(width/64)) of each
// row of packed (n, row_words); ReLU applied to preact in place when relu is set.
template <typename T>
void pack_signs_relu(T* preact, int64_t* packed, int64_t n, int64_t width, int64_t row_words, int64_t word_offset,
                     bool relu, cudaStream_t stream);

// Row hashes of packed (n, row_words), ANDed with hash_mask, into hashes (n,).
void hash_patterns(const int64_t* packed, int64_t n, int64_t row_words, int64_t hash_mask, int64_t* hashes,
                   cudaStream_t stream);

}  // namespace cuda
}  // namespace coordnet
