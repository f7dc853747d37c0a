#include "proxy/error_map.h"

#include <array>
#include <string_view>

namespace tessera::proxy {
namespace {

// A status whose message contains `needle` (and `also`, when set). Case-sensitive; the
// coordinator and query node word their errors "collection not found[...]",
// "collection not loaded: ...", "partition 'p' of collection 'c' is not loaded", ...
struct MessageRule {
  StatusCode status;
  std::string_view needle;
  std::string_view also;
  int milvus;
};

constexpr std::array<MessageRule, 20> kMessageRules = {{
    {StatusCode::kNotFound, "collection not found", "", code::kCollectionNotFound},
    {StatusCode::kNotFound, "partition not found", "", code::kPartitionNotFound},
    {StatusCode::kNotFound, "index not found", "", code::kIndexNotFound},
    {StatusCode::kNotFound, "database not found", "", code::kDatabaseNotFound},
    {StatusCode::kNotFound, "alias not found", "", code::kAliasNotFound},
    {StatusCode::kNotFound, "field not found", "", code::kFieldNotFound},
    {StatusCode::kFailedPrecondition, "collection not loaded", "", code::kCollectionNotLoaded},
    {StatusCode::kFailedPrecondition, "partition", "not loaded", code::kPartitionNotLoaded},
    {StatusCode::kFailedPrecondition, "not fully loaded", "", code::kCollectionNotFullyLoaded},
    {StatusCode::kFailedPrecondition, "not loaded", "", code::kCollectionNotLoaded},
    {StatusCode::kFailedPrecondition, "index not found", "", code::kIndexNotFound},
    {StatusCode::kAlreadyExists, "conflicts with an existing", "", code::kAliasCollectionConflict},
    {StatusCode::kAlreadyExists, "alias", "", code::kAliasAlreadyExists},
    {StatusCode::kAlreadyExists, "index", "", code::kIndexDuplicate},
    {StatusCode::kFailedPrecondition, "collection not found", "", code::kCollectionNotFound},
    {StatusCode::kNotFound, "not loaded", "", code::kCollectionNotLoaded},
    // A full disk under the WAL or the data: Milvus denies writes past its disk quota with 9.
    {StatusCode::kResourceExhausted, "No space left on device", "", code::kQuotaExceeded},
    {StatusCode::kResourceExhausted, "Disk quota exceeded", "", code::kQuotaExceeded},
    {StatusCode::kResourceExhausted, "database or disk is full", "", code::kQuotaExceeded},  // SQLite
    // Writes above the memory limit: Milvus's memory protection answers 9 too.
    {StatusCode::kResourceExhausted, "memory quota exceeded", "", code::kQuotaExceeded},
}};

// NotFound / InvalidArgument whose message did not say what: decided by the context.
struct ContextRule {
  ErrorContext context;
  StatusCode status;
  int milvus;
};

constexpr std::array<ContextRule, 7> kContextRules = {{
    {ErrorContext::kCollection, StatusCode::kNotFound, code::kCollectionNotFound},
    {ErrorContext::kPartition, StatusCode::kNotFound, code::kPartitionNotFound},
    {ErrorContext::kIndex, StatusCode::kNotFound, code::kIndexNotFound},
    {ErrorContext::kDatabase, StatusCode::kNotFound, code::kDatabaseNotFound},
    {ErrorContext::kAlias, StatusCode::kNotFound, code::kAliasNotFound},
    {ErrorContext::kInsertData, StatusCode::kInvalidArgument, code::kInsertData},
    {ErrorContext::kPrimaryKey, StatusCode::kInvalidArgument, code::kPrimaryKey},
}};

// Everything else, by canonical code.
struct CodeRule {
  StatusCode status;
  int milvus;
};

constexpr std::array<CodeRule, 8> kCodeRules = {{
    {StatusCode::kInvalidArgument, code::kInvalidParameter},
    {StatusCode::kOutOfRange, code::kInvalidParameter},
    {StatusCode::kUnimplemented, code::kUnimplemented},
    {StatusCode::kUnavailable, code::kServiceUnavailable},
    {StatusCode::kDeadlineExceeded, code::kTimeout},
    {StatusCode::kCancelled, code::kCanceled},
    {StatusCode::kResourceExhausted, code::kMemoryLimit},
    {StatusCode::kInternal, code::kServiceInternal},
}};

}  // namespace

ApiStatus ToApiStatus(const Status& status, ErrorContext context) {
  const StatusCode sc = status.ok() ? StatusCode::kUnknown : status.code();
  const std::string& message = status.message();
  for (const MessageRule& rule : kMessageRules) {
    if (rule.status == sc && message.find(rule.needle) != std::string::npos &&
        (rule.also.empty() || message.find(rule.also) != std::string::npos)) {
      return {rule.milvus, message};
    }
  }
  for (const ContextRule& rule : kContextRules) {
    if (rule.context == context && rule.status == sc) return {rule.milvus, message};
  }
  for (const CodeRule& rule : kCodeRules) {
    if (rule.status == sc) return {rule.milvus, message};
  }
  return {code::kUnexpected, message.empty() ? std::string(StatusCodeName(sc)) : message};
}

}  // namespace tessera::proxy
