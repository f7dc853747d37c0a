#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/status.h"

namespace tessera::storage {

/// Longest key accepted, in bytes (S3's limit).
inline constexpr size_t kMaxObjectKeyBytes = 1024;
/// Longest key segment (text between '/'), in bytes. Bounded so that every key maps to a
/// local file name (NAME_MAX 255 minus the 4-byte type suffix, with room to spare).
inline constexpr size_t kMaxObjectKeySegmentBytes = 240;
/// Largest page List returns; a larger ListOptions::max_keys is clamped (as S3 does).
inline constexpr size_t kMaxListKeys = 1000;

/// Checks that `key` is a valid object key. The rules, shared by every implementation:
///  - 1..kMaxObjectKeyBytes bytes of well-formed UTF-8 (no overlong forms, no surrogates);
///  - no control characters (U+0000..U+001F, U+007F);
///  - '/' separates segments; no leading '/', no trailing '/', no empty segment ("a//b");
///  - no segment is "." or "..";
///  - every segment is at most kMaxObjectKeySegmentBytes bytes.
/// Anything else (spaces, unicode, `%`, `+`, `\`, `:`, `=`, `~`, leading dots) is allowed.
/// Returns InvalidArgument naming the rule and the key; OK otherwise.
Status ValidateObjectKey(std::string_view key);

/// Checks a List prefix: at most kMaxObjectKeyBytes bytes of UTF-8 without control characters
/// and without a leading '/'. Empty means "every key". InvalidArgument otherwise.
Status ValidateObjectPrefix(std::string_view prefix);

/// What Head and List report about one object.
struct ObjectInfo {
  std::string key;
  /// Size in bytes.
  uint64_t size = 0;
  /// Opaque version tag: it changes whenever the object is replaced by different bytes
  /// (replacing it with identical bytes may or may not change it). Compare, never parse.
  std::string etag;
  /// Time of the write that created this version (server time for remote stores).
  std::chrono::system_clock::time_point mtime;
};

struct ListOptions {
  /// Only keys starting with this byte string. Empty: all keys.
  std::string prefix;
  /// Page size, 1..kMaxListKeys; larger is clamped to kMaxListKeys, 0 is InvalidArgument.
  size_t max_keys = kMaxListKeys;
  /// Empty for the first page, else ListResult::next_token of the previous page (same
  /// prefix). Opaque: callers must not build or inspect it.
  std::string continuation_token;
};

struct ListResult {
  /// In ascending byte-wise (memcmp) order of key, at most max_keys entries.
  std::vector<ObjectInfo> objects;
  /// Non-empty iff more keys may follow; pass it back as ListOptions::continuation_token.
  std::string next_token;
};

/// A flat namespace of immutable byte objects, modelled on S3. Every persistent byte of
/// segment data goes through this interface (DESIGN.md §2).
///
/// Semantics every implementation follows (the conformance suite checks them):
///  - Put is atomic: readers see the old object or the new one, never a mix; once Put
///    returns OK the object is durable. Concurrent Puts of one key: one of them wins.
///  - Every key argument is validated with ValidateObjectKey first: InvalidArgument.
///  - Missing objects are NotFound for Get/GetRange/Head/Copy (source); Delete and
///    DeleteMany of a missing key succeed (as in S3).
///  - Transient backend failures are Unavailable (safe to retry); damaged bytes DataLoss.
///
/// Thread-safety: implementations are thread-safe; every method may be called
/// concurrently from any thread. The interface owns nothing the caller passes in.
class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  /// Short implementation name for logs and test names ("local", "memory", ...).
  virtual std::string_view name() const = 0;

  /// Creates or replaces `key` with `data`.
  virtual Status Put(std::string_view key, std::string_view data) = 0;

  /// The whole object. NotFound if missing.
  virtual Result<std::string> Get(std::string_view key) = 0;

  /// Bytes [offset, offset + length) of the object, clamped to its end; `length` nullopt
  /// means "to the end". `offset` must be < the object's size, else OutOfRange (so every
  /// range on an empty object is OutOfRange, as S3 answers 416); length 0 is
  /// InvalidArgument (S3 cannot express it). NotFound if the object is missing.
  virtual Result<std::string> GetRange(std::string_view key, uint64_t offset,
                                       std::optional<uint64_t> length) = 0;

  /// Size, etag and mtime. NotFound if missing.
  virtual Result<ObjectInfo> Head(std::string_view key) = 0;

  /// One page of keys under options.prefix, in key order, after the continuation token.
  /// A malformed token is InvalidArgument. Pagination is not a snapshot: keys written or
  /// deleted between pages may or may not appear, but a key present throughout appears
  /// exactly once.
  virtual Result<ListResult> List(const ListOptions& options) = 0;

  /// Removes `key`; OK if it did not exist.
  virtual Status Delete(std::string_view key) = 0;

  /// Removes every key (missing ones are fine). All keys are validated before anything is
  /// deleted; on a backend error some keys may already be gone (not atomic).
  virtual Status DeleteMany(std::span<const std::string> keys) = 0;

  /// Server-side copy of `src` to `dst` (created or replaced atomically, as Put). The
  /// bytes do not pass through the caller. NotFound if `src` is missing; src == dst is OK.
  virtual Status Copy(std::string_view src, std::string_view dst) = 0;
};

namespace internal {

/// Continuation tokens of the embedded stores: "k1:" followed by the last key returned.
/// Callers treat tokens as opaque; the S3 store passes S3's own token through.
std::string EncodeListToken(std::string_view last_key);
/// The last key returned, or InvalidArgument if `token` was not made by EncodeListToken.
Result<std::string> DecodeListToken(std::string_view token);
/// Validates prefix and max_keys; returns the effective page size (clamped).
Result<size_t> CheckListOptions(const ListOptions& options);
/// Validates a GetRange request against an object of `size` bytes; returns the byte
/// count to read starting at `offset`.
Result<uint64_t> ResolveRange(std::string_view key, uint64_t size, uint64_t offset,
                              std::optional<uint64_t> length);
/// `key` quoted and shortened for messages.
std::string QuoteKey(std::string_view key);

}  // namespace internal

}  // namespace tessera::storage
