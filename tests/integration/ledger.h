#pragma once

// What concurrent writers know about their writes, and the check of a collection against
// it after a crash and restart; the crash tests' server environment
// (crash_recovery_test.cc, crash_points_test.cc).

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

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

}  // namespace tessera::testing
