#pragma once

// What concurrent writers know about their writes, the check of a collection against it
// after a crash and restart, the crash-and-restart round loop, and the crash tests' server
// environment (crash_recovery_test.cc, crash_points_test.cc, power_cut_test.cc).

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <chrono>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "harness/standalone_process.h"
#include "integration/test_util.h"

namespace tessera::testing {

/// Server environment for crash tests: small segments and a short idle seal, so flushes,
/// index builds and handoffs happen between the kills too.
inline std::map<std::string, std::string> FastSealEnv() {
  return {{"TESSERA_DATANODE_SEAL_IDLE_TIME", "200ms"},
          {"TESSERA_DATANODE_SEGMENT_SIZE", "64KiB"},
          {"TESSERA_LOGGING_LEVEL", "info"}};
}

/// Acknowledged inserts and deletes, and those whose answer was lost (they may or may not
/// have been applied).
struct Ledger {
  std::mutex mu;
  std::set<int64_t> acked;
  std::set<int64_t> unknown;
  std::set<int64_t> deleted;          // acknowledged deletes
  std::set<int64_t> delete_unknown;   // deletes whose answer was lost
};

/// Inserts `rows_per_request` fresh ids per request into `collection` (and now and then
/// deletes a few acknowledged ones) until `stop`, pausing `pause` between requests.
inline void RunWriter(int port, const std::string& collection, int writer, int rows_per_request,
                      std::chrono::milliseconds pause, std::atomic<int64_t>* next_id, std::atomic<bool>* stop,
                      Ledger* ledger) {
  RestClient client("127.0.0.1", port);
  std::mt19937 rng(static_cast<uint32_t>(writer * 7919 + next_id->load()));
  while (!stop->load()) {
    nlohmann::json rows = nlohmann::json::array();
    std::vector<int64_t> ids;
    for (int i = 0; i < rows_per_request; ++i) {
      const int64_t id = next_id->fetch_add(1);
      ids.push_back(id);
      rows.push_back(Row(id));
    }
    auto r = client.Call("entities/insert", {{"collectionName", collection}, {"data", rows}});
    {
      std::lock_guard lock(ledger->mu);
      const bool ok = r.ok() && r->value("code", -1) == 0;
      for (int64_t id : ids) (ok ? ledger->acked : ledger->unknown).insert(id);
    }
    if (pause.count() > 0) std::this_thread::sleep_for(pause);
    if (rng() % 4 != 0) continue;
    std::vector<int64_t> victims;  // a few acknowledged ids
    {
      std::lock_guard lock(ledger->mu);
      for (int64_t id : ledger->acked) {
        if (rng() % 50 == 0 && !ledger->deleted.contains(id)) victims.push_back(id);
        if (victims.size() >= 3) break;
      }
    }
    if (victims.empty()) continue;
    nlohmann::json list = victims;
    auto d = client.Call("entities/delete", {{"collectionName", collection}, {"filter", "id in " + list.dump()}});
    std::lock_guard lock(ledger->mu);
    const bool ok = d.ok() && d->value("code", -1) == 0;
    for (int64_t id : victims) (ok ? ledger->deleted : ledger->delete_unknown).insert(id);
  }
}

/// Checks `collection` (read at Strong consistency) against the ledger: every id at most
/// once, only written ids, every acknowledged insert present unless deleted, no
/// acknowledged delete undone. Then settles the unknown outcomes by what is visible.
/// `context` names the round in failure messages.
inline void CheckAgainstLedger(RestClient& client, const std::string& collection, Ledger& ledger,
                               const std::string& context) {
  const std::vector<int64_t> ids = AllIds(client, collection);
  std::map<int64_t, int> seen;
  for (int64_t id : ids) ++seen[id];
  std::lock_guard lock(ledger.mu);
  for (const auto& [id, n] : seen) {
    ASSERT_EQ(n, 1) << context << ": id " << id << " returned " << n << " times";
    ASSERT_TRUE(ledger.acked.contains(id) || ledger.unknown.contains(id))
        << context << ": id " << id << " was never written";
    ASSERT_FALSE(ledger.deleted.contains(id)) << context << ": acknowledged delete of " << id << " lost";
  }
  for (int64_t id : ledger.acked) {
    if (ledger.deleted.contains(id) || ledger.delete_unknown.contains(id)) continue;
    ASSERT_TRUE(seen.contains(id)) << context << ": acknowledged insert of " << id << " lost";
  }
  // Unknown outcomes are settled now: whatever is visible stays visible.
  for (int64_t id : ledger.unknown) {
    if (seen.contains(id)) ledger.acked.insert(id);
  }
  ledger.unknown.clear();
  for (int64_t id : ledger.delete_unknown) {
    if (!seen.contains(id)) ledger.deleted.insert(id);
  }
  ledger.delete_unknown.clear();
}

/// One writer on `collection` (50 rows per insert, now and then a delete) for `duration`.
inline void WriteFor(int port, const std::string& collection, std::chrono::milliseconds duration, Ledger* ledger) {
  std::atomic<int64_t> next_id{1};
  std::atomic<bool> stop{false};
  std::thread writer(RunWriter, port, collection, 0, 50, std::chrono::milliseconds(0), &next_id, &stop, ledger);
  std::this_thread::sleep_for(duration);
  stop = true;
  writer.join();
}

/// After a restart: `collection` is loaded, and a Strong read of it agrees with the ledger
/// (CheckAgainstLedger; `context` names the moment in failure messages).
inline void CheckRecovered(StandaloneProcess& server, const std::string& collection, Ledger& ledger,
                           const std::string& context) {
  RestClient client("127.0.0.1", server.port());
  auto state = MustCall(client, "collections/get_load_state", {{"collectionName", collection}});
  ASSERT_EQ(state["data"]["loadState"], "LoadStateLoaded") << context << ": " << state.dump();
  CheckAgainstLedger(client, collection, ledger, context);
}

/// `rounds` rounds on `collection` (already created): 4 writers insert and delete for a
/// random 0.3–1.8 s, then `crash` ends the server (it must return with the process dead;
/// a test failure in it ends the loop), the server restarts, must have `collection` loaded,
/// and a Strong read is checked against the ledger. In round 1 a collection "ddl_1" is
/// created just before the crash; it must exist at the end. At least 200 inserts must have
/// been acknowledged, or the load meant nothing.
inline void RunCrashRounds(StandaloneProcess& server, const std::string& collection, int rounds, uint32_t seed,
                           const std::function<void()>& crash) {
  Ledger ledger;
  std::atomic<int64_t> next_id{1};
  std::mt19937 rng(seed);
  for (int round = 0; round < rounds; ++round) {
    std::atomic<bool> stop{false};
    std::vector<std::thread> writers;
    for (int w = 0; w < 4; ++w) {
      writers.emplace_back(RunWriter, server.port(), collection, w, 20, std::chrono::milliseconds(0), &next_id, &stop,
                           &ledger);
    }
    if (round == 1) {  // DDL acknowledged just before a crash must survive too
      RestClient client("127.0.0.1", server.port());
      MustCall(client, "collections/create", {{"collectionName", "ddl_1"}, {"dimension", 4}});
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300 + rng() % 1500));
    crash();
    stop = true;
    for (auto& t : writers) t.join();
    if (::testing::Test::HasFailure()) return;
    ASSERT_EQ(server.Restart().ToString(), "OK");  // on failure: the reason and the log tail
    CheckRecovered(server, collection, ledger, "round " + std::to_string(round));
    if (::testing::Test::HasFatalFailure()) {
      ADD_FAILURE() << server.LogTail();
      return;
    }
  }
  RestClient client("127.0.0.1", server.port());
  auto has = MustCall(client, "collections/has", {{"collectionName", "ddl_1"}});
  EXPECT_EQ(has["data"]["has"], true);
  EXPECT_GT(ledger.acked.size(), 200u) << "the load was too light to mean anything";
}

}  // namespace tessera::testing
