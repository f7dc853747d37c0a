#include "bench/dataset.h"

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

namespace tessera::bench {
namespace {

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

// Reads records of element type `In`, converting each component to `Out`.
template <typename In, typename Out>
Result<Matrix<Out>> ReadXvecs(const std::string& path, size_t max_rows) {
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "rb"));
  if (!file) return Status::NotFound("cannot open dataset file " + path);
  Matrix<Out> m;
  std::vector<In> record;
  for (size_t row = 0; max_rows == 0 || row < max_rows; ++row) {
    int32_t dim = 0;
    const size_t got = std::fread(&dim, sizeof(dim), 1, file.get());
    if (got == 0) break;  // clean end of file
    if (dim <= 0 || dim > (1 << 20) || (m.dim != 0 && static_cast<size_t>(dim) != m.dim)) {
      return Status::DataLoss(path + ": record " + std::to_string(row) + " has dimension " +
                              std::to_string(dim) + ", expected " + std::to_string(m.dim));
    }
    m.dim = static_cast<size_t>(dim);
    record.resize(m.dim);
    if (std::fread(record.data(), sizeof(In), m.dim, file.get()) != m.dim) {
      return Status::DataLoss(path + ": record " + std::to_string(row) + " is truncated");
    }
    for (In v : record) m.values.push_back(static_cast<Out>(v));
    ++m.rows;
  }
  return m;
}

Result<std::vector<uint8_t>> ReadBytes(const std::string& path) {
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "rb"));
  if (!file) return Status::NotFound("cannot open " + path);
  std::vector<uint8_t> out;
  uint8_t buf[65536];
  size_t got;
  while ((got = std::fread(buf, 1, sizeof(buf), file.get())) > 0) out.insert(out.end(), buf, buf + got);
  return out;
}

}  // namespace

Result<Matrix<float>> ReadFvecs(const std::string& path, size_t max_rows) {
  return ReadXvecs<float, float>(path, max_rows);
}
Result<Matrix<float>> ReadBvecs(const std::string& path, size_t max_rows) {
  return ReadXvecs<uint8_t, float>(path, max_rows);
}
Result<Matrix<int32_t>> ReadIvecs(const std::string& path, size_t max_rows) {
  return ReadXvecs<int32_t, int32_t>(path, max_rows);
}

Result<Dataset> LoadDataset(const std::string& dir, size_t max_queries) {
  namespace fs = std::filesystem;
  Dataset ds;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string file = entry.path().filename().string();
    const auto pos = file.find("_base.");
    if (pos != std::string::npos) ds.name = file.substr(0, pos);
  }
  if (ec) return Status::NotFound("cannot list dataset folder " + dir + ": " + ec.message());
  if (ds.name.empty()) return Status::NotFound("no <name>_base.fvecs or .bvecs file in " + dir);
  const std::string prefix = dir + "/" + ds.name;
  auto read_vectors = [&](const std::string& stem, size_t max_rows) -> Result<Matrix<float>> {
    if (fs::exists(stem + ".fvecs")) return ReadFvecs(stem + ".fvecs", max_rows);
    return ReadBvecs(stem + ".bvecs", max_rows);
  };
  TESSERA_ASSIGN_OR_RETURN(ds.base, read_vectors(prefix + "_base", 0));
  TESSERA_ASSIGN_OR_RETURN(ds.queries, read_vectors(prefix + "_query", max_queries));
  TESSERA_ASSIGN_OR_RETURN(ds.ground_truth,
                           ReadIvecs(prefix + "_groundtruth_l2_top100.ivecs", max_queries));
  if (ds.queries.dim != ds.base.dim || ds.ground_truth.rows != ds.queries.rows) {
    return Status::DataLoss(dir + ": base, query and ground-truth files disagree in shape");
  }
  if (fs::exists(prefix + "_base_labels.u8")) {
    TESSERA_ASSIGN_OR_RETURN(ds.base_labels, ReadBytes(prefix + "_base_labels.u8"));
    TESSERA_ASSIGN_OR_RETURN(ds.query_labels, ReadBytes(prefix + "_query_labels.u8"));
    if (ds.base_labels.size() != ds.base.rows) {
      return Status::DataLoss(prefix + "_base_labels.u8 has " + std::to_string(ds.base_labels.size()) +
                              " labels for " + std::to_string(ds.base.rows) + " rows");
    }
  }
  return ds;
}

}  // namespace tessera::bench
