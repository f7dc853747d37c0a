#include "storage/object/disk_cache.h"

#include <fcntl.h>
#include <unistd.h>

#include <fstream>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "storage/object/fault_injecting_object_store.h"
#include "storage/object/memory_object_store.h"
#include "storage/object/object_store_test_util.h"

namespace tessera::storage {
namespace {

namespace fs = std::filesystem;
using testing::PatternBytes;
using testing::ScratchDir;

// Bytes a cache file of `data_size` bytes for a key of `key_size` bytes takes with the
// default 64 KiB blocks (docs/format/local_object_store.md).
uint64_t EntryBytes(uint64_t data_size, uint64_t key_size) {
  const uint64_t blocks = data_size == 0 ? 0 : (data_size - 1) / (64 << 10) + 1;
  return data_size + 4 * blocks + key_size + 32;
}

void FlipByte(const fs::path& path, uint64_t offset) {
  int fd = ::open(path.c_str(), O_RDWR);
  ASSERT_GE(fd, 0) << path;
  char c;
  ASSERT_EQ(1, ::pread(fd, &c, 1, static_cast<off_t>(offset)));
  c ^= 0x01;
  ASSERT_EQ(1, ::pwrite(fd, &c, 1, static_cast<off_t>(offset)));
  ::close(fd);
}

// A memory backend behind a counting/fault-injecting wrapper, and a cache over both.
class DiskCacheTest : public ::testing::Test {
 protected:
  DiskCacheTest() : counted_(backend_) {}

  void OpenCache(DiskCacheOptions options = {}) {
    cache_.reset();
    Result<std::unique_ptr<DiskCache>> cache = DiskCache::Open(counted_, scratch_.path() / "cache", options);
    ASSERT_TRUE(cache.ok()) << cache.status().ToString();
    cache_ = std::move(cache).value();
  }
  void PutBackend(const std::string& key, const std::string& data) { ASSERT_TRUE(backend_.Put(key, data).ok()); }
  std::string Get(const std::string& key) {
    Result<std::string> data = cache_->Get(key);
    EXPECT_TRUE(data.ok()) << key << ": " << data.status().ToString();
    return data.ok() ? *data : "<error>";
  }
  uint64_t BackendGets() const { return counted_.calls(ObjectOp::kGet); }

  ScratchDir scratch_;
  MemoryObjectStore backend_;
  FaultInjectingObjectStore counted_;
  std::unique_ptr<DiskCache> cache_;
};

TEST_F(DiskCacheTest, MissThenHitWithCounters) {
  OpenCache();
  PutBackend("seg/1", "payload");
  EXPECT_EQ("payload", Get("seg/1"));
  EXPECT_EQ("payload", Get("seg/1"));
  EXPECT_EQ("yl", cache_->GetRange("seg/1", 2, 2).value());
  EXPECT_EQ(1u, BackendGets());
  DiskCacheStats stats = cache_->stats();
  EXPECT_EQ(1u, stats.misses);
  EXPECT_EQ(2u, stats.hits);
  EXPECT_EQ(1u, stats.downloads);
  EXPECT_EQ(0u, stats.evictions);
  EXPECT_EQ(1u, stats.entries);
  EXPECT_EQ(EntryBytes(7, 5), stats.bytes);
  EXPECT_TRUE(fs::exists(cache_->TEST_EntryPath("seg/1")));
  EXPECT_EQ(StatusCode::kNotFound, cache_->Get("missing").status().code());
  EXPECT_FALSE(cache_->Contains("missing"));
}

TEST_F(DiskCacheTest, RangeMissOfUncachedObjectCachesWholeObject) {
  OpenCache();
  const std::string data = PatternBytes(300000, 1);
  PutBackend("big", data);
  EXPECT_TRUE(cache_->GetRange("big", 200000, 10).value() == data.substr(200000, 10));
  EXPECT_TRUE(cache_->Contains("big"));
  EXPECT_EQ(StatusCode::kOutOfRange, cache_->GetRange("big", data.size(), std::nullopt).status().code());
  EXPECT_TRUE(cache_->GetRange("big", 1, std::nullopt).value() == data.substr(1));
  EXPECT_EQ(1u, BackendGets());
}

TEST_F(DiskCacheTest, EvictsLeastRecentlyUsedByBytes) {
  DiskCacheOptions options;
  options.capacity_bytes = 3 * EntryBytes(10000, 1);  // room for three entries
  options.max_object_bytes = 10000;
  OpenCache(options);
  for (const std::string key : {"a", "b", "c", "d"}) PutBackend(key, PatternBytes(10000, key[0]));
  Get("a");
  Get("b");
  Get("c");
  Get("a");  // a is now more recent than b
  Get("d");  // evicts b
  EXPECT_TRUE(cache_->Contains("a"));
  EXPECT_FALSE(cache_->Contains("b"));
  EXPECT_TRUE(cache_->Contains("c"));
  EXPECT_TRUE(cache_->Contains("d"));
  EXPECT_FALSE(fs::exists(cache_->TEST_EntryPath("b")));
  DiskCacheStats stats = cache_->stats();
  EXPECT_EQ(1u, stats.evictions);
  EXPECT_EQ(3u, stats.entries);
  EXPECT_LE(stats.bytes, options.capacity_bytes);
  Get("b");  // refetched; evicts c (the least recent now)
  EXPECT_FALSE(cache_->Contains("c"));
  EXPECT_EQ(5u, BackendGets());  // a, b, c, d, b again
  EXPECT_EQ(2u, cache_->stats().evictions);
}

TEST_F(DiskCacheTest, ObjectsAboveTheLimitBypassTheCache) {
  DiskCacheOptions options;
  options.capacity_bytes = 1 << 20;
  options.max_object_bytes = 1000;
  OpenCache(options);
  const std::string big = PatternBytes(5000, 3);
  PutBackend("big", big);
  EXPECT_TRUE(Get("big") == big);
  EXPECT_FALSE(cache_->Contains("big"));
  // A range of a large object is a ranged backend read, not a full download.
  EXPECT_TRUE(cache_->GetRange("big", 10, 20).value() == big.substr(10, 20));
  EXPECT_EQ(1u, counted_.calls(ObjectOp::kGetRange));
  EXPECT_EQ(1u, BackendGets());
  EXPECT_EQ(2u, cache_->stats().bypasses);
  EXPECT_EQ(0u, cache_->stats().entries);
}

TEST_F(DiskCacheTest, RestartRebuildsIndexFromDirectory) {
  OpenCache();
  PutBackend("x/1", "one");
  PutBackend("x/2", std::string(70000, 'z'));  // two blocks
  PutBackend("x/3", "");
  Get("x/1");
  Get("x/2");
  Get("x/3");
  const uint64_t bytes = cache_->stats().bytes;
  OpenCache();  // a new process would see the same directory
  EXPECT_TRUE(cache_->Contains("x/1"));
  EXPECT_TRUE(cache_->Contains("x/2"));
  EXPECT_TRUE(cache_->Contains("x/3"));
  EXPECT_EQ(3u, cache_->stats().entries);
  EXPECT_EQ(bytes, cache_->stats().bytes);
  EXPECT_EQ("one", Get("x/1"));
  EXPECT_EQ(std::string(70000, 'z'), Get("x/2"));
  EXPECT_EQ("", Get("x/3"));
  EXPECT_EQ(3u, BackendGets()) << "served from the rebuilt cache";
  EXPECT_EQ(3u, cache_->stats().hits);
}

TEST_F(DiskCacheTest, RestartKeepsMostRecentWhenCapacityShrinks) {
  OpenCache();
  PutBackend("old", PatternBytes(1000, 1));
  PutBackend("new", PatternBytes(1000, 2));
  Get("old");
  Get("new");
  const auto now = fs::file_time_type::clock::now();
  fs::last_write_time(cache_->TEST_EntryPath("old"), now - std::chrono::hours(2));
  fs::last_write_time(cache_->TEST_EntryPath("new"), now - std::chrono::hours(1));
  DiskCacheOptions options;
  options.capacity_bytes = EntryBytes(1000, 3) + 10;
  OpenCache(options);
  EXPECT_FALSE(cache_->Contains("old"));
  EXPECT_TRUE(cache_->Contains("new"));
  EXPECT_EQ(1u, cache_->stats().evictions);
}

TEST_F(DiskCacheTest, RestartDropsDamagedEntriesAndTempFiles) {
  OpenCache();
  PutBackend("good", "g");
  PutBackend("torn", PatternBytes(5000, 9));
  Get("good");
  Get("torn");
  const fs::path torn = cache_->TEST_EntryPath("torn");
  const fs::path dir = scratch_.path() / "cache";
  cache_.reset();
  fs::resize_file(torn, 4000);  // a crash mid-write (the footer is gone)
  std::ofstream(dir / "0000000000000000ffffffff.entry") << "garbage";
  std::ofstream(dir / "tmp/1-2.tmp") << "partial";
  OpenCache();
  EXPECT_TRUE(cache_->Contains("good"));
  EXPECT_FALSE(cache_->Contains("torn"));
  EXPECT_FALSE(fs::exists(torn));
  EXPECT_FALSE(fs::exists(dir / "0000000000000000ffffffff.entry"));
  EXPECT_TRUE(fs::is_empty(dir / "tmp"));
  EXPECT_EQ(1u, cache_->stats().entries);
}

TEST_F(DiskCacheTest, ChecksumMismatchDropsEntryAndRefetches) {
  OpenCache();
  const std::string data = PatternBytes(200000, 5);  // 4 blocks of 64 KiB
  PutBackend("obj", data);
  ASSERT_TRUE(Get("obj") == data);
  FlipByte(cache_->TEST_EntryPath("obj"), 150000);  // inside block 2
  // A range that touches only verified-good blocks is still a hit.
  EXPECT_TRUE(cache_->GetRange("obj", 0, 1000).value() == data.substr(0, 1000));
  EXPECT_EQ(0u, cache_->stats().checksum_failures);
  // A read over the damaged block never returns it: the entry is dropped and refetched.
  EXPECT_TRUE(cache_->GetRange("obj", 140000, 20000).value() == data.substr(140000, 20000));
  EXPECT_EQ(1u, cache_->stats().checksum_failures);
  EXPECT_EQ(2u, BackendGets());
  EXPECT_TRUE(cache_->Contains("obj"));
  EXPECT_TRUE(Get("obj") == data);  // the rewritten entry verifies
  // Damage to the metadata (the key or block checksums) is caught too.
  FlipByte(cache_->TEST_EntryPath("obj"), data.size() + 2);
  EXPECT_TRUE(Get("obj") == data);
  EXPECT_EQ(2u, cache_->stats().checksum_failures);
  EXPECT_EQ(3u, BackendGets());
}

TEST_F(DiskCacheTest, ConcurrentMissesShareOneDownload) {
  OpenCache();
  const std::string data = PatternBytes(100000, 11);
  PutBackend("hot", data);
  FaultRule slow;
  slow.op = ObjectOp::kGet;
  slow.action = FaultRule::Action::kDelay;
  slow.delay = std::chrono::milliseconds(300);
  counted_.AddRule(slow);
  constexpr int kReaders = 8;
  std::atomic<int> good{0};
  std::vector<std::thread> readers;
  for (int i = 0; i < kReaders; ++i) {
    readers.emplace_back([&] {
      Result<std::string> got = cache_->Get("hot");
      if (got.ok() && *got == data) ++good;
    });
  }
  for (std::thread& t : readers) t.join();
  EXPECT_EQ(kReaders, good.load());
  EXPECT_EQ(1u, BackendGets());
  DiskCacheStats stats = cache_->stats();
  EXPECT_EQ(1u, stats.misses);
  EXPECT_EQ(1u, stats.downloads);
  EXPECT_EQ(static_cast<uint64_t>(kReaders - 1), stats.coalesced + stats.hits);
}

TEST_F(DiskCacheTest, BackendErrorsAreReturnedAndNotCached) {
  OpenCache();
  PutBackend("k", "v");
  FaultRule fail;
  fail.op = ObjectOp::kGet;
  fail.times = 1;
  counted_.AddRule(fail);
  EXPECT_EQ(StatusCode::kUnavailable, cache_->Get("k").status().code());
  EXPECT_FALSE(cache_->Contains("k"));
  EXPECT_EQ("v", Get("k"));
  EXPECT_TRUE(cache_->Contains("k"));
}

TEST_F(DiskCacheTest, WritesThroughTheCacheInvalidate) {
  OpenCache();
  PutBackend("k", "old");
  PutBackend("src", "copied");
  EXPECT_EQ("old", Get("k"));
  ASSERT_TRUE(cache_->Put("k", "new").ok());
  EXPECT_FALSE(cache_->Contains("k"));
  EXPECT_EQ("new", Get("k"));
  ASSERT_TRUE(cache_->Copy("src", "k").ok());
  EXPECT_EQ("copied", Get("k"));
  ASSERT_TRUE(cache_->Delete("k").ok());
  EXPECT_FALSE(cache_->Contains("k"));
  EXPECT_EQ(StatusCode::kNotFound, cache_->Get("k").status().code());
  EXPECT_EQ("copied", Get("src"));
  ASSERT_TRUE(cache_->DeleteMany(std::vector<std::string>{"src"}).ok());
  EXPECT_FALSE(cache_->Contains("src"));
}

TEST_F(DiskCacheTest, WriteDuringDownloadIsNotOverwrittenByStaleBytes) {
  OpenCache();
  PutBackend("k", "old");
  FaultRule slow;
  slow.op = ObjectOp::kGet;
  slow.action = FaultRule::Action::kDelay;
  slow.delay = std::chrono::milliseconds(300);
  slow.times = 1;
  counted_.AddRule(slow);
  std::thread reader([&] { (void)cache_->Get("k"); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_TRUE(cache_->Put("k", "new").ok());
  EXPECT_EQ("new", Get("k"));  // does not join the stale download
  reader.join();
  EXPECT_EQ("new", Get("k"));  // the stale download did not land in the cache
}

TEST_F(DiskCacheTest, RejectsBadOptionsAndSecondOpen) {
  DiskCacheOptions options;
  options.block_bytes = 1000;
  EXPECT_EQ(StatusCode::kInvalidArgument, DiskCache::Open(counted_, scratch_.path() / "c", options).status().code());
  options = {};
  options.capacity_bytes = 0;
  EXPECT_EQ(StatusCode::kInvalidArgument, DiskCache::Open(counted_, scratch_.path() / "c", options).status().code());
  OpenCache();
  EXPECT_EQ(StatusCode::kFailedPrecondition, DiskCache::Open(counted_, scratch_.path() / "cache").status().code());
}

}  // namespace
}  // namespace tessera::storage
