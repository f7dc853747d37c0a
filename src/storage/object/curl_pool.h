#pragma once
// PRIVATE header of the S3 store: libcurl process setup and a pool of easy handles.

#include <curl/curl.h>

#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

namespace tessera::storage::s3 {

/// Calls curl_global_init exactly once per process (thread-safe; later calls are no-ops).
/// The matching curl_global_cleanup is never called: other static destructors may still
/// hold handles at exit.
void EnsureCurlGlobalInit();

class CurlHandlePool;

/// A borrowed easy handle; returns it to its pool on destruction. Move-only.
class CurlHandle {
 public:
  CurlHandle(CurlHandlePool* pool, CURL* handle) : pool_(pool), handle_(handle) {}
  CurlHandle(CurlHandle&& other) noexcept : pool_(other.pool_), handle_(other.handle_) {
    other.handle_ = nullptr;
  }
  CurlHandle& operator=(CurlHandle&&) = delete;
  ~CurlHandle();
  CURL* get() const { return handle_; }

 private:
  CurlHandlePool* pool_;
  CURL* handle_;
};

/// Idle curl easy handles kept for reuse: each one keeps its connection cache (and DNS
/// cache) across curl_easy_reset, so a request that gets a recently used handle reuses a
/// kept-alive connection. LIFO, so the warmest handle goes out first. At most `max_idle`
/// handles are kept; extra ones are cleaned up on return.
/// Thread-safe. Owns the idle handles; must outlive every CurlHandle it lent.
class CurlHandlePool {
 public:
  explicit CurlHandlePool(size_t max_idle);
  ~CurlHandlePool();
  CurlHandlePool(const CurlHandlePool&) = delete;
  CurlHandlePool& operator=(const CurlHandlePool&) = delete;

  /// An idle handle after curl_easy_reset, or a new one. Null only if curl cannot allocate.
  CurlHandle Acquire();

 private:
  friend class CurlHandle;
  void Release(CURL* handle);

  const size_t max_idle_;
  std::mutex mu_;
  std::vector<CURL*> idle_;  // guarded by mu_
};

}  // namespace tessera::storage::s3
