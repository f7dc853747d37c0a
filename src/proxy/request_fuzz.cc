// libFuzzer target for the REST request decoders: the input is a request body. It is run
// through every decoder against a fixed collection (every field type, the dynamic field, a
// partition key, 3 shards), the insert conversion and routing, and the response encoders.
// Must never crash, leak, hang or trip a sanitizer, and the invariants below must hold.
// Built with clang by src/proxy/CMakeLists.txt (ctest proxy_request_fuzz_smoke, seeds in
// tests/data/proxy_request_corpus/).

#include <cstddef>
#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/check.h"
#include "coord/catalog_types.h"
#include "proxy/decode_collection.h"
#include "proxy/decode_entities.h"
#include "proxy/encode.h"
#include "proxy/filter_util.h"
#include "proxy/insert_batch.h"
#include "proxy/json_fields.h"

namespace {

using nlohmann::json;
using namespace tessera;

core::FieldSchema Field(int64_t id, const char* name, core::DataType type) {
  core::FieldSchema f;
  f.id = id;
  f.name = name;
  f.data_type = type;
  return f;
}

// The collection every body is decoded against, as a coordinator would describe it.
const coord::CollectionInfo& Collection() {
  static const coord::CollectionInfo info = [] {
    coord::CollectionInfo c;
    c.id = 42;
    c.num_shards = 3;
    core::CollectionSchema& s = c.schema;
    s.name = "c";
    s.enable_dynamic_field = true;
    core::FieldSchema pk = Field(100, "pk", core::DataType::kInt64);
    pk.is_primary_key = true;
    core::FieldSchema vec = Field(101, "vec", core::DataType::kFloatVector);
    vec.dim = 3;
    core::FieldSchema b = Field(102, "b", core::DataType::kBool);
    b.nullable = true;
    core::FieldSchema i8 = Field(103, "i8", core::DataType::kInt8);
    i8.default_value = json(1);
    core::FieldSchema i16 = Field(104, "i16", core::DataType::kInt16);
    i16.nullable = true;
    core::FieldSchema i32 = Field(105, "i32", core::DataType::kInt32);
    i32.nullable = true;
    core::FieldSchema i64 = Field(106, "i64", core::DataType::kInt64);
    i64.nullable = true;
    core::FieldSchema f = Field(107, "f", core::DataType::kFloat);
    f.nullable = true;
    core::FieldSchema d = Field(108, "d", core::DataType::kDouble);
    d.nullable = true;
    core::FieldSchema str = Field(109, "s", core::DataType::kVarChar);
    str.max_length = 32;
    str.nullable = true;
    core::FieldSchema j = Field(110, "j", core::DataType::kJSON);
    j.nullable = true;
    core::FieldSchema ai = Field(111, "ai", core::DataType::kArray);
    ai.element_type = core::DataType::kInt64;
    ai.max_capacity = 8;
    ai.nullable = true;
    core::FieldSchema as = Field(112, "as", core::DataType::kArray);
    as.element_type = core::DataType::kVarChar;
    as.max_length = 8;
    as.max_capacity = 8;
    as.nullable = true;
    core::FieldSchema tenant = Field(113, "tenant", core::DataType::kVarChar);
    tenant.max_length = 16;
    tenant.is_partition_key = true;
    tenant.default_value = json("t");
    core::FieldSchema meta = Field(114, "$meta", core::DataType::kJSON);
    meta.is_dynamic = true;
    s.fields = {pk, vec, b, i8, i16, i32, i64, f, d, str, j, ai, as, tenant, meta};
    TESSERA_CHECK(s.Validate().ok()) << s.Validate().ToString();
    c.num_partitions = 4;
    for (int64_t p = 0; p < 4; ++p) c.partitions.push_back({500 + p, "_default_" + std::to_string(p), true});
    return c;
  }();
  return info;
}

void Insert(const json& data, bool upsert, bool auto_id) {
  coord::CollectionInfo info = Collection();
  info.schema.fields[0].auto_id = auto_id;
  proxy::InsertOptions options;
  options.upsert = upsert;
  options.first_auto_id = 1;
  auto batch = proxy::BuildInsertBatch(data, info.schema, options);
  if (!batch.ok()) {
    TESSERA_CHECK(batch.status().code() != 0);
    return;
  }
  const size_t rows = batch->rows->num_rows();
  TESSERA_CHECK(rows == batch->pks.size()) << "one key per row";
  TESSERA_CHECK(rows == data.size()) << "every row converted";
  auto routed = proxy::RouteRows(std::move(batch).value(), info, std::nullopt);
  if (!routed.ok()) return;
  size_t total = 0;
  for (const proxy::ShardBatch& shard : *routed) {
    TESSERA_CHECK(shard.rows->num_rows() == shard.pks.size() && shard.pks.size() == shard.partition_ids.size());
    total += shard.pks.size();
    for (size_t r = 0; r < shard.rows->num_rows(); ++r) {
      auto row = shard.rows->GetRow(r);
      TESSERA_CHECK(row.ok()) << row.status().ToString();
      (void)proxy::EncodeRow(std::move(row).value(), info.schema, r % 2 == 0);
    }
  }
  TESSERA_CHECK(total == rows) << "routing keeps every row";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto body = proxy::ParseBody(text);
  if (!body.ok()) {
    TESSERA_CHECK(body.status().code() == proxy::code::kBadJson);
    (void)proxy::EncodeError(body.status());
    return 0;
  }
  const json& b = *body;
  const core::CollectionSchema& schema = Collection().schema;

  auto created = proxy::DecodeCreateCollection(b);
  if (created.ok()) TESSERA_CHECK(created->request.schema.Validate().ok()) << "decoded schemas are valid";
  if (auto it = b.find("indexParams"); it != b.end()) (void)proxy::DecodeIndexParams(*it, schema);
  (void)proxy::DecodeQuery(b, schema);
  auto get = proxy::DecodeGet(b, schema);
  if (get.ok()) TESSERA_CHECK(!get->filter.empty());
  auto search = proxy::DecodeSearch(b, schema);
  if (search.ok()) {
    TESSERA_CHECK(search->vectors.size() == search->num_queries * search->dim);
    TESSERA_CHECK(search->limit >= 1 && search->limit + search->offset <= proxy::kMaxResultWindow);
  }
  (void)proxy::DecodeDelete(b, schema);
  auto hybrid = proxy::DecodeHybridSearch(b, schema);
  if (hybrid.ok()) {
    TESSERA_CHECK(!hybrid->routes.empty());
    for (const auto& route : hybrid->routes) TESSERA_CHECK(route.num_queries == hybrid->routes[0].num_queries);
  }
  if (auto it = b.find("searchParams"); it != b.end()) (void)proxy::MergeSearchParams(*it);
  if (auto it = b.find("filter"); it != b.end() && it->is_string()) {
    auto params = b.find("exprParams");
    (void)proxy::ApplyExprParams(it->get<std::string>(), params == b.end() ? nullptr : &*params);
  }
  if (auto it = b.find("data"); it != b.end()) {
    Insert(*it, /*upsert=*/false, /*auto_id=*/false);
    Insert(*it, /*upsert=*/true, /*auto_id=*/false);
    Insert(*it, /*upsert=*/false, /*auto_id=*/true);
  }
  proxy::Reply reply;
  reply.data = b;
  (void)proxy::EncodeSuccess(reply);
  return 0;
}
