// Scalar index definitions: which types each index type takes, its parameters, and that the
// coordinator builds nothing for them while reporting them as fully indexed.

#include "coord/scalar_index.h"

#include <gtest/gtest.h>

#include "coord/coord_test_util.h"

namespace tessera::coord {
namespace {

using testing::CoordTest;
using testing::WaitFor;

core::FieldSchema Field(core::DataType type, core::DataType element = core::DataType::kNone) {
  core::FieldSchema f;
  f.name = "f";
  f.data_type = type;
  f.element_type = element;
  return f;
}

Status Check(const core::FieldSchema& field, const std::string& type, nlohmann::json params = nlohmann::json::object()) {
  IndexInfo index;
  index.index_type = type;
  index.metric_type = "COSINE";
  index.params = std::move(params);
  return NormalizeScalarIndex(field, index);
}

bool Mentions(const Status& s, const std::string& needle) { return s.message().find(needle) != std::string::npos; }

TEST(ScalarIndexTest, EachTypeTakesTheFieldsMilvusAllows) {
  using core::DataType;
  const core::FieldSchema int64 = Field(DataType::kInt64), dbl = Field(DataType::kDouble),
                          text = Field(DataType::kVarChar), flag = Field(DataType::kBool),
                          tags = Field(DataType::kArray, DataType::kVarChar), doc = Field(DataType::kJSON);
  EXPECT_OK(Check(int64, "STL_SORT"));
  EXPECT_OK(Check(dbl, "stl_sort"));
  EXPECT_OK(Check(text, "Trie"));
  EXPECT_OK(Check(flag, "BITMAP"));
  EXPECT_OK(Check(tags, "BITMAP"));
  EXPECT_OK(Check(text, "HYBRID"));
  for (const auto* f : {&int64, &dbl, &text, &flag, &tags}) EXPECT_OK(Check(*f, "INVERTED"));
  EXPECT_OK(Check(text, ""));  // no type: AUTOINDEX
  EXPECT_OK(Check(text, "NGRAM", {{"min_gram", 2}, {"max_gram", "3"}}));
  EXPECT_OK(Check(doc, "INVERTED", {{"json_path", "doc[\"a\"]"}, {"json_cast_type", "double"}}));

  Status sort_text = Check(text, "STL_SORT");
  EXPECT_CODE(sort_text, kInvalidArgument);
  EXPECT_TRUE(Mentions(sort_text, "field 'f' (VarChar)")) << sort_text.ToString();
  EXPECT_CODE(Check(int64, "TRIE"), kInvalidArgument);
  EXPECT_CODE(Check(dbl, "BITMAP"), kInvalidArgument);
  core::FieldSchema pk = int64;
  pk.is_primary_key = true;
  EXPECT_CODE(Check(pk, "BITMAP"), kInvalidArgument);
  EXPECT_OK(Check(pk, "STL_SORT"));
  EXPECT_CODE(Check(int64, "NGRAM", {{"min_gram", 2}, {"max_gram", 3}}), kInvalidArgument);
  Status vector_type = Check(text, "HNSW");
  EXPECT_CODE(vector_type, kInvalidArgument);
  EXPECT_TRUE(Mentions(vector_type, "scalar index types")) << vector_type.ToString();
}

TEST(ScalarIndexTest, ParametersAreChecked) {
  const core::FieldSchema text = Field(core::DataType::kVarChar), doc = Field(core::DataType::kJSON);
  Status unknown = Check(text, "INVERTED", {{"nlist", 128}});
  EXPECT_CODE(unknown, kInvalidArgument);
  EXPECT_TRUE(Mentions(unknown, "nlist")) << unknown.ToString();
  EXPECT_CODE(Check(text, "NGRAM", {{"min_gram", 2}}), kInvalidArgument);
  EXPECT_CODE(Check(text, "NGRAM", {{"min_gram", 4}, {"max_gram", 3}}), kInvalidArgument);
  EXPECT_CODE(Check(text, "NGRAM", {{"min_gram", 0}, {"max_gram", 3}}), kInvalidArgument);
  EXPECT_CODE(Check(text, "NGRAM", {{"min_gram", "two"}, {"max_gram", 3}}), kInvalidArgument);
  EXPECT_CODE(Check(text, "BITMAP", {{"bitmap_cardinality_limit", -5}}), kInvalidArgument);
  EXPECT_OK(Check(text, "BITMAP", {{"bitmap_cardinality_limit", 100}}));
  EXPECT_OK(Check(text, "INVERTED", {{"mmap.enabled", true}}));  // a property: dropped
  Status json_on_text = Check(text, "INVERTED", {{"json_cast_type", "double"}});
  EXPECT_CODE(json_on_text, kInvalidArgument);
  EXPECT_TRUE(Mentions(json_on_text, "JSON fields only")) << json_on_text.ToString();
  Status no_cast = Check(doc, "INVERTED", {{"json_path", "f[\"a\"]"}});
  EXPECT_CODE(no_cast, kInvalidArgument);
  EXPECT_TRUE(Mentions(no_cast, "json_cast_type")) << no_cast.ToString();
  EXPECT_CODE(Check(doc, "INVERTED", {{"json_cast_type", "INT128"}}), kInvalidArgument);
  EXPECT_CODE(Check(doc, "INVERTED", {{"json_cast_type", 3}}), kInvalidArgument);

  IndexInfo index;
  index.index_type = "inverted";
  index.metric_type = "L2";
  index.params = {{"mmap.enabled", false}};
  ASSERT_OK(NormalizeScalarIndex(text, index));
  EXPECT_EQ(index.index_type, "INVERTED");
  EXPECT_EQ(index.metric_type, "");  // scalar indexes have no metric
  EXPECT_EQ(index.params, nlohmann::json::object());
}

TEST_F(CoordTest, AScalarIndexBuildsNothingAndReadsAsFinished) {
  CollectionInfo info = Create("books");
  SegmentInfo a = Flushed(info, 0, 10, 30);
  IndexInfo color;
  color.field_name = "color";
  color.index_type = "Trie";
  ASSERT_OK(coord_->CreateIndex("default", "books", color));
  EXPECT_EQ(index_.Count(), 0u);
  EXPECT_EQ(coord_->PendingIndexBuilds(), 0u);
  ASSERT_OK(Index("books"));  // the vector index is built as before
  EXPECT_EQ(index_.Count(), 1u);
  SegmentInfo b = Flushed(info, 10, 20, 10, 100);
  EXPECT_EQ(index_.Count(), 2u);  // only the vector index again

  info = *coord_->GetCollection(info.id);
  ASSERT_EQ(info.indexes.size(), 2u);
  const IndexInfo& made = info.indexes[0];
  EXPECT_EQ(made.name, "color");
  EXPECT_EQ(made.index_type, "TRIE");
  EXPECT_EQ(made.metric_type, "");
  EXPECT_FALSE(info.BuildsFiles(made));
  EXPECT_TRUE(info.BuildsFiles(info.indexes[1]));
  auto progress = coord_->DescribeIndexProgress(info.id, made.id);
  ASSERT_TRUE(progress.ok()) << progress.status().ToString();
  EXPECT_EQ(progress->state, "Finished");
  EXPECT_EQ(progress->total_rows, 40u);
  EXPECT_EQ(progress->indexed_rows, 40u);
  EXPECT_EQ(coord_->DescribeIndexProgress(info.id, info.indexes[1].id)->state, "InProgress");

  // A compaction output waits for the vector index only.
  BuildAll();
  ASSERT_OK(coord_->LoadCollection("default", "books", {}));
  auto job = coord_->Compact(info.id);
  ASSERT_TRUE(job.ok()) << job.status().ToString();
  ASSERT_TRUE(WaitFor([&] { return index_.Count() == 1; }));
  BuildAll();
  ASSERT_TRUE(WaitFor([&] { return coord_->GetCompactionState(*job)->state == "Completed"; }));
  auto live = *coord_->ListSegments(info.id);
  ASSERT_EQ(live.size(), 1u);
  EXPECT_NE(live[0].id, a.id);
  EXPECT_NE(live[0].id, b.id);
  EXPECT_EQ(live[0].num_rows, 40u);

  // Dropped like any index, and survives a restart.
  Reopen();
  EXPECT_EQ(coord_->GetCollection(info.id)->indexes.size(), 2u);
  ASSERT_OK(coord_->ReleaseCollection("default", "books", {}));
  ASSERT_OK(coord_->DropIndex("default", "books", "color"));
  EXPECT_EQ(coord_->GetCollection(info.id)->indexes.size(), 1u);
}

}  // namespace
}  // namespace tessera::coord
