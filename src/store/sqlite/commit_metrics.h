// Internal to kvol_store_sqlite: the commit metrics of the group committer.
// - kvol_store_commit_duration_seconds: one fsync'd write transaction (BEGIN IMMEDIATE ..
//   COMMIT, which fsyncs the WAL with synchronous=FULL), with etcd's backend commit buckets
//   (1 ms .. 8 s, as etcd_disk_backend_commit_duration_seconds).
// - kvol_store_commit_batch_size: how many Txns one group commit carried (1 .. 2048).
// Thread safety: callable from any thread (atomics; the series are resolved once).
#pragma once

#include <cstdint>

namespace kvol::store {

void RecordCommit(double seconds, int64_t txns);

}  // namespace kvol::store
