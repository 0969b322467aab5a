// Lists from the WatchCache: the JSON list and the Table assembled from each object's ready-made
// bytes, byte for byte what HandleList's store path dumps.
#include <string>

#include "rest.h"

namespace kvol::apiserver {

namespace {

// The minimum revision a list with these parameters must show (-1: consistent), or nullopt when
// the store must answer. A continue token carries its own revision; anything unusual (a
// malformed limit, a resourceVersion with a continue token) goes to the store path, which
// answers it as before.
std::optional<store::Revision> CacheableRevision(const RestContext& c, CachePaging& paging) {
  const Request& req = c.req;
  const std::string limit = req.Query("limit");
  if (!limit.empty()) {
    try {
      paging.limit = std::stoll(limit);
    } catch (...) {
      return std::nullopt;
    }
    if (paging.limit < 0) paging.limit = 0;
  }
  paging.continueToken = req.Query("continue");
  if (!paging.continueToken.empty()) {
    if (req.HasQuery("resourceVersionMatch") || !req.Query("resourceVersion").empty())
      return std::nullopt;
    return 0;
  }
  const std::string match = req.Query("resourceVersionMatch");
  if (!match.empty() && match != "NotOlderThan") return std::nullopt;
  const std::string rv = req.Query("resourceVersion");
  if (rv.empty()) return match.empty() ? std::optional<store::Revision>(-1) : std::nullopt;
  if (rv == "0") return 0;
  store::Revision n = 0;
  try {
    size_t used = 0;
    n = std::stoll(rv, &used);
    if (used != rv.size() || n < 0) return std::nullopt;
  } catch (...) {
    return std::nullopt;
  }
  // Newer than the store: the store path answers, as it did before the cache.
  if (n > c.store().CurrentRevision()) return std::nullopt;
  return n;
}

}  // namespace

std::optional<Reply> ListFromCache(const RestContext& c,
                                   const std::function<bool(const json&)>& filter) {
  if (!c.cache) return std::nullopt;
  CachePaging paging;
  auto min = CacheableRevision(c, paging);
  if (!min) return std::nullopt;
  const bool table = WantsTable(c.req);
  const api::ResourceInfo& info = c.info();
  auto snap =
      c.cache->List(info, store::PrefixFor(info.resource, c.rr.ns), *min, filter, table, paging);
  if (!snap.ok()) return std::nullopt;
  json metaObj = {{"resourceVersion", std::to_string(snap->revision)}};
  if (!snap->continueToken.empty()) {
    metaObj["continue"] = snap->continueToken;
    if (snap->remainingItemCount >= 0) metaObj["remainingItemCount"] = snap->remainingItemCount;
  }
  const std::string meta = metaObj.dump();
  Reply out;
  std::string& b = out.response.body;
  if (table) {
    const IncludeObject include = IncludeOf(c.req);
    const int64_t now = c.Now();
    size_t size = 256;
    for (const auto& o : snap->items) size += o->metadataJson().size() + 256;
    b.reserve(size);
    b += "{\"apiVersion\":\"meta.k8s.io/v1\",\"columnDefinitions\":";
    b += TableColumnDefinitions(info).dump();
    b += ",\"kind\":\"Table\",\"metadata\":";
    b += meta;
    b += ",\"rows\":[";
    bool first = true;
    for (const auto& o : snap->items) {
      if (!first) b += ',';
      first = false;
      o->AppendRow(info, include, now, b);
    }
    b += "]}";
  } else {
    size_t size = 256;
    for (const auto& o : snap->items) size += o->objectJson().size() + 1;
    b.reserve(size);
    b += "{\"apiVersion\":";
    b += json(info.ApiVersion()).dump();
    b += ",\"items\":[";
    bool first = true;
    for (const auto& o : snap->items) {
      if (!first) b += ',';
      first = false;
      b += o->objectJson();
    }
    b += "],\"kind\":";
    b += json(info.ListKind()).dump();
    b += ",\"metadata\":";
    b += meta;
    b += '}';
  }
  return out;
}

}  // namespace kvol::apiserver
