#include "src/store/sqlite/commit_metrics.h"

#include "kvol/metrics/metrics.h"

namespace kvol::store {

void RecordCommit(double seconds, int64_t txns) {
  auto& r = metrics::Registry::Default();
  static metrics::Histogram& duration =
      r.AddHistogram("kvol_store_commit_duration_seconds",
                     "Latency of the store's fsync'd write transactions (one group commit) in "
                     "seconds.",
                     {}, metrics::ExponentialBuckets(0.001, 2, 14))
          .With({});
  static metrics::Histogram& batch =
      r.AddHistogram("kvol_store_commit_batch_size",
                     "Number of Txns written by one group commit of the store.", {},
                     metrics::ExponentialBuckets(1, 2, 12))
          .With({});
  duration.Observe(seconds);
  batch.Observe(static_cast<double>(txns));
}

}  // namespace kvol::store
