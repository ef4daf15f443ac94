// Activation patterns on the CPU: sign -> pack (+ ReLU in place), row hash, exact dedupe.
//
// Packing is one read/write pass over the pre-activations: per block of 64 units the
// signs become 64 bytes (a vectorised compare), and 8 multiplies gather the bytes into
// the word (coordnet::regions::gather_bytes); the ReLU is applied in the same loop.
// Threads take contiguous row ranges; the loops are compiled for several instruction
// sets and the best one is picked at load time.
//
// Dedupe walks the rows in order through an open-addressing hash table (linear
// probing, load <= 1/2, grown by doubling) keyed by the row hash; a slot whose hash
// matches is confirmed by comparing the whole row, so colliding hashes never merge
// different patterns. Ids count up in order of first occurrence. Expected O(n).
#include "kernels.h"

#include "checks.h"
#include "isa.h"
#include "coordnet/regions.h"

#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <ATen/ops/empty.h>
#include <torch/library.h>

#include <algorithm>
#include <cstring>
#include <vector>

// AVX-512, AVX2 and SSE4.2/POPCNT copies of the packing loops besides the generic one.
#define COORDNET_CLONES COORDNET_CPU_CLONES("arch=x86-64-v4", "arch=x86-64-v3", "arch=x86-64-v2")

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "regions_cpu.cpp gathers sign bytes little-endian");

namespace coordnet {
namespace {

using regions::kWordBits;

// Word of one full block of 64 units; ReLU in place when kRelu.
template <typename T, bool kRelu>
inline __attribute__((always_inline)) uint64_t pack_full_block(T* __restrict x) {
  alignas(64) unsigned char bytes[kWordBits];
#pragma omp simd
  for (int b = 0; b < kWordBits; ++b) {
    const T v = x[b];
    bytes[b] = regions::active(v);
    if (kRelu) x[b] = regions::relu(v);
  }
  uint64_t word = 0;
  for (int g = 0; g < kWordBits / 8; ++g) {
    uint64_t eight;
    std::memcpy(&eight, bytes + 8 * g, 8);
    word |= regions::gather_bytes(eight) << (8 * g);
  }
  return word;
}

// Rows [begin, end) of preact (n, width) into packed (n, row_words) from word_offset on.
// A partial last block goes through a zero-padded copy (padding gives 0 bits).
template <typename T, bool kRelu>
inline __attribute__((always_inline)) void pack_rows(T* x, uint64_t* packed, int64_t width, int64_t row_words,
                                                      int64_t word_offset, int64_t begin, int64_t end) {
  const int64_t full = width / kWordBits;
  const int64_t tail = width - full * kWordBits;
  alignas(64) T padded[kWordBits];
  for (int64_t i = begin; i < end; ++i) {
    T* xr = x + i * width;
    uint64_t* out = packed + i * row_words + word_offset;
    for (int64_t k = 0; k < full; ++k) out[k] = pack_full_block<T, kRelu>(xr + k * kWordBits);
    if (tail > 0) {
      T* rest = xr + full * kWordBits;
      std::fill(padded, padded + kWordBits, T(0));
      std::memcpy(padded, rest, sizeof(T) * tail);
      out[full] = pack_full_block<T, kRelu>(padded);
      if (kRelu) std::memcpy(rest, padded, sizeof(T) * tail);
    }
  }
}

#define COORDNET_DEFINE_PACK_ROWS(T)                                                                          \
  COORDNET_CLONES void pack_rows_##T(T* x, uint64_t* packed, int64_t width, int64_t row_words,               \
                                     int64_t word_offset, bool relu, int64_t begin, int64_t end) {            \
    if (relu) {                                                                                               \
      pack_rows<T, true>(x, packed, width, row_words, word_offset, begin, end);                               \
    } else {                                                                                                  \
      pack_rows<T, false>(x, packed, width, row_words, word_offset, begin, end);                              \
    }                                                                                                         \
  }

COORDNET_DEFINE_PACK_ROWS(float)
COORDNET_DEFINE_PACK_ROWS(double)

inline void pack_dispatch(float* x, uint64_t* p, int64_t w, int64_t rw, int64_t off, bool relu, int64_t b,
                          int64_t e) {
  pack_rows_float(x, p, w, rw, off, relu, b, e);
}
inline void pack_dispatch(double* x, uint64_t* p, int64_t w, int64_t rw, int64_t off, bool relu, int64_t b,
                          int64_t e) {
  pack_rows_double(x, p, w, rw, off, relu, b, e);
}

// Hashes of rows [begin, end), masked. Four rows are hashed side by side: each row's hash
// is a chain of dependent multiplies, and interleaving rows keeps the multipliers busy.
void hash_rows(const uint64_t* packed, int64_t row_words, uint64_t mask, uint64_t* out, int64_t begin,
               int64_t end) {
  constexpr int kLanes = 4;
  int64_t i = begin;
  for (; i + kLanes <= end; i += kLanes) {
    const uint64_t* row = packed + i * row_words;
    uint64_t h[kLanes];
    for (int l = 0; l < kLanes; ++l) h[l] = regions::kSeed;
    for (int64_t k = 0; k < row_words; ++k) {
      for (int l = 0; l < kLanes; ++l) h[l] = regions::hash_step(h[l], row[l * row_words + k], k);
    }
    for (int l = 0; l < kLanes; ++l) out[i + l] = h[l] & mask;
  }
  for (; i < end; ++i) out[i] = regions::hash_row(packed + i * row_words, row_words) & mask;
}

// Rows per task: enough elements (rows * units) to amortise scheduling.
int64_t grain_size(int64_t row_elements) { return std::max<int64_t>(1, 65536 / std::max<int64_t>(row_elements, 1)); }

at::Tensor hashes_of(const at::Tensor& packed, int64_t hash_mask) {
  const int64_t n = packed.size(0);
  const int64_t row_words = packed.size(1);
  at::Tensor hashes = at::empty({n}, packed.options());
  const uint64_t* pp = reinterpret_cast<const uint64_t*>(packed.const_data_ptr<int64_t>());
  uint64_t* hp = reinterpret_cast<uint64_t*>(hashes.mutable_data_ptr<int64_t>());
  const uint64_t mask = static_cast<uint64_t>(hash_mask);
  at::parallel_for(0, n, grain_size(4 * row_words), [&](int64_t begin, int64_t end) {
    hash_rows(pp, row_words, mask, hp, begin, end);
  });
  return hashes;
}

// Open-addressing table from row hash to pattern id (linear probing, load <= 1/2).
class PatternTable {
 public:
  PatternTable(const uint64_t* packed, int64_t row_words, int64_t expected)
      : packed_(packed), row_words_(row_words) {
    int bits = 4;
    while ((int64_t{1} << bits) < 2 * std::min<int64_t>(expected, 1 << 16)) ++bits;
    resize(bits);
  }

  // Warm the cache for a later insert of hash h.
  void prefetch(uint64_t h) const {
    const uint64_t slot = start(h);
    __builtin_prefetch(ids_.data() + slot);
    __builtin_prefetch(hashes_.data() + slot);
  }

  // Id of row i (hash h): an existing pattern's, or a new one numbered first.size().
  int64_t insert(int64_t i, uint64_t h, std::vector<int64_t>& first) {
    const uint64_t* row = packed_ + i * row_words_;
    for (uint64_t slot = start(h);; slot = (slot + 1) & slot_mask_) {
      const int64_t id = ids_[slot];
      if (id < 0) {
        const int64_t fresh = static_cast<int64_t>(first.size());
        first.push_back(i);
        ids_[slot] = fresh;
        hashes_[slot] = h;
        if (2 * (fresh + 1) > static_cast<int64_t>(ids_.size())) resize(bits_ + 1);
        return fresh;
      }
      if (hashes_[slot] == h && same_row(packed_ + first[id] * row_words_, row)) return id;
    }
  }

 private:
  // Fibonacci hashing of h into the table's bits: spreads masked (few-bit) hashes too.
  uint64_t start(uint64_t h) const { return (h * regions::kGolden) >> (64 - bits_); }

  bool same_row(const uint64_t* a, const uint64_t* b) const {
    return row_words_ == 0 || std::memcmp(a, b, sizeof(uint64_t) * row_words_) == 0;
  }

  void resize(int bits) {
    std::vector<int64_t> old_ids = std::move(ids_);
    std::vector<uint64_t> old_hashes = std::move(hashes_);
    bits_ = bits;
    ids_.assign(size_t{1} << bits, -1);
    hashes_.assign(size_t{1} << bits, 0);
    slot_mask_ = (uint64_t{1} << bits) - 1;
    for (size_t s = 0; s < old_ids.size(); ++s) {
      if (old_ids[s] < 0) continue;
      uint64_t slot = start(old_hashes[s]);
      while (ids_[slot] >= 0) slot = (slot + 1) & slot_mask_;
      ids_[slot] = old_ids[s];
      hashes_[slot] = old_hashes[s];
    }
  }

  const uint64_t* packed_;
  int64_t row_words_;
  int bits_ = 0;
  uint64_t slot_mask_ = 0;
  std::vector<int64_t> ids_;
  std::vector<uint64_t> hashes_;
};

}  // namespace

void pack_signs_relu_cpu(const at::Tensor& preact, const at::Tensor& packed, int64_t word_offset, bool relu) {
  check_pack_inputs(preact, packed, word_offset, at::kCPU);
  const int64_t n = preact.size(0);
  const int64_t width = preact.size(1);
  if (n == 0 || width == 0) return;
  const int64_t row_words = packed.size(1);
  uint64_t* pp = reinterpret_cast<uint64_t*>(packed.mutable_data_ptr<int64_t>());
  AT_DISPATCH_FLOATING_TYPES(preact.scalar_type(), "pack_signs_relu_cpu", [&] {
    scalar_t* xp = preact.mutable_data_ptr<scalar_t>();
    at::parallel_for(0, n, grain_size(width), [&](int64_t begin, int64_t end) {
      pack_dispatch(xp, pp, width, row_words, word_offset, relu, begin, end);
    });
  });
}

at::Tensor hash_patterns_cpu(const at::Tensor& packed, int64_t hash_mask) {
  check_packed_patterns("hash_patterns", packed, at::kCPU);
  return hashes_of(packed, hash_mask);
}

std::tuple<at::Tensor, at::Tensor> unique_patterns_cpu(const at::Tensor& packed, int64_t hash_mask) {
  check_packed_patterns("unique_patterns", packed, at::kCPU);
  const int64_t n = packed.size(0);
  const at::Tensor hashes = hashes_of(packed, hash_mask);
  at::Tensor inverse = at::empty({n}, packed.options());
  const uint64_t* pp = reinterpret_cast<const uint64_t*>(packed.const_data_ptr<int64_t>());
  const uint64_t* hp = reinterpret_cast<const uint64_t*>(hashes.const_data_ptr<int64_t>());
  int64_t* ip = inverse.mutable_data_ptr<int64_t>();
  std::vector<int64_t> first;
  const int64_t row_words = packed.size(1);
  PatternTable table(pp, row_words, n);
  constexpr int64_t kAhead = 8;  // rows between a slot's prefetch and its use
  for (int64_t i = 0; i < n; ++i) {
    if (i + kAhead < n) table.prefetch(hp[i + kAhead]);
    // Neighbouring samples (grid order) mostly share a pattern: reuse the previous row's id.
    if (i > 0 && hp[i] == hp[i - 1] &&
        (row_words == 0 || std::memcmp(pp + i * row_words, pp + (i - 1) * row_words, 8 * row_words) == 0)) {
      ip[i] = ip[i - 1];
      continue;
    }
    ip[i] = table.insert(i, hp[i], first);
  }
  at::Tensor first_rows = at::empty({static_cast<int64_t>(first.size())}, packed.options());
  if (!first.empty()) std::memcpy(first_rows.mutable_data_ptr<int64_t>(), first.data(), sizeof(int64_t) * first.size());
  return {inverse, first_rows};
}

}  // namespace coordnet

// CPU implementations of the schemas in csrc/ops.cpp.
TORCH_LIBRARY_IMPL(coordnet, CPU, m) {
  m.impl("pack_signs_relu_", &coordnet::pack_signs_relu_cpu);
  m.impl("hash_patterns", &coordnet::hash_patterns_cpu);
  m.impl("unique_patterns", &coordnet::unique_patterns_cpu);
}
