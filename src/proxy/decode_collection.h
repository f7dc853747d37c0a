#pragma once

// Decoders for collections/create and indexes/create (spec §7.1.1, §5): JSON body ->
// the coordinator's requests, with every check that needs nothing but the body.
// Pure functions.

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "coord/coordinator.h"
#include "core/schema.h"
#include "proxy/api_status.h"

namespace tessera::proxy {

/// One entry of indexParams[] after conversion. The field is checked against the schema.
struct IndexSpec {
  std::string field_name;
  std::string index_name;   // empty = named after the field (the coordinator's default)
  std::string index_type;   // "AUTOINDEX" when none was given
  std::string metric_type;  // "COSINE" when none was given
  nlohmann::json params = nlohmann::json::object();  // build params (numeric strings -> numbers)
};

struct CreateCollectionSpec {
  /// db_name is left empty: the handler fills it from the request.
  coord::CreateCollectionRequest request;
  std::vector<IndexSpec> indexes;
  /// Load after creating: quick mode always; custom mode when indexParams is non-empty.
  bool load = false;
  bool quick_mode = false;
};

/// Decodes a collections/create body (quick mode when schema.fields is absent or empty,
/// custom mode otherwise). Errors: 1801 wrong JSON types, 1802 missing required fields
/// (also an index on a field the schema lacks), 1100 invalid names, types, parameters or a
/// schema that fails CollectionSchema::Validate, 65535 an unparsable
/// params.enableDynamicField (as Milvus).
ApiResult<CreateCollectionSpec> DecodeCreateCollection(const nlohmann::json& body);

/// Decodes indexParams[] (indexes/create, collections/create) against `schema`.
ApiResult<std::vector<IndexSpec>> DecodeIndexParams(const nlohmann::json& index_params,
                                                    const core::CollectionSchema& schema);

/// The case-sensitive Milvus type name -> our DataType. Names Milvus knows that Tessera does
/// not support (BinaryVector, SparseFloatVector, ...) and unknown names are 1100.
ApiResult<core::DataType> ParseTypeName(std::string_view name);

/// Metric names accepted for FloatVector fields: L2, IP, COSINE (upper case).
ApiStatus ValidateMetric(std::string_view metric);

}  // namespace tessera::proxy
