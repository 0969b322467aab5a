// Internal to kvol_apiserver: the pieces ApiHandler's request paths share.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kvol/api/scheme.h"
#include "kvol/apiserver/handler.h"
#include "kvol/apiserver/http.h"
#include "kvol/apiserver/table.h"
#include "kvol/apiserver/watch_cache.h"
#include "kvol/store/store.h"

namespace kvol::apiserver {

using api::json;

// One request aimed at a resource.
struct ResourceRequest {
  const api::KindOps* ops = nullptr;
  std::string ns;           // "" for cluster-scoped kinds and for all-namespace collections
  std::string name;         // "" for a collection
  std::string subresource;  // "", "status" or (pods) "log"
};

struct RestContext {
  const HandlerOptions& opts;
  const Request& req;
  const ResourceRequest& rr;
  WatchCache* cache = nullptr;  // lists from memory when set (watch_cache.h)
  const api::ResourceInfo& info() const { return rr.ops->info(); }
  store::Store& store() const { return *opts.store; }
  int64_t Now() const;
  std::string Key() const { return store::KeyFor(info().resource, rr.ns, rr.name); }
};

// Reads.
Reply HandleGet(const RestContext& c);
Reply HandleList(const RestContext& c);
Reply HandleWatch(const RestContext& c);
// Writes.
Reply HandleCreate(const RestContext& c);
Reply HandleUpdate(const RestContext& c);
Reply HandlePatch(const RestContext& c);
Reply HandleDelete(const RestContext& c);
// GET pods/NAME/log (rest_log.cc): streams the container's log from its node agent.
Reply HandlePodLog(const RestContext& c);

// A list served from the WatchCache, or nullopt when its parameters need the store
// (resourceVersionMatch=Exact, a resourceVersion the store has not reached, a continue token whose
// snapshot the cache no longer holds) or the cache could not answer in time (rest_list_cache.cc).
std::optional<Reply> ListFromCache(const RestContext& c,
                                   const std::function<bool(const json&)>& filter);

// Shared helpers.
bool WantsTable(const Request& req);
// includeObject= of the request (Metadata when absent or unknown).
IncludeObject IncludeOf(const Request& req);
// A filter from labelSelector= and fieldSelector=, or a 400 Status.
Result<std::function<bool(const json&)>> SelectorFilter(const RestContext& c);
// Sets kind/apiVersion and metadata.resourceVersion from the stored object.
json Present(const api::ResourceInfo& info, const store::Object& o);
// kind/apiVersion from the Scheme, for objects decoded from a body.
void SetTypeMeta(const api::ResourceInfo& info, json& obj);

}  // namespace kvol::apiserver
