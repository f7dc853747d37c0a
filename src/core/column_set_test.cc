#include "core/column_set.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace tessera::core {
namespace {

using ::testing::HasSubstr;
using nlohmann::json;

FieldSchema Field(std::string name, DataType type) {
  FieldSchema f;
  f.name = std::move(name);
  f.data_type = type;
  if (type == DataType::kVarChar) f.max_length = 16;
  if (type == DataType::kFloatVector) f.dim = 2;
  return f;
}

CollectionSchema Schema(bool dynamic) {
  CollectionSchema s;
  s.name = std::string("c");
  s.enable_dynamic_field = dynamic;
  FieldSchema id = Field("id", DataType::kInt64);
  id.is_primary_key = true;
  FieldSchema score = Field("score", DataType::kFloat);
  score.nullable = true;
  FieldSchema tag = Field("tag", DataType::kVarChar);
  tag.default_value = "none";
  s.fields = {id, Field("vec", DataType::kFloatVector), score, tag};
  return s;
}

class ColumnSetTest : public ::testing::Test {
 protected:
  void Make(bool dynamic) {
    auto r = ColumnSet::Create(Schema(dynamic));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    set_ = std::move(r).value();
  }
  Status Append(const std::string& row) { return set_->AppendRow(json::parse(row)); }
  std::unique_ptr<ColumnSet> set_;
};

TEST_F(ColumnSetTest, RejectsInvalidSchema) {
  CollectionSchema s = Schema(false);
  s.fields[1].dim = 0;
  auto r = ColumnSet::Create(s);
  EXPECT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("'vec'"));
}

TEST_F(ColumnSetTest, AppendAndGetRow) {
  Make(false);
  ASSERT_TRUE(Append(R"({"id": 1, "vec": [1, 2], "score": 0.5, "tag": "a"})").ok());
  ASSERT_TRUE(Append(R"({"id": "2", "vec": [3, 4]})").ok());
  EXPECT_EQ(set_->num_rows(), 2u);
  auto row = set_->GetRow(1);
  ASSERT_TRUE(row.ok());
  EXPECT_EQ((*row)["id"], 2);
  EXPECT_EQ((*row)["score"], nullptr);
  EXPECT_EQ((*row)["tag"], "none");  // default value
  auto some = set_->GetRow(0, {"tag"});
  ASSERT_TRUE(some.ok());
  EXPECT_EQ(*some, json({{"tag", "a"}}));
  EXPECT_EQ(set_->GetRow(2).status().code(), StatusCode::kOutOfRange);
  EXPECT_EQ(set_->GetRow(0, {"nope"}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_GT(set_->MemoryUsage(), 0u);
  EXPECT_NE(set_->FindColumn("score"), nullptr);
  EXPECT_EQ(set_->dynamic_column(), nullptr);
}

TEST_F(ColumnSetTest, MissingFieldsAndUnknownKeys) {
  Make(false);
  Status st = Append(R"({"id": 1})");
  EXPECT_THAT(st.message(), HasSubstr("missing vector field: vec"));
  st = Append(R"({"vec": [1, 2]})");
  EXPECT_THAT(st.message(), HasSubstr("does not have field id"));
  st = Append(R"({"id": 1, "vec": [1, 2], "color": "red"})");
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(st.message(), HasSubstr("'color'"));
  EXPECT_FALSE(set_->AppendRow(json::array()).ok());
  EXPECT_EQ(set_->num_rows(), 0u);
}

TEST_F(ColumnSetTest, FailedRowLeavesNoTrace) {
  Make(true);
  ASSERT_TRUE(Append(R"({"id": 1, "vec": [1, 2], "x": 1})").ok());
  // id and vec append fine, then tag fails: every column must roll back.
  Status st = Append(R"({"id": 2, "vec": [1, 2], "score": 1, "tag": "this is far too long", "y": 2})");
  EXPECT_THAT(st.message(), HasSubstr("'tag'"));
  EXPECT_EQ(set_->num_rows(), 1u);
  for (size_t i = 0; i < set_->schema().fields.size(); ++i) EXPECT_EQ(set_->column(i).size(), 1u);
  EXPECT_EQ(set_->dynamic_column()->size(), 1u);
  ASSERT_TRUE(Append(R"({"id": 3, "vec": [1, 2]})").ok());
  EXPECT_EQ(set_->GetRow(1)->at("id"), 3);
}

TEST_F(ColumnSetTest, DynamicFieldCollectsUnknownKeys) {
  Make(true);
  ASSERT_TRUE(Append(R"({"id": 1, "vec": [1, 2], "color": "red", "n": 3, "skip": null})").ok());
  EXPECT_EQ(set_->dynamic_column()->Value(0), json({{"color", "red"}, {"n", 3}}));
  auto row = set_->GetRow(0, {"id", "color", "absent"});
  ASSERT_TRUE(row.ok());
  EXPECT_EQ(*row, json({{"id", 1}, {"color", "red"}}));
  auto all = set_->GetRow(0, {"$meta"});
  EXPECT_EQ(*all, json({{"color", "red"}, {"n", 3}}));
  auto star = set_->GetRow(0, {"*"});
  EXPECT_EQ((*star)["color"], "red");
  EXPECT_EQ((*star)["tag"], "none");
  Status st = Append(R"({"id": 2, "vec": [1, 2], "$meta": {}})");
  EXPECT_THAT(st.message(), HasSubstr("$meta"));
}

TEST_F(ColumnSetTest, AutoIdAssignsKeys) {
  CollectionSchema s = Schema(false);
  s.fields[0].auto_id = true;
  auto r = ColumnSet::Create(s);
  ASSERT_TRUE(r.ok());
  auto set = std::move(r).value();
  ASSERT_TRUE(set->AppendRow(json::parse(R"({"vec": [1, 2]})")).ok());
  ASSERT_TRUE(set->AppendRow(json::parse(R"({"vec": [1, 2]})")).ok());
  EXPECT_EQ(set->GetRow(1)->at("id"), 2);
  Status st = set->AppendRow(json::parse(R"({"id": 5, "vec": [1, 2]})"));
  EXPECT_THAT(st.message(), HasSubstr("'id'"));
  s.fields[0].data_type = DataType::kVarChar;
  s.fields[0].max_length = 32;
  auto text = ColumnSet::Create(s);
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  ASSERT_TRUE((*text)->AppendRow(json::parse(R"({"vec": [1, 2]})")).ok());
  EXPECT_TRUE((*text)->GetRow(0)->at("id").is_string());
}

TEST_F(ColumnSetTest, DeletedRows) {
  Make(false);
  for (int i = 0; i < 70; ++i) ASSERT_TRUE(set_->AppendRow({{"id", i}, {"vec", {0, 1}}}).ok());
  set_->MarkDeleted(3);
  set_->MarkDeleted(69);
  EXPECT_TRUE(set_->IsDeleted(69));
  EXPECT_FALSE(set_->IsDeleted(4));
  EXPECT_EQ(set_->deleted().Count(), 2u);
  EXPECT_EQ(set_->deleted().size(), 70u);
}

TEST_F(ColumnSetTest, AppendRowFromCopiesEveryTypeAndNulls) {
  CollectionSchema schema = Schema(true);
  FieldSchema arr = Field("arr", DataType::kArray);
  arr.element_type = DataType::kVarChar;
  arr.max_length = 8;
  arr.max_capacity = 4;
  arr.nullable = true;
  FieldSchema doc = Field("doc", DataType::kJSON);
  doc.nullable = true;
  schema.fields.push_back(arr);
  schema.fields.push_back(doc);
  auto src = ColumnSet::Create(schema).value();
  ASSERT_TRUE(src->AppendRow(json::parse(R"({"id":1,"vec":[1,2],"score":0.5,"tag":"a","arr":["x","y"],"doc":{"k":1},"extra":7})")).ok());
  ASSERT_TRUE(src->AppendRow(json::parse(R"({"id":2,"vec":[3,4]})")).ok());
  auto dst = ColumnSet::Create(schema).value();
  dst->AppendRowFrom(*src, 1);
  dst->AppendRowFrom(*src, 0);
  ASSERT_EQ(dst->num_rows(), 2u);
  EXPECT_EQ(dst->GetRow(0).value(), src->GetRow(1).value());
  EXPECT_EQ(dst->GetRow(1).value(), src->GetRow(0).value());
  EXPECT_TRUE(dst->column(2).IsNull(0));
}

TEST_F(ColumnSetTest, FromColumnsChecksShapes) {
  Make(true);
  ASSERT_TRUE(Append(R"({"id": 1, "vec": [1, 2], "k": "v"})").ok());
  auto copy_columns = [&](size_t rows) {
    std::vector<std::unique_ptr<Column>> cols;
    for (size_t i = 0; i < set_->schema().fields.size(); ++i) {
      cols.push_back(Column::Create(set_->schema().fields[i]));
      for (size_t r = 0; r < rows; ++r) cols.back()->AppendFrom(set_->column(i), r);
    }
    return cols;
  };
  auto dynamic = std::make_unique<JsonColumn>(set_->dynamic_column()->field());
  dynamic->AppendFrom(*set_->dynamic_column(), 0);
  auto built = ColumnSet::FromColumns(set_->schema(), copy_columns(1), std::move(dynamic));
  ASSERT_TRUE(built.ok()) << built.status().ToString();
  EXPECT_EQ(built.value()->GetRow(0).value(), set_->GetRow(0).value());

  auto no_dynamic = ColumnSet::FromColumns(set_->schema(), copy_columns(1), nullptr);
  EXPECT_THAT(no_dynamic.status().message(), HasSubstr("dynamic"));
  auto cols = copy_columns(1);
  cols[1] = Column::Create(set_->schema().fields[1]);  // 0 rows
  auto dyn = std::make_unique<JsonColumn>(set_->dynamic_column()->field());
  dyn->AppendFrom(*set_->dynamic_column(), 0);
  auto short_col = ColumnSet::FromColumns(set_->schema(), std::move(cols), std::move(dyn));
  EXPECT_THAT(short_col.status().message(), HasSubstr("'vec'"));
}

}  // namespace
}  // namespace tessera::core
