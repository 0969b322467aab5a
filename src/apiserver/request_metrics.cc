#include "src/apiserver/request_metrics.h"

#include <array>
#include <cstdio>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "kvol/apiserver/errors.h"
#include "kvol/metrics/metrics.h"
#include "kvol/metrics/process.h"

namespace kvol::apiserver {

namespace {

using Clock = std::chrono::steady_clock;
constexpr const char* kComponent = "apiserver";

struct Families {
  metrics::CounterVec& total;
  metrics::HistogramVec& duration;
  metrics::GaugeVec& longRunning;
};

const Families& Metrics() {
  auto& r = metrics::Registry::Default();
  static const Families f{
      r.AddCounter("apiserver_request_total",
                   "Counter of apiserver requests broken out for each verb, dry run value, group, "
                   "version, resource, scope, component, and HTTP response code.",
                   {"verb", "dry_run", "group", "version", "resource", "subresource", "scope",
                    "component", "code"}),
      r.AddHistogram(
          "apiserver_request_duration_seconds",
          "Response latency distribution in seconds for each verb, dry run value, group, "
          "version, resource, subresource, scope and component.",
          {"verb", "dry_run", "group", "version", "resource", "subresource", "scope", "component"},
          {0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2,
           3,     4,     5,    6,   8,   10,  15,  20,  30,  45,   60}),
      r.AddGauge("apiserver_longrunning_requests",
                 "Gauge of all active long-running apiserver requests broken out by verb, group, "
                 "version, resource, scope and component. Not all requests are tracked this way.",
                 {"verb", "group", "version", "resource", "subresource", "scope", "component"}),
  };
  return f;
}

// The counter and histogram series of one label set, resolved once: a request costs one key and
// one shared-lock lookup.
struct RequestSeries {
  metrics::Counter* total;
  metrics::Histogram* duration;
};

void Record(const RequestMetricLabels& l, int code, double seconds) {
  static std::shared_mutex mu;
  static auto* cache = new std::unordered_map<std::string, RequestSeries>();  // guarded by mu
  char codeBuf[8];
  std::snprintf(codeBuf, sizeof codeBuf, "%d", code);
  std::string key;
  key.reserve(l.verb.size() + l.dryRun.size() + l.group.size() + l.version.size() +
              l.resource.size() + l.subresource.size() + l.scope.size() + 16);
  for (const std::string* p :
       {&l.verb, &l.dryRun, &l.group, &l.version, &l.resource, &l.subresource, &l.scope}) {
    key += *p;
    key += '|';
  }
  key += codeBuf;
  RequestSeries series{};
  {
    std::shared_lock<std::shared_mutex> lk(mu);
    auto it = cache->find(key);
    if (it != cache->end()) series = it->second;
  }
  if (!series.total) {
    const Families& f = Metrics();
    series.total = &f.total.With({l.verb, l.dryRun, l.group, l.version, l.resource, l.subresource,
                                  l.scope, kComponent, codeBuf});
    series.duration = &f.duration.With(
        {l.verb, l.dryRun, l.group, l.version, l.resource, l.subresource, l.scope, kComponent});
    std::unique_lock<std::shared_mutex> lk(mu);
    cache->emplace(std::move(key), series);
  }
  series.total->Inc();
  series.duration->Observe(seconds);
}

metrics::Gauge& LongRunning(const RequestMetricLabels& l) {
  return Metrics().longRunning.With(
      {l.verb, l.group, l.version, l.resource, l.subresource, l.scope, kComponent});
}

// The path's segments without allocating; a path with more segments than any served one is
// reported as one of kMax + 1 segments (not served).
struct Segments {
  static constexpr size_t kMax = 9;
  std::array<std::string_view, kMax + 1> v;
  size_t n = 0;
  size_t size() const { return n; }
  bool empty() const { return n == 0; }
  std::string_view operator[](size_t i) const { return v[i]; }
  std::span<const std::string_view> From(size_t i) const { return {v.data() + i, n - i}; }
};

Segments Split(std::string_view path) {
  Segments out;
  size_t i = 0;
  while (i < path.size() && out.n <= Segments::kMax) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) out.v[out.n++] = path.substr(i, j - i);
    i = j + 1;
  }
  return out;
}

bool HasGroupVersion(const api::Scheme& s, std::string_view group, std::string_view version) {
  for (const auto& k : s.all()) {
    const auto& i = k->info();
    if (i.group == group && (version.empty() || i.version == version)) return true;
  }
  return false;
}

std::string UpperMethod(const std::string& m) {
  static const char* const kKnown[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"};
  for (const char* k : kKnown)
    if (m == k) return m;
  return "other";
}

// A non-resource path: its path as the subresource label when the server serves it.
void ClassifyNonResource(const api::Scheme& s, const Segments& seg, const std::string& path,
                         RequestMetricLabels& l) {
  static const char* const kPaths[] = {"/",      "/api",    "/apis",    "/healthz",
                                       "/livez", "/readyz", "/version", "/metrics"};
  for (const char* p : kPaths)
    if (path == p) l.subresource = path;
  if (!seg.empty() && seg[0] == "openapi" && seg.size() >= 2 && seg[1] == "v3") {
    l.subresource = "/openapi/v3";
  }
  if (seg.size() == 2 && seg[0] == "api" && HasGroupVersion(s, "", seg[1])) l.subresource = path;
  if (seg.size() >= 2 && seg.size() <= 3 && seg[0] == "apis" && !seg[1].empty() &&
      HasGroupVersion(s, seg[1], seg.size() == 3 ? seg[2] : std::string_view())) {
    l.subresource = path;
  }
}

}  // namespace

RequestMetricLabels ClassifyRequest(const api::Scheme& s, const Request& req) {
  RequestMetricLabels l;
  l.verb = UpperMethod(req.method);
  if (req.HasQuery("dryRun")) l.dryRun = req.Query("dryRun") == "All" ? "All" : "invalid";
  Segments seg = Split(req.path);
  // /api/v1/<rest> or /apis/<group>/<version>/<rest>
  std::string_view group, version;
  size_t restAt = 0;
  if (seg.size() >= 3 && seg[0] == "api") {
    version = seg[1];
    restAt = 2;
  } else if (seg.size() >= 4 && seg[0] == "apis") {
    group = seg[1];
    version = seg[2];
    restAt = 3;
  }
  if (restAt == 0) {
    ClassifyNonResource(s, seg, req.path, l);
    return l;
  }
  std::span<const std::string_view> rest = seg.From(restAt);
  const api::KindOps* k = nullptr;
  std::string_view ns;
  size_t tailAt = 1;
  if (rest.size() >= 3 && rest[0] == "namespaces") {
    k = s.ByResource(group, version, rest[2]);
    if (k && k->info().namespaced) {
      ns = rest[1];
      tailAt = 3;
    } else {
      k = nullptr;
    }
  }
  if (!k) k = s.ByResource(group, version, rest[0]);
  if (!k || rest.size() - tailAt > 2) return l;  // not served: a 404 with empty labels
  std::string_view name = rest.size() > tailAt ? rest[tailAt] : std::string_view();
  std::string_view sub = rest.size() > tailAt + 1 ? rest[tailAt + 1] : std::string_view();
  const api::ResourceInfo& info = k->info();
  if (!sub.empty()) {
    bool log = sub == "log" && info.group.empty() && info.kind == "Pod" && !ns.empty();
    if (!log && !(sub == "status" && info.hasStatus)) return l;
  }
  l.group = info.group;
  l.version = info.version;
  l.resource = info.resource;
  l.subresource = sub;
  bool create = req.method == "POST" && name.empty();
  l.scope = !name.empty() || create ? "resource" : !ns.empty() ? "namespace" : "cluster";
  const std::string& m = req.method;
  if ((m == "GET" || m == "HEAD") && name.empty()) {
    std::string w = req.Query("watch");
    l.verb = w == "true" || w == "1" ? "WATCH" : "LIST";
  } else if (m == "GET" || m == "HEAD") {
    l.verb = "GET";
  } else if (m == "DELETE" && name.empty()) {
    l.verb = "DELETECOLLECTION";
  } else if (m == "PATCH" && req.Header("content-type") == "application/apply-patch+yaml") {
    l.verb = "APPLY";
  }
  if (sub == "log") l.verb = "CONNECT";
  return l;
}

namespace {

// A watch counted in apiserver_longrunning_requests while it lives; recorded when it ends.
class MeteredWatch : public WatchStream {
 public:
  MeteredWatch(std::unique_ptr<WatchStream> inner, RequestMetricLabels labels, int code,
               Clock::time_point start)
      : inner_(std::move(inner)),
        labels_(std::move(labels)),
        code_(code),
        start_(start),
        open_(LongRunning(labels_)) {
    timeoutSeconds = inner_->timeoutSeconds;
    allowBookmarks = inner_->allowBookmarks;
    open_.Inc();
  }
  ~MeteredWatch() override {
    inner_.reset();  // no send/end after this
    open_.Dec();
    Record(labels_, code_, metrics::SecondsSince(start_));
  }
  Status Start(std::function<void(std::string)> send, std::function<void()> end) override {
    return inner_->Start(std::move(send), std::move(end));
  }
  std::string BookmarkLine() override { return inner_->BookmarkLine(); }

 private:
  std::unique_ptr<WatchStream> inner_;
  RequestMetricLabels labels_;
  int code_;
  Clock::time_point start_;
  metrics::Gauge& open_;
};

// Remembers the status a stream producer answered with.
class StatusSink : public StreamSink {
 public:
  StatusSink(StreamSink& inner, int fallback) : inner_(inner), code_(fallback) {}
  void Begin(const Response& head) override {
    if (!begun_) code_ = head.status;
    begun_ = true;
    inner_.Begin(head);
  }
  void Respond(Response whole) override {
    if (!begun_) code_ = whole.status;
    begun_ = true;
    inner_.Respond(std::move(whole));
  }
  bool Write(std::string data) override {
    begun_ = true;  // the Reply's status (the fallback)
    return inner_.Write(std::move(data));
  }
  bool Cancelled() const override { return inner_.Cancelled(); }
  int code() const { return code_; }

 private:
  StreamSink& inner_;
  int code_;
  bool begun_ = false;
};

}  // namespace

Reply InstrumentReply(const api::Scheme& scheme, const Request& req, Reply reply,
                      Clock::time_point start) {
  RequestMetricLabels l = ClassifyRequest(scheme, req);
  const int code = reply.response.status;
  if (reply.watch) {
    reply.watch = std::make_unique<MeteredWatch>(std::move(reply.watch), std::move(l), code, start);
  } else if (reply.stream) {
    reply.stream = [inner = std::move(reply.stream), l = std::move(l), code,
                    start](StreamSink& sink) {
      metrics::Gauge& open = LongRunning(l);
      open.Inc();
      StatusSink s(sink, code);
      inner(s);
      open.Dec();
      Record(l, s.code(), metrics::SecondsSince(start));
    };
  } else {
    Record(l, code, metrics::SecondsSince(start));
  }
  return reply;
}

Response MetricsResponse(const Request& req) {
  if (req.method != "GET" && req.method != "HEAD") return MethodNotAllowed();
  static std::once_flag once;
  std::call_once(once, [] { metrics::RegisterProcessMetrics(); });
  (void)Metrics();  // the request families exist from the first scrape on
  Response r;
  r.contentType = metrics::kTextContentType;
  r.body = metrics::Registry::Default().Encode();
  return r;
}

}  // namespace kvol::apiserver
