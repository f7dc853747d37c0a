// libFuzzer target: parses arbitrary text against a schema with every filterable type plus
// the dynamic field and, when it parses, evaluates it on a small ColumnSet. Must never crash,
// leak or trip a sanitizer. Built with clang by src/core/CMakeLists.txt when available.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/check.h"
#include "core/column_set.h"
#include "core/filter/evaluator.h"
#include "core/filter/parser.h"
#include "core/filter/test_schema.h"

namespace {

using tessera::core::ColumnSet;
using nlohmann::json;

const ColumnSet& Data() {
  static const std::unique_ptr<ColumnSet> data = [] {
    auto created = ColumnSet::Create(tessera::core::filter::testing::TestSchema(/*dynamic=*/true));
    TESSERA_CHECK(created.ok()) << created.status().ToString();
    std::unique_ptr<ColumnSet> set = std::move(created).value();
    const char* rows[] = {
        R"({"id": 1, "vec": [0, 1], "b": true, "i8": -3, "i16": 7, "i32": 100, "i64": 9223372036854775807,
            "f": 1.5, "d": -2.0, "s": "apple", "j": {"a": 1, "b": {"c": "x"}, "tags": ["x", 1]},
            "ai": [1, 2], "as": ["a"], "af": [0.5], "ab": [true], "ni": 4, "ns": "n", "nd": 1.0,
            "nj": {"k": [1, 2]}, "color": "red", "size": 3})",
        R"({"id": 2, "vec": [1, 0], "b": false, "i8": 127, "i16": -32768, "i32": 0, "i64": -9223372036854775808,
            "f": 0, "d": 1e308, "s": "", "j": [1, "a", null], "ai": [], "as": [], "af": [], "ab": []})",
        R"({"id": 3, "vec": [1, 1], "b": true, "i8": 0, "i16": 0, "i32": -1, "i64": 0, "f": -0.0, "d": 0.5,
            "s": "x%y_z", "j": "\"text\"", "ai": [0], "as": ["", "b"], "af": [1e-300], "ab": [false],
            "ni": null, "color": 7, "size": "big"})",
    };
    for (int copy = 0; copy < 30; ++copy) {  // 90 rows: one full 64-bit word plus a tail
      for (const char* row : rows) {
        json j = json::parse(row);
        j["id"] = j["id"].get<int64_t>() + copy * 10;
        TESSERA_CHECK(set->AppendRow(j).ok());
      }
    }
    return set;
  }();
  return *data;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const ColumnSet& set = Data();
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto expr = tessera::core::filter::ParseFilter(text, set.schema());
  if (!expr.ok()) {
    TESSERA_CHECK(expr.status().code() == tessera::StatusCode::kInvalidArgument) << expr.status().ToString();
    return 0;
  }
  (void)(*expr)->DebugString();
  auto bits = tessera::core::filter::EvaluateFilter(**expr, set);
  TESSERA_CHECK(bits.ok()) << bits.status().ToString();
  TESSERA_CHECK(bits->size() == set.num_rows());
  return 0;
}
