#include "querynode/loaded_collection.h"

#include "common/check.h"
#include "common/logging.h"
#include "querynode/query_node_metrics.h"

namespace tessera::querynode {

void OffsetRanges::Add(uint64_t begin, uint64_t end) {
  if (begin >= end) return;
  // Merge with every range that overlaps or touches [begin, end).
  auto it = ranges_.upper_bound(begin);
  if (it != ranges_.begin()) {
    auto prev = std::prev(it);
    if (prev->second >= begin) it = prev;
  }
  while (it != ranges_.end() && it->first <= end) {
    begin = std::min(begin, it->first);
    end = std::max(end, it->second);
    it = ranges_.erase(it);
  }
  ranges_.emplace(begin, end);
}

bool OffsetRanges::Contains(uint64_t offset) const {
  auto it = ranges_.upper_bound(offset);
  if (it == ranges_.begin()) return false;
  --it;
  return offset < it->second;
}

LoadedCollection::LoadedCollection(coord::CollectionInfo info)
    : id_(info.id), schema_(info.schema), info_(std::move(info)) {}

LoadedCollection::~LoadedCollection() {
  StopTailing();
  auto& m = QueryNodeMetrics::Get();
  m.loaded_segments.Add(-static_cast<double>(sealed_.size()));
  m.growing_rows.Add(-static_cast<double>(num_growing_rows()));
}

coord::CollectionInfo LoadedCollection::info() const {
  std::shared_lock<FairSharedMutex> l(mu_);
  return info_;
}

void LoadedCollection::UpdateInfo(const coord::CollectionInfo& info) {
  std::unique_lock<FairSharedMutex> l(mu_);
  coord::CollectionInfo next = info;
  next.schema = schema_;  // the schema is fixed once loaded
  info_ = std::move(next);
}

bool LoadedCollection::HasSegment(int64_t id) const {
  std::shared_lock<FairSharedMutex> l(mu_);
  return sealed_.count(id) != 0;
}

bool LoadedCollection::WasReplaced(int64_t id) const {
  std::shared_lock<FairSharedMutex> l(mu_);
  return replaced_.count(id) != 0;
}

ServedIndexes LoadedCollection::ServedIndexesOfSegment(int64_t id) const {
  std::shared_lock<FairSharedMutex> l(mu_);
  auto it = sealed_.find(id);
  return it == sealed_.end() ? ServedIndexes{} : ServedIndexesOf(*it->second);
}

size_t LoadedCollection::num_sealed() const {
  std::shared_lock<FairSharedMutex> l(mu_);
  return sealed_.size();
}

size_t LoadedCollection::num_growing_rows() const {
  std::shared_lock<FairSharedMutex> l(mu_);
  size_t rows = 0;
  for (const auto& [channel, segment] : growing_) rows += segment->num_rows();
  return rows;
}

void LoadedCollection::ApplyDeleteLocked(const PrimaryKey& pk, uint64_t timestamp) {
  // A delete that does not raise the key's timestamp was already applied everywhere: every
  // segment applies the whole map when it arrives and every growing row checks it.
  if (!deletes_.Update(pk, timestamp)) return;
  for (auto& [id, segment] : sealed_) segment->ApplyDelete(pk, timestamp);
  for (auto& [channel, segment] : growing_) segment->ApplyDelete(pk, timestamp);
}

Status LoadedCollection::AddSealed(LoadedSegment loaded) {
  const coord::SegmentInfo& info = loaded.info;
  auto& metrics = QueryNodeMetrics::Get();
  std::unique_lock<FairSharedMutex> l(mu_);
  if (replaced_.count(info.id) != 0) return Status::OK();
  auto existing = sealed_.find(info.id);
  if (existing != sealed_.end()) {
    // Served already: keep the rows, take any index the fresh load has and we lack.
    for (const auto& [field_id, index] : loaded.segment->vector_indexes()) {
      if (index.index_id < 0) continue;
      const SegmentIndex* have = existing->second->VectorIndex(field_id);
      if (have != nullptr && have->index_id == index.index_id && have->object_key == index.object_key) continue;
      TESSERA_RETURN_IF_ERROR(existing->second->SetIndex(field_id, index));
    }
    return Status::OK();
  }

  // Everything that can fail comes first, so a failure leaves the collection unchanged.
  std::unique_ptr<Segment> trimmed;
  auto growing = growing_.find(info.channel);
  if (growing != growing_.end() && growing->second->CountRowsInRange(info.start_offset, info.end_offset) > 0) {
    TESSERA_ASSIGN_OR_RETURN(trimmed, growing->second->WithoutRange(info.start_offset, info.end_offset));
  }

  for (const auto& entry : loaded.deletes) ApplyDeleteLocked(entry.pk, entry.timestamp);
  loaded.segment->ApplyDeleteMap(deletes_);
  if (trimmed != nullptr) {
    metrics.growing_rows.Add(static_cast<double>(trimmed->num_rows()) -
                             static_cast<double>(growing->second->num_rows()));
    growing->second = std::move(trimmed);
  }
  sealed_ranges_[info.channel].Add(info.start_offset, info.end_offset);
  for (int64_t old : info.compacted_from) {
    if (sealed_.erase(old) != 0) metrics.loaded_segments.Add(-1);
    replaced_.insert(old);
  }
  sealed_.emplace(info.id, std::move(loaded.segment));
  metrics.loaded_segments.Add(1);
  return Status::OK();
}

Status LoadedCollection::AttachIndexes(int64_t id, std::map<int64_t, SegmentIndex> indexes) {
  std::unique_lock<FairSharedMutex> l(mu_);
  auto it = sealed_.find(id);
  if (it == sealed_.end()) return Status::OK();
  for (auto& [field_id, index] : indexes) TESSERA_RETURN_IF_ERROR(it->second->SetIndex(field_id, std::move(index)));
  return Status::OK();
}

void LoadedCollection::DropSegment(int64_t id) {
  std::unique_lock<FairSharedMutex> l(mu_);
  if (sealed_.erase(id) != 0) QueryNodeMetrics::Get().loaded_segments.Add(-1);
  replaced_.insert(id);
}

Status LoadedCollection::ApplyRecords(const std::string& channel, std::vector<WalRecord>& records) {
  auto& metrics = QueryNodeMetrics::Get();
  std::unique_lock<FairSharedMutex> l(mu_);
  auto growing = growing_.find(channel);
  TESSERA_CHECK(growing != growing_.end()) << "no growing segment for channel " << channel;
  const OffsetRanges& sealed_ranges = sealed_ranges_[channel];
  size_t appended = 0;
  for (WalRecord& record : records) {
    msg::WalMessage& m = record.message;
    // An upsert's deletes and rows land together: both under this one lock.
    for (const PrimaryKey& pk : m.deleted_pks) ApplyDeleteLocked(pk, m.timestamp);
    if (m.rows == nullptr || m.rows->num_rows() == 0) continue;
    // Rows of a range a sealed segment already serves are not added twice.
    if (sealed_ranges.Contains(record.offset)) continue;
    Status s = growing->second->AppendRows(*m.rows, m.partition_ids, m.timestamp, record.offset, deletes_);
    if (!s.ok()) {
      metrics.growing_rows.Add(static_cast<double>(appended));
      return Status::DataLoss(channel + "@" + std::to_string(record.offset) + ": " + s.message());
    }
    appended += m.rows->num_rows();
  }
  metrics.growing_rows.Add(static_cast<double>(appended));
  return Status::OK();
}

Status LoadedCollection::StartTailing(storage::Log& log, const std::map<std::string, uint64_t>& checkpoints) {
  const coord::CollectionInfo current = info();
  const VectorMetrics metrics = MetricsOf(current);
  const std::vector<std::string> channels = current.Channels();
  {
    std::unique_lock<FairSharedMutex> l(mu_);
    for (const auto& channel : channels) {
      if (growing_.count(channel) != 0) continue;
      TESSERA_ASSIGN_OR_RETURN(growing_[channel], Segment::CreateGrowing(channel, schema_, metrics));
    }
  }
  for (const auto& channel : channels) {
    auto cp = checkpoints.find(channel);
    const uint64_t from = cp == checkpoints.end() ? 0 : cp->second;
    auto tailer = ChannelTailer::Start(log, channel, from, id_, schema_,
                                       [this](const std::string& ch, std::vector<WalRecord>& records) {
                                         return ApplyRecords(ch, records);
                                       });
    if (!tailer.ok()) return tailer.status();
    std::shared_ptr<ChannelTailer> started(std::move(tailer).value());
    std::lock_guard<std::mutex> l(tail_mu_);
    if (tails_stopped_) {
      started->Stop();  // cannot deadlock: this thread holds neither mu_ nor a tailer's lock
      return Status::Cancelled("collection " + std::to_string(id_) + " was released");
    }
    tailers_[channel] = std::move(started);
  }
  return Status::OK();
}

void LoadedCollection::StopTailing() {
  std::map<std::string, std::shared_ptr<ChannelTailer>> tailers;
  {
    std::lock_guard<std::mutex> l(tail_mu_);
    tails_stopped_ = true;
    tailers.swap(tailers_);
  }
  // Outside tail_mu_ and mu_: a tailer's apply takes mu_.
  for (auto& [channel, tailer] : tailers) tailer->Stop();
}

std::map<std::string, uint64_t> LoadedCollection::TailPositions() const {
  std::map<std::string, uint64_t> out;
  for (const auto& tailer : Tailers()) out[tailer->channel()] = tailer->position();
  return out;
}

std::vector<std::shared_ptr<ChannelTailer>> LoadedCollection::Tailers() const {
  std::lock_guard<std::mutex> l(tail_mu_);
  std::vector<std::shared_ptr<ChannelTailer>> out;
  for (const auto& [channel, tailer] : tailers_) out.push_back(tailer);
  return out;
}

Status LoadedCollection::WaitFor(const WaitOffsets& offsets, std::chrono::steady_clock::time_point deadline) const {
  for (const auto& [channel, offset] : offsets) {
    std::shared_ptr<ChannelTailer> tailer;
    {
      std::lock_guard<std::mutex> l(tail_mu_);
      auto it = tailers_.find(channel);
      if (it != tailers_.end()) tailer = it->second;
    }
    if (tailer == nullptr) {
      return Status::InvalidArgument("channel '" + channel + "' is not a channel of collection " +
                                     std::to_string(id_));
    }
    TESSERA_RETURN_IF_ERROR(tailer->WaitUntil(offset, deadline));
  }
  return Status::OK();
}

Status LoadedCollection::Health() const {
  for (const auto& tailer : Tailers()) TESSERA_RETURN_IF_ERROR(tailer->failure());
  return Status::OK();
}

}  // namespace tessera::querynode
