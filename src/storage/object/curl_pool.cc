#include "storage/object/curl_pool.h"

namespace tessera::storage::s3 {

void EnsureCurlGlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

CurlHandle::~CurlHandle() {
  if (handle_ != nullptr) pool_->Release(handle_);
}

CurlHandlePool::CurlHandlePool(size_t max_idle) : max_idle_(max_idle) { EnsureCurlGlobalInit(); }

CurlHandlePool::~CurlHandlePool() {
  for (CURL* handle : idle_) curl_easy_cleanup(handle);
}

CurlHandle CurlHandlePool::Acquire() {
  CURL* handle = nullptr;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!idle_.empty()) {
      handle = idle_.back();
      idle_.pop_back();
    }
  }
  if (handle != nullptr) {
    curl_easy_reset(handle);  // options back to defaults; live connections are kept
  } else {
    handle = curl_easy_init();
  }
  return CurlHandle(this, handle);
}

void CurlHandlePool::Release(CURL* handle) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (idle_.size() < max_idle_) {
      idle_.push_back(handle);
      return;
    }
  }
  curl_easy_cleanup(handle);
}

}  // namespace tessera::storage::s3
