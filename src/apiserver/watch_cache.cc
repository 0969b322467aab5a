#include "kvol/apiserver/watch_cache.h"

#include <algorithm>
#include <condition_variable>
#include <map>

#include "kvol/store/continue_token.h"

#include "rest.h"

namespace kvol::apiserver {

namespace {

using store::Revision;

// Copies the value at a dotted path of `from` into `to` at the same path (when present).
void CopyPath(const json& from, std::string_view dotted, json& to) {
  const json* cur = &from;
  json* out = &to;
  size_t start = 0;
  while (true) {
    size_t dot = dotted.find('.', start);
    std::string key(dotted.substr(start, dot == std::string_view::npos ? dot : dot - start));
    if (!cur->is_object()) return;
    auto it = cur->find(key);
    if (it == cur->end()) return;
    if (dot == std::string_view::npos) {
      (*out)[key] = *it;
      return;
    }
    cur = &*it;
    json& next = (*out)[key];
    if (!next.is_object()) next = json::object();
    out = &next;
    start = dot + 1;
  }
}

// "/registry/<resource>/" of a key, or "" when the key has no such shape.
std::string_view ResourcePrefixOf(std::string_view key) {
  constexpr std::string_view kRoot = "/registry/";
  if (key.compare(0, kRoot.size(), kRoot) != 0) return {};
  size_t slash = key.find('/', kRoot.size());
  if (slash == std::string_view::npos) return {};
  return key.substr(0, slash + 1);
}

// One page of `all` (key order) from index `from`, as the store's List pages: `limit` matching
// items, then a continue token after the last one; remainingItemCount only without a filter.
CacheSnapshot Page(const std::vector<CachedObjectPtr>& all, size_t from, Revision rev,
                   const std::string& prefix, const std::function<bool(const json&)>& filter,
                   int64_t limit) {
  CacheSnapshot out;
  out.revision = rev;
  bool more = false;
  int64_t remaining = 0;
  for (size_t i = from; i < all.size(); ++i) {
    const CachedObjectPtr& o = all[i];
    if (filter && !filter(o->selectorFields())) continue;
    if (limit > 0 && int64_t(out.items.size()) == limit) {
      more = true;
      if (filter) break;
      ++remaining;
      continue;
    }
    out.items.push_back(o);
  }
  if (more) {
    out.continueToken = store::EncodeContinue(rev, prefix, out.items.back()->key());
    if (!filter) out.remainingItemCount = remaining;
  }
  return out;
}

constexpr auto kSnapshotTtl = std::chrono::seconds(60);
constexpr size_t kMaxSnapshots = 8;

// Probe times for classifying Table cells: seconds after the object's creation.
constexpr int64_t kProbes[] = {10, 100, 500000, 100000000};

}  // namespace

// A Table row without its object: `fixed` pieces with an AGE cell between each two (ages.size()
// == fixed.size() - 1), ending before the row's closing brace. `dynamic` rows (a cell depends on
// time in another way, e.g. an event's LAST SEEN) are computed per request.
struct CachedObject::Row {
  bool dynamic = false;
  std::vector<std::string> fixed;
  int64_t created = 0;  // the AGE holes' creationTimestamp (Unix seconds)
};

CachedObject::CachedObject(const api::ResourceInfo& info, std::string key, Revision revision,
                           const json& presented, bool withRow)
    : key_(std::move(key)), revision_(revision), json_(presented.dump()) {
  attrs_ = json::object();
  json& meta = attrs_["metadata"] = json::object();
  if (const json* m = presented.contains("metadata") ? &presented["metadata"] : nullptr;
      m && m->is_object()) {
    for (const char* f : {"name", "namespace", "labels"}) {
      auto it = m->find(f);
      if (it != m->end()) meta[f] = *it;
    }
    // The metadata value's bytes inside json_ (keys are sorted: apiVersion, kind, metadata...).
    std::string md = m->dump();
    size_t at = json_.find("\"metadata\":" + md);
    if (at != std::string::npos) {
      metaPos_ = at + 11;
      metaLen_ = md.size();
    } else {
      metaOwn_ = std::move(md);
    }
  } else {
    metaOwn_ = "{}";
  }
  for (const auto& f : info.selectableFields) CopyPath(presented, f, attrs_);
  if (withRow) std::call_once(rowOnce_, [&] { row_ = MakeRow(info, presented); });
}

std::string_view CachedObject::metadataJson() const {
  if (!metaOwn_.empty()) return metaOwn_;
  return std::string_view(json_).substr(metaPos_, metaLen_);
}

std::shared_ptr<const CachedObject::Row> CachedObject::MakeRow(const api::ResourceInfo& info,
                                                               const json& obj) {
  auto row = std::make_shared<Row>();
  const json& ts =
      obj.contains("metadata") ? obj["metadata"].value("creationTimestamp", json()) : json();
  std::optional<int64_t> created;
  if (ts.is_string()) created = ParseTimestamp(ts.get_ref<const std::string&>());
  const int64_t base = created ? *created : 0;
  std::vector<json> probes;
  for (int64_t p : kProbes) probes.push_back(TableRowCells(info, obj, base + p));
  const json& first = probes[0];
  for (size_t i = 1; i < probes.size(); ++i) {
    if (probes[i].value("conditions", json()) != first.value("conditions", json())) {
      row->dynamic = true;
      return row;
    }
  }
  const json& cells = first["cells"];
  std::string cur = "{\"cells\":[";
  for (size_t i = 0; i < cells.size(); ++i) {
    if (i > 0) cur += ',';
    bool constant = true, age = created.has_value();
    for (size_t k = 0; k < probes.size(); ++k) {
      const json& v = probes[k]["cells"][i];
      if (v != cells[i]) constant = false;
      if (!v.is_string() || v.get_ref<const std::string&>() != HumanDuration(kProbes[k]))
        age = false;
    }
    if (constant) {
      cur += cells[i].dump();
    } else if (age) {
      row->fixed.push_back(std::move(cur));
      cur.clear();
    } else {
      row->dynamic = true;
      row->fixed.clear();
      return row;
    }
  }
  cur += ']';
  if (first.contains("conditions")) cur += ",\"conditions\":" + first["conditions"].dump();
  row->fixed.push_back(std::move(cur));
  row->created = base;
  return row;
}

const CachedObject::Row& CachedObject::RowFor(const api::ResourceInfo& info) const {
  std::call_once(rowOnce_, [&] {
    json obj = json::parse(json_, nullptr, /*allow_exceptions=*/false);
    row_ = MakeRow(info, obj);
  });
  return *row_;
}

void CachedObject::AppendRow(const api::ResourceInfo& info, IncludeObject include, int64_t nowUnix,
                             std::string& out) const {
  const Row& row = RowFor(info);
  if (row.dynamic) {
    json obj = json::parse(json_, nullptr, /*allow_exceptions=*/false);
    std::string r = TableRowCells(info, obj, nowUnix).dump();
    r.pop_back();  // the closing brace: the object follows
    out += r;
  } else {
    std::string age;
    if (row.fixed.size() > 1) age = json(HumanDuration(nowUnix - row.created)).dump();
    for (size_t i = 0; i < row.fixed.size(); ++i) {
      if (i > 0) out += age;
      out += row.fixed[i];
    }
  }
  switch (include) {
    case IncludeObject::kNone:
      break;
    case IncludeObject::kMetadata:
      out += ",\"object\":{\"apiVersion\":\"meta.k8s.io/v1\",\"kind\":\"PartialObjectMetadata\",";
      out += "\"metadata\":";
      out += metadataJson();
      out += '}';
      break;
    case IncludeObject::kObject:
      out += ",\"object\":";
      out += json_;
      break;
  }
  out += '}';
}

// --- WatchCache ----------------------------------------------------------------------------

// The watch callback (the store's dispatcher thread, shared by every watcher) only records each
// event, coalesced per key, in `pending`; a list applies what is pending (building the objects'
// bytes) before it reads. So the dispatcher never waits for JSON work, and an object changed many
// times between two lists is built once. `pending` holds at most one event per key.
struct WatchCache::Resource {
  const api::ResourceInfo* info = nullptr;
  bool ready = false;  // filled; until then events are buffered
  Revision filledAt = 0;
  bool wantRows = false;
  std::map<std::string, CachedObjectPtr, std::less<>> items;
  std::vector<store::WatchEvent> buffered;                        // while filling
  std::map<std::string, store::WatchEvent, std::less<>> pending;  // once ready
  std::mutex drainMu;  // one drain at a time, so batches apply in order (taken before State::mu)

  // An event's object as the cache keeps it (nullptr for a delete). No lock needed.
  CachedObjectPtr Build(const store::WatchEvent& e, bool rows) const {
    if (e.type == store::WatchEvent::Type::kDeleted) return nullptr;
    return std::make_shared<CachedObject>(*info, e.object.key, e.object.modRevision,
                                          Present(*info, e.object), rows);
  }
  void Put(const std::string& key, CachedObjectPtr o) {
    if (o) {
      items[key] = std::move(o);
    } else {
      items.erase(key);
    }
  }
};

struct WatchCache::State {
  std::mutex mu;
  std::condition_variable cv;
  uint64_t gen = 0;       // bumped whenever the watch is (re)started or ends
  bool watching = false;  // the watch of `gen` is live
  bool starting = false;  // a thread is starting the watch
  Revision rev = 0;       // the newest revision the watch of `gen` has seen
  std::unique_ptr<store::WatchHandle> handle;
  std::map<std::string, std::shared_ptr<Resource>, std::less<>> resources;
  // Snapshots of paged lists, for their next pages (newest last).
  struct Retained {
    std::string prefix;
    Revision rev = 0;
    std::shared_ptr<const std::vector<CachedObjectPtr>> items;
    std::chrono::steady_clock::time_point at;
  };
  std::vector<Retained> retained;

  void DropOldSnapshots(std::chrono::steady_clock::time_point now) {
    std::vector<Retained> kept;
    for (auto& r : retained)
      if (now - r.at < kSnapshotTtl) kept.push_back(std::move(r));
    retained = std::move(kept);
  }

  void OnEvent(uint64_t g, const store::WatchEvent& e) {
    {
      std::lock_guard<std::mutex> lk(mu);
      if (g != gen) return;
      auto it = resources.find(ResourcePrefixOf(e.object.key));
      if (it != resources.end()) {
        Resource& r = *it->second;
        if (r.ready) {
          r.pending[e.object.key] = e;
        } else {
          r.buffered.push_back(e);
        }
      }
      if (e.revision > rev) rev = e.revision;
    }
    cv.notify_all();
  }

  void OnClose(uint64_t g) {
    {
      std::lock_guard<std::mutex> lk(mu);
      if (g != gen) return;
      ++gen;
      watching = false;
      rev = 0;
      resources.clear();
    }
    cv.notify_all();
  }
};

WatchCache::WatchCache(Options opts) : opts_(opts), st_(std::make_shared<State>()) {}

WatchCache::~WatchCache() {
  std::unique_ptr<store::WatchHandle> h;
  {
    std::lock_guard<std::mutex> lk(st_->mu);
    ++st_->gen;
    h = std::move(st_->handle);
  }
  h.reset();  // outside the lock: it waits for a running callback, which takes the lock
}

Status WatchCache::EnsureWatch() {
  State& s = *st_;
  std::unique_ptr<store::WatchHandle> old;
  uint64_t g;
  {
    std::unique_lock<std::mutex> lk(s.mu);
    s.cv.wait(lk, [&] { return !s.starting; });
    if (s.watching) return Status::Ok();
    s.starting = true;
    old = std::move(s.handle);
    g = ++s.gen;
    s.resources.clear();
  }
  old.reset();
  const Revision from = opts_.store->CurrentRevision();
  {
    std::lock_guard<std::mutex> lk(s.mu);
    s.rev = from;
  }
  store::WatchOptions wo;
  wo.prefix = "";
  wo.afterRevision = from;
  std::weak_ptr<State> weak = st_;
  auto h = opts_.store->Watch(
      wo,
      [weak, g](const store::WatchEvent& e) {
        if (auto st = weak.lock()) st->OnEvent(g, e);
      },
      [weak, g](const Status&) {
        if (auto st = weak.lock()) st->OnClose(g);
      });
  {
    std::lock_guard<std::mutex> lk(s.mu);
    s.starting = false;
    if (h.ok()) {
      s.handle = std::move(h).value();
      s.watching = s.gen == g;  // false when it already ended
    }
  }
  s.cv.notify_all();
  if (!h.ok()) return Unavailable("watch cache: " + h.status().message());
  return Status::Ok();
}

Result<Revision> WatchCache::Fill(const api::ResourceInfo& info, const std::string& resourcePrefix,
                                  bool wantRows, std::chrono::steady_clock::time_point deadline) {
  State& s = *st_;
  uint64_t g;
  std::shared_ptr<Resource> r;
  {
    std::unique_lock<std::mutex> lk(s.mu);
    if (!s.watching) return Unavailable("watch cache: not watching");
    g = s.gen;
    auto it = s.resources.find(resourcePrefix);
    if (it != s.resources.end()) {
      r = it->second;
      // Two kinds sharing a plural would share store keys too; the first one's cache stays.
      if (r->info != &info) return Unavailable("watch cache: cached for another kind");
      if (wantRows) r->wantRows = true;
      // Filled, or being filled by another request: wait for it.
      bool done = s.cv.wait_until(lk, deadline, [&] { return s.gen != g || r->ready; });
      if (!done || s.gen != g) return Unavailable("watch cache: not filled in time");
      return r->filledAt;
    }
    r = std::make_shared<Resource>();
    r->info = &info;
    r->wantRows = wantRows;
    s.resources.emplace(resourcePrefix, r);
  }
  store::ListOptions lo;
  lo.prefix = resourcePrefix;
  auto l = opts_.store->List(lo);
  std::map<std::string, CachedObjectPtr, std::less<>> items;
  if (l.ok()) {
    for (const auto& o : l->items) {
      items.emplace_hint(
          items.end(), o.key,
          std::make_shared<CachedObject>(info, o.key, o.modRevision, Present(info, o), wantRows));
    }
  }
  std::lock_guard<std::mutex> lk(s.mu);
  if (s.gen != g) return Unavailable("watch cache: the watch restarted during the fill");
  if (!l.ok()) {
    s.resources.erase(resourcePrefix);
    s.cv.notify_all();
    return Unavailable("watch cache: " + l.status().message());
  }
  r->items = std::move(items);
  for (const auto& e : r->buffered) {
    if (e.revision > l->revision) r->pending[e.object.key] = e;
  }
  r->buffered.clear();
  r->buffered.shrink_to_fit();
  r->filledAt = l->revision;
  r->ready = true;
  s.cv.notify_all();
  return r->filledAt;
}

Result<CacheSnapshot> WatchCache::List(const api::ResourceInfo& info, const std::string& prefix,
                                       Revision minRevision,
                                       const std::function<bool(const json&)>& filter,
                                       bool wantRows, const CachePaging& paging) {
  State& s = *st_;
  if (!paging.continueToken.empty()) {
    auto pos = store::DecodeContinue(paging.continueToken, prefix);
    if (!pos.ok()) return Unavailable("watch cache: " + pos.status().message());
    std::shared_ptr<const std::vector<CachedObjectPtr>> all;
    {
      std::lock_guard<std::mutex> lk(s.mu);
      s.DropOldSnapshots(std::chrono::steady_clock::now());
      for (const auto& r : s.retained)
        if (r.prefix == prefix && r.rev == pos->revision) all = r.items;
    }
    if (!all) return Unavailable("watch cache: no snapshot at the continue token's revision");
    auto from = std::upper_bound(
        all->begin(), all->end(), pos->startAfter,
        [](const std::string& k, const CachedObjectPtr& o) { return k < o->key(); });
    return Page(*all, size_t(from - all->begin()), pos->revision, prefix, filter, paging.limit);
  }
  const auto deadline = std::chrono::steady_clock::now() + opts_.freshWait;
  const Revision target = minRevision < 0 ? opts_.store->CurrentRevision() : minRevision;
  KVOL_RETURN_IF_ERROR(EnsureWatch());
  const std::string resourcePrefix = store::PrefixFor(info.resource);
  KVOL_ASSIGN_OR_RETURN(Revision filledAt, Fill(info, resourcePrefix, wantRows, deadline));
  std::shared_ptr<Resource> r;
  uint64_t g;
  {
    std::unique_lock<std::mutex> lk(s.mu);
    g = s.gen;
    const Revision need = std::max(target, filledAt);
    if (!s.cv.wait_until(lk, deadline, [&] { return s.gen != g || s.rev >= need; }) || s.gen != g) {
      return Unavailable("watch cache: revision " + std::to_string(need) + " not seen in time");
    }
    auto it = s.resources.find(resourcePrefix);
    if (it == s.resources.end() || !it->second->ready)
      return Unavailable("watch cache: resource not cached");
    r = it->second;
  }
  // Apply what the watch recorded (building outside State::mu, so the watch never waits long),
  // then read the items at the revision the batch was taken at.
  auto all = std::make_shared<std::vector<CachedObjectPtr>>();
  Revision rev = 0;
  {
    std::lock_guard<std::mutex> dl(r->drainMu);
    std::map<std::string, store::WatchEvent, std::less<>> batch;
    bool rows;
    {
      std::lock_guard<std::mutex> lk(s.mu);
      if (s.gen != g) return Unavailable("watch cache: the watch restarted");
      batch.swap(r->pending);
      rev = s.rev;
      rows = r->wantRows;
    }
    std::vector<std::pair<const std::string*, CachedObjectPtr>> built;
    built.reserve(batch.size());
    for (const auto& [k, e] : batch) built.emplace_back(&k, r->Build(e, rows));
    std::lock_guard<std::mutex> lk(s.mu);
    if (s.gen != g) return Unavailable("watch cache: the watch restarted");
    for (auto& [k, o] : built) r->Put(*k, std::move(o));
    const auto& items = r->items;
    all->reserve(items.size());
    for (auto i = items.lower_bound(prefix);
         i != items.end() && i->first.compare(0, prefix.size(), prefix) == 0; ++i) {
      all->push_back(i->second);
    }
  }
  if (paging.limit <= 0 && !filter) {
    CacheSnapshot out;
    out.revision = rev;
    out.items = std::move(*all);
    return out;
  }
  CacheSnapshot out = Page(*all, 0, rev, prefix, filter, paging.limit);
  if (!out.continueToken.empty()) {
    // Kept for the next pages (their tokens name `rev`).
    const auto now = std::chrono::steady_clock::now();
    std::lock_guard<std::mutex> lk(s.mu);
    s.DropOldSnapshots(now);
    bool have = false;
    for (const auto& r : s.retained) have = have || (r.prefix == prefix && r.rev == rev);
    if (!have) {
      if (s.retained.size() >= kMaxSnapshots) s.retained.erase(s.retained.begin());
      s.retained.push_back({prefix, rev, std::move(all), now});
    }
  }
  return out;
}

Revision WatchCache::revision() const {
  std::lock_guard<std::mutex> lk(st_->mu);
  return st_->rev;
}

size_t WatchCache::ResourceCount() const {
  std::lock_guard<std::mutex> lk(st_->mu);
  size_t n = 0;
  for (const auto& [k, r] : st_->resources) n += r->ready ? 1 : 0;
  return n;
}

}  // namespace kvol::apiserver
