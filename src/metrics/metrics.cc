#include "kvol/metrics/metrics.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "src/metrics/encode.h"

namespace kvol::metrics {

namespace {

void AtomicAdd(std::atomic<double>& a, double v) {
  double cur = a.load(std::memory_order_relaxed);
  while (!a.compare_exchange_weak(cur, cur + v, std::memory_order_relaxed)) {
  }
}

constexpr char kSep = '\xff';  // cannot occur in UTF-8 label values

}  // namespace

void Counter::Inc(double v) {
  if (v > 0) AtomicAdd(v_, v);
}

void Gauge::Add(double v) { AtomicAdd(v_, v); }

Histogram::Histogram(std::shared_ptr<const std::vector<double>> bounds)
    : bounds_(std::move(bounds)), counts_(new std::atomic<uint64_t>[bounds_->size() + 1]) {
  for (size_t i = 0; i <= bounds_->size(); ++i) counts_[i].store(0, std::memory_order_relaxed);
}

void Histogram::Observe(double v) {
  // The first bucket whose upper bound is >= v (buckets are inclusive: le).
  size_t i = std::lower_bound(bounds_->begin(), bounds_->end(), v) - bounds_->begin();
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  AtomicAdd(sum_, v);
}

Histogram::Snapshot Histogram::Snap() const {
  Snapshot s;
  s.cumulative.reserve(bounds_->size() + 1);
  uint64_t acc = 0;
  for (size_t i = 0; i <= bounds_->size(); ++i) {
    acc += counts_[i].load(std::memory_order_relaxed);
    s.cumulative.push_back(acc);
  }
  s.count = acc;
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

Family::Family(std::string name, std::string help, Type type, std::vector<std::string> labelNames)
    : name_(std::move(name)),
      help_(std::move(help)),
      type_(type),
      labelNames_(std::move(labelNames)) {}

template <class M>
template <class It>
M& Vec<M>::Find(It begin, It end) {
  const size_t n = labelNames_.size();
  std::string key;
  size_t i = 0;
  for (It it = begin; it != end && i < n; ++it, ++i) {
    if (i) key += kSep;
    key.append(it->data(), it->size());
  }
  for (; i < n; ++i)
    if (i) key += kSep;  // missing values are ""
  {
    std::shared_lock<std::shared_mutex> l(mu_);
    auto f = series_.find(key);
    if (f != series_.end()) return *f->second.metric;
  }
  std::unique_lock<std::shared_mutex> l(mu_);
  auto [f, inserted] = series_.try_emplace(key);
  if (inserted) {
    Series& s = f->second;
    for (It it = begin; it != end && s.values.size() < n; ++it) s.values.emplace_back(*it);
    s.values.resize(n);
    s.metric = make_();
  }
  return *f->second.metric;
}

template <class M>
M& Vec<M>::With(std::initializer_list<std::string_view> values) {
  return Find(values.begin(), values.end());
}

template <class M>
M& Vec<M>::With(const std::vector<std::string>& values) {
  return Find(values.begin(), values.end());
}

template <class M>
void Vec<M>::Encode(std::string& out) const {
  // Label names sorted (as the Go client prints them), series sorted by their values in that
  // order.
  std::vector<size_t> order(labelNames_.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return labelNames_[a] < labelNames_[b]; });
  std::vector<std::pair<std::vector<std::string>, const M*>> rows;
  {
    std::shared_lock<std::shared_mutex> l(mu_);
    rows.reserve(series_.size());
    for (const auto& [key, s] : series_) {
      std::vector<std::string> sorted;
      sorted.reserve(order.size());
      for (size_t i : order) sorted.push_back(s.values[i]);
      rows.emplace_back(std::move(sorted), s.metric.get());
    }
  }
  if (rows.empty()) return;  // a family without series is not exported (as in the Go client)
  std::sort(rows.begin(), rows.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  internal::AppendHeader(out, *this);
  for (const auto& [values, m] : rows) {
    std::string labels;
    for (size_t j = 0; j < order.size(); ++j) {
      if (j) labels += ',';
      labels += labelNames_[order[j]];
      labels += "=\"";
      labels += EscapeLabelValue(values[j]);
      labels += '"';
    }
    internal::AppendSamples(out, name_, labels, *m);
  }
}

template class Vec<Counter>;
template class Vec<Gauge>;
template class Vec<Histogram>;

namespace {

// An unlabelled value computed at scrape time.
class FuncFamily : public Family {
 public:
  FuncFamily(std::string name, std::string help, Type type, std::function<double()> f)
      : Family(std::move(name), std::move(help), type, {}), f_(std::move(f)) {}
  void Encode(std::string& out) const override {
    internal::AppendHeader(out, *this);
    out += name_;
    out += ' ';
    out += FormatFloat(f_());
    out += '\n';
  }

 private:
  std::function<double()> f_;
};

}  // namespace

Registry::Registry() = default;
Registry::~Registry() = default;

template <class V, class... A>
V& Registry::AddVec(const std::string& name, const std::string& help, Type type,
                    const std::vector<std::string>& labelNames, A&&... args) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = families_.find(name);
  if (it != families_.end()) {
    auto* v = dynamic_cast<V*>(it->second.get());
    if (v && v->type() == type && v->labelNames() == labelNames) return *v;
    detached_.push_back(
        std::make_unique<V>(name, help, type, labelNames, std::forward<A>(args)...));
    return static_cast<V&>(*detached_.back());
  }
  auto v = std::make_unique<V>(name, help, type, labelNames, std::forward<A>(args)...);
  V& ref = *v;
  families_.emplace(name, std::move(v));
  return ref;
}

CounterVec& Registry::AddCounter(const std::string& name, const std::string& help,
                                 std::vector<std::string> labelNames) {
  return AddVec<CounterVec>(name, help, Type::kCounter, labelNames,
                            [] { return std::make_unique<Counter>(); });
}

GaugeVec& Registry::AddGauge(const std::string& name, const std::string& help,
                             std::vector<std::string> labelNames) {
  return AddVec<GaugeVec>(name, help, Type::kGauge, labelNames,
                          [] { return std::make_unique<Gauge>(); });
}

HistogramVec& Registry::AddHistogram(const std::string& name, const std::string& help,
                                     std::vector<std::string> labelNames,
                                     std::vector<double> buckets) {
  std::sort(buckets.begin(), buckets.end());
  buckets.erase(std::unique(buckets.begin(), buckets.end()), buckets.end());
  while (!buckets.empty() && std::isinf(buckets.back())) buckets.pop_back();
  auto bounds = std::make_shared<const std::vector<double>>(std::move(buckets));
  return AddVec<HistogramVec>(name, help, Type::kHistogram, labelNames,
                              [bounds] { return std::make_unique<Histogram>(bounds); });
}

void Registry::AddCounterFunc(const std::string& name, const std::string& help,
                              std::function<double()> value) {
  std::lock_guard<std::mutex> l(mu_);
  families_[name] = std::make_unique<FuncFamily>(name, help, Type::kCounter, std::move(value));
}

void Registry::AddGaugeFunc(const std::string& name, const std::string& help,
                            std::function<double()> value) {
  std::lock_guard<std::mutex> l(mu_);
  families_[name] = std::make_unique<FuncFamily>(name, help, Type::kGauge, std::move(value));
}

std::string Registry::Encode() const {
  std::string out;
  std::lock_guard<std::mutex> l(mu_);
  for (const auto& [name, f] : families_) f->Encode(out);
  return out;
}

Registry& Registry::Default() {
  static Registry* r = new Registry();  // never destroyed: see the header
  return *r;
}

std::vector<double> ExponentialBuckets(double start, double factor, int count) {
  std::vector<double> out;
  double v = start;
  for (int i = 0; i < count; ++i, v *= factor) out.push_back(v);
  return out;
}

std::vector<double> LinearBuckets(double start, double width, int count) {
  std::vector<double> out;
  for (int i = 0; i < count; ++i) out.push_back(start + width * i);
  return out;
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace kvol::metrics
