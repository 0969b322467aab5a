#include "kvol/apiserver/handler.h"

#include <chrono>
#include <vector>

#include "kvol/apiserver/discovery.h"
#include "kvol/apiserver/errors.h"
#include "kvol/apiserver/watch_cache.h"
#include "rest.h"
#include "src/apiserver/request_metrics.h"

namespace kvol::apiserver {

namespace {

std::vector<std::string> Split(const std::string& path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    if (j > i) out.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

Response Text(const std::string& body) {
  Response r;
  r.contentType = "text/plain; charset=utf-8";
  r.body = body;
  return r;
}

bool Authorized(const HandlerOptions& o, const Request& req) {
  if (o.token.empty()) return true;
  std::string h = req.Header("authorization");
  if (h.empty() && o.trustLoopback && req.fromLoopback) return true;
  const std::string prefix = "Bearer ";
  if (h.size() <= prefix.size() || h.compare(0, prefix.size(), prefix) != 0) return false;
  std::string t = h.substr(prefix.size());
  while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.pop_back();
  // Constant-time comparison.
  if (t.size() != o.token.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < t.size(); ++i) diff |= static_cast<unsigned char>(t[i] ^ o.token[i]);
  return diff == 0;
}

Reply R(Response r) {
  Reply out;
  out.response = std::move(r);
  return out;
}

// /api/v1/... or /apis/G/V/... after the group/version segments.
Reply HandleResource(const HandlerOptions& o, WatchCache* cache, const Request& req,
                     const std::string& group, const std::string& version,
                     const std::vector<std::string>& rest) {
  const api::Scheme& s = *o.scheme;
  ResourceRequest rr;
  std::vector<std::string> tail;
  if (rest.size() >= 3 && rest[0] == "namespaces") {
    const api::KindOps* k = s.ByResource(group, version, rest[2]);
    if (k && k->info().namespaced) {
      rr.ops = k;
      rr.ns = rest[1];
      tail.assign(rest.begin() + 3, rest.end());
    }
  }
  if (!rr.ops) {
    rr.ops = s.ByResource(group, version, rest[0]);
    if (!rr.ops) return R(PathNotFound());
    tail.assign(rest.begin() + 1, rest.end());
  }
  if (tail.size() > 2) return R(PathNotFound());
  if (!tail.empty()) rr.name = tail[0];
  bool podLog = false;
  if (tail.size() == 2) {
    podLog = tail[1] == "log" && rr.ops->info().group.empty() && rr.ops->info().kind == "Pod" &&
             !rr.ns.empty();
    if (!podLog && (tail[1] != "status" || !rr.ops->info().hasStatus)) return R(PathNotFound());
    rr.subresource = tail[1];
  }
  RestContext c{o, req, rr, cache};
  if (podLog) return req.method == "GET" ? HandlePodLog(c) : R(MethodNotAllowed());
  const std::string& m = req.method;
  if (rr.name.empty()) {
    if (m == "GET") {
      std::string w = req.Query("watch");
      if (w == "true" || w == "1") return HandleWatch(c);
      return HandleList(c);
    }
    if (m == "POST") {
      if (!rr.ops->info().namespaced || !rr.ns.empty()) return HandleCreate(c);
      return R(MethodNotAllowed());
    }
    return R(MethodNotAllowed());
  }
  if (m == "GET") return HandleGet(c);
  if (m == "PUT") return HandleUpdate(c);
  if (m == "PATCH") return HandlePatch(c);
  if (m == "DELETE" && rr.subresource.empty()) return HandleDelete(c);
  return R(MethodNotAllowed());
}

}  // namespace

int64_t RestContext::Now() const {
  if (opts.now) return opts.now();
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

ApiHandler::ApiHandler(HandlerOptions opts) : opts_(std::move(opts)) {
  if (opts_.watchCache && opts_.store && opts_.scheme) {
    WatchCache::Options wo;
    wo.store = opts_.store;
    wo.scheme = opts_.scheme;
    cache_ = std::make_unique<WatchCache>(wo);
  }
}

ApiHandler::~ApiHandler() = default;

// Every request is counted in the apiserver_request_* metrics (request_metrics.h).
Reply ApiHandler::Handle(const Request& req) const {
  auto start = std::chrono::steady_clock::now();
  return InstrumentReply(*opts_.scheme, req, Serve(req), start);
}

Reply ApiHandler::Serve(const Request& req) const {
  const std::string& p = req.path;
  if (p == "/healthz" || p == "/livez") return R(Text("ok"));
  if (p == "/readyz") {
    if (opts_.ready && !opts_.ready()) {
      Response r = Text("not ready");
      r.status = 503;
      return R(r);
    }
    return R(Text("ok"));
  }
  if (p == "/version") return R(JsonResponse(VersionInfo()));
  if (!Authorized(opts_, req)) return R(Unauthorized());
  if (p == "/metrics") return R(MetricsResponse(req));

  std::vector<std::string> seg = Split(p);
  const api::Scheme& s = *opts_.scheme;
  bool read = req.method == "GET" || req.method == "HEAD";
  if (seg.empty()) {
    return R(JsonResponse({{"paths",
                            {"/api", "/api/v1", "/apis", "/healthz", "/livez", "/metrics",
                             "/openapi/v3", "/readyz", "/version"}}}));
  }
  if (seg[0] == "openapi") {
    if (seg.size() == 2 && seg[1] == "v3" && read) return R(JsonResponse(OpenApiRoot(s)));
    if (seg.size() >= 3 && seg[1] == "v3" && read) {
      std::string gv;
      for (size_t i = 2; i < seg.size(); ++i) gv += (i > 2 ? "/" : "") + seg[i];
      if (auto doc = OpenApiGroupVersion(s, gv)) return R(JsonResponse(*doc));
    }
    return R(PathNotFound());
  }
  if (seg[0] == "api") {
    if (seg.size() == 1)
      return read ? R(DiscoveryRoot(s, true, req.Header("accept"))) : R(MethodNotAllowed());
    if (seg.size() == 2) {
      auto l = ResourceList(s, "", seg[1]);
      if (!l) return R(PathNotFound());
      return read ? R(JsonResponse(*l)) : R(MethodNotAllowed());
    }
    return HandleResource(opts_, cache_.get(), req, "", seg[1], {seg.begin() + 2, seg.end()});
  }
  if (seg[0] == "apis") {
    if (seg.size() == 1)
      return read ? R(DiscoveryRoot(s, false, req.Header("accept"))) : R(MethodNotAllowed());
    if (seg.size() == 2) {
      // APIGroup for one group.
      json versions = json::array();
      for (const auto& k : s.all()) {
        const auto& i = k->info();
        if (i.group != seg[1]) continue;
        json v = {{"groupVersion", i.group + "/" + i.version}, {"version", i.version}};
        bool seen = false;
        for (const auto& x : versions) seen = seen || x == v;
        if (!seen) versions.push_back(v);
      }
      if (versions.empty()) return R(PathNotFound());
      return R(JsonResponse({{"kind", "APIGroup"},
                             {"apiVersion", "v1"},
                             {"name", seg[1]},
                             {"versions", versions},
                             {"preferredVersion", versions[0]}}));
    }
    if (seg.size() == 3) {
      auto l = ResourceList(s, seg[1], seg[2]);
      if (!l) return R(PathNotFound());
      return read ? R(JsonResponse(*l)) : R(MethodNotAllowed());
    }
    return HandleResource(opts_, cache_.get(), req, seg[1], seg[2], {seg.begin() + 3, seg.end()});
  }
  return R(PathNotFound());
}

}  // namespace kvol::apiserver
