#pragma once

// Shared helpers of the integration tests: a scratch directory, deterministic rows, and
// REST calls that fail the test with the server's message.

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/rest_client.h"

namespace tessera::testing {

/// A fresh directory under the system temp dir, removed by the destructor.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& name) {
    path_ = std::filesystem::temp_directory_path() / (name + "_" + std::to_string(::getpid()) + "_" +
                                                      std::to_string(std::random_device{}()));
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string Sub(const std::string& leaf) const { return (path_ / leaf).string(); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

/// The vector of row `id`: deterministic, distinct per id.
inline std::vector<float> RowVector(int64_t id, int dim = 8) {
  std::mt19937_64 rng(static_cast<uint64_t>(id) * 0x9E3779B97F4A7C15ULL + 1);
  std::uniform_real_distribution<float> d(-1, 1);
  std::vector<float> v(static_cast<size_t>(dim));
  for (auto& x : v) x = d(rng);
  return v;
}

inline nlohmann::json Row(int64_t id, int dim = 8) {
  return {{"id", id}, {"vector", RowVector(id, dim)}, {"tag", id % 10}};
}

/// Calls `route` and expects code 0; returns the envelope.
inline nlohmann::json MustCall(RestClient& client, const std::string& route, const nlohmann::json& body) {
  auto r = client.Call(route, body);
  EXPECT_TRUE(r.ok()) << route << ": " << r.status().ToString();
  if (!r.ok()) return nlohmann::json::object();
  EXPECT_EQ(r->value("code", -1), 0) << route << " " << body.dump().substr(0, 300) << " -> " << r->dump();
  return *r;
}

/// How many rows match `filter`, read with Strong consistency.
inline size_t CountRows(RestClient& client, const std::string& collection, const std::string& filter) {
  auto r = MustCall(client, "entities/query",
                    {{"collectionName", collection}, {"filter", filter}, {"outputFields", {"count(*)"}},
                     {"consistencyLevel", "Strong"}});
  return r["data"][0]["count(*)"].get<size_t>();
}

/// Every id (>= 0) in the collection, read with Strong consistency in windows of 10,000 ids
/// (a query returns at most 16,384 rows), up to the last window with rows above it.
inline std::vector<int64_t> AllIds(RestClient& client, const std::string& collection) {
  constexpr int64_t kWindow = 10000;
  std::vector<int64_t> ids;
  for (int64_t lo = 0;; lo += kWindow) {
    const std::string filter = "id >= " + std::to_string(lo) + " and id < " + std::to_string(lo + kWindow);
    auto r = MustCall(client, "entities/query",
                      {{"collectionName", collection}, {"filter", filter}, {"outputFields", {"id"}},
                       {"limit", 16384}, {"consistencyLevel", "Strong"}});
    if (r["data"].empty() && CountRows(client, collection, "id >= " + std::to_string(lo)) == 0) break;
    for (const auto& row : r["data"]) ids.push_back(row["id"].get<int64_t>());
  }
  return ids;
}

/// The value of sample `series` (name plus labels, exactly as rendered) in a Prometheus
/// text body, or nullopt when absent.
inline std::optional<double> MetricValue(const std::string& body, const std::string& series) {
  size_t pos = 0;
  while ((pos = body.find(series + " ", pos)) != std::string::npos) {
    if (pos == 0 || body[pos - 1] == '\n') return std::stod(body.substr(pos + series.size() + 1));
    pos += series.size();
  }
  return std::nullopt;
}

}  // namespace tessera::testing
