// Large CPU outputs backed by transparent huge pages.
//
// A freshly allocated multi-megabyte output is written once by a kernel; with 4 KiB
// pages the page faults of that first touch cost more than the kernel itself
// (about 0.35 ms per MiB here). Asking the kernel for huge pages on the range cuts that
// several-fold. Where THP is disabled or unsupported the advice is simply ignored.
#pragma once

#include <ATen/core/Tensor.h>
#include <ATen/ops/empty.h>

#include <cstdint>

#if defined(__linux__)
#include <sys/mman.h>
#include <unistd.h>
#endif

namespace coordnet {

inline at::Tensor empty_with_huge_pages(at::IntArrayRef sizes, const at::TensorOptions& options) {
  at::Tensor out = at::empty(sizes, options);
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  constexpr size_t kMinBytes = size_t(4) << 20;
  const size_t bytes = out.nbytes();
  if (bytes >= kMinBytes) {
    const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
    const uintptr_t begin = reinterpret_cast<uintptr_t>(out.data_ptr());
    const uintptr_t aligned = (begin + page - 1) / page * page;
    const uintptr_t end = (begin + bytes) / page * page;
    if (end > aligned) madvise(reinterpret_cast<void*>(aligned), end - aligned, MADV_HUGEPAGE);
  }
#endif
  return out;
}

}  // namespace coordnet
