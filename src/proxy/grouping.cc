#include "proxy/grouping.h"

#include <map>
#include <utility>

namespace tessera::proxy {

GroupedHits GroupHits(std::vector<querynode::Hit> candidates, const GroupingSpec& spec, size_t offset, size_t limit,
                      bool exhausted) {
  const size_t wanted = offset + limit;
  std::vector<std::vector<querynode::Hit>> groups;
  std::map<std::string, size_t> group_of;  // the value's JSON text (null is a group too) -> index
  for (querynode::Hit& hit : candidates) {
    const auto value = hit.row.is_object() ? hit.row.find(spec.field) : hit.row.end();
    const std::string key = hit.row.is_object() && value != hit.row.end() ? value->dump() : "null";
    auto it = group_of.find(key);
    if (it == group_of.end()) {
      if (groups.size() == wanted) continue;  // the window's groups are known; later ones are not needed
      it = group_of.emplace(key, groups.size()).first;
      groups.emplace_back();
    }
    if (groups[it->second].size() < spec.group_size) groups[it->second].push_back(std::move(hit));
  }
  GroupedHits out;
  out.complete = exhausted || groups.size() == wanted;
  for (size_t g = offset; g < groups.size(); ++g) {
    if (spec.strict && groups[g].size() < spec.group_size) out.complete = out.complete && exhausted;
    for (querynode::Hit& hit : groups[g]) out.hits.push_back(std::move(hit));
  }
  return out;
}

}  // namespace tessera::proxy
