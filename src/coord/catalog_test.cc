// Catalog operations of CoordinatorImpl: databases, collections, partitions, aliases,
// their errors, and persistence across a restart.

#include <gtest/gtest.h>

#include "coord/coord_test_util.h"
#include "coord/meta_keys.h"

namespace tessera::coord {
namespace {

using testing::CoordTest;

bool Mentions(const Status& s, const std::string& needle) { return s.message().find(needle) != std::string::npos; }

TEST_F(CoordTest, DefaultDatabaseExistsAndCannotBeDropped) {
  auto dbs = coord_->ListDatabases();
  ASSERT_TRUE(dbs.ok());
  ASSERT_EQ(dbs->size(), 1u);
  EXPECT_EQ((*dbs)[0].name, "default");
  EXPECT_GT((*dbs)[0].id, 0);
  EXPECT_CODE(coord_->DropDatabase("default"), kFailedPrecondition);
}

// A wiped metadata store next to existing data (reliability test plan 4.4): starting
// fresh would let GC delete every object as unreferenced, so Open refuses and deletes and
// writes nothing. Objects outside the collection prefix do not count.
TEST_F(CoordTest, RefusesANewCatalogNextToExistingCollectionData) {
  const std::string key = "collections/7/c7_s0/9/binlog/100/0";
  ASSERT_OK(objects_->Put("elsewhere/x", "y"));
  ASSERT_OK(objects_->Put(key, "x"));
  Reopen();  // the catalog is there: a restart is unaffected
  Close();
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::filesystem::remove(dir_.path() / (std::string("meta.db") + suffix));
  }
  auto meta = storage::SqliteMetaStore::Open(dir_.path() / "meta.db");
  ASSERT_TRUE(meta.ok()) << meta.status().ToString();
  auto objects = storage::LocalObjectStore::Open(dir_.path() / "objects", {});
  ASSERT_TRUE(objects.ok()) << objects.status().ToString();
  auto coord = CoordinatorImpl::Open(options_, meta->get(), objects->get());
  ASSERT_EQ(coord.status().code(), StatusCode::kFailedPrecondition) << coord.status().ToString();
  EXPECT_NE(coord.status().message().find(key), std::string::npos) << coord.status().ToString();
  EXPECT_TRUE((*objects)->Head(key).ok()) << "the data must be left alone";
  auto listed = (*meta)->Range("");
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->kvs.empty()) << "nothing may be written to the metadata store";

  // With only objects outside the collection prefix, a new catalog starts.
  ASSERT_OK((*objects)->Delete(key));
  auto fresh = CoordinatorImpl::Open(options_, meta->get(), objects->get());
  EXPECT_TRUE(fresh.ok()) << fresh.status().ToString();
}

TEST_F(CoordTest, DatabaseCrud) {
  ASSERT_OK(coord_->CreateDatabase("shop", {{"owner", "ann"}}));
  EXPECT_CODE(coord_->CreateDatabase("shop", {}), kAlreadyExists);
  EXPECT_CODE(coord_->CreateDatabase("1shop", {}), kInvalidArgument);
  EXPECT_CODE(coord_->CreateDatabase("", {}), kInvalidArgument);
  EXPECT_CODE(coord_->CreateDatabase(std::string(256, 'a'), {}), kInvalidArgument);
  EXPECT_OK(coord_->CreateDatabase(std::string(255, 'a'), {}));

  auto db = coord_->DescribeDatabase("shop");
  ASSERT_TRUE(db.ok());
  EXPECT_EQ(db->properties.at("owner"), "ann");
  ASSERT_OK(coord_->AlterDatabase("shop", {{"tier", "gold"}}, {"owner"}));
  db = coord_->DescribeDatabase("shop");
  EXPECT_EQ(db->properties, (std::map<std::string, std::string>{{"tier", "gold"}}));
  EXPECT_CODE(coord_->AlterDatabase("nope", {}, {}), kNotFound);
  EXPECT_EQ(coord_->DescribeDatabase("nope").status().code(), StatusCode::kNotFound);

  Create("orders", 1, "shop");
  Status busy = coord_->DropDatabase("shop");
  EXPECT_EQ(busy.code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Mentions(busy, "orders")) << busy.ToString();
  ASSERT_OK(coord_->DropCollection("shop", "orders"));
  ASSERT_OK(coord_->DropDatabase("shop"));
  EXPECT_CODE(coord_->DropDatabase("shop"), kNotFound);
}

TEST_F(CoordTest, CreateCollectionAssignsIdsPartitionsAndWatches) {
  CreateCollectionRequest request;
  request.schema = Schema("books", /*dynamic=*/true);
  request.schema.fields[0].id = 999;  // ignored
  request.num_shards = 2;
  request.consistency = ConsistencyLevel::kStrong;
  request.properties = {{"k", "v"}};
  auto info = coord_->CreateCollection(request);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_GT(info->id, 0);
  EXPECT_EQ(info->db_name, "default");
  EXPECT_EQ(info->num_shards, 2);
  EXPECT_EQ(info->consistency, ConsistencyLevel::kStrong);
  EXPECT_GT(info->created_ts, 0u);
  ASSERT_EQ(info->schema.fields.size(), 4u);
  for (size_t i = 0; i < info->schema.fields.size(); ++i) {
    EXPECT_EQ(info->schema.fields[i].id, kFirstUserFieldId + static_cast<int64_t>(i));
  }
  EXPECT_EQ(info->schema.fields.back().name, "$meta");
  EXPECT_TRUE(info->schema.fields.back().is_dynamic);
  EXPECT_EQ(info->schema.fields.back().data_type, core::DataType::kJSON);
  ASSERT_EQ(info->partitions.size(), 1u);
  EXPECT_EQ(info->partitions[0].name, "_default");
  EXPECT_EQ(info->Channels(), (std::vector<std::string>{info->Channel(0), info->Channel(1)}));
  {
    std::lock_guard lock(data_.mu);
    EXPECT_EQ(data_.watched.count(info->id), 1u);
  }
  auto described = coord_->DescribeCollection("default", "books");
  ASSERT_TRUE(described.ok());
  EXPECT_EQ(described->id, info->id);
  auto by_id = coord_->GetCollection(info->id);
  ASSERT_TRUE(by_id.ok());
  EXPECT_EQ(by_id->schema.name, "books");
}

TEST_F(CoordTest, PartitionKeyCollectionGetsHashedPartitions) {
  CreateCollectionRequest request;
  request.schema = Schema("keyed");
  request.schema.fields[2].is_partition_key = true;
  auto info = coord_->CreateCollection(request);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->num_partitions, 16);
  ASSERT_EQ(info->partitions.size(), 16u);
  EXPECT_EQ(info->partitions[0].name, "_default_0");
  EXPECT_EQ(info->partitions[15].name, "_default_15");
  EXPECT_EQ(info->FindPartition("_default"), nullptr);
  EXPECT_CODE(coord_->CreatePartition("default", "keyed", "p1"), kFailedPrecondition);

  request.schema.name = "keyed4";
  request.num_partitions = 4;
  info = coord_->CreateCollection(request);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->partitions.size(), 4u);

  request.schema.name = "keyed_bad";
  request.num_partitions = 5000;
  EXPECT_EQ(coord_->CreateCollection(request).status().code(), StatusCode::kInvalidArgument);
  request.schema = Schema("no_key");
  request.num_partitions = 4;
  EXPECT_EQ(coord_->CreateCollection(request).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(CoordTest, CreateCollectionErrors) {
  const CollectionInfo books = Create("books");
  CreateCollectionRequest request;
  request.schema = Schema("books");
  auto again = coord_->CreateCollection(request);
  ASSERT_TRUE(again.ok()) << "the same definition again is idempotent, as in Milvus: " << again.status().ToString();
  EXPECT_EQ(again->id, books.id);
  request.schema.fields[1].dim = 8;
  Status dup = coord_->CreateCollection(request).status();
  EXPECT_EQ(dup.code(), StatusCode::kAlreadyExists);
  EXPECT_TRUE(Mentions(dup, "books"));
  request.schema = Schema("books");
  request.num_shards = 2;
  EXPECT_EQ(coord_->CreateCollection(request).status().code(), StatusCode::kAlreadyExists);
  request.num_shards = 1;

  for (const std::string& bad : std::vector<std::string>{"", "9lives", "has space", "dash-ed", std::string(256, 'x'), "ünï"}) {
    request.schema = Schema(bad);
    EXPECT_EQ(coord_->CreateCollection(request).status().code(), StatusCode::kInvalidArgument) << bad;
  }
  request.schema = Schema("other");
  request.db_name = "missing";
  Status no_db = coord_->CreateCollection(request).status();
  EXPECT_EQ(no_db.code(), StatusCode::kNotFound);
  EXPECT_TRUE(Mentions(no_db, "database not found")) << no_db.ToString();

  request.db_name = "";
  request.num_shards = 17;
  EXPECT_EQ(coord_->CreateCollection(request).status().code(), StatusCode::kInvalidArgument);
  request.num_shards = -1;
  EXPECT_EQ(coord_->CreateCollection(request).status().code(), StatusCode::kInvalidArgument);
  request.num_shards = 0;  // means 1
  auto ok = coord_->CreateCollection(request);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->num_shards, 1);

  // A schema the core rejects: no vector field.
  request.schema = Schema("novec");
  request.schema.fields.erase(request.schema.fields.begin() + 1);
  Status no_vec = coord_->CreateCollection(request).status();
  EXPECT_EQ(no_vec.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Mentions(no_vec, "vector")) << no_vec.ToString();
}

TEST_F(CoordTest, CreateCollectionWithIndexesIsAllOrNothing) {
  CreateCollectionRequest request;
  request.schema = Schema("books");
  IndexInfo good;
  good.field_name = "vec";
  good.index_type = "HNSW";
  good.metric_type = "L2";
  good.params = {{"M", 8}};
  IndexInfo bad = good;
  bad.index_type = "NO_SUCH_INDEX";
  request.indexes = {bad};
  Status refused = coord_->CreateCollection(request).status();
  EXPECT_EQ(refused.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Mentions(refused, "NO_SUCH_INDEX")) << refused.ToString();
  EXPECT_EQ(coord_->DescribeCollection("default", "books").status().code(), StatusCode::kNotFound)
      << "a bad index creates nothing";
  request.indexes = {good, good};
  EXPECT_EQ(coord_->CreateCollection(request).status().code(), StatusCode::kInvalidArgument) << "two on one field";
  IndexInfo on_scalar = good;
  on_scalar.field_name = "color";
  request.indexes = {on_scalar};
  EXPECT_EQ(coord_->CreateCollection(request).status().code(), StatusCode::kInvalidArgument);

  request.indexes = {good};
  auto created = coord_->CreateCollection(request);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  ASSERT_EQ(created->indexes.size(), 1u);
  EXPECT_EQ(created->indexes[0].name, "vec");
  EXPECT_EQ(created->indexes[0].index_type, "HNSW");
  EXPECT_GT(created->indexes[0].id, 0);
  auto again = coord_->CreateCollection(request);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->indexes[0].id, created->indexes[0].id);
  request.indexes[0].params = {{"M", 16}};
  EXPECT_EQ(coord_->CreateCollection(request).status().code(), StatusCode::kAlreadyExists);
  // The index was persisted with the collection.
  Reopen();
  auto described = coord_->DescribeCollection("default", "books");
  ASSERT_TRUE(described.ok());
  ASSERT_EQ(described->indexes.size(), 1u);
  EXPECT_EQ(described->indexes[0].params, (nlohmann::json{{"M", 8}}));
}

TEST_F(CoordTest, FailedWatchLeavesNoCollection) {
  {
    std::lock_guard lock(data_.mu);
    data_.watch_status = Status::Unavailable("log down");
  }
  CreateCollectionRequest request;
  request.schema = Schema("books");
  EXPECT_EQ(coord_->CreateCollection(request).status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(coord_->DescribeCollection("default", "books").status().code(), StatusCode::kNotFound);
  {
    std::lock_guard lock(data_.mu);
    data_.watch_status = Status::OK();
  }
  EXPECT_TRUE(coord_->CreateCollection(request).ok());
}

TEST_F(CoordTest, ListCollectionsSortedPerDatabase) {
  Create("zeta");
  Create("alpha");
  Create("mid");
  ASSERT_OK(coord_->CreateDatabase("other", {}));
  Create("elsewhere", 1, "other");
  auto names = coord_->ListCollections("default");
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, (std::vector<std::string>{"alpha", "mid", "zeta"}));
  EXPECT_EQ(*coord_->ListCollections("other"), (std::vector<std::string>{"elsewhere"}));
  EXPECT_EQ(coord_->ListCollections("nope").status().code(), StatusCode::kNotFound);
}

TEST_F(CoordTest, DropCollectionReleasesUnwatchesAndDropsSegments) {
  CollectionInfo info = Create("books");
  SegmentInfo s = Flushed(info, 0, 10, 5);
  ASSERT_OK(coord_->CreateAlias("default", "b", "books"));
  EXPECT_CODE(coord_->DropCollection("default", "b"), kInvalidArgument);  // not through an alias
  ASSERT_OK(coord_->DropCollection("default", "books"));
  {
    std::lock_guard lock(data_.mu);
    EXPECT_EQ(data_.unwatched, std::vector<int64_t>{info.id});
  }
  {
    std::lock_guard lock(query_.mu);
    EXPECT_EQ(query_.releases, std::vector<int64_t>{info.id});
  }
  EXPECT_EQ(coord_->DescribeCollection("default", "books").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(coord_->DescribeAlias("default", "b").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(coord_->GetCollection(info.id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(*coord_->ChannelCheckpoint(info.Channel(0)), 0u);
  EXPECT_CODE(coord_->DropCollection("default", "books"), kNotFound);
  // The segment record stays (dropped) for GC.
  auto kv = meta_->Get(keys::Segment(info.id, s.id));
  ASSERT_TRUE(kv.ok());
  ASSERT_TRUE(kv->has_value());
  EXPECT_NE((*kv)->value.find("\"dropped\":true"), std::string::npos);
  // The name is free again, with a new id.
  CollectionInfo again = Create("books");
  EXPECT_NE(again.id, info.id);
}

TEST_F(CoordTest, RenameWithinAndAcrossDatabases) {
  CollectionInfo info = Create("books");
  Create("taken");
  ASSERT_OK(coord_->CreateAlias("default", "nick", "books"));
  EXPECT_CODE(coord_->RenameCollection("default", "books", "default", "taken"), kAlreadyExists);
  EXPECT_CODE(coord_->RenameCollection("default", "books", "default", "nick"), kAlreadyExists);
  EXPECT_CODE(coord_->RenameCollection("default", "books", "default", "bad name"), kInvalidArgument);
  EXPECT_CODE(coord_->RenameCollection("default", "nope", "default", "x"), kNotFound);
  EXPECT_CODE(coord_->RenameCollection("default", "books", "nodb", "x"), kNotFound);

  ASSERT_OK(coord_->RenameCollection("default", "books", "default", "novels"));
  auto renamed = coord_->DescribeCollection("default", "novels");
  ASSERT_TRUE(renamed.ok());
  EXPECT_EQ(renamed->id, info.id);
  EXPECT_EQ(renamed->schema.name, "novels");
  EXPECT_EQ(*coord_->DescribeAlias("default", "nick"), "novels");
  EXPECT_EQ(coord_->DescribeCollection("default", "books").status().code(), StatusCode::kNotFound);

  ASSERT_OK(coord_->CreateDatabase("archive", {}));
  EXPECT_CODE(coord_->RenameCollection("default", "novels", "archive", "old"), kFailedPrecondition);  // has alias
  ASSERT_OK(coord_->DropAlias("default", "nick"));
  ASSERT_OK(coord_->RenameCollection("default", "novels", "archive", "old"));
  auto moved = coord_->DescribeCollection("archive", "old");
  ASSERT_TRUE(moved.ok());
  EXPECT_EQ(moved->id, info.id);
  EXPECT_EQ(moved->db_name, "archive");
  EXPECT_EQ(*coord_->ListCollections("default"), std::vector<std::string>{"taken"});
}

TEST_F(CoordTest, AlterCollectionProperties) {
  Create("books");
  ASSERT_OK(coord_->AlterCollectionProperties("default", "books", {{"a", "1"}, {"b", "2"}}, {}));
  ASSERT_OK(coord_->AlterCollectionProperties("default", "books", {{"c", "3"}}, {"a"}));
  auto info = coord_->DescribeCollection("default", "books");
  EXPECT_EQ(info->properties, (std::map<std::string, std::string>{{"b", "2"}, {"c", "3"}}));
  EXPECT_CODE(coord_->AlterCollectionProperties("default", "nope", {}, {}), kNotFound);
}

TEST_F(CoordTest, PartitionsCrud) {
  Create("books");
  ASSERT_OK(coord_->CreatePartition("default", "books", "fiction"));
  EXPECT_CODE(coord_->CreatePartition("default", "books", "fiction"), kAlreadyExists);
  EXPECT_CODE(coord_->CreatePartition("default", "books", "bad-name"), kInvalidArgument);
  EXPECT_CODE(coord_->CreatePartition("default", "nope", "p"), kNotFound);
  auto info = coord_->DescribeCollection("default", "books");
  ASSERT_EQ(info->partitions.size(), 2u);
  EXPECT_EQ(info->partitions[0].name, "_default");
  EXPECT_EQ(info->partitions[1].name, "fiction");
  EXPECT_NE(info->partitions[0].id, info->partitions[1].id);

  EXPECT_CODE(coord_->DropPartition("default", "books", "_default"), kFailedPrecondition);
  EXPECT_CODE(coord_->DropPartition("default", "books", "poetry"), kNotFound);

  // A loaded partition must be released first.
  ASSERT_OK(Index("books"));
  ASSERT_OK(coord_->LoadCollection("default", "books", {"fiction"}));
  Status loaded = coord_->DropPartition("default", "books", "fiction");
  EXPECT_EQ(loaded.code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Mentions(loaded, "release")) << loaded.ToString();
  ASSERT_OK(coord_->ReleaseCollection("default", "books", {}));
  ASSERT_OK(coord_->DropPartition("default", "books", "fiction"));
  EXPECT_EQ(coord_->DescribeCollection("default", "books")->partitions.size(), 1u);
}

TEST_F(CoordTest, AliasesCrudAndConflicts) {
  Create("books");
  Create("films");
  ASSERT_OK(coord_->CreateAlias("default", "reading", "books"));
  EXPECT_OK(coord_->CreateAlias("default", "reading", "books"));  // same target: no-op

  Status taken = coord_->CreateAlias("default", "reading", "films");
  EXPECT_EQ(taken.code(), StatusCode::kAlreadyExists);
  EXPECT_TRUE(Mentions(taken, "alias")) << taken.ToString();

  Status clash = coord_->CreateAlias("default", "films", "books");
  EXPECT_EQ(clash.code(), StatusCode::kAlreadyExists);
  EXPECT_TRUE(Mentions(clash, "alias") && Mentions(clash, "collection")) << clash.ToString();

  // A collection cannot take an alias's name either.
  CreateCollectionRequest request;
  request.schema = Schema("reading");
  Status name_clash = coord_->CreateCollection(request).status();
  EXPECT_EQ(name_clash.code(), StatusCode::kAlreadyExists);
  EXPECT_TRUE(Mentions(name_clash, "alias")) << name_clash.ToString();

  EXPECT_CODE(coord_->CreateAlias("default", "x", "nope"), kNotFound);
  EXPECT_CODE(coord_->CreateAlias("default", "bad alias", "books"), kInvalidArgument);
  EXPECT_CODE(coord_->CreateAlias("nodb", "x", "books"), kNotFound);
  EXPECT_CODE(coord_->CreateAlias("default", "x", "reading"), kNotFound);  // target must be a collection

  // Describe by alias.
  auto via_alias = coord_->DescribeCollection("default", "reading");
  ASSERT_TRUE(via_alias.ok());
  EXPECT_EQ(via_alias->schema.name, "books");
  EXPECT_EQ(via_alias->aliases, std::vector<std::string>{"reading"});

  ASSERT_OK(coord_->CreateAlias("default", "also", "books"));
  ASSERT_OK(coord_->CreateAlias("default", "watching", "films"));
  EXPECT_EQ(*coord_->ListAliases("default", "books"), (std::vector<std::string>{"also", "reading"}));
  EXPECT_EQ(*coord_->ListAliases("default", ""), (std::vector<std::string>{"also", "reading", "watching"}));
  EXPECT_EQ(coord_->ListAliases("default", "nope").status().code(), StatusCode::kNotFound);

  ASSERT_OK(coord_->AlterAlias("default", "reading", "films"));
  EXPECT_EQ(*coord_->DescribeAlias("default", "reading"), "films");
  EXPECT_EQ(*coord_->ListAliases("default", "books"), std::vector<std::string>{"also"});
  EXPECT_CODE(coord_->AlterAlias("default", "ghost", "films"), kNotFound);
  EXPECT_CODE(coord_->AlterAlias("default", "reading", "nope"), kNotFound);

  ASSERT_OK(coord_->DropAlias("default", "reading"));
  EXPECT_CODE(coord_->DropAlias("default", "reading"), kNotFound);
  EXPECT_EQ(coord_->DescribeAlias("default", "reading").status().code(), StatusCode::kNotFound);

  // Aliases are per database.
  ASSERT_OK(coord_->CreateDatabase("other", {}));
  Create("books", 1, "other");
  EXPECT_OK(coord_->CreateAlias("other", "also", "books"));
}

TEST_F(CoordTest, CatalogSurvivesRestart) {
  ASSERT_OK(coord_->CreateDatabase("shop", {{"k", "v"}}));
  CollectionInfo books = Create("books");
  Create("orders", 2, "shop");
  ASSERT_OK(coord_->CreatePartition("default", "books", "fiction"));
  ASSERT_OK(coord_->CreateAlias("default", "reading", "books"));
  ASSERT_OK(Index("books"));
  ASSERT_OK(coord_->LoadCollection("default", "books", {}));
  SegmentInfo s = Flushed(books, 0, 42, 7);
  const int64_t id_before = *coord_->AllocateIds(1);
  const uint64_t ts_before = *coord_->AllocateTimestamp();

  Reopen();

  auto dbs = coord_->ListDatabases();
  ASSERT_EQ(dbs->size(), 2u);
  EXPECT_EQ(coord_->DescribeDatabase("shop")->properties.at("k"), "v");
  auto info = coord_->DescribeCollection("default", "reading");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->id, books.id);
  EXPECT_TRUE(info->loaded);
  EXPECT_EQ(info->partitions.size(), 2u);
  EXPECT_EQ(info->indexes.size(), 1u);
  EXPECT_EQ(coord_->DescribeCollection("shop", "orders")->num_shards, 2);
  auto segments = coord_->ListSegments(books.id);
  ASSERT_EQ(segments->size(), 1u);
  EXPECT_EQ((*segments)[0].id, s.id);
  EXPECT_EQ((*segments)[0].binlogs, s.binlogs);
  EXPECT_EQ(*coord_->ChannelCheckpoint(books.Channel(0)), 42u);
  EXPECT_GT(*coord_->AllocateIds(1), id_before);
  EXPECT_GT(*coord_->AllocateTimestamp(), ts_before);

  // Recovery: channels watched again, the loaded collection loaded again with its segment
  // and checkpoint, the unbuilt index build resubmitted.
  {
    std::lock_guard lock(data_.mu);
    EXPECT_EQ(data_.watched.size(), 2u);
  }
  {
    std::lock_guard lock(query_.mu);
    ASSERT_EQ(query_.loads.size(), 1u);
    EXPECT_EQ(query_.loads[0].info.id, books.id);
    ASSERT_EQ(query_.loads[0].segments.size(), 1u);
    EXPECT_EQ(query_.loads[0].checkpoints.at(books.Channel(0)), 42u);
  }
  EXPECT_EQ(index_.Count(), 1u);
  EXPECT_EQ(coord_->GetLoadState(books.id)->state, LoadState::kLoaded);
}

TEST_F(CoordTest, DamagedCatalogValueIsDataLossNamingTheKey) {
  CollectionInfo info = Create("books");
  Close();
  {
    auto meta = storage::SqliteMetaStore::Open(dir_.path() / "meta.db");
    ASSERT_TRUE(meta.ok());
    ASSERT_TRUE((*meta)->Put(keys::Collection(info.id), "{\"id\": \"oops\"").ok());
  }
  auto meta = storage::SqliteMetaStore::Open(dir_.path() / "meta.db");
  ASSERT_TRUE(meta.ok());
  auto objects = storage::LocalObjectStore::Open(dir_.path() / "objects");
  ASSERT_TRUE(objects.ok());
  auto coord = CoordinatorImpl::Open(options_, meta->get(), objects->get());
  ASSERT_FALSE(coord.ok());
  EXPECT_EQ(coord.status().code(), StatusCode::kDataLoss);
  EXPECT_TRUE(Mentions(coord.status(), keys::Collection(info.id))) << coord.status().ToString();
}

TEST_F(CoordTest, StartTwiceIsRefusedAndStopIsIdempotent) {
  EXPECT_CODE(coord_->Start(), kFailedPrecondition);
  coord_->Stop();
  coord_->Stop();
}

}  // namespace
}  // namespace tessera::coord
