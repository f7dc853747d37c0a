#include "core/schema.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace tessera::core {
namespace {

using ::testing::HasSubstr;

FieldSchema Field(std::string name, DataType type) {
  FieldSchema f;
  f.name = std::move(name);
  f.data_type = type;
  if (type == DataType::kVarChar) f.max_length = 64;
  if (type == DataType::kFloatVector) f.dim = 4;
  return f;
}

// A valid schema: id (Int64 PK), vec (FloatVector dim 4), title (VarChar).
CollectionSchema BaseSchema() {
  CollectionSchema s;
  s.name = std::string("c");
  FieldSchema id = Field("id", DataType::kInt64);
  id.is_primary_key = true;
  s.fields = {id, Field("vec", DataType::kFloatVector), Field("title", DataType::kVarChar)};
  return s;
}

void ExpectInvalid(const CollectionSchema& s, const std::string& fragment) {
  Status st = s.Validate();
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << st.ToString();
  EXPECT_THAT(st.message(), HasSubstr(fragment));
}

TEST(DataTypeTest, NamesRoundTripCaseInsensitively) {
  for (DataType t : {DataType::kBool, DataType::kInt8, DataType::kInt16, DataType::kInt32, DataType::kInt64,
                     DataType::kFloat, DataType::kDouble, DataType::kVarChar, DataType::kArray, DataType::kJSON,
                     DataType::kFloatVector}) {
    auto parsed = ParseDataType(DataTypeName(t));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, t);
  }
  EXPECT_EQ(*ParseDataType("varchar"), DataType::kVarChar);
  EXPECT_EQ(*ParseDataType("FLOATVECTOR"), DataType::kFloatVector);
  EXPECT_EQ(*ParseDataType("json"), DataType::kJSON);
  EXPECT_FALSE(ParseDataType("Int128").ok());
  EXPECT_FALSE(ParseDataType("None").ok());
  EXPECT_THAT(ParseDataType("Int128").status().message(), HasSubstr("Int128"));
}

TEST(DataTypeTest, MilvusNumbering) {
  EXPECT_EQ(static_cast<int>(DataType::kBool), 1);
  EXPECT_EQ(static_cast<int>(DataType::kInt64), 5);
  EXPECT_EQ(static_cast<int>(DataType::kDouble), 11);
  EXPECT_EQ(static_cast<int>(DataType::kVarChar), 21);
  EXPECT_EQ(static_cast<int>(DataType::kJSON), 23);
  EXPECT_EQ(static_cast<int>(DataType::kFloatVector), 101);
}

TEST(SchemaTest, ValidSchemaPasses) {
  CollectionSchema s = BaseSchema();
  EXPECT_TRUE(s.Validate().ok()) << s.Validate().ToString();
  EXPECT_EQ(s.FindField("title")->data_type, DataType::kVarChar);
  EXPECT_EQ(s.FindField("nope"), nullptr);
  EXPECT_EQ(s.PrimaryKey()->name, "id");
  EXPECT_EQ(s.FieldIndex("vec"), 1);
}

TEST(SchemaTest, NoPrimaryKey) {
  CollectionSchema s = BaseSchema();
  s.fields[0].is_primary_key = false;
  ExpectInvalid(s, "no primary key");
}

TEST(SchemaTest, TwoPrimaryKeys) {
  CollectionSchema s = BaseSchema();
  s.fields[2].is_primary_key = true;
  ExpectInvalid(s, "'title'");
}

TEST(SchemaTest, PrimaryKeyType) {
  CollectionSchema s = BaseSchema();
  s.fields.push_back(Field("pk2", DataType::kFloat));
  s.fields[0].is_primary_key = false;
  s.fields[3].is_primary_key = true;
  ExpectInvalid(s, "'pk2'");
  ExpectInvalid(s, "Int64 or VarChar");
}

TEST(SchemaTest, VarCharPrimaryKeyOk) {
  CollectionSchema s = BaseSchema();
  s.fields[0].is_primary_key = false;
  s.fields[2].is_primary_key = true;
  EXPECT_TRUE(s.Validate().ok());
}

TEST(SchemaTest, AutoIdOnlyOnThePrimaryKey) {
  CollectionSchema s = BaseSchema();
  s.fields[2].auto_id = true;
  ExpectInvalid(s, "'title'");
  s = BaseSchema();
  s.fields[0].auto_id = true;
  EXPECT_TRUE(s.Validate().ok());
  s.fields[0].data_type = DataType::kVarChar;  // ids as decimal text, as in Milvus
  s.fields[0].max_length = 64;
  EXPECT_TRUE(s.Validate().ok());
}

TEST(SchemaTest, AtMostOneClusteringKeyOfASortableType) {
  CollectionSchema s = BaseSchema();
  s.fields[1].is_clustering_key = true;  // the vector field may be it
  EXPECT_TRUE(s.Validate().ok());
  s.fields[2].is_clustering_key = true;
  ExpectInvalid(s, "more than one clustering key");
  s = BaseSchema();
  s.fields.push_back(Field("j", DataType::kJSON));
  s.fields.back().is_clustering_key = true;
  ExpectInvalid(s, "'j'");
}

TEST(SchemaTest, NeedsVectorField) {
  CollectionSchema s = BaseSchema();
  s.fields.erase(s.fields.begin() + 1);
  ExpectInvalid(s, "no vector field");
}

TEST(SchemaTest, DimRange) {
  CollectionSchema s = BaseSchema();
  s.fields[1].dim = 0;
  ExpectInvalid(s, "'vec'");
  s.fields[1].dim = 32769;
  ExpectInvalid(s, "dim must be in [1, 32768]");
  s.fields[1].dim = 32768;
  EXPECT_TRUE(s.Validate().ok());
}

TEST(SchemaTest, VarCharMaxLength) {
  CollectionSchema s = BaseSchema();
  s.fields[2].max_length = 0;
  ExpectInvalid(s, "'title'");
  s.fields[2].max_length = 65536;
  ExpectInvalid(s, "max_length");
}

TEST(SchemaTest, ArrayElementTypeAndCapacity) {
  CollectionSchema s = BaseSchema();
  FieldSchema a = Field("tags", DataType::kArray);
  a.element_type = DataType::kJSON;
  a.max_capacity = 10;
  s.fields.push_back(a);
  ExpectInvalid(s, "'tags'");
  s.fields.back().element_type = DataType::kArray;
  ExpectInvalid(s, "element type");
  s.fields.back().element_type = DataType::kFloatVector;
  ExpectInvalid(s, "element type");
  s.fields.back().element_type = DataType::kInt32;
  EXPECT_TRUE(s.Validate().ok());
  s.fields.back().max_capacity = 0;
  ExpectInvalid(s, "max_capacity");
  s.fields.back().max_capacity = 4097;
  ExpectInvalid(s, "'tags'");
  s.fields.back().max_capacity = 4096;
  s.fields.back().element_type = DataType::kVarChar;
  ExpectInvalid(s, "max_length");  // Array of VarChar needs max_length
}

TEST(SchemaTest, DuplicateFieldName) {
  CollectionSchema s = BaseSchema();
  s.fields.push_back(Field("title", DataType::kInt32));
  ExpectInvalid(s, "duplicate field name");
  ExpectInvalid(s, "'title'");
}

TEST(SchemaTest, FieldNameSyntax) {
  for (const std::string& bad : std::vector<std::string>{"", "1abc", "a-b", "a b", "$x", std::string(256, 'a')}) {
    CollectionSchema s = BaseSchema();
    s.fields.push_back(Field(bad, DataType::kInt32));
    ExpectInvalid(s, "invalid field name");
  }
  CollectionSchema s = BaseSchema();
  s.fields.push_back(Field("_ok_Name9", DataType::kInt32));
  s.fields.push_back(Field(std::string(255, 'b'), DataType::kInt32));
  EXPECT_TRUE(s.Validate().ok());
}

TEST(SchemaTest, PartitionKeyRules) {
  CollectionSchema s = BaseSchema();
  s.fields[2].is_partition_key = true;
  EXPECT_TRUE(s.Validate().ok());
  s.fields.push_back(Field("p2", DataType::kInt64));
  s.fields.back().is_partition_key = true;
  ExpectInvalid(s, "'p2'");
  ExpectInvalid(s, "more than one partition key");
  s = BaseSchema();
  s.fields.push_back(Field("pf", DataType::kFloat));
  s.fields.back().is_partition_key = true;
  ExpectInvalid(s, "'pf'");
  s = BaseSchema();
  s.fields[0].is_partition_key = true;
  ExpectInvalid(s, "'id'");
}

TEST(SchemaTest, NullablePrimaryKeyOrVector) {
  CollectionSchema s = BaseSchema();
  s.fields[0].nullable = true;
  ExpectInvalid(s, "'id'");
  s = BaseSchema();
  s.fields[1].nullable = true;
  ExpectInvalid(s, "'vec'");
  s = BaseSchema();
  s.fields[2].nullable = true;
  EXPECT_TRUE(s.Validate().ok());
}

TEST(SchemaTest, DefaultValueType) {
  CollectionSchema s = BaseSchema();
  s.fields[2].default_value = 5;
  ExpectInvalid(s, "'title'");
  s.fields[2].default_value = "x";
  EXPECT_TRUE(s.Validate().ok());
  s.fields[0].default_value = 1;
  ExpectInvalid(s, "'id'");
}

TEST(SchemaTest, DefaultValueMustFitTheType) {
  CollectionSchema s = BaseSchema();
  s.fields.push_back(Field("small", DataType::kInt8));
  s.fields.back().default_value = 300;
  ExpectInvalid(s, "300");
  s.fields.back().default_value = -128;
  EXPECT_TRUE(s.Validate().ok());
  s.fields.back().data_type = DataType::kInt16;
  s.fields.back().default_value = 70000;
  ExpectInvalid(s, "'small'");
  s.fields.back().data_type = DataType::kFloat;
  s.fields.back().default_value = 1e300;
  ExpectInvalid(s, "'small'");
}

TEST(SchemaTest, DynamicFieldDeclaration) {
  CollectionSchema s = BaseSchema();
  FieldSchema meta = Field("$meta", DataType::kJSON);
  meta.is_dynamic = true;
  s.fields.push_back(meta);
  ExpectInvalid(s, "enable_dynamic_field");
  s.enable_dynamic_field = true;
  EXPECT_TRUE(s.Validate().ok());
  s.fields.back().data_type = DataType::kInt64;
  ExpectInvalid(s, "'$meta'");
}

}  // namespace
}  // namespace tessera::core
