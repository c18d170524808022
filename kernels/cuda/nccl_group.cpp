// NcclGroup (nccl_group.h): NCCL loaded at run time, point-to-point copies between ranks.
#include "cuda/nccl_group.h"

#include <dlfcn.h>
#include <nccl.h>

#include <algorithm>
#include <string>

#include "cuda/check.h"
#include "cuda/device_scope.h"

namespace zkinfer::gpu {
namespace {

// The NCCL functions this file calls, from libnccl.so.2 (nccl_group.h says why not linked).
struct NcclApi {
  decltype(&ncclCommInitAll) comm_init_all = nullptr;
  decltype(&ncclCommDestroy) comm_destroy = nullptr;
  decltype(&ncclGroupStart) group_start = nullptr;
  decltype(&ncclGroupEnd) group_end = nullptr;
  decltype(&ncclSend) send = nullptr;
  decltype(&ncclRecv) recv = nullptr;
  decltype(&ncclGetErrorString) error_string = nullptr;
  std::string missing;  // empty when every function was found
};

const NcclApi& nccl() {
  static const NcclApi api = [] {
    NcclApi a;
    void* lib = dlopen("libnccl.so.2", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
      const char* e = dlerror();
      a.missing = std::string("cannot load libnccl.so.2 (") + (e ? e : "unknown reason") + ")";
      return a;
    }
    auto find = [&](auto& fn, const char* name) {
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(dlsym(lib, name));
      if (!fn && a.missing.empty()) a.missing = std::string("libnccl.so.2 has no ") + name;
    };
    find(a.comm_init_all, "ncclCommInitAll");
    find(a.comm_destroy, "ncclCommDestroy");
    find(a.group_start, "ncclGroupStart");
    find(a.group_end, "ncclGroupEnd");
    find(a.send, "ncclSend");
    find(a.recv, "ncclRecv");
    find(a.error_string, "ncclGetErrorString");
    return a;  // the library stays loaded for the process
  }();
  return api;
}

std::string describe(ncclResult_t r) {
  const char* s = nccl().error_string ? nccl().error_string(r) : nullptr;
  return s ? s : "NCCL error " + std::to_string(int(r));
}

void check(ncclResult_t r, const char* call, const char* file, int line) {
  if (r != ncclSuccess)
    throw NcclError(std::string("NCCL: ") + call + " failed at " + file + ":" + std::to_string(line) + ": " +
                    describe(r));
}

}  // namespace

NcclGroup::NcclGroup(const std::vector<int>& devices) : devices_(devices) {
  if (devices_.empty()) throw std::invalid_argument("NCCL group: no devices");
  std::vector<int> sorted = devices_;
  std::sort(sorted.begin(), sorted.end());
  if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end())
    throw std::invalid_argument("NCCL group: a device is listed twice");
  const NcclApi& api = nccl();
  if (!api.missing.empty()) throw NcclError("NCCL: " + api.missing);
  std::vector<ncclComm_t> comms(devices_.size(), nullptr);
  check(api.comm_init_all(comms.data(), int(devices_.size()), devices_.data()), "ncclCommInitAll", __FILE__, __LINE__);
  comms_.assign(comms.begin(), comms.end());
  try {
    for (int d : devices_) {
      DeviceScope scope(d);
      cudaStream_t s = nullptr;
      ZK_CUDA_CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
      streams_.push_back(s);
    }
  } catch (...) {
    release();
    throw;
  }
}

NcclGroup::~NcclGroup() { release(); }

// Errors are ignored here: nothing can report them.
void NcclGroup::release() noexcept {
  for (void* c : comms_)
    if (c) (void)nccl().comm_destroy(static_cast<ncclComm_t>(c));
  comms_.clear();
  for (size_t i = 0; i < streams_.size(); ++i) {
    int prev = 0;
    if (cudaGetDevice(&prev) != cudaSuccess) continue;
    if (cudaSetDevice(devices_[i]) == cudaSuccess) (void)cudaStreamDestroy(streams_[i]);
    (void)cudaSetDevice(prev);
  }
  streams_.clear();
}

bool NcclGroup::has(int device) const {
  return std::find(devices_.begin(), devices_.end(), device) != devices_.end();
}

size_t NcclGroup::rank(int device) const {
  const auto it = std::find(devices_.begin(), devices_.end(), device);
  if (it == devices_.end())
    throw std::invalid_argument("NCCL group: device " + std::to_string(device) + " is not in the group");
  return size_t(it - devices_.begin());
}

void NcclGroup::copy(void* dst, int dst_device, const void* src, int src_device, size_t bytes) {
  const size_t s = rank(src_device), d = rank(dst_device);
  if (bytes == 0) return;
  std::lock_guard<std::mutex> lock(mu_);
  const NcclApi& api = nccl();
  // One group holds both halves (NCCL's single-thread, several-device pattern); it is closed
  // even when a half fails to queue, else this thread's next group would nest in it.
  check(api.group_start(), "ncclGroupStart", __FILE__, __LINE__);
  const ncclResult_t sent = api.send(src, bytes, ncclInt8, int(d), static_cast<ncclComm_t>(comms_[s]), streams_[s]);
  const ncclResult_t received =
      sent == ncclSuccess ? api.recv(dst, bytes, ncclInt8, int(s), static_cast<ncclComm_t>(comms_[d]), streams_[d])
                          : ncclSuccess;
  const ncclResult_t ended = api.group_end();
  check(sent, "ncclSend", __FILE__, __LINE__);
  check(received, "ncclRecv", __FILE__, __LINE__);
  check(ended, "ncclGroupEnd", __FILE__, __LINE__);
  for (size_t r : {s, d}) {
    DeviceScope scope(devices_[r]);
    ZK_CUDA_CHECK(cudaStreamSynchronize(streams_[r]));
  }
}

}  // namespace zkinfer::gpu
