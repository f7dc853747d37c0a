// LocalLog-specific behaviour: the on-disk format, recovery (torn tails, bit flips),
// segment rollover, group commit. Cases every Log must pass are in log_conformance_test.cc.

#include "storage/log/local_log.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "harness/tmpfs_mount.h"
#include "storage/log/log_test_util.h"
#include "storage/log/wal_format.h"

namespace tessera::storage {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
}

class LocalLogTest : public ::testing::Test {
 protected:
  void Open() {
    log_.reset();
    auto opened = LocalLog::Open(dir_.path(), options_);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    log_ = std::move(opened).value();
  }
  void Close() { log_.reset(); }

  uint64_t Write(const std::string& payload, const std::string& key = "") {
    auto offsets = log_->Append("ch", std::vector<std::string>{payload}, key);
    EXPECT_TRUE(offsets.ok()) << offsets.status().ToString();
    return offsets.ok() ? offsets->front() : ~0ull;
  }

  std::vector<std::string> ReadAll(const std::string& channel = "ch") {
    std::vector<std::string> out;
    auto last = log_->LastOffset(channel);
    EXPECT_TRUE(last.ok()) << last.status().ToString();
    if (!last.ok() || !last->has_value()) return out;
    auto first = log_->FirstOffset(channel);
    auto sub = log_->Subscribe(channel, *first);
    EXPECT_TRUE(sub.ok()) << sub.status().ToString();
    uint64_t next = *first;
    while (next <= **last) {
      auto batch = (*sub)->Poll(100, 5s);
      EXPECT_TRUE(batch.ok()) << batch.status().ToString();
      if (!batch.ok() || batch->empty()) break;
      for (auto& r : *batch) {
        EXPECT_EQ(r.offset, next);
        ++next;
        out.push_back(std::move(r.payload));
      }
    }
    return out;
  }

  std::vector<std::string> SegmentFiles(const std::string& channel = "ch") {
    std::vector<std::string> files;
    for (const auto& e : fs::directory_iterator(dir_.path() + "/" + channel)) files.push_back(e.path().string());
    std::sort(files.begin(), files.end());
    return files;
  }

  std::string Segment0() { return dir_.path() + "/ch/" + wal::SegmentFileName(0); }

  testing::TempDir dir_;
  LocalLogOptions options_;
  std::unique_ptr<LocalLog> log_;
};

TEST_F(LocalLogTest, FileLayoutMatchesTheFormatDoc) {
  Open();
  ASSERT_EQ(Write("hello", "k1"), 0u);
  ASSERT_EQ(Write("world"), 1u);
  Close();
  ASSERT_EQ(SegmentFiles(), (std::vector<std::string>{Segment0()}));
  const std::string data = ReadFile(Segment0());
  ASSERT_EQ(data.size(), wal::kSegmentHeaderSize + wal::FrameSize(2, 5) + wal::FrameSize(0, 5));
  EXPECT_EQ(data.substr(0, 4), "TWAL");
  EXPECT_EQ(data[4], 1);  // version
  uint64_t base = 99;
  std::string why;
  ASSERT_TRUE(wal::DecodeSegmentHeader(data, &base, &why)) << why;
  EXPECT_EQ(base, 0u);
  wal::Frame frame;
  ASSERT_EQ(wal::ParseFrame(std::string_view(data).substr(wal::kSegmentHeaderSize), &frame, &why),
            wal::ParseOutcome::kOk)
      << why;
  EXPECT_EQ(frame.offset, 0u);
  EXPECT_EQ(frame.key, "k1");
  EXPECT_EQ(frame.payload, "hello");
  EXPECT_EQ(frame.flags, wal::kFirstInBatch | wal::kLastInBatch);
  // The payload sits right after the 24-byte header and the key.
  EXPECT_EQ(data.substr(wal::kSegmentHeaderSize + 24, 2), "k1");
  EXPECT_EQ(data.substr(wal::kSegmentHeaderSize + 26, 5), "hello");
}

TEST_F(LocalLogTest, ReopenAfterCleanClose) {
  Open();
  for (int i = 0; i < 10; ++i) Write(testing::Numbered("r", i), testing::Numbered("key", i));
  Close();
  Open();
  auto last = log_->LastOffset("ch");
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(*last, 9u);
  EXPECT_EQ(ReadAll().size(), 10u);
  EXPECT_EQ(Write("r3", "key3"), 3u);  // window rebuilt from disk
  EXPECT_EQ(Write("r10"), 10u);
  EXPECT_EQ(log_->stats().deduplicated, 1u);
}

TEST_F(LocalLogTest, SecondOpenOfTheSameRootFails) {
  Open();
  auto second = LocalLog::Open(dir_.path(), options_);
  EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition);
  Close();
  EXPECT_TRUE(LocalLog::Open(dir_.path(), options_).ok());
}

TEST_F(LocalLogTest, BadOptionsAndMissingRoot) {
  LocalLogOptions bad;
  bad.segment_bytes = 8;
  EXPECT_EQ(LocalLog::Open(dir_.path(), bad).status().code(), StatusCode::kInvalidArgument);
  LocalLogOptions no_create;
  no_create.create_if_missing = false;
  EXPECT_EQ(LocalLog::Open(dir_.path() + "/missing", no_create).status().code(), StatusCode::kNotFound);
  options_.max_record_bytes = 10;
  Open();
  EXPECT_EQ(log_->Append("ch", std::vector<std::string>{std::string(11, 'x')}).status().code(),
            StatusCode::kInvalidArgument);
}

// Cutting the file at every byte inside the last record recovers exactly the records before
// it; appends then continue at the lost record's offset.
TEST_F(LocalLogTest, TornTailAtEveryByteOfTheLastRecord) {
  Open();
  for (int i = 0; i < 4; ++i) Write(testing::MakePayload(testing::Numbered("rec", i), 40));
  Write(testing::MakePayload("last", 60), "last-key");
  Close();
  const std::string original = ReadFile(Segment0());
  const size_t last_frame = original.size() - wal::FrameSize(8, 60);
  for (size_t cut = last_frame; cut < original.size(); ++cut) {
    SCOPED_TRACE(testing::Numbered("cut at byte ", cut));
    WriteFile(Segment0(), original.substr(0, cut));
    Open();
    auto last = log_->LastOffset("ch");
    ASSERT_TRUE(last.ok()) << last.status().ToString();
    EXPECT_EQ(*last, 3u);
    const auto records = ReadAll();
    ASSERT_EQ(records.size(), 4u);
    EXPECT_EQ(records[3], testing::MakePayload("rec3", 40));
    EXPECT_EQ(fs::file_size(Segment0()), last_frame);  // the torn bytes were cut off
    // The lost batch's key was never durable, so a retry writes it again.
    EXPECT_EQ(Write(testing::MakePayload("last", 60), "last-key"), 4u);
    Close();
  }
  // And a cut exactly at a frame boundary is simply a shorter log.
  WriteFile(Segment0(), original.substr(0, last_frame));
  Open();
  EXPECT_EQ(ReadAll().size(), 4u);
}

// A batch is atomic: a tear anywhere inside it removes all of it.
TEST_F(LocalLogTest, TornBatchIsDroppedWhole) {
  Open();
  Write("before");
  auto offsets = log_->Append("ch", std::vector<std::string>{"b1", "b2", "b3"}, "batch");
  ASSERT_TRUE(offsets.ok());
  Close();
  const std::string original = ReadFile(Segment0());
  const size_t batch_start = wal::kSegmentHeaderSize + wal::FrameSize(0, 6);
  for (size_t cut = batch_start + 1; cut < original.size(); ++cut) {
    SCOPED_TRACE(testing::Numbered("cut at byte ", cut));
    WriteFile(Segment0(), original.substr(0, cut));
    Open();
    EXPECT_EQ(ReadAll(), (std::vector<std::string>{"before"}));
    Close();
  }
}

TEST_F(LocalLogTest, GarbageAfterTheLastRecordIsCut) {
  Open();
  for (int i = 0; i < 5; ++i) Write(testing::Numbered("r", i));
  Close();
  const std::string original = ReadFile(Segment0());
  for (const std::string& tail : {std::string(4096, '\0'), std::string(100, '\xff'),
                                  testing::MakePayload("junk", 1000)}) {
    WriteFile(Segment0(), original + tail);
    Open();
    EXPECT_EQ(ReadAll().size(), 5u);
    EXPECT_EQ(Write("r5"), 5u);
    Close();
  }
}

// Flipping any bit of a record that later (separately synced) records follow is DataLoss
// naming the channel, the segment file, the byte offset and the record offset.
TEST_F(LocalLogTest, BitFlipBeforeTheTailIsDataLoss) {
  Open();
  std::vector<size_t> frame_start;
  size_t pos = wal::kSegmentHeaderSize;
  for (int i = 0; i < 8; ++i) {
    frame_start.push_back(pos);
    Write(testing::MakePayload(testing::Numbered("r", i), 50));
    pos += wal::FrameSize(0, 50);
  }
  ASSERT_EQ(Write("other-channel-ok"), 8u);
  ASSERT_TRUE(log_->Append("other", std::vector<std::string>{"x"}).ok());
  Close();
  const std::string original = ReadFile(Segment0());
  const size_t target = frame_start[3];
  for (size_t byte = target; byte < frame_start[4]; ++byte) {
    for (int bit : {0, 5}) {
      SCOPED_TRACE(testing::Numbered("byte ", byte) + testing::Numbered(" bit ", bit));
      std::string damaged = original;
      damaged[byte] = static_cast<char>(damaged[byte] ^ (1 << bit));
      WriteFile(Segment0(), damaged);
      Open();
      auto last = log_->LastOffset("ch");
      ASSERT_EQ(last.status().code(), StatusCode::kDataLoss) << last.status().ToString();
      const std::string msg = last.status().message();
      EXPECT_NE(msg.find("channel ch"), std::string::npos) << msg;
      EXPECT_NE(msg.find(wal::SegmentFileName(0)), std::string::npos) << msg;
      EXPECT_NE(msg.find(testing::Numbered("byte offset ", target)), std::string::npos) << msg;
      EXPECT_NE(msg.find("record offset 3"), std::string::npos) << msg;
      // Every operation on the damaged channel refuses; other channels work.
      EXPECT_EQ(log_->Append("ch", std::vector<std::string>{"x"}).status().code(), StatusCode::kDataLoss);
      EXPECT_EQ(log_->Subscribe("ch", 0).status().code(), StatusCode::kDataLoss);
      auto other = log_->LastOffset("other");
      ASSERT_TRUE(other.ok());
      EXPECT_EQ(*other, 0u);
      Close();
    }
  }
  // Repairing the file makes the channel usable again (errors are not cached).
  WriteFile(Segment0(), original);
  Open();
  EXPECT_EQ(ReadAll().size(), 9u);
}

TEST_F(LocalLogTest, DamagedSegmentHeaderIsDataLoss) {
  Open();
  Write("a");
  Close();
  std::string data = ReadFile(Segment0());
  data[9] ^= 1;  // base offset
  WriteFile(Segment0(), data);
  Open();
  EXPECT_EQ(log_->LastOffset("ch").status().code(), StatusCode::kDataLoss);
}

TEST_F(LocalLogTest, SegmentRollover) {
  options_.segment_bytes = 1024;
  Open();
  std::vector<std::string> written;
  for (int i = 0; i < 100; ++i) {
    written.push_back(testing::MakePayload(testing::Numbered("r", i), 100));
    ASSERT_EQ(Write(written.back()), static_cast<uint64_t>(i));
  }
  // A batch larger than a segment still goes into one (fresh) segment.
  const std::vector<std::string> big = {std::string(3000, 'B'), std::string(10, 'C')};
  auto offsets = log_->Append("ch", big);
  ASSERT_TRUE(offsets.ok());
  EXPECT_EQ(*offsets, (std::vector<uint64_t>{100, 101}));
  written.insert(written.end(), big.begin(), big.end());

  const auto files = SegmentFiles();
  EXPECT_GT(files.size(), 10u);
  uint64_t previous_base = 0;
  for (size_t i = 0; i < files.size(); ++i) {
    uint64_t base = 0;
    ASSERT_TRUE(wal::ParseSegmentFileName(fs::path(files[i]).filename().string(), &base)) << files[i];
    if (i > 0) {
      EXPECT_GT(base, previous_base);
    }
    previous_base = base;
    if (i + 1 < files.size()) {
      EXPECT_LE(fs::file_size(files[i]), 1024u) << files[i];
    }
  }
  EXPECT_EQ(ReadAll(), written);
  Close();
  Open();
  EXPECT_EQ(ReadAll(), written);
  EXPECT_EQ(Write("after"), 102u);

  // Truncate deletes whole segments strictly before the offset.
  ASSERT_TRUE(log_->Truncate("ch", 50).ok());
  auto first = log_->FirstOffset("ch");
  ASSERT_TRUE(first.ok());
  EXPECT_LE(*first, 50u);
  EXPECT_GT(*first, 40u);  // 100-byte records, ~8 per 1 KiB segment
  EXPECT_LT(SegmentFiles().size(), files.size());
  Close();
  Open();
  auto reopened_first = log_->FirstOffset("ch");
  ASSERT_TRUE(reopened_first.ok());
  EXPECT_EQ(*reopened_first, *first);
  EXPECT_EQ(ReadAll().size(), 103 - *first);
}

TEST_F(LocalLogTest, TruncateToTheEndKeepsTheNextOffset) {
  options_.segment_bytes = 256;
  Open();
  for (int i = 0; i < 20; ++i) Write(std::string(100, 'x'));
  ASSERT_TRUE(log_->Truncate("ch", 20).ok());
  Close();
  Open();
  auto last = log_->LastOffset("ch");
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(*last, 19u);
  EXPECT_EQ(Write("next"), 20u);
}

TEST_F(LocalLogTest, CorruptionInAnOlderSegmentIsDataLoss) {
  options_.segment_bytes = 512;
  Open();
  for (int i = 0; i < 30; ++i) Write(std::string(100, 'x'));
  Close();
  auto files = SegmentFiles();
  ASSERT_GE(files.size(), 3u);
  // The last frame of an older segment is not a tail: it was synced before the roll.
  std::string data = ReadFile(files[1]);
  data[data.size() - 3] ^= 0x10;
  WriteFile(files[1], data);
  Open();
  auto last = log_->LastOffset("ch");
  ASSERT_EQ(last.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(last.status().message().find(files[1]), std::string::npos) << last.status().message();
  Close();
  // A missing middle segment is DataLoss too.
  fs::remove(files[1]);
  Open();
  EXPECT_EQ(log_->LastOffset("ch").status().code(), StatusCode::kDataLoss);
}

TEST_F(LocalLogTest, LeftoverTemporarySegmentIsRemoved) {
  Open();
  Write("a");
  Close();
  WriteFile(dir_.path() + "/ch/" + wal::SegmentFileName(1) + ".tmp", "partial");
  Open();
  EXPECT_EQ(ReadAll(), (std::vector<std::string>{"a"}));
  EXPECT_EQ(SegmentFiles().size(), 1u);
}

TEST_F(LocalLogTest, IdempotencyWindowIsBounded) {
  options_.idempotency_window = 4;
  Open();
  for (int i = 0; i < 10; ++i) Write(testing::Numbered("r", i), testing::Numbered("k", i));
  EXPECT_EQ(Write("r9", "k9"), 9u);   // remembered
  EXPECT_EQ(Write("r0", "k0"), 10u);  // forgotten: written again
  Close();
  Open();  // rebuilt from disk: the 4 most recent keys are k7 k8 k9 k0
  EXPECT_EQ(Write("r0", "k0"), 10u);
  EXPECT_EQ(Write("r7", "k7"), 7u);
  EXPECT_EQ(Write("r6", "k6"), 11u);
}

// Concurrent appenders share fdatasyncs: with 8 threads there are far fewer syncs than appends.
TEST_F(LocalLogTest, GroupCommitSharesSyncs) {
  Open();
  Write("create the channel and its first segment");
  constexpr int kThreads = 8;
  constexpr int kAppends = 50;
  const LocalLogStats before = log_->stats();
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kAppends; ++i) {
        auto r = log_->Append("ch", std::vector<std::string>{std::string(1024, static_cast<char>('a' + t))});
        ASSERT_TRUE(r.ok()) << r.status().ToString();
      }
    });
  }
  for (auto& th : threads) th.join();
  const LocalLogStats after = log_->stats();
  const uint64_t appends = after.appends - before.appends;
  const uint64_t syncs = after.syncs - before.syncs;
  EXPECT_EQ(appends, static_cast<uint64_t>(kThreads * kAppends));
  EXPECT_EQ(after.groups - before.groups, syncs);  // one fdatasync per group, no rolls here
  EXPECT_LT(syncs, appends * 3 / 4) << "group commit did not batch: " << syncs << " syncs for " << appends
                                    << " appends";
  RecordProperty("appends", static_cast<int>(appends));
  RecordProperty("syncs", static_cast<int>(syncs));
  EXPECT_EQ(ReadAll().size(), appends + 1);
}

// A subscriber tailing while segments roll sees every record once, in order.
TEST_F(LocalLogTest, TailingAcrossSegmentRolls) {
  options_.segment_bytes = 600;
  Open();
  auto sub = log_->Subscribe("ch", 0);
  ASSERT_TRUE(sub.ok());
  std::thread writer([&] {
    for (int i = 0; i < 200; ++i) Write(testing::Numbered("r", i));
  });
  for (uint64_t i = 0; i < 200; ++i) {
    auto rec = (*sub)->Next(10s);
    ASSERT_TRUE(rec.ok()) << rec.status().ToString();
    EXPECT_EQ(rec->offset, i);
    EXPECT_EQ(rec->payload, testing::Numbered("r", i));
  }
  writer.join();
}

// A subscriber whose position was truncated away gets OutOfRange, not a silent skip.
TEST_F(LocalLogTest, SubscriberBehindTruncationGetsOutOfRange) {
  options_.segment_bytes = 256;
  Open();
  for (int i = 0; i < 10; ++i) Write(std::string(100, 'x'));
  auto sub = log_->Subscribe("ch", 0);
  ASSERT_TRUE(sub.ok());
  ASSERT_TRUE(log_->Truncate("ch", 8).ok());
  EXPECT_EQ((*sub)->Poll(10, 1s).status().code(), StatusCode::kOutOfRange);
}

// Reliability test plan 2.5: on a full filesystem an append is refused with a clear error
// and leaves nothing behind (no record, no segment, no idempotency key); once space is
// freed the channel takes appends again, with no gap in its offsets, across a reopen too.
TEST_F(LocalLogTest, DiskFullRefusesAppendsWithoutTraceAndResumesOnceSpaceIsFreed) {
  tessera::testing::TmpfsMount fs(dir_.path() + "/fs", 1 << 20);
  if (!fs.ok()) GTEST_SKIP() << fs.error();
  const std::string root = fs.path() + "/wal";
  options_.segment_bytes = 32 << 10;  // eight of the records below, then a second segment
  auto opened = LocalLog::Open(root, options_);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  log_ = std::move(opened).value();
  auto sub = log_->Subscribe("ch", 0);
  ASSERT_TRUE(sub.ok()) << sub.status().ToString();

  std::vector<std::string> written;
  for (int i = 0; i < 10; ++i) {
    written.push_back(testing::MakePayload(testing::Numbered("before-", i), 4000));
    ASSERT_EQ(Write(written.back()), static_cast<uint64_t>(i));
  }
  auto files = [&] {
    std::vector<std::pair<std::string, uintmax_t>> out;
    for (const auto& e : fs::directory_iterator(root + "/ch")) out.emplace_back(e.path().string(), e.file_size());
    std::sort(out.begin(), out.end());
    return out;
  };
  const auto files_before = files();
  ASSERT_GT(files_before.size(), 1u);
  ASSERT_GT(tessera::testing::FillFilesystem(fs.path() + "/ballast"), 0u);

  // Two appends that fit the active segment (one keyed), one that starts a new segment.
  const std::vector<std::string> refused = {std::string(9000, 'a'), std::string(40000, 'b'), std::string(9000, 'c')};
  for (size_t i = 0; i < refused.size(); ++i) {
    auto r = log_->Append("ch", std::vector<std::string>{refused[i]}, i == 2 ? "key" : "");
    ASSERT_FALSE(r.ok()) << "append " << i << " succeeded on a full filesystem";
    EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted) << r.status().ToString();
    EXPECT_NE(r.status().message().find("No space left on device"), std::string::npos) << r.status().ToString();
    EXPECT_NE(r.status().message().find("retry once space is freed"), std::string::npos) << r.status().ToString();
  }
  EXPECT_EQ(files(), files_before) << "a refused append left bytes or segments behind";
  auto last = log_->LastOffset("ch");
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(**last, 9u);
  // The subscriber reads the ten written before, and nothing of the refused ones.
  auto read = [&](size_t n) {
    std::vector<LogRecord> out;
    while (out.size() < n) {
      auto batch = (*sub)->Poll(100, 200ms);
      EXPECT_TRUE(batch.ok()) << batch.status().ToString();
      if (!batch.ok() || batch->empty()) break;
      for (auto& r : *batch) out.push_back(std::move(r));
    }
    return out;
  };
  EXPECT_EQ(read(10).size(), 10u);
  EXPECT_TRUE(read(1).empty());

  fs::remove(fs.path() + "/ballast");
  // The keyed retry is written, not answered with the offsets of the refused attempt.
  written.push_back(refused[2]);
  EXPECT_EQ(Write(refused[2], "key"), 10u);
  EXPECT_EQ(Write(refused[2], "key"), 10u);  // and now deduplicated
  for (int i = 0; i < 10; ++i) {
    written.push_back(testing::MakePayload(testing::Numbered("after-", i), 4000));
    ASSERT_EQ(Write(written.back()), static_cast<uint64_t>(11 + i));
  }
  const std::vector<LogRecord> tail = read(11);
  ASSERT_EQ(tail.size(), 11u);
  for (size_t i = 0; i < tail.size(); ++i) {
    EXPECT_EQ(tail[i].offset, 10 + i);
    EXPECT_EQ(tail[i].payload, written[10 + i]);
  }
  sub->reset();

  log_.reset();
  opened = LocalLog::Open(root, options_);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  log_ = std::move(opened).value();
  EXPECT_EQ(ReadAll(), written);
  EXPECT_EQ(Write("next"), 21u);
  log_.reset();
}

}  // namespace
}  // namespace tessera::storage
