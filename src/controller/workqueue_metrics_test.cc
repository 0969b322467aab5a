// WorkQueue's client-go metrics: depth, adds, retries, queue and work durations of a named queue.
#include <gtest/gtest.h>

#include <thread>

#include "kvol/controller/workqueue.h"
#include "kvol/metrics/metrics.h"

namespace kvol::controller {
namespace {

TEST(WorkQueueMetrics, NamedQueueCountsAddsDepthRetriesAndDurations) {
  auto& r = metrics::Registry::Default();
  const std::vector<std::string> name = {"test-queue"};
  auto& depth = r.AddGauge("workqueue_depth", "", {"name"}).With(name);
  auto& adds = r.AddCounter("workqueue_adds_total", "", {"name"}).With(name);
  auto& retries = r.AddCounter("workqueue_retries_total", "", {"name"}).With(name);
  auto buckets = metrics::ExponentialBuckets(10e-9, 10, 10);
  auto& queued =
      r.AddHistogram("workqueue_queue_duration_seconds", "", {"name"}, buckets).With(name);
  auto& work = r.AddHistogram("workqueue_work_duration_seconds", "", {"name"}, buckets).With(name);

  WorkQueue q(WorkQueue::Options{.name = "test-queue"});
  q.Add("a");
  q.Add("a");  // de-duplicated: not an add
  q.Add("b");
  EXPECT_EQ(depth.Value(), 2);
  EXPECT_EQ(adds.Value(), 2);
  std::string k;
  ASSERT_TRUE(q.Get(&k));
  EXPECT_EQ(depth.Value(), 1);
  EXPECT_EQ(queued.Snap().count, 1u);
  q.Add(k);  // while processing: counted, handed out again after Done
  EXPECT_EQ(adds.Value(), 3);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  q.Done(k);
  auto w = work.Snap();
  EXPECT_EQ(w.count, 1u);
  EXPECT_GE(w.sum, 0.02);
  EXPECT_EQ(depth.Value(), 2);
  q.AddRateLimited("c");
  EXPECT_EQ(retries.Value(), 1);
  q.FlushDelayedForTest();
  EXPECT_EQ(q.TryGetBatch(10).size(), 3u);
  EXPECT_EQ(depth.Value(), 0);
  EXPECT_EQ(adds.Value(), 4);
  EXPECT_EQ(queued.Snap().count, 4u);

  WorkQueue unnamed;  // tests' queues export nothing
  unnamed.Add("x");
  EXPECT_EQ(r.Encode().find("name=\"\""), std::string::npos);
}

}  // namespace
}  // namespace kvol::controller
