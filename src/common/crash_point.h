#pragma once
// Named crash sites for recovery tests (shared/spec/RELIABILITY_TESTPLAN.md, 1.5).
//
// With the environment variable TESSERA_CRASHPOINT=<site>:<n> the process kills itself with
// SIGKILL (exactly a `kill -9`: no destructors, no flush) the n-th time (n >= 1) execution
// reaches the site; it first writes "crash point <site> hit (<n>)" to stderr, so a test can
// tell a planned death from a real one. Without the variable a site costs one load of a
// flag and a branch.

#include <array>
#include <string_view>

#include "common/status.h"

namespace tessera::crash_point {

/// Every site; the names are what TESSERA_CRASHPOINT takes.
enum class Site {
  kWalAfterWriteBeforeSync,      // LocalLog: records written to the file, not yet fdatasync'd
  kProxyAfterAppendBeforeAck,    // proxy: the WAL append returned, the client has no answer yet
  kFlushMidUpload,               // data node: after each segment file PUT (before the next one)
  kFlushBeforeCommit,            // data node: every file PUT, the segment not yet in the catalog
  kIndexBeforeCommit,            // index node: the index file PUT, the build not yet reported
  kCompactionMidUpload,          // data node: after each file PUT of a compaction's output
  kCompactionBeforeCommit,       // coordinator: the compacted, indexed output not yet registered
  kCompactionBeforeHandoff,      // coordinator: the output registered, the query node not told
  kDropBeforeSegments,           // coordinator: the collection deleted, its segments not yet dropped
  kGcAfterDelete,                // coordinator: after each batch of object deletes by GC
};

inline constexpr std::array<std::string_view, 10> kSiteNames = {
    "wal.after_write_before_sync",    "proxy.after_append_before_ack",   "datanode.flush_mid_upload",
    "datanode.flush_before_commit",   "indexnode.build_before_commit",   "datanode.compaction_mid_upload",
    "coord.compaction_before_commit", "coord.compaction_before_handoff", "coord.drop_before_segments",
    "coord.gc_after_delete",
};

/// Reads TESSERA_CRASHPOINT once. InvalidArgument naming the value when it is set but not
/// "<known site>:<n>" (the known sites are listed); the server refuses to start then.
/// Until it is called (or when it failed) no site fires.
Status InitFromEnvironment();

namespace internal {
extern bool armed;  // set once by InitFromEnvironment, before any site can run
void Reached(Site site);
}  // namespace internal

/// Marks a crash site.
inline void Reach(Site site) {
  if (internal::armed) internal::Reached(site);
}

}  // namespace tessera::crash_point
