#include "index/params.h"

#include <cmath>
#include <string>

namespace tessera::index {
namespace {

constexpr ParamSpec kHnswParams[] = {
    {"M", ParamPhase::kBuild, 2, 2048, 16, "max neighbours per node on upper layers (2*M on layer 0)"},
    {"efConstruction", ParamPhase::kBuild, 1, 1 << 20, 200, "candidate list size while building"},
    {"seed", ParamPhase::kBuild, 0, INT64_MAX, 42, "seed for level assignment (reproducible builds)"},
    {"sq8", ParamPhase::kBuild, 0, 1, 0, "1: build and walk the graph on 8-bit codes, re-rank results with exact distances"},
    {"ef", ParamPhase::kSearch, 1, 1 << 20, 64, "candidate list size while searching; must be >= k"},
};
constexpr ParamSpec kIvfFlatParams[] = {
    {"nlist", ParamPhase::kBuild, 1, 65536, 128, "number of k-means clusters"},
    {"nprobe", ParamPhase::kSearch, 1, 65536, 8, "clusters visited per query; must be <= nlist"},
};
constexpr ParamSpec kIvfPqParams[] = {
    {"nlist", ParamPhase::kBuild, 1, 65536, 128, "number of k-means clusters"},
    {"m", ParamPhase::kBuild, 0, 65536, 0, "sub-quantizers; must divide dim (0: auto, see DefaultPqM: dim 128 -> 32)"},
    {"nbits", ParamPhase::kBuild, 1, 16, 8, "bits per sub-quantizer code"},
    {"nprobe", ParamPhase::kSearch, 1, 65536, 8, "clusters visited per query; must be <= nlist"},
};

Result<int64_t> ToInteger(const std::string& name, const nlohmann::json& value) {
  if (value.is_number_integer()) return value.get<int64_t>();
  if (value.is_number_float()) {
    const double d = value.get<double>();
    if (std::isfinite(d) && std::floor(d) == d && std::fabs(d) < 9.0e18) return static_cast<int64_t>(d);
  } else if (value.is_string()) {
    const std::string& s = value.get_ref<const std::string&>();
    size_t used = 0;
    try {
      const long long parsed = std::stoll(s, &used);
      if (used == s.size() && !s.empty()) return static_cast<int64_t>(parsed);
    } catch (const std::exception&) {
      // fall through to the error below
    }
  }
  return Status::InvalidArgument("index parameter '" + name + "' must be an integer, got " +
                                 value.dump());
}

}  // namespace

std::span<const ParamSpec> ParamSchema(IndexType type) {
  switch (type) {
    case IndexType::kFlat: return {};
    case IndexType::kHnsw: return kHnswParams;
    case IndexType::kIvfFlat:
    case IndexType::kIvfSq8: return kIvfFlatParams;
    case IndexType::kIvfPq: return kIvfPqParams;
  }
  return {};
}

Result<nlohmann::json> ValidateParams(IndexType type, ParamPhase phase,
                                      const nlohmann::json& given) {
  const auto schema = ParamSchema(type);
  const char* phase_name = phase == ParamPhase::kBuild ? "build" : "search";
  if (!given.is_null() && !given.is_object()) {
    return Status::InvalidArgument(std::string(phase_name) + " parameters of " +
                                   std::string(IndexTypeName(type)) +
                                   " must be a JSON object, got " + given.dump());
  }
  nlohmann::json out = nlohmann::json::object();
  if (given.is_object()) {
    for (const auto& [key, value] : given.items()) {
      const ParamSpec* spec = nullptr;
      for (const auto& s : schema) {
        if (key == s.name && s.phase == phase) spec = &s;
      }
      if (spec == nullptr) {
        std::string known;
        for (const auto& s : schema) {
          if (s.phase != phase) continue;
          if (!known.empty()) known += ", ";
          known += s.name;
        }
        return Status::InvalidArgument(
            "unknown " + std::string(phase_name) + " parameter '" + key + "' for index type " +
            std::string(IndexTypeName(type)) + " (known: " + (known.empty() ? "none" : known) + ")");
      }
      TESSERA_ASSIGN_OR_RETURN(int64_t v, ToInteger(key, value));
      if (v < spec->min || v > spec->max) {
        return Status::InvalidArgument("index parameter '" + key + "' = " + std::to_string(v) +
                                       " is out of range [" + std::to_string(spec->min) + ", " +
                                       std::to_string(spec->max) + "]");
      }
      out[key] = v;
    }
  }
  for (const auto& s : schema) {
    if (s.phase == phase && !out.contains(s.name)) out[s.name] = s.default_value;
  }
  return out;
}

}  // namespace tessera::index
