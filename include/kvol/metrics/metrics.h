// kvol::metrics: Prometheus counters, gauges and histograms with labels, a Registry of metric
// families, and the text exposition format (version 0.0.4) that GET /metrics serves.
//
// - A family (CounterVec, GaugeVec, HistogramVec) has a name, a help text and a fixed list of
//   label names. With(values) returns the series for those label values (one value per label
//   name, in the same order), creating it at first use. The reference stays valid as long as the
//   Registry lives (series are never removed), so a hot path resolves a fixed label set once and
//   keeps the reference. A call with the wrong number of values is a programming error: missing
//   values are taken as "", extra ones are ignored.
// - Registry::Add* registers a family, or returns the one already registered under that name
//   (idempotent, so instrumented code registers where it first needs the family). Asking for an
//   existing name with another type or other label names returns a detached family that is never
//   exported (and never crashes the program); a unit test of the instrumented module notices.
// - AddCounterFunc/AddGaugeFunc: an unlabelled value computed at each scrape (process metrics).
//   The function must stay callable for the Registry's lifetime; registering a name again
//   replaces the function.
// - Encode() produces the text format as the Prometheus Go client does: families sorted by name,
//   "# HELP" (help escaped: \\ and \n) and "# TYPE" lines, series sorted by label values, label
//   names sorted, label values escaped (\\, \", \n); histograms as cumulative
//   NAME_bucket{...,le="B"} lines ending with le="+Inf", then NAME_sum and NAME_count. Numbers
//   are printed as Go's strconv.FormatFloat(v, 'g', -1, 64) does ("0.005", "1e-08",
//   "1.2345678e+07", "+Inf").
//
// Thread safety: every call may come from any thread. Inc/Add/Set/Observe are lock-free atomics.
// With() takes a shared lock for a hash lookup (an exclusive one the first time a label set
// appears). Encode() reads each family under its shared lock; a histogram observed during a
// scrape may show a _sum that lags its buckets by that one observation (_count always equals the
// +Inf bucket).
//
// Ownership: the Registry owns its families and their series. Default() is a process-wide
// registry that is never destroyed (safe to use from static destructors and detached threads).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace kvol::metrics {

// The Content-Type of Encode()'s output.
inline constexpr const char* kTextContentType = "text/plain; version=0.0.4; charset=utf-8";

class Counter {
 public:
  // v must be >= 0 (a negative v is ignored: counters only go up).
  void Inc(double v = 1);
  double Value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> v_{0};
};

class Gauge {
 public:
  void Set(double v) { v_.store(v, std::memory_order_relaxed); }
  void Add(double v);
  void Inc() { Add(1); }
  void Dec() { Add(-1); }
  double Value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> v_{0};
};

class Histogram {
 public:
  // `bounds`: the buckets' upper bounds, ascending (+Inf is implicit).
  explicit Histogram(std::shared_ptr<const std::vector<double>> bounds);
  void Observe(double v);

  struct Snapshot {
    std::vector<uint64_t> cumulative;  // one per bound, then +Inf (== count)
    uint64_t count = 0;
    double sum = 0;
  };
  Snapshot Snap() const;
  const std::vector<double>& bounds() const { return *bounds_; }

 private:
  std::shared_ptr<const std::vector<double>> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // per bucket, not cumulative; +Inf last
  std::atomic<double> sum_{0};
};

enum class Type { kCounter, kGauge, kHistogram };

// What every family shares: identity and the text encoding.
class Family {
 public:
  Family(std::string name, std::string help, Type type, std::vector<std::string> labelNames);
  virtual ~Family() = default;
  Family(const Family&) = delete;
  Family& operator=(const Family&) = delete;

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  Type type() const { return type_; }
  const std::vector<std::string>& labelNames() const { return labelNames_; }
  // Appends the HELP and TYPE lines and every series' sample lines.
  virtual void Encode(std::string& out) const = 0;

 protected:
  std::string name_;
  std::string help_;
  Type type_;
  std::vector<std::string> labelNames_;
};

// A family of one metric type keyed by label values.
template <class M>
class Vec : public Family {
 public:
  Vec(std::string name, std::string help, Type type, std::vector<std::string> labelNames,
      std::function<std::unique_ptr<M>()> make)
      : Family(std::move(name), std::move(help), type, std::move(labelNames)),
        make_(std::move(make)) {}

  M& With(std::initializer_list<std::string_view> values);
  M& With(const std::vector<std::string>& values);
  void Encode(std::string& out) const override;

 private:
  struct Series {
    std::vector<std::string> values;  // in labelNames_ order
    std::unique_ptr<M> metric;
  };
  template <class It>
  M& Find(It begin, It end);

  std::function<std::unique_ptr<M>()> make_;
  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, Series> series_;  // key: values joined by '\xff'; guarded by mu_
};

using CounterVec = Vec<Counter>;
using GaugeVec = Vec<Gauge>;
using HistogramVec = Vec<Histogram>;

class Registry {
 public:
  Registry();
  ~Registry();

  CounterVec& AddCounter(const std::string& name, const std::string& help,
                         std::vector<std::string> labelNames = {});
  GaugeVec& AddGauge(const std::string& name, const std::string& help,
                     std::vector<std::string> labelNames = {});
  HistogramVec& AddHistogram(const std::string& name, const std::string& help,
                             std::vector<std::string> labelNames, std::vector<double> buckets);
  void AddCounterFunc(const std::string& name, const std::string& help,
                      std::function<double()> value);
  void AddGaugeFunc(const std::string& name, const std::string& help,
                    std::function<double()> value);

  // The text exposition format of every family (see the top of this file).
  std::string Encode() const;

  // The process-wide registry GET /metrics serves.
  static Registry& Default();

 private:
  template <class V, class... A>
  V& AddVec(const std::string& name, const std::string& help, Type type,
            const std::vector<std::string>& labelNames, A&&... args);

  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<Family>> families_;  // sorted by name; guarded by mu_
  std::vector<std::unique_ptr<Family>> detached_;  // mismatched re-registrations; guarded by mu_
};

inline Registry& Default() { return Registry::Default(); }

// `count` bounds: start, start*factor, ... (Prometheus' ExponentialBuckets).
std::vector<double> ExponentialBuckets(double start, double factor, int count);
// `count` bounds: start, start+width, ...
std::vector<double> LinearBuckets(double start, double width, int count);

// Go's strconv.FormatFloat(v, 'g', -1, 64), with "+Inf", "-Inf" and "NaN" as the text format
// spells them.
std::string FormatFloat(double v);
// A label value escaped for the text format: \ -> \\, " -> \", newline -> \n.
std::string EscapeLabelValue(std::string_view v);

// Seconds elapsed since `start` on the steady clock (the unit every *_seconds metric uses).
double SecondsSince(std::chrono::steady_clock::time_point start);

}  // namespace kvol::metrics
