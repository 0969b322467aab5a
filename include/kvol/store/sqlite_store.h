// The SQLite Store backend (the default, embedded store). See docs/design/store.md.
//
// One file (plus its -wal/-shm) holds a kine-style revision log: one row per written key per
// Txn, with a global revision per Txn. WAL + synchronous=FULL: a write that returned OK survives
// kill -9 and power loss. Writes from all threads go through one committer thread that commits
// everything queued in one SQLite transaction (group commit: one fsync for many Txns). The
// latest state is also kept in memory (Get / List at the latest revision never touch disk);
// snapshot lists at older revisions and watch history read the log.
//
// Only one process may open a store file at a time (the revision counter lives in this process).
//
// Thread safety: the returned Store may be used from any thread; see store.h.
#pragma once

#include <memory>
#include <string>

#include "kvol/store/store.h"

namespace kvol::store {

struct SqliteOptions {
  // FULL (default) fsyncs the WAL on every commit. NORMAL is faster but may lose the last
  // commits on power loss (never on a process crash); for tests and benchmarks only.
  bool synchronousFull = true;
};

// Opens `path`, creating the file and schema when missing; recovers the revision on re-open.
Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path,
                                               const SqliteOptions& opts = {});

// Group-commit counters (for tests and benchmarks): SQLite transactions committed, and Txns they
// carried. Zero for a Store that is not a SQLite store.
struct SqliteStats {
  int64_t commits = 0;
  int64_t txns = 0;
};
SqliteStats GetSqliteStats(Store& store);

}  // namespace kvol::store
