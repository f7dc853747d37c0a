#include "index/index.h"

#include <algorithm>
#include <cctype>
#include <string>

#include "common/crc32c.h"
#include "index/blob.h"
#include "index/flat/flat_index.h"
#include "index/hnsw/hnsw_index.h"
#include "index/ivf/faiss_ivf_index.h"
#include "index/params.h"

namespace tessera::index {
namespace {

// Envelope constants; the byte layout is documented in docs/format/index.md.
constexpr uint32_t kIndexMagic = 0x49585354;  // "TSXI" in little-endian byte order
constexpr uint32_t kIndexFormatVersion = 1;
constexpr size_t kHeaderSize = 24;
constexpr size_t kFooterSize = 4;

std::string Upper(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return out;
}

}  // namespace

Result<MetricType> ParseMetricType(std::string_view name) {
  const std::string upper = Upper(name);
  if (upper == "L2") return MetricType::kL2;
  if (upper == "IP") return MetricType::kIP;
  if (upper == "COSINE") return MetricType::kCosine;
  return Status::InvalidArgument("unknown metric type '" + std::string(name) +
                                 "' (expected L2, IP or COSINE)");
}

std::string_view MetricTypeName(MetricType metric) {
  switch (metric) {
    case MetricType::kL2: return "L2";
    case MetricType::kIP: return "IP";
    case MetricType::kCosine: return "COSINE";
  }
  return "UNKNOWN";
}

Result<IndexType> ParseIndexType(std::string_view name) {
  const std::string upper = Upper(name);
  if (upper == "FLAT") return IndexType::kFlat;
  if (upper == "HNSW" || upper == "AUTOINDEX") return IndexType::kHnsw;
  if (upper == "IVF_FLAT") return IndexType::kIvfFlat;
  if (upper == "IVF_SQ8") return IndexType::kIvfSq8;
  if (upper == "IVF_PQ") return IndexType::kIvfPq;
  return Status::InvalidArgument("unknown index type '" + std::string(name) +
                                 "' (expected FLAT, HNSW, IVF_FLAT, IVF_SQ8, IVF_PQ or AUTOINDEX)");
}

std::string_view IndexTypeName(IndexType type) {
  switch (type) {
    case IndexType::kFlat: return "FLAT";
    case IndexType::kHnsw: return "HNSW";
    case IndexType::kIvfFlat: return "IVF_FLAT";
    case IndexType::kIvfSq8: return "IVF_SQ8";
    case IndexType::kIvfPq: return "IVF_PQ";
  }
  return "UNKNOWN";
}

Result<std::unique_ptr<Index>> CreateIndex(IndexType type, MetricType metric, size_t dim,
                                           const nlohmann::json& build_params) {
  if (dim == 0 || dim > 32768) {
    return Status::InvalidArgument("vector dimension " + std::to_string(dim) +
                                   " is out of range [1, 32768]");
  }
  TESSERA_ASSIGN_OR_RETURN(nlohmann::json params,
                           ValidateParams(type, ParamPhase::kBuild, build_params));
  switch (type) {
    case IndexType::kFlat: return CreateFlatIndex(metric, dim, params);
    case IndexType::kHnsw: return CreateHnswIndex(metric, dim, params);
    case IndexType::kIvfFlat:
    case IndexType::kIvfSq8:
    case IndexType::kIvfPq: return CreateFaissIvfIndex(type, metric, dim, params);
  }
  return Status::InvalidArgument("unknown index type " + std::to_string(static_cast<int>(type)));
}

// Envelope: [magic u32][version u32][type u8][metric u8][reserved u16][dim u32][rows u64]
//           [params: u64 length + JSON text][payload][crc32c u32 of all preceding bytes]
Result<std::vector<uint8_t>> Index::Serialize() const {
  BlobWriter out;
  out.Put<uint32_t>(kIndexMagic);
  out.Put<uint32_t>(kIndexFormatVersion);
  out.Put<uint8_t>(static_cast<uint8_t>(type()));
  out.Put<uint8_t>(static_cast<uint8_t>(metric()));
  out.Put<uint16_t>(0);
  out.Put<uint32_t>(static_cast<uint32_t>(dim()));
  out.Put<uint64_t>(size());
  out.PutString(build_params().dump());
  TESSERA_RETURN_IF_ERROR(SerializePayload(out));
  out.Put<uint32_t>(crc32c::Value(out.bytes().data(), out.size()));
  return std::move(out.bytes());
}

Result<std::unique_ptr<Index>> LoadIndex(std::span<const uint8_t> blob) {
  if (blob.size() < kHeaderSize + kFooterSize) {
    return Status::DataLoss("index blob of " + std::to_string(blob.size()) +
                            " bytes is too short to hold a header and checksum");
  }
  uint32_t magic = 0, stored_crc = 0;
  std::memcpy(&magic, blob.data(), sizeof(magic));
  if (magic != kIndexMagic) return Status::DataLoss("index blob has a bad magic number");
  const size_t body = blob.size() - kFooterSize;
  std::memcpy(&stored_crc, blob.data() + body, sizeof(stored_crc));
  const uint32_t actual_crc = crc32c::Value(blob.data(), body);
  if (stored_crc != actual_crc) {
    return Status::DataLoss("index blob checksum mismatch over " + std::to_string(body) +
                            " bytes (stored " + std::to_string(stored_crc) + ", computed " +
                            std::to_string(actual_crc) + ")");
  }
  BlobReader in(blob.first(body));
  uint32_t version = 0, dim = 0;
  uint8_t type = 0, metric = 0;
  uint16_t reserved = 0;
  uint64_t rows = 0;
  std::string params_text;
  TESSERA_RETURN_IF_ERROR(in.Get(&magic, "magic"));
  TESSERA_RETURN_IF_ERROR(in.Get(&version, "version"));
  if (version != kIndexFormatVersion) {
    return Status::DataLoss("index blob format version " + std::to_string(version) +
                            " is not supported (this build reads version " +
                            std::to_string(kIndexFormatVersion) + ")");
  }
  TESSERA_RETURN_IF_ERROR(in.Get(&type, "index type"));
  TESSERA_RETURN_IF_ERROR(in.Get(&metric, "metric"));
  TESSERA_RETURN_IF_ERROR(in.Get(&reserved, "reserved"));
  TESSERA_RETURN_IF_ERROR(in.Get(&dim, "dim"));
  TESSERA_RETURN_IF_ERROR(in.Get(&rows, "rows"));
  TESSERA_RETURN_IF_ERROR(in.GetString(&params_text, "build params"));
  if (type > static_cast<uint8_t>(IndexType::kIvfPq) || metric > static_cast<uint8_t>(MetricType::kCosine)) {
    return Status::DataLoss("index blob names unknown index type " + std::to_string(type) +
                            " or metric " + std::to_string(metric));
  }
  nlohmann::json params = nlohmann::json::parse(params_text, nullptr, /*allow_exceptions=*/false);
  if (params.is_discarded()) return Status::DataLoss("index blob build params are not valid JSON");
  auto created = CreateIndex(static_cast<IndexType>(type), static_cast<MetricType>(metric), dim, params);
  if (!created.ok()) return Status::DataLoss("index blob header rejected: " + created.status().message());
  std::unique_ptr<Index> index = std::move(created).value();
  TESSERA_RETURN_IF_ERROR(index->LoadPayload(in, rows));
  if (in.remaining() != 0) {
    return Status::DataLoss("index blob has " + std::to_string(in.remaining()) +
                            " unexpected trailing bytes after the payload");
  }
  return index;
}

}  // namespace tessera::index
