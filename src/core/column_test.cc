#include "core/column.h"

#include <cmath>
#include <limits>
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
  return f;
}

void ExpectRejected(Column& c, const json& v, const std::string& fragment) {
  const size_t before = c.size();
  Status st = c.Append(v);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << v.dump();
  EXPECT_THAT(st.message(), HasSubstr("'" + c.field().name + "'"));
  EXPECT_THAT(st.message(), HasSubstr(fragment));
  EXPECT_EQ(c.size(), before);
}

TEST(ColumnTest, BoolAcceptsBoolsAndBoolStrings) {
  auto c = Column::Create(Field("b", DataType::kBool));
  ASSERT_TRUE(c->Append(true).ok());
  ASSERT_TRUE(c->Append("false").ok());
  ASSERT_TRUE(c->Append("1").ok());
  ExpectRejected(*c, 3, "expected a bool");
  ExpectRejected(*c, 0.5, "expected a bool");
  ExpectRejected(*c, "yes", "expected a bool");
  auto& b = static_cast<BoolColumn&>(*c);
  EXPECT_EQ(b.size(), 3u);
  EXPECT_EQ(b.Get(0), json(true));
  EXPECT_EQ(b.Get(1), json(false));
  ASSERT_TRUE(c->Append(0).ok()) << "Milvus parses the number's text: 0 and 1 are bools";
  ASSERT_TRUE(c->Append(1).ok());
  EXPECT_EQ(b.Get(3), json(false));
  EXPECT_EQ(b.Get(4), json(true));
  EXPECT_EQ(b.Value(2), 1);
}

TEST(ColumnTest, IntegerRanges) {
  auto i8 = Column::Create(Field("i8", DataType::kInt8));
  EXPECT_TRUE(i8->Append(-128).ok());
  EXPECT_TRUE(i8->Append(127).ok());
  EXPECT_TRUE(i8->Append("12").ok());
  ExpectRejected(*i8, 128, "[-128, 127]");
  ExpectRejected(*i8, -129, "[-128, 127]");
  ExpectRejected(*i8, 1.5, "expected an integer");
  ExpectRejected(*i8, "x", "expected an integer");
  ExpectRejected(*i8, true, "expected an integer");
  auto i16 = Column::Create(Field("i16", DataType::kInt16));
  EXPECT_TRUE(i16->Append(32767).ok());
  ExpectRejected(*i16, 32768, "Int16");
  auto i32 = Column::Create(Field("i32", DataType::kInt32));
  EXPECT_TRUE(i32->Append(-2147483648LL).ok());
  ExpectRejected(*i32, 2147483648LL, "Int32");
  auto i64 = Column::Create(Field("i64", DataType::kInt64));
  EXPECT_TRUE(i64->Append(std::numeric_limits<int64_t>::max()).ok());
  EXPECT_TRUE(i64->Append("-9223372036854775808").ok());
  EXPECT_TRUE(i64->Append(3.0).ok());
  ExpectRejected(*i64, uint64_t{1} << 63, "Int64");
  ExpectRejected(*i64, "12a", "Int64");
  auto& c = static_cast<Int64Column&>(*i64);
  EXPECT_EQ(c.Value(1), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(c.Get(2), json(3));
  EXPECT_EQ(c.data().size(), 3u);
}

TEST(ColumnTest, FloatingValues) {
  auto f = Column::Create(Field("f", DataType::kFloat));
  EXPECT_TRUE(f->Append(1.5).ok());
  EXPECT_TRUE(f->Append(2).ok());
  EXPECT_TRUE(f->Append("2.25").ok());
  ExpectRejected(*f, 1e300, "finite number");
  ExpectRejected(*f, "abc", "finite number");
  ExpectRejected(*f, "nan", "finite number");
  EXPECT_EQ(static_cast<FloatColumn&>(*f).Value(2), 2.25f);
  auto d = Column::Create(Field("d", DataType::kDouble));
  EXPECT_TRUE(d->Append(1e300).ok());
  ExpectRejected(*d, json::array(), "Double");
}

TEST(ColumnTest, VarCharLengthAndUtf8) {
  FieldSchema f = Field("title", DataType::kVarChar);
  f.max_length = 5;
  auto c = Column::Create(f);
  EXPECT_TRUE(c->Append("hello").ok());
  EXPECT_TRUE(c->Append("").ok());
  EXPECT_TRUE(c->Append(42).ok());  // a number is taken as its text
  EXPECT_TRUE(c->Append("h\xC3\xA9").ok());
  ExpectRejected(*c, "hello!", "exceeds max_length 5");
  ExpectRejected(*c, "\xC3(", "UTF-8");
  ExpectRejected(*c, "\xED\xA0\x80", "UTF-8");  // surrogate
  ExpectRejected(*c, true, "expected a string");
  auto& v = static_cast<VarCharColumn&>(*c);
  EXPECT_EQ(v.View(0), "hello");
  EXPECT_EQ(v.View(1), "");
  EXPECT_EQ(v.View(2), "42");
  EXPECT_EQ(v.Get(3), json("h\xC3\xA9"));
  v.Truncate(1);
  EXPECT_EQ(v.size(), 1u);
  EXPECT_TRUE(v.Append("ab").ok());
  EXPECT_EQ(v.View(1), "ab");
}

TEST(ColumnTest, JsonParsesStringsAsText) {
  auto c = Column::Create(Field("meta", DataType::kJSON));
  EXPECT_TRUE(c->Append(json{{"a", 1}}).ok());
  EXPECT_TRUE(c->Append("{\"b\": [1, 2]}").ok());
  EXPECT_TRUE(c->Append(5).ok());
  ExpectRejected(*c, "{not json", "not valid JSON");
  auto& j = static_cast<JsonColumn&>(*c);
  EXPECT_EQ(j.Value(0)["a"], 1);
  EXPECT_EQ(j.Value(1)["b"][1], 2);
  EXPECT_EQ(j.Get(2), json(5));
}

TEST(ColumnTest, ArrayTypedElements) {
  FieldSchema f = Field("tags", DataType::kArray);
  f.element_type = DataType::kInt16;
  f.max_capacity = 3;
  auto c = Column::Create(f);
  EXPECT_TRUE(c->Append(json::array({1, 2, 3})).ok());
  EXPECT_TRUE(c->Append(json::array()).ok());
  ExpectRejected(*c, json::array({1, 2, 3, 4}), "max_capacity 3");
  ExpectRejected(*c, json::array({1, 70000}), "element 1");
  ExpectRejected(*c, 1, "expected a JSON array");
  auto& a = static_cast<ArrayColumn&>(*c);
  EXPECT_EQ(a.size(), 2u);
  EXPECT_EQ(a.Length(0), 3u);
  EXPECT_EQ(a.Length(1), 0u);
  EXPECT_EQ(a.Get(0), json::array({1, 2, 3}));
  EXPECT_EQ(a.Element(0, 5), json(nullptr));
  EXPECT_EQ(a.ints().size(), 3u);

  FieldSchema s = Field("names", DataType::kArray);
  s.element_type = DataType::kVarChar;
  s.max_capacity = 4;
  s.max_length = 3;
  auto sc = Column::Create(s);
  EXPECT_TRUE(sc->Append(json::array({"a", "bcd"})).ok());
  ExpectRejected(*sc, json::array({"abcd"}), "max_length");
  EXPECT_EQ(sc->Get(0), json::array({"a", "bcd"}));

  FieldSchema d = Field("ds", DataType::kArray);
  d.element_type = DataType::kDouble;
  d.max_capacity = 4;
  auto dc = Column::Create(d);
  EXPECT_TRUE(dc->Append(json::array({1.5, 2})).ok());
  EXPECT_EQ(dc->Get(0), json::array({1.5, 2.0}));

  FieldSchema b = Field("bs", DataType::kArray);
  b.element_type = DataType::kBool;
  b.max_capacity = 4;
  auto bc = Column::Create(b);
  EXPECT_TRUE(bc->Append(json::array({true, false})).ok());
  EXPECT_EQ(bc->Get(0), json::array({true, false}));
}

TEST(ColumnTest, FloatVectorDimAndFinite) {
  FieldSchema f = Field("vec", DataType::kFloatVector);
  f.dim = 2;
  auto c = Column::Create(f);
  EXPECT_TRUE(c->Append(json::array({1.0, 2.5})).ok());
  ExpectRejected(*c, json::array({1.0}), "does not match dim 2");
  ExpectRejected(*c, json::array({1.0, "x"}), "not a number");
  ExpectRejected(*c, json::array({1.0, std::nan("")}), "NaN");
  ExpectRejected(*c, json::array({1.0, std::numeric_limits<double>::infinity()}), "infinite");
  ExpectRejected(*c, json::array({1.0, 1e39}), "float range");
  auto& v = static_cast<FloatVectorColumn&>(*c);
  EXPECT_EQ(v.Row(0)[1], 2.5f);
  EXPECT_EQ(v.Get(0), json::array({1.0, 2.5}));
  EXPECT_GT(v.MemoryUsage(), 0u);
}

TEST(ColumnTest, NullableValidity) {
  FieldSchema f = Field("n", DataType::kInt32);
  f.nullable = true;
  auto c = Column::Create(f);
  EXPECT_TRUE(c->Append(7).ok());
  c->AppendNull();
  EXPECT_TRUE(c->Append(9).ok());
  EXPECT_FALSE(c->IsNull(0));
  EXPECT_TRUE(c->IsNull(1));
  ASSERT_NE(c->validity(), nullptr);
  EXPECT_EQ(c->validity()->Count(), 2u);
  EXPECT_EQ(c->Get(1), json(nullptr));
  c->Truncate(1);
  EXPECT_EQ(c->validity()->size(), 1u);
  auto plain = Column::Create(Field("p", DataType::kInt32));
  EXPECT_EQ(plain->validity(), nullptr);
}

}  // namespace
}  // namespace tessera::core
