#include "index/ivf/faiss_ivf_index.h"
namespace tessera::index {
Result<std::unique_ptr<Index>> CreateFaissIvfIndex(IndexType, MetricType, size_t, const nlohmann::json&) {
  return Status::Unimplemented("IVF: work in progress");
}
}  // namespace tessera::index
