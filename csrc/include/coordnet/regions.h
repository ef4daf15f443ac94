// Activation-pattern math shared by the CPU and CUDA kernels.
//
// A pattern holds one bit per hidden unit in 64-bit words (int64 in torch). A layer of
// w units takes words(w) = ceil(w / 64) words and starts at a fresh word; unit j of a
// layer whose words start at word_offset is bit j % 64 of word word_offset + j / 64, set
// iff its pre-activation is > 0 (0, -0 and NaN give 0). Bits past the last unit are 0.
// ReLU has torch.relu semantics: x < 0 -> +0, anything else (-0, NaN included) is kept.
//
// Row hash (all arithmetic modulo 2^64), mixed word by word with the word index:
//     h = kSeed;  for k: h = mix(h ^ word_k ^ (k + 1) * kGolden);   hash = h & mask
// with mix the splitmix64 finaliser. coordnet/ops/regions_reference.py computes the same
// values with torch int64 arithmetic.
//
// Everything here is header-only, free of torch, and usable from host and device.
#pragma once

#include <cstdint>

#include "coordnet/host_device.h"
#include "coordnet/limits.h"

namespace coordnet {
namespace regions {

constexpr int kWordBits = limits::kPatternWordBits;  // coordnet/ops/limits.py
constexpr uint64_t kGolden = 0x9E3779B97F4A7C15ull;
constexpr uint64_t kSeed = 0x243F6A8885A308D3ull;
constexpr uint64_t kMix1 = 0xBF58476D1CE4E5B9ull;
constexpr uint64_t kMix2 = 0x94D049BB133111EBull;
// Multiplying 8 bytes that are each 0 or 1 by this moves byte b's bit to bit 56 + b
// (no carries reach the top byte), so `(bytes * kGatherBytes) >> 56` packs them.
constexpr uint64_t kGatherBytes = 0x0102040810204080ull;

COORDNET_HD int64_t words(int64_t width) { return (width + kWordBits - 1) / kWordBits; }

// splitmix64 finaliser: a bijection of 64-bit words with good avalanche.
COORDNET_HD uint64_t mix(uint64_t z) {
  z = (z ^ (z >> 30)) * kMix1;
  z = (z ^ (z >> 27)) * kMix2;
  return z ^ (z >> 31);
}

// One step of the row hash: fold word k into the running hash h.
COORDNET_HD uint64_t hash_step(uint64_t h, uint64_t word, int64_t k) {
  return mix(h ^ word ^ (static_cast<uint64_t>(k) + 1) * kGolden);
}

COORDNET_HD uint64_t hash_row(const uint64_t* row, int64_t n_words) {
  uint64_t h = kSeed;
  for (int64_t k = 0; k < n_words; ++k) h = hash_step(h, row[k], k);
  return h;
}

// Is this pre-activation's unit active (bit 1)? NaN compares false.
template <typename T>
COORDNET_HD bool active(T x) {
  return x > T(0);
}

// torch.relu: x < 0 -> +0, everything else (+-0, NaN, positive) unchanged.
template <typename T>
COORDNET_HD T relu(T x) {
  return x < T(0) ? T(0) : x;
}

// Bits of 8 bytes that are each 0 or 1 (byte b -> bit b), via one multiply.
COORDNET_HD uint64_t gather_bytes(uint64_t bytes) { return (bytes * kGatherBytes) >> 56; }

}  // namespace regions
}  // namespace coordnet
