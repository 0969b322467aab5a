// Binder core: informer wiring, the worker pass and its batched writes.
#include "kvol/controller/binder.h"

#include <algorithm>
#include <cstdio>
#include <random>

namespace kvol::controller {

namespace jsonutil {

store::json& Annotations(store::json& obj) {
  store::json& m = obj["metadata"];
  if (!m.is_object()) m = store::json::object();
  store::json& a = m["annotations"];
  if (!a.is_object()) a = store::json::object();
  return a;
}

bool HasFinalizer(const store::json& obj, const char* finalizer) {
  auto m = obj.find("metadata");
  if (m == obj.end() || !m->is_object()) return false;
  auto f = m->find("finalizers");
  if (f == m->end() || !f->is_array()) return false;
  for (const auto& x : *f) {
    if (x.is_string() && x.get_ref<const std::string&>() == finalizer) return true;
  }
  return false;
}

bool EnsureFinalizer(store::json& obj, const char* finalizer) {
  if (HasFinalizer(obj, finalizer)) return false;
  store::json& m = obj["metadata"];
  if (!m.is_object()) m = store::json::object();
  store::json& f = m["finalizers"];
  if (!f.is_array()) f = store::json::array();
  f.push_back(finalizer);
  return true;
}

bool RemoveFinalizer(store::json& obj, const char* finalizer) {
  if (!HasFinalizer(obj, finalizer)) return false;
  store::json& f = obj["metadata"]["finalizers"];
  store::json out = store::json::array();
  for (auto& x : f) {
    if (!(x.is_string() && x.get_ref<const std::string&>() == finalizer)) out.push_back(x);
  }
  if (out.empty()) {
    obj["metadata"].erase("finalizers");
  } else {
    f = std::move(out);
  }
  return true;
}

std::string NewUID() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  uint64_t a = rng();
  uint64_t b = rng();
  a = (a & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  b = (b & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // variant 10
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", unsigned(a >> 32),
                unsigned((a >> 16) & 0xffff), unsigned(a & 0xffff), unsigned(b >> 48),
                static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return buf;
}

}  // namespace jsonutil

namespace {
// True while the worker applies its own writes to the caches: the binder's handlers then update
// the index but do not re-queue (a write that needs a follow-up sync re-queues explicitly).
thread_local bool tlsAssuming = false;
const std::string kPVPrefix = "/registry/persistentvolumes/";
const std::string kPVCPrefix = "/registry/persistentvolumeclaims/";
bool StartsWith(const std::string& s, const std::string& p) {
  return s.compare(0, p.size(), p) == 0;
}
}  // namespace

Binder::Binder(store::Store& s, PVInformer& pvs, PVCInformer& pvcs, ClassInformer& classes,
               NodeInformer& nodes, EventRecorder& events,
               std::map<std::string, driver::ControllerDriver*> drivers, BinderOptions opts)
    : store_(s),
      pvs_(pvs),
      pvcs_(pvcs),
      classes_(classes),
      nodes_(nodes),
      events_(events),
      drivers_(std::move(drivers)),
      opts_(std::move(opts)) {
  if (!opts_.now) opts_.now = [] { return api::Now(); };
  if (!opts_.newUID) opts_.newUID = [] { return jsonutil::NewUID(); };
}

void Binder::RegisterHandlers() {
  PVInformer::Handlers vh;
  vh.onAdd = [this](const PVItem& v) {
    {
      std::lock_guard<std::mutex> lk(indexMu_);
      index_.Upsert(v);
    }
    if (!tlsAssuming) queue_.Add(v->key);
  };
  vh.onUpdate = [this](const PVItem&, const PVItem& v) {
    {
      std::lock_guard<std::mutex> lk(indexMu_);
      index_.Upsert(v);
    }
    if (!tlsAssuming) queue_.Add(v->key);
  };
  vh.onDelete = [this](const PVItem& v) {
    {
      std::lock_guard<std::mutex> lk(indexMu_);
      index_.Remove(v->obj.metadata.name);
    }
    // The claim learns at once that its volume is gone (Lost).
    if (v->obj.spec.claimRef) queue_.Add(ClaimRefKey(v->obj));
  };
  pvs_.AddHandlers(std::move(vh));

  PVCInformer::Handlers ch;
  ch.onAdd = [this](const PVCItem& c) {
    if (!tlsAssuming) queue_.Add(c->key);
  };
  ch.onUpdate = [this](const PVCItem&, const PVCItem& c) {
    if (!tlsAssuming) queue_.Add(c->key);
  };
  ch.onDelete = [this](const PVCItem& c) {
    // The volume learns at once that its claim is gone (Released).
    if (!c->obj.spec.volumeName.empty()) {
      queue_.Add(store::KeyFor("persistentvolumes", "", c->obj.spec.volumeName));
    }
  };
  pvcs_.AddHandlers(std::move(ch));
}

void Binder::EnqueueAll() {
  for (const auto& k : pvs_.Keys()) queue_.Add(k);
  for (const auto& k : pvcs_.Keys()) queue_.Add(k);
}

void Binder::Run() {
  for (;;) {
    std::vector<std::string> keys = queue_.GetBatch(opts_.maxBatch);
    if (keys.empty()) return;
    ProcessKeys(std::move(keys));
  }
}

void Binder::Assume(const store::Object& o, bool deleted) {
  tlsAssuming = true;
  if (StartsWith(o.key, kPVPrefix)) {
    deleted ? pvs_.AssumeDeleted(o) : pvs_.Assume(o);
  } else if (StartsWith(o.key, kPVCPrefix)) {
    deleted ? pvcs_.AssumeDeleted(o) : pvcs_.Assume(o);
  }
  tlsAssuming = false;
}

void Binder::Flush(Pass& pass) {
  if (pass.writes.empty()) return;
  std::vector<std::vector<store::Op>> txns;
  txns.reserve(pass.writes.size());
  std::vector<std::vector<std::string>> opKeys(pass.writes.size());
  for (size_t i = 0; i < pass.writes.size(); ++i) {
    for (const auto& op : pass.writes[i].ops) opKeys[i].push_back(op.key);
    txns.push_back(std::move(pass.writes[i].ops));
  }
  std::vector<Result<store::TxnResult>> results = store_.TxnBatch(std::move(txns));
  for (size_t i = 0; i < results.size(); ++i) {
    Write& w = pass.writes[i];
    if (!results[i].ok()) {
      pass.failed.emplace(w.key, results[i].status());
      if (w.onFail) w.onFail();
      // Volumes reserved for this write become claimable again (as cached).
      for (const auto& k : opKeys[i]) {
        if (!StartsWith(k, kPVPrefix)) continue;
        if (PVItem v = pvs_.Get(k)) {
          std::lock_guard<std::mutex> lk(indexMu_);
          index_.Upsert(v);
        }
      }
      continue;
    }
    const store::TxnResult& r = *results[i];
    for (size_t j = 0; j < r.objects.size(); ++j) Assume(r.objects[j], r.deleted[j]);
    if (w.onOk) w.onOk();
  }
  pass.writes.clear();
}

void Binder::ProcessKeys(std::vector<std::string> keys) {
  std::vector<std::string> volumes;
  std::vector<std::pair<store::Revision, std::string>> claims;
  for (auto& k : keys) {
    if (StartsWith(k, kPVPrefix)) {
      volumes.push_back(k);
    } else if (StartsWith(k, kPVCPrefix)) {
      PVCItem c = pvcs_.Get(k);
      claims.emplace_back(c ? c->createRevision : 0, k);
    } else {
      queue_.Done(k);
    }
  }
  // Claims in creation order: Kubernetes' rule applied claim by claim as they arrived.
  std::sort(claims.begin(), claims.end());

  auto finish = [this](const std::vector<std::string>& ks, Pass& pass) {
    for (const auto& k : ks) {
      if (pass.failed.count(k)) {
        queue_.AddRateLimited(k);
      } else {
        queue_.Forget(k);
      }
      queue_.Done(k);
    }
  };

  Pass vpass;
  for (const auto& k : volumes) {
    Status s = SyncVolume(k, vpass);
    if (!s.ok()) vpass.failed.emplace(k, s);
  }
  Flush(vpass);
  finish(volumes, vpass);

  Pass cpass;
  std::vector<std::string> claimKeys;
  claimKeys.reserve(claims.size());
  for (auto& [rev, k] : claims) {
    Status s = SyncClaim(k, cpass);
    if (!s.ok()) cpass.failed.emplace(k, s);
    claimKeys.push_back(std::move(k));
  }
  Flush(cpass);
  finish(claimKeys, cpass);
  events_.Flush();  // one TxnBatch for the pass's events
}

}  // namespace kvol::controller
