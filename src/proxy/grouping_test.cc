#include "proxy/grouping.h"

#include <gtest/gtest.h>

namespace tessera::proxy {
namespace {

using nlohmann::json;

// Hits with primary keys 0.. and the given group values, best first.
std::vector<querynode::Hit> Hits(const std::vector<json>& groups) {
  std::vector<querynode::Hit> hits;
  for (size_t i = 0; i < groups.size(); ++i) {
    querynode::Hit hit;
    hit.pk = static_cast<int64_t>(i);
    hit.distance = static_cast<float>(i);
    hit.row = {{"id", i}, {"doc", groups[i]}};
    hits.push_back(std::move(hit));
  }
  return hits;
}

std::vector<int64_t> Pks(const GroupedHits& g) {
  std::vector<int64_t> out;
  for (const querynode::Hit& h : g.hits) out.push_back(std::get<int64_t>(h.pk));
  return out;
}

TEST(GroupingTest, GroupsInOrderOfTheirBestHitWithTheirHitsTogether) {
  GroupingSpec spec{.field = "doc", .group_size = 2, .strict = false};
  // doc a: 0, 2, 5; b: 1, 4; c: 3; null: 6
  GroupedHits g = GroupHits(Hits({"a", "b", "a", "c", "b", "a", nullptr}), spec, 0, 3, false);
  EXPECT_EQ(Pks(g), (std::vector<int64_t>{0, 2, 1, 4, 3}));
  EXPECT_TRUE(g.complete);
  // The offset skips whole groups; the null value is a group of its own.
  g = GroupHits(Hits({"a", "b", "a", "c", "b", "a", nullptr}), spec, 2, 2, true);
  EXPECT_EQ(Pks(g), (std::vector<int64_t>{3, 6}));
  EXPECT_TRUE(g.complete);
}

TEST(GroupingTest, ReportsWhenMoreCandidatesCouldChangeTheAnswer) {
  GroupingSpec spec{.field = "doc", .group_size = 2, .strict = false};
  GroupedHits few = GroupHits(Hits({"a", "a", "a"}), spec, 0, 2, false);
  EXPECT_FALSE(few.complete);  // one group of two wanted
  EXPECT_EQ(Pks(few), (std::vector<int64_t>{0, 1}));
  EXPECT_TRUE(GroupHits(Hits({"a", "a", "a"}), spec, 0, 2, true).complete);  // there is no more

  // Not strict: two groups are enough, however full. Strict: b must fill up too.
  EXPECT_TRUE(GroupHits(Hits({"a", "b", "a"}), spec, 0, 2, false).complete);
  spec.strict = true;
  GroupedHits strict = GroupHits(Hits({"a", "b", "a"}), spec, 0, 2, false);
  EXPECT_FALSE(strict.complete);
  EXPECT_TRUE(GroupHits(Hits({"a", "b", "a", "b"}), spec, 0, 2, false).complete);
  EXPECT_TRUE(GroupHits(Hits({"a", "b", "a"}), spec, 0, 2, true).complete);
}

}  // namespace
}  // namespace tessera::proxy
