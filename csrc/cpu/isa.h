// The one spelling of "build this CPU kernel for several x86-64 instruction-set levels": GCC's
// target_clones makes one copy per listed level plus a generic one, and the loader picks the
// best the CPU supports. Elsewhere (other compilers, other architectures) one generic build.
//   COORDNET_CPU_CLONES("arch=x86-64-v4", "arch=x86-64-v3") void kernel(...);
#pragma once

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define COORDNET_CPU_CLONES(...) __attribute__((target_clones(__VA_ARGS__, "default")))
#else
#define COORDNET_CPU_CLONES(...)
#endif
