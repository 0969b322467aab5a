#include "kvol/controller/garbage_collector.h"

#include <algorithm>

namespace kvol::controller {
namespace {

using json = store::json;

constexpr int kMaxRetries = 8;
const std::string kRegistryPrefix = "/registry/";
const std::string kEventsPrefix = "/registry/events/";
const std::string kPodsPrefix = "/registry/pods/";

bool StartsWith(const std::string& s, const std::string& p) {
  return s.compare(0, p.size(), p) == 0;
}

// The namespace part of "/registry/<resource>/<ns>/<name>" ("" for a cluster-scoped key).
std::string NamespaceOfKey(const std::string& key) {
  if (!StartsWith(key, kRegistryPrefix)) return "";
  std::string rest = key.substr(kRegistryPrefix.size());
  size_t a = rest.find('/');
  if (a == std::string::npos) return "";
  size_t b = rest.find('/', a + 1);
  if (b == std::string::npos) return "";
  return rest.substr(a + 1, b - a - 1);
}

// apiVersion, kind and metadata (without managedFields) of a stored object.
json Project(const json& v) {
  json out = json::object();
  if (!v.is_object()) return out;
  for (const char* f : {"apiVersion", "kind", "metadata"}) {
    auto it = v.find(f);
    if (it != v.end()) out[f] = *it;
  }
  if (out.contains("metadata") && out["metadata"].is_object()) {
    out["metadata"].erase("managedFields");
  }
  return out;
}

// A read-only metadata view of a Store (Kubernetes' metadata informers): values are projected,
// Events are left out. Writes are refused: the collector writes through the real Store.
class MetadataView : public store::Store {
 public:
  explicit MetadataView(store::Store& s) : s_(s) {}

  Result<store::Object> Get(const std::string& key) override {
    KVOL_ASSIGN_OR_RETURN(store::Object o, s_.Get(key));
    o.value = Project(o.value);
    return o;
  }
  Result<store::ListResult> List(const store::ListOptions& opts) override {
    KVOL_ASSIGN_OR_RETURN(store::ListResult r, s_.List(opts));
    std::vector<store::Object> kept;
    kept.reserve(r.items.size());
    for (auto& o : r.items) {
      if (StartsWith(o.key, kEventsPrefix)) continue;
      o.value = Project(o.value);
      kept.push_back(std::move(o));
    }
    r.items = std::move(kept);
    return r;
  }
  Result<store::TxnResult> Txn(std::vector<store::Op>) override {
    return Status(Code::kInternal, "the garbage collector's metadata view is read-only");
  }
  std::vector<Result<store::TxnResult>> TxnBatch(
      std::vector<std::vector<store::Op>> txns) override {
    std::vector<Result<store::TxnResult>> out;
    for (size_t i = 0; i < txns.size(); ++i) out.push_back(Txn({}));
    return out;
  }
  Result<std::unique_ptr<store::WatchHandle>> Watch(
      const store::WatchOptions& opts, std::function<void(const store::WatchEvent&)> onEvent,
      std::function<void(const Status&)> onClose) override {
    return s_.Watch(
        opts,
        [onEvent = std::move(onEvent)](const store::WatchEvent& e) {
          if (StartsWith(e.object.key, kEventsPrefix)) return;
          store::WatchEvent c = e;
          c.object.value = Project(e.object.value);
          onEvent(c);
        },
        std::move(onClose));
  }
  store::Revision CurrentRevision() override { return s_.CurrentRevision(); }
  Status Compact(store::Revision rev) override { return s_.Compact(rev); }
  store::Revision CompactedRevision() override { return s_.CompactedRevision(); }

 private:
  store::Store& s_;
};

std::string UidOf(const json& v) {
  auto m = v.find("metadata");
  if (m == v.end() || !m->is_object()) return "";
  return m->value("uid", "");
}

bool HasFinalizer(const json& v, const char* f) {
  auto m = v.find("metadata");
  if (m == v.end() || !m->is_object()) return false;
  auto fs = m->find("finalizers");
  if (fs == m->end() || !fs->is_array()) return false;
  return std::find(fs->begin(), fs->end(), json(f)) != fs->end();
}

bool IsDeleting(const json& v) {
  auto m = v.find("metadata");
  return m != v.end() && m->is_object() && m->contains("deletionTimestamp") &&
         (*m)["deletionTimestamp"].is_string();
}

// Removes `f` from metadata.finalizers; true when it was there.
bool RemoveFinalizer(json& v, const char* f) {
  json& m = v["metadata"];
  if (!m.contains("finalizers") || !m["finalizers"].is_array()) return false;
  json next = json::array();
  for (const auto& x : m["finalizers"]) {
    if (x != f) next.push_back(x);
  }
  if (next.size() == m["finalizers"].size()) return false;
  if (next.empty()) {
    m.erase("finalizers");
  } else {
    m["finalizers"] = std::move(next);
  }
  return true;
}

// Edits metadata.ownerReferences with `fn` (returns true when it changed one); drops the field
// when it ends empty.
bool EditOwnerRefs(json& v, const std::function<bool(json& refs)>& fn) {
  json& m = v["metadata"];
  if (!m.contains("ownerReferences") || !m["ownerReferences"].is_array()) return false;
  if (!fn(m["ownerReferences"])) return false;
  if (m["ownerReferences"].empty()) m.erase("ownerReferences");
  return true;
}

bool RemoveRefsTo(json& v, const std::set<std::string>& uids) {
  return EditOwnerRefs(v, [&](json& refs) {
    json next = json::array();
    for (const auto& r : refs) {
      if (!r.is_object() || !uids.count(r.value("uid", ""))) next.push_back(r);
    }
    if (next.size() == refs.size()) return false;
    refs = std::move(next);
    return true;
  });
}

}  // namespace

GarbageCollector::GarbageCollector(store::Store& s, GarbageCollectorOptions o)
    : store_(s),
      opts_(std::move(o)),
      metaView_(std::make_unique<MetadataView>(s)),
      informer_(*metaView_, kRegistryPrefix) {
  if (!opts_.scheme) opts_.scheme = &api::Scheme::Default();
}

GarbageCollector::~GarbageCollector() { informer_.Stop(); }

std::string GarbageCollector::Now() const { return opts_.now ? opts_.now() : api::Now(); }

void GarbageCollector::RegisterHandlers() {
  MetadataInformer::Handlers h;
  h.onAdd = [this](const MetadataInformer::ItemPtr& i) { Observe(i); };
  h.onUpdate = [this](const MetadataInformer::ItemPtr& o, const MetadataInformer::ItemPtr& n) {
    if (o->obj.metadata.uid != n->obj.metadata.uid) Forget(o);  // deleted and recreated
    Observe(n);
  };
  h.onDelete = [this](const MetadataInformer::ItemPtr& i) { Forget(i); };
  informer_.AddHandlers(std::move(h));
}

void GarbageCollector::Observe(const MetadataInformer::ItemPtr& item) {
  const api::ObjectMeta& meta = item->obj.metadata;
  const std::string& uid = meta.uid;
  if (uid.empty()) return;
  std::vector<std::string> enqueue;
  {
    std::lock_guard<std::mutex> lk(mu_);
    Node& n = nodes_[uid];
    bool wasObserved = n.observed;
    bool wasDeletingDependents = n.deletingDependents;
    bool wasOrphaning = n.orphaning;
    std::map<std::string, bool> before;  // owner uid -> blockOwnerDeletion
    std::map<std::string, bool> after;
    for (const auto& r : n.owners) before[r.uid] = r.blockOwnerDeletion.value_or(false);
    for (const auto& r : meta.ownerReferences) after[r.uid] = r.blockOwnerDeletion.value_or(false);
    auto has = [&](const char* f) {
      return std::find(meta.finalizers.begin(), meta.finalizers.end(), f) != meta.finalizers.end();
    };
    n.key = item->key;
    n.observed = true;
    n.deleting = meta.deletionTimestamp.has_value();
    n.deletingDependents = n.deleting && has(kFinalizerDeleteDependents);
    n.orphaning = n.deleting && has(kFinalizerOrphanDependents);
    n.owners = meta.ownerReferences;
    bool refsChanged = !wasObserved;
    for (const auto& [owner, block] : before) {
      auto it = after.find(owner);
      if (it != after.end() && it->second == block) continue;
      refsChanged = true;
      enqueue.push_back(owner);  // an owner waiting in the foreground may be unblocked
      if (it != after.end()) continue;
      auto o = nodes_.find(owner);
      if (o == nodes_.end()) continue;
      o->second.dependents.erase(uid);
      if (!o->second.observed && o->second.dependents.empty()) nodes_.erase(o);
    }
    for (const auto& [owner, block] : after) {
      if (before.count(owner)) continue;
      refsChanged = true;
      if (owner != uid) nodes_[owner].dependents.insert(uid);
    }
    if (!n.owners.empty() && refsChanged) enqueue.push_back(uid);
    if (n.deletingDependents && !wasDeletingDependents) {
      enqueue.push_back(uid);
      enqueue.insert(enqueue.end(), n.dependents.begin(), n.dependents.end());
    }
    if (n.orphaning && !wasOrphaning) enqueue.push_back(uid);
  }
  for (const auto& k : enqueue) queue_.Add(k);
}

void GarbageCollector::Forget(const MetadataInformer::ItemPtr& item) {
  const std::string& uid = item->obj.metadata.uid;
  if (uid.empty()) return;
  std::vector<std::string> enqueue;
  {
    std::lock_guard<std::mutex> lk(mu_);
    auto it = nodes_.find(uid);
    if (it == nodes_.end() || it->second.key != item->key) return;
    for (const auto& r : it->second.owners) {
      auto o = nodes_.find(r.uid);
      if (o == nodes_.end()) continue;
      o->second.dependents.erase(uid);
      enqueue.push_back(r.uid);  // a foreground owner may be waiting for this one
      if (!o->second.observed && o->second.dependents.empty()) nodes_.erase(o);
    }
    it = nodes_.find(uid);
    if (it == nodes_.end()) return;
    if (it->second.dependents.empty()) {
      nodes_.erase(it);
    } else {
      Node& n = it->second;  // stays as an absent owner until its dependents are handled
      n = Node{{}, false, false, false, false, {}, std::move(n.dependents)};
      enqueue.push_back(uid);
    }
  }
  for (const auto& k : enqueue) queue_.Add(k);
}

std::vector<std::string> GarbageCollector::DependentsOf(const std::string& uid) const {
  std::lock_guard<std::mutex> lk(mu_);
  auto it = nodes_.find(uid);
  if (it == nodes_.end()) return {};
  return {it->second.dependents.begin(), it->second.dependents.end()};
}

void GarbageCollector::EnqueueAll() {
  informer_.RecoverWatchIfNeeded();
  std::vector<std::string> keys;
  {
    std::lock_guard<std::mutex> lk(mu_);
    for (const auto& [uid, n] : nodes_) {
      if ((!n.observed && !n.dependents.empty()) || n.deletingDependents || n.orphaning) {
        keys.push_back(uid);
      }
    }
  }
  for (const auto& k : keys) queue_.Add(k);
}

Status GarbageCollector::UpdateIfUid(const std::string& key, const std::string& uid,
                                     const std::function<bool(json&)>& fn) {
  for (int attempt = 0; attempt < kMaxRetries; ++attempt) {
    auto cur = store_.Get(key);
    if (!cur.ok()) return cur.status().IsNotFound() ? Status::Ok() : cur.status();
    if (UidOf(cur->value) != uid) return Status::Ok();
    json v = cur->value;
    if (!fn(v)) return Status::Ok();
    auto r = store_.Txn({store::Op::Update(key, std::move(v), cur->modRevision)});
    if (r.ok() || r.status().IsNotFound()) return Status::Ok();
    if (!r.status().IsConflict()) return r.status();
  }
  return Status(Code::kConflict, "too many conflicts updating " + key);
}

Status GarbageCollector::DeleteObject(const std::string& key, const std::string& uid,
                                      Propagation p) {
  for (int attempt = 0; attempt < kMaxRetries; ++attempt) {
    auto cur = store_.Get(key);
    if (!cur.ok()) return cur.status().IsNotFound() ? Status::Ok() : cur.status();
    if (UidOf(cur->value) != uid) return Status::Ok();
    json v = cur->value;
    json& m = v["metadata"];
    // Already being deleted gracefully (a pod): only its node finishes that.
    if (IsDeleting(v) && m.value("deletionGracePeriodSeconds", int64_t{0}) > 0) {
      return Status::Ok();
    }
    // The finalizers this propagation asks for (as the API server sets them).
    json fins = json::array();
    if (m.contains("finalizers") && m["finalizers"].is_array()) {
      for (const auto& f : m["finalizers"]) {
        if (f != kFinalizerOrphanDependents && f != kFinalizerDeleteDependents) fins.push_back(f);
      }
    }
    if (p == Propagation::kOrphan) fins.push_back(kFinalizerOrphanDependents);
    if (p == Propagation::kForeground) fins.push_back(kFinalizerDeleteDependents);
    bool hadFinalizers = m.contains("finalizers") && !m["finalizers"].empty();
    // A pod bound to a node that has not terminated is deleted gracefully.
    int64_t grace = 0;
    if (StartsWith(key, kPodsPrefix) && !IsDeleting(v)) {
      std::string phase = v.value("status", json::object()).value("phase", "");
      const json spec = v.value("spec", json::object());
      if (!spec.value("nodeName", "").empty() && phase != "Succeeded" && phase != "Failed") {
        grace = spec.value("terminationGracePeriodSeconds", int64_t{30});
        if (grace < 0) grace = 1;
      }
    }
    if (grace > 0 || !fins.empty()) {
      int64_t now = api::ParseTime(Now());
      if (grace > 0) {
        m["deletionTimestamp"] = api::FormatTime(now + grace);
        m["deletionGracePeriodSeconds"] = grace;
      } else {
        if (!IsDeleting(v) || api::ParseTime(m["deletionTimestamp"].get<std::string>()) > now) {
          m["deletionTimestamp"] = api::FormatTime(now);
        }
        m["deletionGracePeriodSeconds"] = 0;
      }
      if (fins.empty()) {
        m.erase("finalizers");
      } else {
        m["finalizers"] = fins;
      }
      if (v == cur->value) return Status::Ok();  // already marked so
      auto r = store_.Txn({store::Op::Update(key, std::move(v), cur->modRevision)});
      if (r.ok() || r.status().IsNotFound()) return Status::Ok();
      if (!r.status().IsConflict()) return r.status();
      continue;
    }
    store::Op del = store::Op::Delete(key, cur->modRevision);
    del.force = hadFinalizers;  // only garbage-collector finalizers were on it
    auto r = store_.Txn({std::move(del)});
    if (r.ok() || r.status().IsNotFound()) return Status::Ok();
    if (!r.status().IsConflict()) return r.status();
  }
  return Status(Code::kConflict, "too many conflicts deleting " + key);
}

GarbageCollector::RefState GarbageCollector::Classify(const std::string& depKey,
                                                      const api::OwnerReference& ref) {
  // The owner's resource by group and kind (any version of the group, as a REST mapping).
  std::string group = ref.apiVersion.find('/') == std::string::npos
                          ? ""
                          : ref.apiVersion.substr(0, ref.apiVersion.find('/'));
  const api::KindOps* k = nullptr;
  for (const auto& ops : opts_.scheme->all()) {
    if (ops->info().kind == ref.kind && ops->info().group == group) k = ops.get();
  }
  if (!k) return RefState::kSolid;  // an unknown kind: cannot tell, never collect
  std::string ns = NamespaceOfKey(depKey);
  if (k->info().namespaced && ns.empty()) return RefState::kSolid;  // invalid reference
  auto owner =
      store_.Get(store::KeyFor(k->info().resource, k->info().namespaced ? ns : "", ref.name));
  if (!owner.ok()) {
    if (owner.status().IsNotFound()) return RefState::kDangling;
    return RefState::kSolid;  // a store error: decide on a later sync
  }
  if (UidOf(owner->value) != ref.uid) return RefState::kDangling;
  if (IsDeleting(owner->value) && HasFinalizer(owner->value, kFinalizerDeleteDependents)) {
    return RefState::kWaiting;
  }
  return RefState::kSolid;
}

Status GarbageCollector::SyncDependent(const std::string& uid, const store::Object& live) {
  PartialObject obj = api::FromJsonLoose<PartialObject>(live.value);
  if (obj.metadata.ownerReferences.empty()) return Status::Ok();
  std::set<std::string> solid, dangling, waiting;
  for (const auto& ref : obj.metadata.ownerReferences) {
    switch (Classify(live.key, ref)) {
      case RefState::kSolid:
        solid.insert(ref.uid);
        break;
      case RefState::kDangling:
        dangling.insert(ref.uid);
        break;
      case RefState::kWaiting:
        waiting.insert(ref.uid);
        break;
    }
  }
  if (!solid.empty()) {
    if (dangling.empty() && waiting.empty()) return Status::Ok();
    std::set<std::string> drop = dangling;
    drop.insert(waiting.begin(), waiting.end());
    return UpdateIfUid(live.key, uid, [&](json& v) { return RemoveRefsTo(v, drop); });
  }
  bool hasDependents = false;
  bool dependentDeletingDependents = false;
  {
    std::lock_guard<std::mutex> lk(mu_);
    auto it = nodes_.find(uid);
    if (it != nodes_.end()) {
      for (const auto& d : it->second.dependents) {
        auto dn = nodes_.find(d);
        if (dn == nodes_.end() || !dn->second.observed) continue;
        hasDependents = true;
        dependentDeletingDependents = dependentDeletingDependents || dn->second.deletingDependents;
      }
    }
  }
  if (!waiting.empty() && hasDependents) {
    if (dependentDeletingDependents) {
      // A possible cycle: stop blocking the waiting owners, then delete in the foreground.
      KVOL_RETURN_IF_ERROR(UpdateIfUid(live.key, uid, [&](json& v) {
        return EditOwnerRefs(v, [&](json& refs) {
          bool changed = false;
          for (auto& r : refs) {
            if (r.is_object() && waiting.count(r.value("uid", "")) &&
                r.value("blockOwnerDeletion", false)) {
              r["blockOwnerDeletion"] = false;
              changed = true;
            }
          }
          return changed;
        });
      }));
    }
    return DeleteObject(live.key, uid, Propagation::kForeground);
  }
  Propagation p = Propagation::kBackground;
  if (HasFinalizer(live.value, kFinalizerOrphanDependents)) {
    p = Propagation::kOrphan;
  } else if (HasFinalizer(live.value, kFinalizerDeleteDependents)) {
    p = Propagation::kForeground;
  }
  return DeleteObject(live.key, uid, p);
}

Status GarbageCollector::ProcessOrphan(const std::string& uid, const Node& n,
                                       const store::Object& live) {
  std::vector<std::pair<std::string, std::string>> deps;  // uid, key
  {
    std::lock_guard<std::mutex> lk(mu_);
    for (const auto& d : n.dependents) {
      auto dn = nodes_.find(d);
      if (dn != nodes_.end() && dn->second.observed) deps.emplace_back(d, dn->second.key);
    }
  }
  const std::set<std::string> owner = {uid};
  for (const auto& [d, key] : deps) {
    KVOL_RETURN_IF_ERROR(UpdateIfUid(key, d, [&](json& v) { return RemoveRefsTo(v, owner); }));
  }
  return UpdateIfUid(live.key, uid,
                     [](json& v) { return RemoveFinalizer(v, kFinalizerOrphanDependents); });
}

Status GarbageCollector::ProcessForeground(const std::string& uid, const Node& n) {
  std::vector<std::string> blocking;
  bool blocked = false;
  {
    std::lock_guard<std::mutex> lk(mu_);
    for (const auto& d : n.dependents) {
      auto dn = nodes_.find(d);
      if (dn == nodes_.end() || !dn->second.observed) continue;
      for (const auto& r : dn->second.owners) {
        if (r.uid != uid || !r.blockOwnerDeletion.value_or(false)) continue;
        blocked = true;
        if (!dn->second.deletingDependents) blocking.push_back(d);
        break;
      }
    }
  }
  if (!blocked) {
    return UpdateIfUid(n.key, uid,
                       [](json& v) { return RemoveFinalizer(v, kFinalizerDeleteDependents); });
  }
  for (const auto& d : blocking) queue_.Add(d);  // re-queued here when each one goes
  return Status::Ok();
}

Status GarbageCollector::Sync(const std::string& uid) {
  Node n;
  {
    std::lock_guard<std::mutex> lk(mu_);
    auto it = nodes_.find(uid);
    if (it == nodes_.end()) return Status::Ok();
    n = it->second;
  }
  auto requeueDependents = [&] {
    for (const auto& d : n.dependents) queue_.Add(d);
  };
  if (!n.observed) {  // the owner is gone: its dependents decide about themselves
    requeueDependents();
    return Status::Ok();
  }
  // Being deleted and not by the collector's finalizers: wait for the deletion itself.
  if (n.deleting && !n.deletingDependents && !n.orphaning) return Status::Ok();
  auto live = store_.Get(n.key);
  if (!live.ok()) {
    if (!live.status().IsNotFound()) return live.status();
    requeueDependents();  // deleted; the informer will tell
    return Status::Ok();
  }
  if (UidOf(live->value) != uid) {
    requeueDependents();
    return Status::Ok();
  }
  if (IsDeleting(live->value)) {
    if (HasFinalizer(live->value, kFinalizerOrphanDependents)) {
      return ProcessOrphan(uid, n, *live);
    }
    if (HasFinalizer(live->value, kFinalizerDeleteDependents)) return ProcessForeground(uid, n);
    return Status::Ok();
  }
  return SyncDependent(uid, *live);
}

void GarbageCollector::Run() {
  RunWorker(queue_, [this](const std::string& k) { return Sync(k); });
}

}  // namespace kvol::controller
