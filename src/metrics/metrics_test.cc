#include "kvol/metrics/metrics.h"

#include <gtest/gtest.h>

#include <ctime>
#include <limits>
#include <thread>
#include <vector>

#include "kvol/metrics/process.h"

namespace kvol::metrics {
namespace {

TEST(FormatFloat, PrintsAsGoStrconvShortest) {
  EXPECT_EQ(FormatFloat(0), "0");
  EXPECT_EQ(FormatFloat(1), "1");
  EXPECT_EQ(FormatFloat(5), "5");
  EXPECT_EQ(FormatFloat(0.005), "0.005");
  EXPECT_EQ(FormatFloat(1.25), "1.25");
  EXPECT_EQ(FormatFloat(60), "60");
  EXPECT_EQ(FormatFloat(0.0001), "0.0001");
  EXPECT_EQ(FormatFloat(1e-8), "1e-08");
  EXPECT_EQ(FormatFloat(123456), "123456");
  EXPECT_EQ(FormatFloat(1e6), "1e+06");
  EXPECT_EQ(FormatFloat(12345678), "1.2345678e+07");
  EXPECT_EQ(FormatFloat(-2.5), "-2.5");
  EXPECT_EQ(FormatFloat(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(FormatFloat(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(FormatFloat(std::numeric_limits<double>::quiet_NaN()), "NaN");
}

TEST(ExponentialBuckets, MultipliesLikeTheGoClient) {
  // client-go's workqueue buckets, ExponentialBuckets(10e-9, 10, 10): Go prints exactly these
  // bounds (repeated multiplication, so 1e-05 comes out as 9.999999999999999e-06).
  std::vector<std::string> got;
  for (double b : ExponentialBuckets(10e-9, 10, 10)) got.push_back(FormatFloat(b));
  EXPECT_EQ(got,
            (std::vector<std::string>{"1e-08", "1e-07", "1e-06", "9.999999999999999e-06",
                                      "9.999999999999999e-05", "0.001", "0.01", "0.1", "1", "10"}));
}

TEST(Encode, CounterWithLabelsSortedAndEscaped) {
  Registry r;
  auto& c = r.AddCounter("test_requests_total", "Requests, by verb\nand path \\ code.",
                         {"verb", "code", "path"});
  c.With({"GET", "200", "/a"}).Inc();
  c.With({"GET", "200", "/a"}).Inc(2);
  c.With({"POST", "201", "say \"hi\"\\\n"}).Inc();
  c.With({"DELETE", "404", "/b"}).Inc(0.5);
  EXPECT_EQ(r.Encode(),
            "# HELP test_requests_total Requests, by verb\\nand path \\\\ code.\n"
            "# TYPE test_requests_total counter\n"
            "test_requests_total{code=\"200\",path=\"/a\",verb=\"GET\"} 3\n"
            "test_requests_total{code=\"201\",path=\"say \\\"hi\\\"\\\\\\n\",verb=\"POST\"} 1\n"
            "test_requests_total{code=\"404\",path=\"/b\",verb=\"DELETE\"} 0.5\n");
}

TEST(Encode, GaugesAndFamiliesSortedByName) {
  Registry r;
  auto& depth = r.AddGauge("workqueue_depth", "Current depth of workqueue", {"name"});
  auto& open = r.AddGauge("a_open", "Open things");
  depth.With({"volumes"}).Set(4);
  depth.With({"claims"}).Inc();
  depth.With({"claims"}).Inc();
  depth.With({"claims"}).Dec();
  open.With({}).Set(-1.5);
  r.AddGauge("unused", "A family without series is not printed", {"x"});
  EXPECT_EQ(r.Encode(),
            "# HELP a_open Open things\n"
            "# TYPE a_open gauge\n"
            "a_open -1.5\n"
            "# HELP workqueue_depth Current depth of workqueue\n"
            "# TYPE workqueue_depth gauge\n"
            "workqueue_depth{name=\"claims\"} 1\n"
            "workqueue_depth{name=\"volumes\"} 4\n");
}

TEST(Encode, HistogramCumulativeBucketsSumCount) {
  Registry r;
  auto& h = r.AddHistogram("op_duration_seconds", "Op latency.", {"op"}, {0.1, 0.5, 1});
  auto& get = h.With({"get"});
  get.Observe(0.05);
  get.Observe(0.1);  // le is inclusive
  get.Observe(0.3);
  get.Observe(7);
  h.With({"a\"b"}).Observe(0.75);
  EXPECT_EQ(r.Encode(),
            "# HELP op_duration_seconds Op latency.\n"
            "# TYPE op_duration_seconds histogram\n"
            "op_duration_seconds_bucket{op=\"a\\\"b\",le=\"0.1\"} 0\n"
            "op_duration_seconds_bucket{op=\"a\\\"b\",le=\"0.5\"} 0\n"
            "op_duration_seconds_bucket{op=\"a\\\"b\",le=\"1\"} 1\n"
            "op_duration_seconds_bucket{op=\"a\\\"b\",le=\"+Inf\"} 1\n"
            "op_duration_seconds_sum{op=\"a\\\"b\"} 0.75\n"
            "op_duration_seconds_count{op=\"a\\\"b\"} 1\n"
            "op_duration_seconds_bucket{op=\"get\",le=\"0.1\"} 2\n"
            "op_duration_seconds_bucket{op=\"get\",le=\"0.5\"} 3\n"
            "op_duration_seconds_bucket{op=\"get\",le=\"1\"} 3\n"
            "op_duration_seconds_bucket{op=\"get\",le=\"+Inf\"} 4\n"
            "op_duration_seconds_sum{op=\"get\"} 7.45\n"
            "op_duration_seconds_count{op=\"get\"} 4\n");
}

TEST(Encode, UnlabelledHistogram) {
  Registry r;
  r.AddHistogram("batch_size", "Txns per commit.", {}, {1, 2}).With({}).Observe(2);
  EXPECT_EQ(r.Encode(),
            "# HELP batch_size Txns per commit.\n"
            "# TYPE batch_size histogram\n"
            "batch_size_bucket{le=\"1\"} 0\n"
            "batch_size_bucket{le=\"2\"} 1\n"
            "batch_size_bucket{le=\"+Inf\"} 1\n"
            "batch_size_sum 2\n"
            "batch_size_count 1\n");
}

TEST(Registry, AddIsIdempotentAndMismatchIsDetached) {
  Registry r;
  auto& a = r.AddCounter("x_total", "X.", {"k"});
  auto& b = r.AddCounter("x_total", "X.", {"k"});
  EXPECT_EQ(&a, &b);
  a.With({"v"}).Inc();
  EXPECT_EQ(b.With({"v"}).Value(), 1);
  // Another label set under the same name: usable, never exported.
  auto& c = r.AddCounter("x_total", "X.", {"other"});
  EXPECT_NE(static_cast<Family*>(&a), static_cast<Family*>(&c));
  c.With({"w"}).Inc();
  EXPECT_EQ(r.Encode(), "# HELP x_total X.\n# TYPE x_total counter\nx_total{k=\"v\"} 1\n");
}

TEST(Registry, WrongNumberOfValuesIsPaddedOrTruncated) {
  Registry r;
  auto& c = r.AddCounter("y_total", "Y.", {"a", "b"});
  c.With({"1"}).Inc();
  c.With({"1", "", "extra"}).Inc();
  EXPECT_EQ(r.Encode(), "# HELP y_total Y.\n# TYPE y_total counter\ny_total{a=\"1\",b=\"\"} 2\n");
}

TEST(Registry, ManyThreadsCountExactly) {
  Registry r;
  auto& c = r.AddCounter("hits_total", "Hits.", {"worker"});
  auto& h = r.AddHistogram("lat_seconds", "Lat.", {"worker"}, {0.5});
  auto& g = r.AddGauge("level", "Level.");
  constexpr int kThreads = 8, kIters = 20000;
  std::vector<std::thread> ts;
  for (int t = 0; t < kThreads; ++t) {
    ts.emplace_back([&, t] {
      for (int i = 0; i < kIters; ++i) {
        // Both a shared series (contended) and a per-thread one (created concurrently).
        c.With({"shared"}).Inc();
        c.With({std::to_string(t % 2)}).Inc();
        h.With({"shared"}).Observe(i % 2 ? 0.25 : 1);
        g.With({}).Inc();
        if (i % 2) g.With({}).Dec();
      }
    });
  }
  std::thread scraper([&] {
    for (int i = 0; i < 20; ++i) (void)r.Encode();
  });
  for (auto& t : ts) t.join();
  scraper.join();
  EXPECT_EQ(c.With({"shared"}).Value(), kThreads * kIters);
  EXPECT_EQ(c.With({"0"}).Value(), kThreads / 2 * kIters);
  EXPECT_EQ(c.With({"1"}).Value(), kThreads / 2 * kIters);
  auto snap = h.With({"shared"}).Snap();
  EXPECT_EQ(snap.count, uint64_t{kThreads} * kIters);
  EXPECT_EQ(snap.cumulative[0], uint64_t{kThreads} * kIters / 2);
  EXPECT_EQ(snap.sum, kThreads * (kIters / 2) * 1.25);
  EXPECT_EQ(g.With({}).Value(), kThreads * kIters / 2);
}

TEST(Registry, FuncsAreEvaluatedAtScrape) {
  Registry r;
  double v = 1;
  r.AddGaugeFunc("f", "F.", [&v] { return v; });
  EXPECT_EQ(r.Encode(), "# HELP f F.\n# TYPE f gauge\nf 1\n");
  v = 2;
  EXPECT_EQ(r.Encode(), "# HELP f F.\n# TYPE f gauge\nf 2\n");
}

TEST(ProcessMetrics, ResidentMemoryAndStartTimeArePlausible) {
  Registry r;
  RegisterProcessMetrics(r);
  std::string text = r.Encode();
  EXPECT_NE(text.find("# TYPE process_resident_memory_bytes gauge\n"), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE process_cpu_seconds_total counter\n"), std::string::npos);
  auto value = [&](const std::string& name) {
    auto p = text.find("\n" + name + " ");
    EXPECT_NE(p, std::string::npos) << name;
    return std::stod(text.substr(p + name.size() + 2));
  };
  EXPECT_GT(value("process_resident_memory_bytes"), 1 << 20);
  EXPECT_GT(value("process_virtual_memory_bytes"), value("process_resident_memory_bytes"));
  double start = value("process_start_time_seconds");
  double now = static_cast<double>(std::time(nullptr));
  EXPECT_LE(start, now + 1);
  EXPECT_GT(start, now - 3600);  // this test binary started moments ago
  EXPECT_GE(value("process_open_fds"), 3);
  EXPECT_GT(value("process_max_fds"), value("process_open_fds"));
}

}  // namespace
}  // namespace kvol::metrics
