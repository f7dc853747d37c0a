// Adapter from tessera::index::Index to FAISS's IVF indexes. The only file that includes
// FAISS headers for IVF; every FAISS call goes through CallFaiss, so no exception escapes.

#include "index/ivf/faiss_ivf_index.h"

#include <faiss/IndexFlat.h>
#include <faiss/IndexIVF.h>
#include <faiss/IndexIVFFlat.h>
#include <faiss/IndexIVFPQ.h>
#include <faiss/IndexScalarQuantizer.h>
#include <faiss/impl/FaissException.h>
#include <faiss/impl/IDSelector.h>
#include <faiss/impl/io.h>
#include <faiss/index_io.h>
#include <faiss/invlists/InvertedLists.h>
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <type_traits>
#include <span>
#include <new>
#include <optional>
#include <string>
#include <typeinfo>
#include <vector>

#include "common/logging.h"
#include "common/thread_pool.h"
#include "core/bitset.h"
#include "index/blob.h"
#include "index/params.h"
#include "index/search_util.h"
#include "index/vector_store.h"

namespace tessera::index {
namespace {

using FaissId = faiss::Index::idx_t;

// FAISS warns when k-means gets fewer than this many points per centroid (its own default).
constexpr size_t kMinPointsPerCentroid = 39;
// Queries per FAISS call when a search is spread over a pool: large enough for the coarse
// quantizer's BLAS path (FAISS uses BLAS from 20 queries), small enough to balance.
constexpr size_t kQueryChunk = 32;

// Sets the calling thread's OpenMP team size for the guard's lifetime. The OpenMP
// nthreads-var is per thread, so guards on different threads do not interfere.
class OmpThreadsGuard {
 public:
  explicit OmpThreadsGuard(int threads) : saved_(omp_get_max_threads()) {
    omp_set_num_threads(std::max(threads, 1));
  }
  ~OmpThreadsGuard() { omp_set_num_threads(saved_); }
  OmpThreadsGuard(const OmpThreadsGuard&) = delete;
  OmpThreadsGuard& operator=(const OmpThreadsGuard&) = delete;

 private:
  int saved_;
};

// Lets FAISS see only the rows whose skip bit is clear. Ids are FAISS labels, which are our
// row numbers; an id outside the bitset (impossible for a validated index) is excluded.
class SkipSelector final : public faiss::IDSelector {
 public:
  explicit SkipSelector(const core::Bitset& skip) : skip_(skip) {}
  bool is_member(FaissId id) const override {
    return id >= 0 && static_cast<size_t>(id) < skip_.size() &&
           !skip_.Test(static_cast<size_t>(id));
  }

 private:
  const core::Bitset& skip_;
};

// Runs `fn`, converting FAISS's exceptions into a Status with code `code`. std::bad_alloc
// is not caught (an out-of-memory process is not something to paper over), except where the
// caller knows the sizes come from untrusted bytes (see LoadPayload).
template <typename Fn>
Status CallFaiss(StatusCode code, std::string_view what, Fn&& fn) {
  try {
    fn();
    return Status::OK();
  } catch (const faiss::FaissException& e) {
    return Status(code, std::string(what) + ": FAISS: " + e.msg);
  } catch (const std::bad_alloc&) {
    throw;
  } catch (const std::exception& e) {
    return Status(code, std::string(what) + ": " + e.what());
  }
}

Status CheckFinite(const float* data, size_t n, size_t dim) {
  for (size_t i = 0; i < n * dim; ++i) {
    if (!std::isfinite(data[i])) {
      return Status::InvalidArgument("row " + std::to_string(i / dim) + " has a " +
                                     (std::isnan(data[i]) ? "NaN" : "infinite") +
                                     " component at position " + std::to_string(i % dim));
    }
  }
  return Status::OK();
}

// Feeds FAISS's index reader from a span, refusing absurd length fields. FAISS reads a
// vector's length as one size_t, resizes (zero-filling) to it, then reads the elements; a
// damaged length below FAISS's own 2^40 cap would make it allocate and touch many GiB before
// noticing the bytes are missing. No honest single size_t field of our indexes (lengths,
// ntotal, nlist, code_size, FAISS's 2^20 placeholders) exceeds the bytes left plus
// kLengthSlack, so larger ones are rejected before the allocation. Lengths inside arrays
// (per-list sizes of the inverted lists) are not seen here: a forged blob with a valid
// checksum can still make FAISS allocate up to 2^40 elements for one list.
class BoundedSpanReader final : public faiss::IOReader {
 public:
  explicit BoundedSpanReader(std::span<const uint8_t> bytes) : bytes_(bytes) {}

  size_t operator()(void* ptr, size_t size, size_t nitems) override {
    if (size == 0) return 0;
    const size_t items = std::min(nitems, (bytes_.size() - pos_) / size);
    if (items > 0) std::memcpy(ptr, bytes_.data() + pos_, items * size);
    pos_ += items * size;
    if (size == sizeof(uint64_t) && nitems == 1 && items == 1) {
      uint64_t value = 0;
      std::memcpy(&value, ptr, sizeof(value));
      if (value > remaining() + kLengthSlack) {
        throw faiss::FaissException("field at offset " + std::to_string(pos_ - 8) + " = " +
                                    std::to_string(value) + " exceeds the " +
                                    std::to_string(remaining()) + " bytes left");
      }
    }
    return items;
  }

  size_t remaining() const { return bytes_.size() - pos_; }

 private:
  static constexpr uint64_t kLengthSlack = uint64_t{1} << 20;
  std::span<const uint8_t> bytes_;
  size_t pos_ = 0;
};

faiss::MetricType FaissMetric(MetricType metric) {
  return metric == MetricType::kL2 ? faiss::METRIC_L2 : faiss::METRIC_INNER_PRODUCT;
}

/// An IVF index of one of the three FAISS kinds.
///
/// Thread-safety: Search() and the accessors are const and safe to call concurrently
/// (FAISS IVF search only reads the index; per-call state lives on the stack). Build(),
/// Add() and LoadPayload() need exclusive access.
/// Ownership: index_ owns its coarse quantizer (FAISS own_fields, as read_index produces).
/// Invariant: index_ is null until a Build succeeds; afterwards its labels are exactly the
/// row numbers 0..size()-1.
class FaissIvfIndex final : public Index {
 public:
  FaissIvfIndex(IndexType type, MetricType metric, size_t dim, nlohmann::json params)
      : type_(type),
        metric_(metric),
        dim_(dim),
        params_(std::move(params)),
        nlist_(params_.at("nlist").get<size_t>()) {
    if (type_ == IndexType::kIvfPq) {
      pq_m_ = params_.at("m").get<size_t>();
      pq_nbits_ = params_.at("nbits").get<size_t>();
    }
  }

  IndexType type() const override { return type_; }
  MetricType metric() const override { return metric_; }
  size_t dim() const override { return dim_; }
  size_t size() const override { return index_ ? static_cast<size_t>(index_->ntotal) : 0; }
  const nlohmann::json& build_params() const override { return params_; }

  Status Build(const float* data, size_t n, ThreadPool* pool) override {
    if (index_) return Status::FailedPrecondition(std::string(IndexTypeName(type_)) + " index is already built");
    if (n == 0 || data == nullptr) {
      return Status::InvalidArgument(std::string(IndexTypeName(type_)) +
                                     " needs at least 1 row to train, got 0");
    }
    if (type_ == IndexType::kIvfPq && n < (size_t{1} << pq_nbits_)) {
      return Status::InvalidArgument(
          "IVF_PQ with nbits=" + std::to_string(pq_nbits_) + " needs at least " +
          std::to_string(size_t{1} << pq_nbits_) + " rows to train its codebooks (2^nbits), got " +
          std::to_string(n) + "; lower nbits or use IVF_FLAT/FLAT for small segments");
    }
    TESSERA_RETURN_IF_ERROR(CheckFinite(data, n, dim_));
    std::vector<float> normalized;
    const float* rows = Normalized(data, n, &normalized);

    const size_t lists = std::min(nlist_, n);
    if (lists < nlist_) {
      TESSERA_LOG_INFO("{}: {} rows are fewer than nlist={}; training {} lists for this segment",
                       IndexTypeName(type_), n, nlist_, lists);
    } else if (n < lists * kMinPointsPerCentroid) {
      TESSERA_LOG_WARN("{}: {} rows for nlist={} is under {} rows per list; centroids may be poor",
                       IndexTypeName(type_), n, lists, kMinPointsPerCentroid);
    }
    std::unique_ptr<faiss::IndexIVF> built;
    OmpThreadsGuard threads(pool != nullptr ? static_cast<int>(pool->size()) : 1);
    TESSERA_RETURN_IF_ERROR(CallFaiss(StatusCode::kInternal, "FAISS IVF build", [&] {
      built = MakeFaissIndex(lists);
      built->train(static_cast<FaissId>(n), rows);
      built->add(static_cast<FaissId>(n), rows);
    }));
    index_ = std::move(built);
    return Status::OK();
  }

  Status Add(const float* data, size_t n, ThreadPool* pool) override {
    if (!index_) {
      return Status::FailedPrecondition(std::string(IndexTypeName(type_)) +
                                        " index must be built (trained) before Add");
    }
    if (n == 0) return Status::OK();
    TESSERA_RETURN_IF_ERROR(CheckFinite(data, n, dim_));
    std::vector<float> normalized;
    const float* rows = Normalized(data, n, &normalized);
    OmpThreadsGuard threads(pool != nullptr ? static_cast<int>(pool->size()) : 1);
    return CallFaiss(StatusCode::kInternal, "FAISS IVF add",
                     [&] { index_->add(static_cast<FaissId>(n), rows); });
  }

  Result<SearchResult> Search(const SearchRequest& request) const override {
    TESSERA_RETURN_IF_ERROR(CheckSearchRequest(*this, request));
    TESSERA_ASSIGN_OR_RETURN(nlohmann::json params,
                             ValidateParams(type_, ParamPhase::kSearch, request.params));
    // The default nprobe (8) is clamped to a smaller nlist: a search that names no
    // parameter must not fail. A given nprobe above nlist is the caller's mistake.
    const bool given = request.params.is_object() && request.params.contains("nprobe");
    const size_t nprobe = given ? params.at("nprobe").get<size_t>() : std::min(params.at("nprobe").get<size_t>(), nlist_);
    if (nprobe > nlist_) {
      return Status::InvalidArgument("search parameter 'nprobe' = " + std::to_string(nprobe) +
                                     " must be <= the index's nlist = " + std::to_string(nlist_));
    }
    TESSERA_ASSIGN_OR_RETURN(PreparedQueries queries, PrepareQueries(*this, request));
    SearchResult result = EmptyResult(metric_, request.num_queries, request.k);
    if (!index_) return result;

    faiss::SearchParametersIVF search_params;
    search_params.nprobe = std::min(nprobe, static_cast<size_t>(index_->nlist));
    std::optional<SkipSelector> selector;
    if (request.skip != nullptr) search_params.sel = &selector.emplace(*request.skip);

    const size_t nq = request.num_queries, k = request.k;
    std::vector<FaissId> labels(nq * k, -1);
    std::vector<float> distances(nq * k);
    const size_t chunks = request.pool != nullptr ? (nq + kQueryChunk - 1) / kQueryChunk : 1;
    const size_t chunk_size = request.pool != nullptr ? kQueryChunk : nq;
    std::vector<Status> statuses(chunks);
    std::vector<faiss::IndexIVFStats> stats(chunks);
    RunPerQuery(request, chunks, [&](size_t c) {
      const size_t begin = c * chunk_size, count = std::min(chunk_size, nq - begin);
      statuses[c] = SearchChunk(queries.row(begin), count, k, search_params,
                                distances.data() + begin * k, labels.data() + begin * k, &stats[c]);
    });
    for (Status& s : statuses) TESSERA_RETURN_IF_ERROR(std::move(s));

    for (size_t i = 0; i < nq * k; ++i) {
      if (labels[i] < 0) continue;  // fewer than k rows reachable: keep the empty slot
      result.ids[i] = labels[i];
      // FAISS reports squared L2 for L2 and the inner product for IP, which is what users
      // see; COSINE is IP on unit vectors, clamped because SQ/PQ codes can overshoot 1.
      result.distances[i] = metric_ == MetricType::kCosine
                                ? std::clamp(distances[i], -1.0f, 1.0f)
                                : distances[i];
    }
    // Work counters: coarse distances (one per list per query) plus FAISS's count of codes
    // compared; nodes_visited counts the inverted lists scanned.
    result.stats.distances_computed = static_cast<uint64_t>(nq) * index_->nlist;
    for (const auto& s : stats) {
      result.stats.distances_computed += s.ndis;
      result.stats.nodes_visited += s.nlist;
    }
    return result;
  }

  size_t MemoryUsage() const override {
    size_t bytes = sizeof(*this);
    if (!index_) return bytes;
    // Inverted lists: a code and an 8-byte id per row; coarse centroids.
    bytes += static_cast<size_t>(index_->ntotal) * (index_->code_size + sizeof(FaissId));
    bytes += static_cast<size_t>(index_->quantizer->ntotal) * dim_ * sizeof(float);
    if (const auto* pq = dynamic_cast<const faiss::IndexIVFPQ*>(index_.get())) {
      bytes += pq->pq.centroids.size() * sizeof(float);
      bytes += pq->precomputed_table.size() * sizeof(float);
    } else if (const auto* sq = dynamic_cast<const faiss::IndexIVFScalarQuantizer*>(index_.get())) {
      bytes += sq->sq.trained.size() * sizeof(float);
    }
    return bytes;
  }

 protected:
  // Payload: [u64 length][faiss::write_index bytes]; length 0 for an index never built.
  Status SerializePayload(BlobWriter& out) const override {
    faiss::VectorIOWriter writer;
    if (index_) {
      TESSERA_RETURN_IF_ERROR(CallFaiss(StatusCode::kInternal, "FAISS write_index",
                                        [&] { faiss::write_index(index_.get(), &writer); }));
    }
    out.PutArray(std::span<const uint8_t>(writer.data));
    return Status::OK();
  }

  Status LoadPayload(BlobReader& in, size_t rows) override {
    uint64_t length = 0;
    TESSERA_RETURN_IF_ERROR(in.Get(&length, "FAISS index length"));
    TESSERA_ASSIGN_OR_RETURN(std::span<const uint8_t> bytes, in.GetView(length, "FAISS index bytes"));
    if (rows == 0 || bytes.empty()) {
      if (rows == 0 && bytes.empty()) return Status::OK();
      return Status::DataLoss(std::string(IndexTypeName(type_)) + " blob says " +
                              std::to_string(rows) + " rows but holds " +
                              std::to_string(bytes.size()) + " bytes of FAISS index");
    }
    BoundedSpanReader reader(bytes);
    std::unique_ptr<faiss::Index> loaded;
    // Unlike elsewhere, bad_alloc is caught too: a corrupt length field makes FAISS attempt
    // an absurd allocation, and that is damage in the blob, not memory pressure.
    try {
      // The precomputed IVF_PQ table is built from the PQ and quantizer fields, which are
      // not validated yet (FAISS trusts them and reads out of bounds); CheckLoaded first.
      loaded.reset(faiss::read_index(&reader, faiss::IO_FLAG_SKIP_PRECOMPUTE_TABLE));
    } catch (const faiss::FaissException& e) {
      return Status::DataLoss("FAISS could not read the " + std::string(IndexTypeName(type_)) +
                              " index in the blob: " + e.msg);
    } catch (const std::exception& e) {
      return Status::DataLoss("FAISS could not read the " + std::string(IndexTypeName(type_)) +
                              " index in the blob: " + e.what());
    }
    if (reader.remaining() != 0) {
      return Status::DataLoss("FAISS index in the blob has " + std::to_string(reader.remaining()) +
                              " trailing bytes");
    }
    auto* ivf = dynamic_cast<faiss::IndexIVF*>(loaded.get());
    TESSERA_RETURN_IF_ERROR(CheckLoaded(ivf, rows));
    if (auto* pq = dynamic_cast<faiss::IndexIVFPQ*>(ivf)) {
      TESSERA_RETURN_IF_ERROR(CallFaiss(StatusCode::kDataLoss, "IVF_PQ precomputed table",
                                        [&] { pq->precompute_table(); }));
    }
    loaded.release();
    index_.reset(ivf);
    return Status::OK();
  }

 private:
  // COSINE rows are normalised into `scratch`; other metrics use the caller's rows as is.
  const float* Normalized(const float* data, size_t n, std::vector<float>* scratch) const {
    if (metric_ != MetricType::kCosine) return data;
    scratch->assign(data, data + n * dim_);
    for (size_t i = 0; i < n; ++i) NormalizeInPlace(scratch->data() + i * dim_, dim_);
    return scratch->data();
  }

  // May throw (FAISS constructors check their arguments); called inside CallFaiss.
  std::unique_ptr<faiss::IndexIVF> MakeFaissIndex(size_t lists) const {
    const faiss::MetricType metric = FaissMetric(metric_);
    std::unique_ptr<faiss::Index> quantizer;
    if (metric == faiss::METRIC_L2) {
      quantizer = std::make_unique<faiss::IndexFlatL2>(dim_);
    } else {
      quantizer = std::make_unique<faiss::IndexFlatIP>(dim_);
    }
    std::unique_ptr<faiss::IndexIVF> ivf;
    switch (type_) {
      case IndexType::kIvfFlat:
        ivf = std::make_unique<faiss::IndexIVFFlat>(quantizer.get(), dim_, lists, metric);
        break;
      case IndexType::kIvfSq8:
        ivf = std::make_unique<faiss::IndexIVFScalarQuantizer>(
            quantizer.get(), dim_, lists, faiss::ScalarQuantizer::QT_8bit, metric);
        break;
      default: {
        auto pq = std::make_unique<faiss::IndexIVFPQ>(quantizer.get(), dim_, lists, pq_m_,
                                                      pq_nbits_, metric);
        pq->pq.cp.min_points_per_centroid = 1;  // our own warning is logged in Build
        ivf = std::move(pq);
        break;
      }
    }
    ivf->cp.min_points_per_centroid = 1;  // ditto: FAISS would print to stderr
    ivf->own_fields = true;
    quantizer.release();
    return ivf;
  }

  Status SearchChunk(const float* x, size_t n, size_t k, const faiss::SearchParametersIVF& params,
                     float* distances, FaissId* labels, faiss::IndexIVFStats* stats) const {
    OmpThreadsGuard threads(1);
    return CallFaiss(StatusCode::kInternal, "FAISS IVF search", [&] {
      const size_t nprobe = params.nprobe;
      std::vector<FaissId> assign(n * nprobe);
      std::vector<float> coarse(n * nprobe);
      index_->quantizer->search(static_cast<FaissId>(n), x, static_cast<FaissId>(nprobe),
                                coarse.data(), assign.data());
      index_->search_preassigned(static_cast<FaissId>(n), x, static_cast<FaissId>(k),
                                 assign.data(), coarse.data(), distances, labels,
                                 /*store_pairs=*/false, &params, stats);
    });
  }

  // Checks that a FAISS index read from a blob is the one this object describes, and that
  // its labels are exactly the row numbers 0..rows-1 (search output and SkipSelector rely
  // on it). Every mismatch is DataLoss.
  // FAISS reads bools and enums straight from the blob, so a damaged byte can leave a value
  // outside the type's range, and even loading it is undefined behaviour. Read the bytes.
  template <typename T>
  static int64_t RawValue(const T& field) {
    static_assert(sizeof(T) <= sizeof(int64_t));
    std::make_unsigned_t<std::conditional_t<sizeof(T) == 1, int8_t,
                         std::conditional_t<sizeof(T) == 2, int16_t,
                         std::conditional_t<sizeof(T) == 4, int32_t, int64_t>>>> raw = 0;
    static_assert(sizeof(raw) == sizeof(T));
    std::memcpy(&raw, &field, sizeof(T));
    return static_cast<int64_t>(raw);
  }

  Status CheckLoaded(const faiss::IndexIVF* ivf, size_t rows) const {
    const std::string name(IndexTypeName(type_));
    auto bad = [&](const std::string& why) {
      return Status::DataLoss(name + " blob holds an unexpected FAISS index: " + why);
    };
    const std::type_info* expected = &typeid(faiss::IndexIVFFlat);
    if (type_ == IndexType::kIvfSq8) expected = &typeid(faiss::IndexIVFScalarQuantizer);
    if (type_ == IndexType::kIvfPq) expected = &typeid(faiss::IndexIVFPQ);
    if (ivf == nullptr || typeid(*ivf) != *expected) return bad("wrong index class");
    if (static_cast<size_t>(ivf->d) != dim_) {
      return bad("dim " + std::to_string(ivf->d) + ", expected " + std::to_string(dim_));
    }
    if (ivf->ntotal < 0 || static_cast<size_t>(ivf->ntotal) != rows) {
      return bad(std::to_string(ivf->ntotal) + " rows, expected " + std::to_string(rows));
    }
    const int64_t metric = static_cast<int64_t>(FaissMetric(metric_));
    if (RawValue(ivf->metric_type) != metric) return bad("wrong metric");
    if (RawValue(ivf->is_trained) != 1 || ivf->nlist == 0 || ivf->nlist > nlist_) {
      return bad("nlist " + std::to_string(ivf->nlist) + " (build params say at most " +
                 std::to_string(nlist_) + ")");
    }
    const std::type_info& quantizer_type =
        metric_ == MetricType::kL2 ? typeid(faiss::IndexFlatL2) : typeid(faiss::IndexFlatIP);
    if (ivf->quantizer == nullptr || typeid(*ivf->quantizer) != quantizer_type ||
        RawValue(ivf->quantizer->metric_type) != metric ||
        static_cast<size_t>(ivf->quantizer->d) != dim_ ||
        ivf->quantizer->ntotal != static_cast<FaissId>(ivf->nlist)) {
      return bad("coarse quantizer does not match");
    }
    const auto* centroids = static_cast<const faiss::IndexFlat*>(ivf->quantizer);
    if (centroids->code_size != dim_ * sizeof(float) ||
        centroids->codes.size() != ivf->nlist * centroids->code_size) {
      return bad("coarse centroid table has the wrong size");
    }
    size_t code_size = dim_ * sizeof(float);  // IVF_FLAT stores raw vectors
    if (type_ == IndexType::kIvfSq8) {
      const auto* sq = static_cast<const faiss::IndexIVFScalarQuantizer*>(ivf);
      // QT_8bit trains a (min, range) pair per dimension.
      if (RawValue(sq->sq.qtype) != static_cast<int64_t>(faiss::ScalarQuantizer::QT_8bit) || sq->sq.d != dim_ ||
          sq->sq.code_size != dim_ || sq->sq.trained.size() != 2 * dim_) {
        return bad("scalar quantizer is not an 8-bit quantizer of dim " + std::to_string(dim_));
      }
      code_size = dim_;
    }
    if (type_ == IndexType::kIvfPq) {
      const faiss::ProductQuantizer& pq = static_cast<const faiss::IndexIVFPQ*>(ivf)->pq;
      if (pq.M != pq_m_ || pq.nbits != pq_nbits_) {
        return bad("PQ m=" + std::to_string(pq.M) + " nbits=" + std::to_string(pq.nbits) +
                   ", expected m=" + std::to_string(pq_m_) + " nbits=" + std::to_string(pq_nbits_));
      }
      if (pq.d != dim_ || pq.dsub != dim_ / pq_m_ || pq.ksub != (size_t{1} << pq_nbits_) ||
          pq.centroids.size() != pq.M * pq.ksub * pq.dsub ||
          pq.code_size != (pq_m_ * pq_nbits_ + 7) / 8) {
        return bad("PQ codebook shape does not match m and nbits");
      }
      code_size = pq.code_size;
    }
    if (ivf->code_size != code_size) return bad("code size " + std::to_string(ivf->code_size));
    const auto* lists = dynamic_cast<const faiss::ArrayInvertedLists*>(ivf->invlists);
    if (lists == nullptr || lists->nlist != ivf->nlist || lists->code_size != code_size ||
        lists->ids.size() != lists->nlist || lists->codes.size() != lists->nlist) {
      return bad("inverted lists do not match the index");
    }
    for (size_t l = 0; l < lists->nlist; ++l) {
      if (lists->codes[l].size() != lists->ids[l].size() * code_size) {
        return bad("inverted list " + std::to_string(l) + " has codes of the wrong size");
      }
    }
    core::Bitset seen(rows);
    size_t total = 0;
    for (size_t l = 0; l < lists->nlist; ++l) {
      const size_t list_size = lists->list_size(l);
      if (list_size > rows - total) return bad("inverted lists hold more than " + std::to_string(rows) + " rows");
      total += list_size;
      faiss::InvertedLists::ScopedIds ids(lists, l);
      for (size_t j = 0; j < list_size; ++j) {
        const FaissId id = ids[j];
        if (id < 0 || static_cast<size_t>(id) >= rows || seen.Test(static_cast<size_t>(id))) {
          return bad("inverted list " + std::to_string(l) + " has bad or repeated row id " +
                     std::to_string(id));
        }
        seen.Set(static_cast<size_t>(id));
      }
    }
    if (total != rows) return bad("inverted lists hold " + std::to_string(total) + " rows, expected " + std::to_string(rows));
    return Status::OK();
  }

  IndexType type_;
  MetricType metric_;
  size_t dim_;
  nlohmann::json params_;
  size_t nlist_;        // requested; the trained index may have fewer lists (see Build)
  size_t pq_m_ = 0;     // IVF_PQ only, resolved (never 0)
  size_t pq_nbits_ = 0;  // IVF_PQ only
  std::unique_ptr<faiss::IndexIVF> index_;
};

}  // namespace

size_t DefaultPqM(size_t dim) {
  for (size_t m = dim / 4; m >= 1; --m) {
    if (dim % m == 0 && dim / m <= 16) return m;
  }
  for (size_t m = (dim + 15) / 16; m < dim; ++m) {
    if (m > 0 && dim % m == 0) return m;
  }
  return dim;
}

Result<std::unique_ptr<Index>> CreateFaissIvfIndex(IndexType type, MetricType metric, size_t dim,
                                                   const nlohmann::json& build_params) {
  if (type != IndexType::kIvfFlat && type != IndexType::kIvfSq8 && type != IndexType::kIvfPq) {
    return Status::InvalidArgument("CreateFaissIvfIndex cannot make a " +
                                   std::string(IndexTypeName(type)) + " index");
  }
  nlohmann::json params = build_params;
  if (type == IndexType::kIvfPq) {
    size_t m = params.at("m").get<size_t>();
    if (m == 0) {
      m = DefaultPqM(dim);
      params["m"] = m;
    }
    if (dim % m != 0) {
      return Status::InvalidArgument("index parameter 'm' = " + std::to_string(m) +
                                     " must divide the vector dimension " + std::to_string(dim) +
                                     " (IVF_PQ splits each vector into m equal sub-vectors)");
    }
  }
  return std::unique_ptr<Index>(std::make_unique<FaissIvfIndex>(type, metric, dim, std::move(params)));
}

}  // namespace tessera::index
