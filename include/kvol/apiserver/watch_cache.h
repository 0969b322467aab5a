// WatchCache: lists served from memory, as kube-apiserver's watch cache (cacher) serves them.
//
// One store watch over every key ("/registry/..."), started at the first list, feeds per-resource
// caches. A resource's cache is filled lazily, by one store List of its prefix at its first list,
// and kept current by that watch from then on (events that arrive while the fill runs are buffered
// and applied above the fill's revision). The watch callback (the store's dispatcher thread,
// shared with every other watcher) only records each event, coalesced per key; the next list of
// that resource builds what changed. Per object the cache holds what a list needs ready-made:
//   - its JSON exactly as the API returns it (kind/apiVersion from the Scheme and
//     metadata.resourceVersion set: Present(info, obj).dump()), so a JSON list is a concatenation,
//     with the span of its "metadata" value in those bytes (a Table row's PartialObjectMetadata);
//   - the few fields selectors read (metadata.name/namespace/labels and the kind's selectable
//     fields), so label and field selectors give the results the store path gives;
//   - lazily (at the first Table list), its Table row with the AGE cells left as holes filled per
//     request (see CachedObject::AppendRow).
// Nothing is written anywhere but memory: the cache sits above the Store the handler is given (for
// kvol serve, the EncryptingStore), so Secrets are held decrypted in memory, as the API returns
// them, and never reach disk through it.
//
// Consistency, as kube-apiserver's consistent reads from cache: List waits (bounded by
// Options::freshWait) until the cache has seen `minRevision` (for a list with resourceVersion "",
// the store's current revision, asked at the request's start). Every store revision is one
// commit with at least one event, and the watch sees every key, so the cache's revision reaches
// the store's exactly. If it cannot answer in time (or the watch cannot be started) List returns
// kUnavailable and the caller uses the store. A watch that ends (error, store closed) drops every
// resource's cache; the next list starts a new watch and refills (relist).
//
// Memory: nothing until the first list; then per listed resource about the size of its objects'
// JSON (plus Table rows once a Table was asked for). Resources never listed cost nothing.
//
// Thread safety: every method may be called from any thread. Snapshots hold shared, immutable
// objects and stay valid after later changes. The Store must outlive the WatchCache... except for
// the store's own watch handle, which may outlive the store (store.h's handles do).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "kvol/api/reflect.h"
#include "kvol/api/scheme.h"
#include "kvol/apiserver/table.h"
#include "kvol/common/status.h"
#include "kvol/store/store.h"

namespace kvol::apiserver {

// One object, immutable once in the cache (the Table row is computed once, on first use).
class CachedObject {
 public:
  // `presented`: the object as the API returns it (Present()); `info`: its kind.
  // withRow: compute the Table row now (else on first use, from objectJson()).
  CachedObject(const api::ResourceInfo& info, std::string key, store::Revision revision,
               const api::json& presented, bool withRow = false);

  const std::string& key() const { return key_; }
  store::Revision revision() const { return revision_; }
  // The object's JSON, as a GET returns it.
  const std::string& objectJson() const { return json_; }
  // The JSON of its "metadata" value (usually a view into objectJson()).
  std::string_view metadataJson() const;
  // What label and field selectors read, in the object's own shape (a selector filter built for
  // the full object gives the same answer on this).
  const api::json& selectorFields() const { return attrs_; }

  // Appends this object's Table row, exactly as BuildTable's row would dump for `nowUnix` and
  // `include` (cells, conditions, object). The row's time-independent parts are computed once.
  void AppendRow(const api::ResourceInfo& info, IncludeObject include, int64_t nowUnix,
                 std::string& out) const;

 private:
  struct Row;  // cells split into fixed bytes and AGE holes (watch_cache.cc)
  static std::shared_ptr<const Row> MakeRow(const api::ResourceInfo& info, const api::json& obj);
  const Row& RowFor(const api::ResourceInfo& info) const;

  std::string key_;
  store::Revision revision_ = 0;
  std::string json_;
  size_t metaPos_ = 0, metaLen_ = 0;
  std::string metaOwn_;  // used only when the metadata bytes could not be found in json_
  api::json attrs_;
  mutable std::once_flag rowOnce_;
  mutable std::shared_ptr<const Row> row_;
};

using CachedObjectPtr = std::shared_ptr<const CachedObject>;

struct CacheSnapshot {
  store::Revision revision = 0;        // the list's resourceVersion
  std::vector<CachedObjectPtr> items;  // in key order
  // Paged lists: as the store's List sets them (store::EncodeContinue tokens, so the store can
  // answer the next page when the cache no longer holds this snapshot).
  std::string continueToken;
  int64_t remainingItemCount = -1;
};

// limit/continue of a list (store::ListOptions' meaning).
struct CachePaging {
  int64_t limit = 0;          // 0: no limit
  std::string continueToken;  // "": the first page
};

class WatchCache {
 public:
  struct Options {
    store::Store* store = nullptr;
    const api::Scheme* scheme = nullptr;
    // How long a list waits for the cache to reach the revision it must show.
    std::chrono::milliseconds freshWait{3000};
  };
  explicit WatchCache(Options opts);
  ~WatchCache();
  WatchCache(const WatchCache&) = delete;
  WatchCache& operator=(const WatchCache&) = delete;

  // The objects of resource `info` under `prefix` (store::PrefixFor(resource, ns)) for which
  // `filter` (may be empty; given selectorFields()) is true, at a revision >= minRevision.
  // minRevision < 0: consistent, i.e. at least the store's current revision; 0: whatever the
  // cache has (it is filled first if this is the resource's first list).
  // kUnavailable: the cache could not answer in time (use the store).
  // wantRows: the caller will ask for Table rows; from now on this resource's objects get their
  // row computed as they enter the cache (objects already cached compute it on first use).
  // paging: a first page with a limit keeps the list's snapshot (for about a minute, a few per
  // cache, as kube-apiserver keeps list snapshots) so the next pages are read from it; a continue
  // token whose snapshot is gone (or that does not decode) gives kUnavailable.
  Result<CacheSnapshot> List(const api::ResourceInfo& info, const std::string& prefix,
                             store::Revision minRevision,
                             const std::function<bool(const api::json&)>& filter,
                             bool wantRows = false, const CachePaging& paging = {});

  // The newest revision the cache's watch has seen (0 before the first list).
  store::Revision revision() const;
  // How many resources have a filled cache (tests, metrics).
  size_t ResourceCount() const;

 private:
  struct State;
  struct Resource;
  Status EnsureWatch();
  // Fills the resource's cache if it is not yet; returns its fill revision.
  Result<store::Revision> Fill(const api::ResourceInfo& info, const std::string& resourcePrefix,
                               bool wantRows, std::chrono::steady_clock::time_point deadline);

  Options opts_;
  std::shared_ptr<State> st_;  // shared with the watch callbacks
};

}  // namespace kvol::apiserver
