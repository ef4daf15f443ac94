// COORDNET_HD marks the inline math shared by the CPU and CUDA kernels: __host__ __device__
// (and forced inline) under nvcc, plain inline in host-only translation units.
#pragma once

#if defined(__CUDACC__)
#define COORDNET_HD __host__ __device__ __forceinline__
#else
#define COORDNET_HD inline
#endif
