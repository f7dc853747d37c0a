#include "index/hnsw/hnsw_index.h"
namespace tessera::index {
Result<std::unique_ptr<Index>> CreateHnswIndex(MetricType, size_t, const nlohmann::json&) {
  return Status::Unimplemented("HNSW: work in progress");
}
}  // namespace tessera::index
