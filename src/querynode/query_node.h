#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "common/status.h"
#include "coord/catalog_types.h"
#include "segment/deltalog.h"

namespace tessera::querynode {

/// Read-your-writes guarantee of a request: for each channel, the node must have applied
/// every WAL record with an offset below the value before it answers (Strong / Session
/// consistency). Empty = answer from what is applied now (Eventually / Bounded).
using WaitOffsets = std::map<std::string, uint64_t>;

struct SearchRequest {
  int64_t collection_id = 0;
  int64_t field_id = 0;         // the vector field searched (annsField)
  std::vector<float> vectors;   // num_queries * dim floats
  size_t num_queries = 0;
  size_t limit = 10;            // hits returned per query, after `offset` skipped ones
  size_t offset = 0;
  std::string filter;           // Milvus boolean expression; empty = none
  std::vector<int64_t> partition_ids;  // empty = every partition of the collection
  nlohmann::json params = nlohmann::json::object();  // search params (ef, nprobe, ...)
  std::vector<std::string> output_fields;  // besides the primary key
  WaitOffsets wait;
  std::chrono::milliseconds timeout{30000};
};

struct Hit {
  segment::PrimaryKey pk;
  float distance = 0;
  /// The primary key and the requested output fields (ColumnSet::GetRow encoding:
  /// native JSON values, dynamic keys flattened); null when the request named no output
  /// fields.
  nlohmann::json row;
};

struct SearchResponse {
  std::vector<std::vector<Hit>> hits;  // one list per query, best first
};

struct QueryRequest {
  int64_t collection_id = 0;
  std::string filter;                  // empty = every row
  std::vector<int64_t> partition_ids;  // empty = all
  std::vector<std::string> output_fields;  // empty or "*" = every field
  size_t limit = 100;
  size_t offset = 0;
  bool count_only = false;             // count(*): only `count` is filled
  WaitOffsets wait;
  std::chrono::milliseconds timeout{30000};
};

struct QueryResponse {
  std::vector<nlohmann::json> rows;  // ordered by primary key
  uint64_t count = 0;                // matching rows (count_only) or rows.size()
};

/// The query node role: serves search and query for loaded collections. Sealed segments
/// come from the object store (binlogs, deltalogs, and index files when built — a segment
/// without an index yet is searched exactly); growing data comes from tailing the
/// collection's WAL channels from their checkpoints. Deletes (from deltalogs and the WAL)
/// hide every older row with that primary key, in every segment. An upsert's delete and
/// insert are applied together, so no search sees both versions or neither.
///
/// Handoff: AddSegment with a segment of channel C covering [start, end) makes the sealed
/// copy visible and drops the growing rows of that range in one step (no gap, no
/// duplicate). A segment with compacted_from replaces those segments in one step too.
///
/// Thread-safe; searches run concurrently with WAL application and loads.
class QueryNode {
 public:
  virtual ~QueryNode() = default;

  /// Loads `segments` (the collection's live sealed segments) and starts tailing its
  /// channels from `checkpoints` (channel -> offset). Returns when everything is loaded
  /// and the tails have caught up with the channels' current end. Reloading a loaded
  /// collection only updates its info (e.g. the loaded partitions).
  virtual Status LoadCollection(const coord::CollectionInfo& collection,
                                const std::vector<coord::SegmentInfo>& segments,
                                const std::map<std::string, uint64_t>& checkpoints) = 0;
  virtual Status ReleaseCollection(int64_t collection_id) = 0;
  /// New or updated sealed segment (flushed, index built, or compacted). Ignored for
  /// collections that are not loaded.
  virtual Status AddSegment(const coord::SegmentInfo& segment) = 0;
  virtual bool IsLoaded(int64_t collection_id) const = 0;
  /// Why the last LoadCollection of a collection that is not loaded failed (e.g.
  /// ResourceExhausted: it does not fit in memory); OK when it is loaded, was released
  /// since, or never failed.
  virtual Status LoadFailure(int64_t collection_id) const = 0;
  /// Channel -> offset of the next record the node will read, for each channel of the
  /// collection it tails (a stopped tail stays where it stopped); empty when it tails none.
  /// The WAL before these offsets is no longer needed by this node.
  virtual std::map<std::string, uint64_t> TailPositions(int64_t collection_id) const = 0;

  /// FailedPrecondition "collection not loaded" when it is not; DeadlineExceeded when the
  /// wait offsets are not reached within the timeout; InvalidArgument for a bad filter,
  /// field or search parameter (the message names it).
  virtual Result<SearchResponse> Search(const SearchRequest& request) = 0;
  virtual Result<QueryResponse> Query(const QueryRequest& request) = 0;

  /// Searches waiting or running (an autoscaling signal).
  virtual size_t QueueDepth() const = 0;
};

}  // namespace tessera::querynode
