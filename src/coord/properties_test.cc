// Property checks and the properties the coordinator acts on.

#include "coord/properties.h"

#include <gtest/gtest.h>

#include "coord/coord_test_util.h"

namespace tessera::coord {
namespace {

using testing::CoordTest;

bool Mentions(const Status& s, const std::string& needle) { return s.message().find(needle) != std::string::npos; }

TEST(PropertiesTest, KnownKeysMustHoldValuesOfTheirType) {
  EXPECT_OK(ValidateCollectionProperties({{"mmap.enabled", "True"}, {"collection.ttl.seconds", "0"},
                                          {"collection.insertRate.max.mb", "12.5"}, {"anything.else", "x"}}));
  Status ttl = ValidateCollectionProperties({{"collection.ttl.seconds", "abc"}});
  EXPECT_CODE(ttl, kInvalidArgument);
  EXPECT_TRUE(Mentions(ttl, "collection.ttl.seconds")) << ttl.ToString();
  EXPECT_OK(ValidateCollectionProperties({{"collection.ttl.seconds", "3600"}}));
  EXPECT_CODE(ValidateCollectionProperties({{"collection.ttl.seconds", "-1"}}), kInvalidArgument);
  EXPECT_CODE(ValidateCollectionProperties({{"mmap.enabled", "yes"}}), kInvalidArgument);
  EXPECT_CODE(ValidateCollectionProperties({{"collection.insertRate.max.mb", "-1"}}), kInvalidArgument);
  EXPECT_CODE(ValidateCollectionProperties({{"collection.replica.number", "1.5"}}), kInvalidArgument);

  EXPECT_OK(ValidateDatabaseProperties({{"database.max.collections", "10"}, {"database.force.deny.writing", "false"}}));
  EXPECT_CODE(ValidateDatabaseProperties({{"database.max.collections", "ten"}}), kInvalidArgument);
  EXPECT_EQ(MaxCollections({{"database.max.collections", "10"}}), 10);
  EXPECT_EQ(MaxCollections({}), std::nullopt);
  EXPECT_TRUE(AutoCompactionEnabled({}));
  EXPECT_FALSE(AutoCompactionEnabled({{"collection.autocompaction.enabled", "FALSE"}}));
}

TEST_F(CoordTest, DatabaseMaxCollectionsIsEnforced) {
  ASSERT_OK(coord_->CreateDatabase("small", {{"database.max.collections", "2"}}));
  Create("a", 1, "small");
  Create("b", 1, "small");
  CreateCollectionRequest third;
  third.db_name = "small";
  third.schema = Schema("c");
  auto refused = coord_->CreateCollection(third);
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(Mentions(refused.status(), "exceeded the limit number of collections")) << refused.status().ToString();
  CreateCollectionRequest elsewhere;
  elsewhere.schema = Schema("c");
  EXPECT_TRUE(coord_->CreateCollection(elsewhere).ok()) << "other databases";
  EXPECT_CODE(coord_->AlterDatabase("small", {{"database.max.collections", "-3"}}, {}), kInvalidArgument);
  // Moving a collection in counts too.
  Status moved = coord_->RenameCollection("default", "c", "small", "c");
  EXPECT_TRUE(Mentions(moved, "exceeded the limit number of collections")) << moved.ToString();
  ASSERT_OK(coord_->AlterDatabase("small", {{"database.max.collections", "3"}}, {}));
  EXPECT_TRUE(coord_->CreateCollection(third).ok());
}

TEST_F(CoordTest, BadCollectionPropertiesAreRefusedAndAutoCompactionCanBeOff) {
  CreateCollectionRequest request;
  request.schema = Schema("books");
  request.properties = {{"collection.ttl.seconds", "abc"}};
  EXPECT_FALSE(coord_->CreateCollection(request).ok());
  CollectionInfo info = Create("books");
  EXPECT_CODE(coord_->AlterCollectionProperties("default", "books", {{"mmap.enabled", "maybe"}}, {}), kInvalidArgument);
  EXPECT_TRUE(coord_->DescribeCollection("default", "books")->properties.empty());

  Flushed(info, 0, 10, 10, 0);
  Flushed(info, 10, 20, 10, 10);  // two small segments: a background round would merge them
  ASSERT_OK(coord_->AlterCollectionProperties("default", "books", {{"collection.autocompaction.enabled", "false"}}, {}));
  auto jobs = coord_->CompactAll();
  ASSERT_TRUE(jobs.ok());
  EXPECT_TRUE(jobs->empty());
  ASSERT_OK(coord_->AlterCollectionProperties("default", "books", {}, {"collection.autocompaction.enabled"}));
  jobs = coord_->CompactAll();
  ASSERT_TRUE(jobs.ok());
  EXPECT_EQ(jobs->size(), 1u);
}

}  // namespace
}  // namespace tessera::coord
