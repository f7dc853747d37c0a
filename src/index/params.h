#pragma once

#include <nlohmann/json.hpp>

#include <span>
#include <string>
#include <vector>

#include "common/result.h"
#include "index/index.h"

namespace tessera::index {

/// When a parameter is read: at build time (M, nlist) or per search (ef, nprobe).
enum class ParamPhase : uint8_t { kBuild, kSearch };

/// One entry of an index type's declarative parameter schema (knowhere's config style).
/// Integer parameters only for now; every index parameter of FLAT/HNSW/IVF_* is an integer.
struct ParamSpec {
  const char* name;
  ParamPhase phase;
  int64_t min;
  int64_t max;
  int64_t default_value;
  const char* doc;
};

/// The schema of one index type.
std::span<const ParamSpec> ParamSchema(IndexType type);

/// Validates `given` (a JSON object, or null for none) against the type's parameters of
/// `phase` and returns a copy with defaults filled in. Errors are InvalidArgument and name
/// the parameter: not an object, an unknown parameter (listing the known ones), a value that
/// is not an integer, or one outside [min, max]. Integer-valued strings ("16") and floats
/// with no fraction (16.0) are accepted, as Milvus clients send both.
Result<nlohmann::json> ValidateParams(IndexType type, ParamPhase phase,
                                      const nlohmann::json& given);

}  // namespace tessera::index
