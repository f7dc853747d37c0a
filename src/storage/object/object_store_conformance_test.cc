// The ObjectStore conformance suite: the same cases against every implementation.
//
// To add an implementation, write a factory (a class with
// `Result<ObjectStore*> Create(const std::filesystem::path& scratch)` that owns what it makes)
// and add it to `Implementations` below (and a name to FactoryNames). The S3 factory runs
// against a Swift s3api server the test starts itself (one per binary, a fresh bucket per
// test); if that server cannot start, every S3 case fails with the reason (no skipping).

#include <algorithm>
#include <atomic>
#include <map>
#include <set>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "storage/object/disk_cache.h"
#include "storage/object/fault_injecting_object_store.h"
#include "storage/object/local_object_store.h"
#include "storage/object/memory_object_store.h"
#include "storage/object/object_store.h"
#include "storage/object/object_store_test_util.h"
#ifdef TESSERA_CONFORMANCE_S3
#include "storage/object/s3_object_store.h"
#include "storage/object/swift_test_server.h"
#endif

namespace tessera::storage {
namespace {

namespace fs = std::filesystem;
using testing::PatternBytes;
using testing::ScratchDir;

// ---- Factories ------------------------------------------------------------------------

class MemoryStoreFactory {
 public:
  Result<ObjectStore*> Create(const fs::path&) {
    store_ = std::make_unique<MemoryObjectStore>();
    return store_.get();
  }

 private:
  std::unique_ptr<MemoryObjectStore> store_;
};

class LocalStoreFactory {
 public:
  Result<ObjectStore*> Create(const fs::path& scratch) {
    TESSERA_ASSIGN_OR_RETURN(store_, LocalObjectStore::Open(scratch / "store"));
    return store_.get();
  }

 private:
  std::unique_ptr<LocalObjectStore> store_;
};

// A DiskCache is itself an ObjectStore (a read-through decorator), so it must pass too.
class DiskCacheStoreFactory {
 public:
  Result<ObjectStore*> Create(const fs::path& scratch) {
    DiskCacheOptions options;
    options.capacity_bytes = 64 << 20;
    TESSERA_ASSIGN_OR_RETURN(cache_, DiskCache::Open(backend_, scratch / "cache", options));
    return cache_.get();
  }

 private:
  MemoryObjectStore backend_;
  std::unique_ptr<DiskCache> cache_;
};

// A fault-injecting wrapper with no rules must be invisible.
class FaultInjectingStoreFactory {
 public:
  Result<ObjectStore*> Create(const fs::path&) { return &wrapper_; }

 private:
  MemoryObjectStore backend_;
  FaultInjectingObjectStore wrapper_{backend_};
};

#ifdef TESSERA_CONFORMANCE_S3
// S3 on a shared Swift s3api server, a fresh bucket per test. Multipart kicks in at
// 5 MiB (Swift's minimum part size), so LargeObject goes through a 2-part upload.
// kTls picks the HTTPS server (verified against its throwaway CA); kVirtualHost
// addresses the bucket as <bucket>.s3.localhost instead of in the path.
enum S3Flavor { kPathStyle = 0, kVirtualHost = 1, kTls = 2 };

template <int kFlavor>
class S3StoreFactory {
 public:
  Result<ObjectStore*> Create(const fs::path&) {
    TESSERA_ASSIGN_OR_RETURN(testing::SwiftTestServer * server,
                             (kFlavor & kTls) ? testing::SwiftTestServer::SharedTls()
                                              : testing::SwiftTestServer::Shared());
    S3Options options = (kFlavor & kVirtualHost) ? server->VirtualHostOptions() : server->BaseOptions();
    options.multipart_threshold = 5 << 20;
    options.part_size = 5 << 20;
    TESSERA_ASSIGN_OR_RETURN(store_, server->NewBucketStore(options));
    return store_.get();
  }

 private:
  std::unique_ptr<S3ObjectStore> store_;
};
#endif

// Every implementation the suite runs against. This file is compiled twice: into
// storage_object_test (the embedded stores; ctest runs each case as its own process) and,
// with TESSERA_CONFORMANCE_S3, into storage_object_s3_test, which ctest runs as a few
// processes (split by gtest filter: path style, virtual host, TLS) so that the cases of
// each share one Swift server (a start costs seconds).
#ifdef TESSERA_CONFORMANCE_S3
using Implementations =
    ::testing::Types<S3StoreFactory<kPathStyle>, S3StoreFactory<kVirtualHost>, S3StoreFactory<kTls>,
                     S3StoreFactory<kTls | kVirtualHost>>;
#else
using Implementations = ::testing::Types<MemoryStoreFactory, LocalStoreFactory, DiskCacheStoreFactory,
                                         FaultInjectingStoreFactory>;
#endif

class FactoryNames {
 public:
  template <typename T>
  static std::string GetName(int) {
    if constexpr (std::is_same_v<T, MemoryStoreFactory>) return "Memory";
    if constexpr (std::is_same_v<T, LocalStoreFactory>) return "Local";
    if constexpr (std::is_same_v<T, DiskCacheStoreFactory>) return "DiskCacheOverMemory";
    if constexpr (std::is_same_v<T, FaultInjectingStoreFactory>) return "FaultInjectingOverMemory";
#ifdef TESSERA_CONFORMANCE_S3
    if constexpr (std::is_same_v<T, S3StoreFactory<kPathStyle>>) return "S3";
    if constexpr (std::is_same_v<T, S3StoreFactory<kVirtualHost>>) return "S3VirtualHost";
    if constexpr (std::is_same_v<T, S3StoreFactory<kTls>>) return "S3Tls";
    if constexpr (std::is_same_v<T, S3StoreFactory<kTls | kVirtualHost>>) return "S3TlsVirtualHost";
#endif
    return "Unnamed";
  }
};

// ---- Fixture --------------------------------------------------------------------------

template <typename Factory>
class ObjectStoreConformance : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<ObjectStore*> store = factory_.Create(scratch_.path());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = *store;
  }

  void Put(const std::string& key, const std::string& data) {
    Status status = store_->Put(key, data);
    ASSERT_TRUE(status.ok()) << key << ": " << status.ToString();
  }
  std::string Get(const std::string& key) {
    Result<std::string> data = store_->Get(key);
    EXPECT_TRUE(data.ok()) << key << ": " << data.status().ToString();
    return data.ok() ? *data : "<error>";
  }
  StatusCode GetCode(const std::string& key) { return store_->Get(key).status().code(); }
  Result<std::string> Range(const std::string& key, uint64_t offset, std::optional<uint64_t> length) {
    return store_->GetRange(key, offset, length);
  }
  // Every key under `prefix`, following continuation tokens with pages of `page`.
  std::vector<std::string> ListAll(const std::string& prefix = "", size_t page = kMaxListKeys,
                                   int* pages = nullptr) {
    std::vector<std::string> keys;
    ListOptions options;
    options.prefix = prefix;
    options.max_keys = page;
    int count = 0;
    while (true) {
      Result<ListResult> result = store_->List(options);
      EXPECT_TRUE(result.ok()) << result.status().ToString();
      if (!result.ok()) break;
      ++count;
      EXPECT_LE(result->objects.size(), page);
      for (const ObjectInfo& info : result->objects) keys.push_back(info.key);
      if (result->next_token.empty()) break;
      options.continuation_token = result->next_token;
      if (count > 10000) break;
    }
    if (pages) *pages = count;
    return keys;
  }

  ScratchDir scratch_;
  Factory factory_;
  ObjectStore* store_ = nullptr;
};

TYPED_TEST_SUITE_P(ObjectStoreConformance);

TYPED_TEST_P(ObjectStoreConformance, PutGetRoundTrip) {
  this->Put("a/b/c", "hello");
  EXPECT_EQ("hello", this->Get("a/b/c"));
  this->Put("top", std::string("bin\0ary\xff", 8));
  EXPECT_EQ(std::string("bin\0ary\xff", 8), this->Get("top"));
}

TYPED_TEST_P(ObjectStoreConformance, EmptyObject) {
  this->Put("empty", "");
  EXPECT_EQ("", this->Get("empty"));
  Result<ObjectInfo> info = this->store_->Head("empty");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(0u, info->size);
  EXPECT_EQ("empty", info->key);
  // Every range of an empty object is out of range (S3 answers 416).
  EXPECT_EQ(StatusCode::kOutOfRange, this->Range("empty", 0, std::nullopt).status().code());
  EXPECT_EQ(StatusCode::kOutOfRange, this->Range("empty", 0, 1).status().code());
  EXPECT_THAT(this->ListAll(), ::testing::ElementsAre("empty"));
}

TYPED_TEST_P(ObjectStoreConformance, LargeObject) {
  const std::string data = PatternBytes((5 << 20) + 123, 42);
  this->Put("big/object", data);
  EXPECT_TRUE(this->Get("big/object") == data);
  Result<ObjectInfo> info = this->store_->Head("big/object");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(data.size(), info->size);
  Result<std::string> middle = this->Range("big/object", 3 << 20, 1 << 20);
  ASSERT_TRUE(middle.ok()) << middle.status().ToString();
  EXPECT_TRUE(*middle == data.substr(3 << 20, 1 << 20));
  Result<std::string> tail = this->Range("big/object", data.size() - 10, std::nullopt);
  ASSERT_TRUE(tail.ok());
  EXPECT_EQ(data.substr(data.size() - 10), *tail);
}

TYPED_TEST_P(ObjectStoreConformance, OverwriteReplacesContentAndEtag) {
  this->Put("k", "first version, longer");
  Result<ObjectInfo> before = this->store_->Head("k");
  ASSERT_TRUE(before.ok());
  this->Put("k", "second");
  EXPECT_EQ("second", this->Get("k"));
  Result<ObjectInfo> after = this->store_->Head("k");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(6u, after->size);
  EXPECT_NE(before->etag, after->etag);
  EXPECT_THAT(this->ListAll(), ::testing::ElementsAre("k"));
}

TYPED_TEST_P(ObjectStoreConformance, GetRange) {
  this->Put("r", "0123456789");
  EXPECT_EQ("012", this->Range("r", 0, 3).value());
  EXPECT_EQ("3456", this->Range("r", 3, 4).value());
  EXPECT_EQ("789", this->Range("r", 7, std::nullopt).value());   // open-ended
  EXPECT_EQ("89", this->Range("r", 8, 100).value());             // clamped at the end
  EXPECT_EQ("9", this->Range("r", 9, 1).value());
  EXPECT_EQ("0123456789", this->Range("r", 0, std::nullopt).value());
  EXPECT_EQ(StatusCode::kOutOfRange, this->Range("r", 10, std::nullopt).status().code());
  EXPECT_EQ(StatusCode::kOutOfRange, this->Range("r", 11, 1).status().code());
  EXPECT_EQ(StatusCode::kOutOfRange, this->Range("r", UINT64_MAX, 1).status().code());
  EXPECT_EQ(StatusCode::kInvalidArgument, this->Range("r", 0, 0).status().code());
  EXPECT_EQ(StatusCode::kNotFound, this->Range("missing", 0, 1).status().code());
  EXPECT_EQ(StatusCode::kNotFound, this->Range("missing", 5, std::nullopt).status().code());
}

TYPED_TEST_P(ObjectStoreConformance, MissingObjects) {
  EXPECT_EQ(StatusCode::kNotFound, this->store_->Head("nope").status().code());
  EXPECT_EQ(StatusCode::kNotFound, this->store_->Head("no/such/dir/key").status().code());
  EXPECT_EQ(StatusCode::kNotFound, this->GetCode("nope"));
  this->Put("dir/key", "x");
  // A "directory" is not an object.
  EXPECT_EQ(StatusCode::kNotFound, this->store_->Head("dir").status().code());
  EXPECT_EQ(StatusCode::kNotFound, this->GetCode("dir"));
  EXPECT_EQ(StatusCode::kNotFound, this->GetCode("dir/key/deeper"));
}

TYPED_TEST_P(ObjectStoreConformance, HeadReportsSizeAndMtime) {
  const auto before = std::chrono::system_clock::now() - std::chrono::seconds(5);
  this->Put("h/obj", "12345");
  const auto after = std::chrono::system_clock::now() + std::chrono::seconds(5);
  Result<ObjectInfo> info = this->store_->Head("h/obj");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ("h/obj", info->key);
  EXPECT_EQ(5u, info->size);
  EXPECT_FALSE(info->etag.empty());
  EXPECT_GE(info->mtime, before);
  EXPECT_LE(info->mtime, after);
  Result<ListResult> listed = this->store_->List({});
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(1u, listed->objects.size());
  EXPECT_EQ(5u, listed->objects[0].size);
  EXPECT_EQ(info->etag, listed->objects[0].etag);
}

TYPED_TEST_P(ObjectStoreConformance, ObjectAndPrefixOfSameName) {
  // S3 allows "a" and "a/b" at once; so must every store.
  this->Put("a", "file");
  this->Put("a/b", "nested");
  this->Put("a/b/c", "deeper");
  EXPECT_EQ("file", this->Get("a"));
  EXPECT_EQ("nested", this->Get("a/b"));
  EXPECT_EQ("deeper", this->Get("a/b/c"));
  EXPECT_THAT(this->ListAll(), ::testing::ElementsAre("a", "a/b", "a/b/c"));
}

TYPED_TEST_P(ObjectStoreConformance, ListIsLexicographic) {
  // Byte order, not directory order: '-' (0x2d) < '.' < '/' (0x2f) < '0' < 'A' < 'a'.
  std::vector<std::string> keys = {"b",     "a/b",   "a-b",    "a0",  "a/b/c", "a",
                                   "a.b",   "A",     "a/a",    "aa",  "z/y/x", "a/b-c",
                                   "a/b/a", "a/ba",  "\xc3\xa9", "_u", "a b"};
  for (const std::string& key : keys) this->Put(key, key);
  std::vector<std::string> expected = keys;
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(expected, this->ListAll());
  EXPECT_EQ(expected, this->ListAll("", 1));
  EXPECT_EQ(expected, this->ListAll("", 4));
}

TYPED_TEST_P(ObjectStoreConformance, ListPrefix) {
  for (const std::string key : {"dir/sub1/a", "dir/sub1/b", "dir/sub2/a", "dir/subway", "dir2/x",
                                "dir", "di", "other/dir/a"}) {
    this->Put(key, "v");
  }
  EXPECT_THAT(this->ListAll("dir/"),
              ::testing::ElementsAre("dir/sub1/a", "dir/sub1/b", "dir/sub2/a", "dir/subway"));
  EXPECT_THAT(this->ListAll("dir/sub"),
              ::testing::ElementsAre("dir/sub1/a", "dir/sub1/b", "dir/sub2/a", "dir/subway"));
  EXPECT_THAT(this->ListAll("dir/sub1/"), ::testing::ElementsAre("dir/sub1/a", "dir/sub1/b"));
  EXPECT_THAT(this->ListAll("dir/sub1/a"), ::testing::ElementsAre("dir/sub1/a"));
  EXPECT_THAT(this->ListAll("dir"), ::testing::ElementsAre("dir", "dir/sub1/a", "dir/sub1/b",
                                                           "dir/sub2/a", "dir/subway", "dir2/x"));
  EXPECT_THAT(this->ListAll("d"), ::testing::SizeIs(7));
  EXPECT_THAT(this->ListAll("nothing"), ::testing::IsEmpty());
  EXPECT_THAT(this->ListAll("dir/none/"), ::testing::IsEmpty());
  EXPECT_THAT(this->ListAll("dir//"), ::testing::IsEmpty());
  EXPECT_THAT(this->ListAll("dir/../"), ::testing::IsEmpty());
  EXPECT_THAT(this->ListAll(""), ::testing::SizeIs(8));
}

TYPED_TEST_P(ObjectStoreConformance, ListPagination) {
  std::vector<std::string> keys;
  for (int i = 0; i < 25; ++i) {
    char key[32];
    std::snprintf(key, sizeof(key), "p/%02d/obj", i);
    keys.push_back(key);
  }
  for (auto it = keys.rbegin(); it != keys.rend(); ++it) this->Put(*it, *it);
  this->Put("q/outside", "x");

  int pages = 0;
  EXPECT_EQ(keys, this->ListAll("p/", 7, &pages));
  EXPECT_EQ(4, pages);  // 7 + 7 + 7 + 4

  // The first page: exactly max_keys, a token; the last page: no token.
  ListOptions options;
  options.prefix = "p/";
  options.max_keys = 7;
  Result<ListResult> first = this->store_->List(options);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(7u, first->objects.size());
  EXPECT_FALSE(first->next_token.empty());
  EXPECT_EQ("p/00/obj", first->objects.front().key);
  EXPECT_EQ("p/06/obj", first->objects.back().key);

  // A page that ends exactly at the last key may or may not carry a token (S3 says
  // IsTruncated=false); following it must give nothing more.
  EXPECT_EQ(keys, this->ListAll("p/", 5, &pages));
  EXPECT_LE(pages, 6);
  EXPECT_EQ(keys, this->ListAll("p/", 25, &pages));
  EXPECT_LE(pages, 2);

  // A key added behind the cursor is not repeated; one ahead of it shows up.
  options.continuation_token = first->next_token;
  this->Put("p/00/new", "x");
  this->Put("p/99/new", "x");
  std::vector<std::string> rest;
  while (true) {
    Result<ListResult> page = this->store_->List(options);
    ASSERT_TRUE(page.ok());
    for (const ObjectInfo& info : page->objects) rest.push_back(info.key);
    if (page->next_token.empty()) break;
    options.continuation_token = page->next_token;
  }
  ASSERT_EQ(19u, rest.size());
  EXPECT_EQ("p/07/obj", rest.front());
  EXPECT_EQ("p/99/new", rest.back());
}

TYPED_TEST_P(ObjectStoreConformance, ListRejectsBadOptions) {
  ListOptions options;
  options.max_keys = 0;
  EXPECT_EQ(StatusCode::kInvalidArgument, this->store_->List(options).status().code());
  options = {};
  options.continuation_token = "garbage";
  EXPECT_EQ(StatusCode::kInvalidArgument, this->store_->List(options).status().code());
  options = {};
  options.prefix = "/abs";
  EXPECT_EQ(StatusCode::kInvalidArgument, this->store_->List(options).status().code());
  options = {};
  options.prefix = std::string("a\0b", 3);
  EXPECT_EQ(StatusCode::kInvalidArgument, this->store_->List(options).status().code());
  options = {};
  options.max_keys = 1 << 30;  // clamped, not an error
  EXPECT_TRUE(this->store_->List(options).ok());
}

TYPED_TEST_P(ObjectStoreConformance, Delete) {
  this->Put("d/1", "x");
  this->Put("d/2", "y");
  this->Put("d/sub/3", "z");
  ASSERT_TRUE(this->store_->Delete("d/1").ok());
  EXPECT_EQ(StatusCode::kNotFound, this->GetCode("d/1"));
  EXPECT_TRUE(this->store_->Delete("d/1").ok()) << "deleting a missing key is not an error";
  EXPECT_TRUE(this->store_->Delete("never/existed").ok());
  ASSERT_TRUE(this->store_->Delete("d/sub/3").ok());
  EXPECT_EQ("y", this->Get("d/2"));
  EXPECT_THAT(this->ListAll(), ::testing::ElementsAre("d/2"));
  // The prefix can be used again after its last object went away.
  this->Put("d/sub/3", "again");
  EXPECT_EQ("again", this->Get("d/sub/3"));
}

TYPED_TEST_P(ObjectStoreConformance, DeleteMany) {
  for (const std::string key : {"m/1", "m/2", "m/3", "n/1"}) this->Put(key, key);
  std::vector<std::string> victims = {"m/1", "m/3", "m/missing", "n/1", "x/y/z"};
  ASSERT_TRUE(this->store_->DeleteMany(victims).ok());
  EXPECT_THAT(this->ListAll(), ::testing::ElementsAre("m/2"));
  EXPECT_TRUE(this->store_->DeleteMany(std::vector<std::string>{}).ok());
  // One bad key rejects the whole call before anything is deleted.
  std::vector<std::string> with_bad = {"m/2", "../escape"};
  EXPECT_EQ(StatusCode::kInvalidArgument, this->store_->DeleteMany(with_bad).code());
  EXPECT_EQ("m/2", this->Get("m/2"));
}

TYPED_TEST_P(ObjectStoreConformance, Copy) {
  const std::string data = PatternBytes(300000, 7);
  this->Put("src/obj", data);
  ASSERT_TRUE(this->store_->Copy("src/obj", "dst/deep/obj").ok());
  EXPECT_TRUE(this->Get("dst/deep/obj") == data);
  // The copy is independent of later writes to the source.
  this->Put("src/obj", "changed");
  EXPECT_TRUE(this->Get("dst/deep/obj") == data);
  // Copy onto an existing key replaces it; copy onto itself is fine.
  ASSERT_TRUE(this->store_->Copy("src/obj", "dst/deep/obj").ok());
  EXPECT_EQ("changed", this->Get("dst/deep/obj"));
  ASSERT_TRUE(this->store_->Copy("src/obj", "src/obj").ok());
  EXPECT_EQ("changed", this->Get("src/obj"));
  this->Put("empty", "");
  ASSERT_TRUE(this->store_->Copy("empty", "empty2").ok());
  EXPECT_EQ("", this->Get("empty2"));
  EXPECT_EQ(StatusCode::kNotFound, this->store_->Copy("missing", "dst/x").code());
  EXPECT_EQ(StatusCode::kNotFound, this->GetCode("dst/x"));
  EXPECT_THAT(this->ListAll(), ::testing::ElementsAre("dst/deep/obj", "empty", "empty2", "src/obj"));
}

TYPED_TEST_P(ObjectStoreConformance, UnicodeAndSpecialCharacterKeys) {
  std::vector<std::string> keys = {
      "\xc3\xbcn\xc3\xaf" "c\xc3\xb8" "d\xc3\xa9/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e/\xd0\xba\xd0\xbb\xd1\x8e\xd1\x87",
      "emoji/\xf0\x9f\x98\x80",
      "sp ace/plus+eq=amp&pct%20q?h#",
      "dots/.hidden",
      "dots/..x",
      "dots/x..",
      "dots/...",
      "back\\slash",
      "colon:semi;comma,",
      "~tilde/'quote'\"dq\"",
      "x.obj",          // names that look like the local store's own suffixes
      "x.obj/y.dir",
      "x.dir",
      "x.dir/y.obj",
      "x.tmp",
      "tmp/a",
      "objects/a",
      "LOCK",
      "TESSERA_OBJECT_STORE",
      "*glob?[x]",
      "-leading-dash",
      "trailing space ",
      std::string(kMaxObjectKeySegmentBytes, 's'),
  };
  for (const std::string& key : keys) this->Put(key, "v:" + key);
  for (const std::string& key : keys) EXPECT_EQ("v:" + key, this->Get(key)) << key;
  std::vector<std::string> expected = keys;
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(expected, this->ListAll());
  EXPECT_THAT(this->ListAll("dots/."), ::testing::ElementsAre("dots/...", "dots/..x", "dots/.hidden"));
  EXPECT_THAT(this->ListAll("x.obj/"), ::testing::ElementsAre("x.obj/y.dir"));
}

TYPED_TEST_P(ObjectStoreConformance, LongestKey) {
  // kMaxObjectKeyBytes exactly, made of maximal segments.
  std::string key;
  while (key.size() + kMaxObjectKeySegmentBytes + 1 < kMaxObjectKeyBytes) {
    key += std::string(kMaxObjectKeySegmentBytes, static_cast<char>('a' + key.size() % 26)) + "/";
  }
  key += std::string(kMaxObjectKeyBytes - key.size(), 'z');
  ASSERT_EQ(kMaxObjectKeyBytes, key.size());
  this->Put(key, "long");
  EXPECT_EQ("long", this->Get(key));
  EXPECT_THAT(this->ListAll(), ::testing::ElementsAre(key));
  EXPECT_EQ(StatusCode::kInvalidArgument, this->store_->Put(key + "z", "x").code());
}

std::vector<std::string> BadKeys() {
  return {
      "",                                  // empty
      "/abs",                              // leading '/'
      "/",                                 //
      "dir/",                              // trailing '/'
      "a//b",                              // empty segment
      ".",                                 // dot segments
      "..",                                //
      "../escape",                         //
      "a/../../escape",                    //
      "a/./b",                             //
      "a/..",                              //
      "a/.",                               //
      std::string("nul\0byte", 8),         // control characters
      "new\nline",                         //
      "tab\there",                         //
      "del\x7f",                           //
      "\xff\xfe",                          // invalid UTF-8
      "\xc0\xaf",                          // overlong '/'
      "\xed\xa0\x80",                      // surrogate
      "trunc\xe6\x97",                     // truncated sequence
      "\xf4\x90\x80\x80",                  // above U+10FFFF
      std::string(kMaxObjectKeyBytes + 1, 'k'),                     // too long
      "seg/" + std::string(kMaxObjectKeySegmentBytes + 1, 's'),   // segment too long
  };
}

TYPED_TEST_P(ObjectStoreConformance, BadKeysAreInvalidArgumentEverywhere) {
  this->Put("good", "g");
  for (const std::string& bad : BadKeys()) {
    SCOPED_TRACE(internal::QuoteKey(bad));
    EXPECT_EQ(StatusCode::kInvalidArgument, ValidateObjectKey(bad).code());
    EXPECT_EQ(StatusCode::kInvalidArgument, this->store_->Put(bad, "x").code());
    EXPECT_EQ(StatusCode::kInvalidArgument, this->store_->Get(bad).status().code());
    EXPECT_EQ(StatusCode::kInvalidArgument, this->store_->GetRange(bad, 0, 1).status().code());
    EXPECT_EQ(StatusCode::kInvalidArgument, this->store_->Head(bad).status().code());
    EXPECT_EQ(StatusCode::kInvalidArgument, this->store_->Delete(bad).code());
    EXPECT_EQ(StatusCode::kInvalidArgument,
              this->store_->DeleteMany(std::vector<std::string>{"good", bad}).code());
    EXPECT_EQ(StatusCode::kInvalidArgument, this->store_->Copy("good", bad).code());
    EXPECT_EQ(StatusCode::kInvalidArgument, this->store_->Copy(bad, "good2").code());
  }
  EXPECT_THAT(this->ListAll(), ::testing::ElementsAre("good"));
  // Nothing escaped the store's directory.
  EXPECT_FALSE(fs::exists(this->scratch_.path() / "escape"));
  EXPECT_FALSE(fs::exists(this->scratch_.path().parent_path() / "escape"));
}

TYPED_TEST_P(ObjectStoreConformance, ConcurrentWritersNeverTear) {
  // Writers replace one key with whole distinct payloads while readers check that every
  // read is exactly one of them; others create and delete siblings under one prefix.
  constexpr int kWriters = 3;
  constexpr int kPutsPerWriter = 15;
  std::vector<std::string> payloads;
  for (int i = 0; i < kWriters * kPutsPerWriter; ++i) payloads.push_back(PatternBytes(20000 + 997 * i, i));
  const std::set<std::string> valid(payloads.begin(), payloads.end());
  this->Put("hot/key", payloads[0]);

  std::atomic<bool> done{false};
  std::atomic<int> torn{0};
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      for (int i = 0; i < kPutsPerWriter; ++i) {
        Status s = this->store_->Put("hot/key", payloads[w * kPutsPerWriter + i]);
        if (!s.ok()) { ++errors; ADD_FAILURE() << s.ToString(); }
      }
    });
  }
  threads.emplace_back([&] {
    while (!done.load()) {
      Result<std::string> data = this->store_->Get("hot/key");
      if (!data.ok()) {
        ++errors;
        ADD_FAILURE() << data.status().ToString();
      } else if (!valid.count(*data)) {
        ++torn;
      }
    }
  });
  threads.emplace_back([&] {  // churn the directory the writers also need
    for (int i = 0; i < 40; ++i) {
      const std::string key = "hot/churn/" + std::to_string(i % 3);
      Status put = this->store_->Put(key, "c");
      Status del = put.ok() ? this->store_->Delete(key) : put;
      if (!del.ok()) {
        ++errors;
        ADD_FAILURE() << del.ToString();
      }
    }
  });
  for (int t = 0; t < kWriters; ++t) threads[t].join();
  done = true;
  for (size_t t = kWriters; t < threads.size(); ++t) threads[t].join();
  EXPECT_EQ(0, torn.load());
  EXPECT_EQ(0, errors.load());
  EXPECT_EQ(1u, valid.count(this->Get("hot/key")));
  EXPECT_THAT(this->ListAll(), ::testing::ElementsAre("hot/key"));
}

REGISTER_TYPED_TEST_SUITE_P(ObjectStoreConformance, PutGetRoundTrip, EmptyObject, LargeObject,
                            OverwriteReplacesContentAndEtag, GetRange, MissingObjects,
                            HeadReportsSizeAndMtime, ObjectAndPrefixOfSameName, ListIsLexicographic,
                            ListPrefix, ListPagination, ListRejectsBadOptions, Delete, DeleteMany, Copy,
                            UnicodeAndSpecialCharacterKeys, LongestKey, BadKeysAreInvalidArgumentEverywhere,
                            ConcurrentWritersNeverTear);

#ifdef TESSERA_CONFORMANCE_S3
INSTANTIATE_TYPED_TEST_SUITE_P(Remote, ObjectStoreConformance, Implementations, FactoryNames);
#else
INSTANTIATE_TYPED_TEST_SUITE_P(Embedded, ObjectStoreConformance, Implementations, FactoryNames);
#endif

#ifndef TESSERA_CONFORMANCE_S3

// ---- ValidateObjectKey on its own -----------------------------------------------------

TEST(ValidateObjectKeyTest, AcceptsOrdinaryKeys) {
  for (const std::string key : {"a", "a/b/c", "collections/1/2/3/binlog/100/7", ".hidden", "a/.b",
                                "..a", "a..", "...", "a b", "\xe2\x82\xac", "\xf0\x9f\x98\x80"}) {
    EXPECT_TRUE(ValidateObjectKey(key).ok()) << key;
  }
}

TEST(ValidateObjectKeyTest, RejectsEveryBadKeyWithAMessage) {
  for (const std::string& bad : BadKeys()) {
    Status status = ValidateObjectKey(bad);
    EXPECT_EQ(StatusCode::kInvalidArgument, status.code()) << internal::QuoteKey(bad);
    EXPECT_FALSE(status.message().empty());
  }
  EXPECT_THAT(ValidateObjectKey("a/../b").message(), ::testing::HasSubstr("\"..\""));
  EXPECT_THAT(ValidateObjectKey(std::string("a\nb")).message(), ::testing::HasSubstr("a\\x0ab"));
}

TEST(ValidateObjectKeyTest, ListTokensRoundTrip) {
  EXPECT_EQ("a/b", internal::DecodeListToken(internal::EncodeListToken("a/b")).value());
  EXPECT_EQ(StatusCode::kInvalidArgument, internal::DecodeListToken("k1:").status().code());
  EXPECT_EQ(StatusCode::kInvalidArgument, internal::DecodeListToken("k1:../x").status().code());
  EXPECT_EQ(StatusCode::kInvalidArgument, internal::DecodeListToken("a/b").status().code());
}

#endif  // TESSERA_CONFORMANCE_S3

}  // namespace
}  // namespace tessera::storage
