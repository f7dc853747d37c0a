// Recall sanity on sift5k (tests/index_test_util.h): 4 sealed segments plus growing rows,
// searched through the query node and compared with the dataset's ground truth.

#include <gtest/gtest.h>

#include <unordered_set>

#include "index_test_util.h"
#include "querynode/test_util.h"

namespace tessera::querynode {
namespace {

class RecallTest : public testing::QueryNodeTest {
 protected:
  static coord::CollectionInfo SiftCollection(bool with_index) {
    coord::CollectionInfo info = testing::MakeCollection(1, /*dynamic=*/false, with_index ? "HNSW" : "", "L2");
    info.schema.fields.resize(2);  // id, vec
    info.schema.fields[1].dim = 128;
    return info;
  }

  static nlohmann::json SiftRow(const bench::Dataset& ds, size_t i) {
    std::vector<float> v(ds.base.row(i), ds.base.row(i) + ds.base.dim);
    return nlohmann::json{{"id", static_cast<int64_t>(i)}, {"vec", v}};
  }

  /// Loads rows [0, 4000) as 4 sealed segments and [4000, 5000) through the WAL, then
  /// returns recall@10 of the 100 queries.
  double Run(bool with_index) {
    const bench::Dataset ds = tessera::testing::LoadSift5k();
    coord::CollectionInfo info = SiftCollection(with_index);
    std::vector<coord::SegmentInfo> segments;
    for (int s = 0; s < 4; ++s) {
      testing::SegmentSpec spec;
      spec.id = 100 + s;
      for (size_t i = static_cast<size_t>(s) * 1000; i < static_cast<size_t>(s + 1) * 1000; ++i) {
        spec.rows.push_back(SiftRow(ds, i));
      }
      if (with_index) spec.index = index::IndexType::kHnsw;
      segments.push_back(WriteSegment(info, spec));
    }
    for (size_t i = 4000; i < 5000; i += 100) {
      std::vector<nlohmann::json> rows;
      for (size_t j = i; j < i + 100; ++j) rows.push_back(SiftRow(ds, j));
      Insert(info, rows, 1000 + i);
    }
    Load(info, segments);

    SearchRequest r;
    r.collection_id = info.id;
    r.field_id = testing::kVecField;
    r.vectors = ds.queries.values;
    r.num_queries = ds.queries.rows;
    r.limit = 10;
    if (with_index) r.params = {{"ef", 64}};
    auto res = node_->Search(r);
    EXPECT_TRUE(res.ok()) << res.status().ToString();
    if (!res.ok()) return 0;
    size_t found = 0;
    for (size_t q = 0; q < ds.queries.rows; ++q) {
      std::unordered_set<int64_t> truth(ds.ground_truth.row(q), ds.ground_truth.row(q) + 10);
      EXPECT_EQ(res->hits[q].size(), 10u);
      for (const auto& hit : res->hits[q]) found += truth.count(std::get<int64_t>(hit.pk));
    }
    return static_cast<double>(found) / static_cast<double>(ds.queries.rows * 10);
  }
};

TEST_F(RecallTest, ExactWithoutIndexFiles) {
  const double recall = Run(false);
  RecordProperty("recall_at_10", std::to_string(recall));
  EXPECT_GE(recall, 0.99);
}

TEST_F(RecallTest, HnswSegmentsPlusGrowingRows) {
  const double recall = Run(true);
  RecordProperty("recall_at_10", std::to_string(recall));
  EXPECT_GE(recall, 0.95);
}

}  // namespace
}  // namespace tessera::querynode
