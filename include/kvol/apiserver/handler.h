// ApiHandler: the Kubernetes REST API over a Store, independent of the HTTP transport.
//
// Serves authentication (Bearer token, see trustLoopback; /healthz /readyz /livez /version are
// open), discovery and
// OpenAPI, and for every kind of the Scheme: get, list (label/field selectors, limit/continue,
// Tables), watch, create, update, patch (merge, JSON, strategic), delete, and the /status
// subresource, with Kubernetes' admission (normalise, default, validate, the default
// StorageClass on claims, the protection finalizers) and Kubernetes' exact error Statuses.
//
// Lists are served from a WatchCache (watch_cache.h) when their parameters allow (resourceVersion
// "", "0" or one the store has reached, resourceVersionMatch not Exact; limit/continue pages from
// a snapshot the cache keeps for a minute), as kube-apiserver serves them from its watch cache;
// otherwise from the Store.
//
// Thread safety: Handle may be called from many threads at once; the handler's only mutable
// state is the WatchCache, which guards itself. The Store and Scheme must outlive the handler
// (and every WatchStream it returned).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "kvol/api/scheme.h"
#include "kvol/apiserver/http.h"
#include "kvol/store/store.h"

namespace kvol::apiserver {

struct HandlerOptions {
  store::Store* store = nullptr;
  const api::Scheme* scheme = nullptr;
  // The Bearer token every request but the health and version endpoints must carry; empty turns
  // authentication off (tests only).
  std::string token;
  // kubectl (client-go) never sends a bearer token over plain http (kubernetes/kubectl#744), and
  // kvol's kubeconfig points at http:// on loopback. When true, a request from a trusted local
  // peer (Request::fromLoopback: loopback, same uid or root) with no Authorization header is
  // accepted; a request that carries a wrong token is still
  // refused, and every non-loopback peer must carry the token.
  bool trustLoopback = false;
  // Seconds since the epoch; tests pin it.
  std::function<int64_t()> now;
  // Whether /readyz answers ok (the daemon flips it once start-up is done).
  std::function<bool()> ready;
  // Serve lists from a watch cache (started at the first list; see watch_cache.h).
  bool watchCache = true;
};

class WatchCache;

class ApiHandler {
 public:
  explicit ApiHandler(HandlerOptions opts);
  ~ApiHandler();
  Reply Handle(const Request& req) const;

  const HandlerOptions& options() const { return opts_; }

 private:
  Reply Serve(const Request& req) const;  // Handle without the request metrics
  HandlerOptions opts_;
  std::unique_ptr<WatchCache> cache_;  // null when opts.watchCache is false
};

}  // namespace kvol::apiserver
