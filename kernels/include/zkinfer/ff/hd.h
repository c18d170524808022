// Function attributes shared by host and device code.
#pragma once

#if defined(__CUDACC__)
#define ZK_HD __host__ __device__
#define ZK_HDI __host__ __device__ __forceinline__
#else
#define ZK_HD
#define ZK_HDI inline __attribute__((always_inline))
#endif
