#pragma once

// Decoders for entities/query, get, search and delete (spec §7.2): JSON body + the
// collection's schema -> typed requests, with every check that needs only the schema
// (limits, output fields, the vector field and vectors, search params, filter syntax,
// primary keys). Pure functions.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "coord/catalog_types.h"
#include "core/schema.h"
#include "proxy/api_status.h"
#include "proxy/fast_json.h"
#include "proxy/grouping.h"
#include "segment/deltalog.h"

namespace tessera::proxy {

/// Largest limit + offset of a query or search (Milvus quotaAndLimits.maxQueryResultWindow),
/// also the most query vectors per search.
inline constexpr int64_t kMaxResultWindow = 16384;
inline constexpr int64_t kDefaultLimit = 100;

/// Fields every read has.
struct ReadOptions {
  std::vector<std::string> partition_names;  // empty = all
  std::optional<coord::ConsistencyLevel> consistency;  // nullopt = the collection's level
};

struct QuerySpec {
  ReadOptions read;
  std::string filter;  // with exprParams applied; syntax checked against the schema
  /// Validated names; empty = every field (outputFields absent, [] or ["*"]).
  std::vector<std::string> output_fields;
  bool count_only = false;  // outputFields == ["count(*)"]
  size_t limit = kDefaultLimit;
  size_t offset = 0;
};

struct SearchSpec {
  ReadOptions read;
  std::string filter;
  std::vector<std::string> output_fields;  // besides the primary key; "*" expanded
  int64_t field_id = 0;                    // the annsField
  std::string field_name;
  size_t dim = 0;
  std::vector<float> vectors;              // num_queries * dim
  size_t num_queries = 0;
  size_t limit = kDefaultLimit;
  size_t offset = 0;
  nlohmann::json params = nlohmann::json::object();  // merged searchParams
  GroupingSpec grouping;                   // groupingField; empty field: none
};

struct DeleteSpec {
  std::string filter;
  std::string partition_name;  // empty = all
  /// Set when the filter names primary keys only (pk in [...], pk == v): no query needed.
  std::optional<std::vector<segment::PrimaryKey>> pks;
};

/// entities/query. 1100 for limits out of range, a bad consistency level, a bad filter;
/// 1700 for an unknown output field (when the dynamic field is off).
ApiResult<QuerySpec> DecodeQuery(const nlohmann::json& body, const core::CollectionSchema& schema);
/// entities/get: `id` (1802 when absent) becomes the filter `<pk> in [...]`; an id that is
/// not an integer (Int64 key) or string (VarChar key) is 1806.
ApiResult<QuerySpec> DecodeGet(const nlohmann::json& body, const core::CollectionSchema& schema);
/// entities/search. Vectors: 1801 when `data` is not an array of number arrays, 1100 for a
/// wrong dimension or a non-finite value (naming data[i]); annsField: 1801 when unknown, not
/// a vector field, or omitted while several vector fields exist. `packed`: the vectors
/// ParseBody lifted out of `data` (used, and moved from, when it holds as many rows as
/// `data`), decoded with exactly the checks and messages of the JSON path.
ApiResult<SearchSpec> DecodeSearch(const nlohmann::json& body, const core::CollectionSchema& schema,
                                   PackedVectors* packed = nullptr);
/// entities/delete: `filter` required (1802), parsed against the schema (1100).
ApiResult<DeleteSpec> DecodeDelete(const nlohmann::json& body, const core::CollectionSchema& schema);

/// How hybrid_search fuses its sub-searches (spec §7.2.7).
struct RerankSpec {
  enum class Strategy { kRrf, kWeighted };
  Strategy strategy = Strategy::kRrf;
  double k = 60;                // rrf: score = sum over routes of 1 / (k + rank), rank from 1
  std::vector<double> weights;  // weighted: one per sub-search, each in [0, 1]
  bool norm_score = false;      // weighted: map each distance to [0, 1] first
};

struct HybridSearchSpec {
  ReadOptions read;
  std::vector<SearchSpec> routes;          // one per search[] entry; all with the same nq
  std::vector<std::string> output_fields;  // for the fused rows ("*" expanded)
  RerankSpec rerank;
  size_t limit = kDefaultLimit;
  size_t offset = 0;
};

/// entities/hybrid_search (and advanced_search). search[] entries are decoded as searches
/// (`params` is their searchParams; their `limit` must be >= 1); partitionNames and the
/// consistency level apply to all of them. rerank: {"strategy": "rrf" | "weighted",
/// "params": {...}} (case-insensitive); a missing strategy, k outside (0, 16384), weights
/// not one per sub-search in [0, 1], or sub-searches with different nq are 1100.
ApiResult<HybridSearchSpec> DecodeHybridSearch(const nlohmann::json& body, const core::CollectionSchema& schema);

/// Merges searchParams as Milvus does (spec §7.2.6): the keys of searchParams.params plus
/// every other key of searchParams ("ignoreGrowing" -> "ignore_growing"; "metricType" is
/// ignored, the index decides the metric); the same key in both places with different
/// values is 1100 "ambiguous parameter"; a non-object params is 1100. Numeric strings
/// become numbers.
ApiResult<nlohmann::json> MergeSearchParams(const nlohmann::json& search_params);

/// Output field names checked against the schema: "*" (every field: kept as the only
/// entry when `expand_star` is false, else expanded to every schema field), a schema field,
/// "$meta" or, with the dynamic field on, any identifier (a dynamic key). "count(*)" is
/// rejected here (callers handle it). 1700 for an unknown field.
ApiResult<std::vector<std::string>> CheckOutputFields(const std::vector<std::string>& names,
                                                      const core::CollectionSchema& schema, bool expand_star);

/// One id of entities/get as a key of `pk_type`; 1806 otherwise.
ApiResult<segment::PrimaryKey> ParsePrimaryKey(const nlohmann::json& id, core::DataType pk_type);

}  // namespace tessera::proxy
