// Binder core: informer wiring, the worker pass and its batched writes.
#include "kvol/controller/binder.h"

#include <algorithm>
#include <cstdio>
#include <future>
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
// Staged writes per pipelined TxnBatch (see FlushReady).
constexpr size_t kFlushChunk = 1000;
bool StartsWith(const std::string& s, const std::string& p) {
  return s.compare(0, p.size(), p) == 0;
}
// Puts object j of a committed write into its informer: a deletion, the typed object the binder
// built alongside the JSON (`typedKey` / `typed`, moved out), or else the stored object itself.
template <typename T>
void AssumeWritten(Informer<T>& informer, const store::TxnResult& r, size_t j,
                   const std::string& typedKey, const std::shared_ptr<T>& typed) {
  if (r.deleted[j]) {
    informer.AssumeDeleted(*r.shared[j]);
  } else if (typed && r.shared[j]->key == typedKey) {
    informer.AssumeDecoded(r.shared[j], std::move(*typed));
  } else {
    informer.Assume(r.shared[j]);
  }
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

// Writes are committed in chunks while the pass goes on: once kFlushChunk writes are staged, they
// go to the store on a helper thread (one TxnBatch, one fsync) while this thread syncs further keys
// and assumes the previous chunk's results. Each Txn is still all or nothing, no result is assumed
// before its chunk is durable, and chunks commit in order. The informers' BeginWrites brackets
// keep the watch from decoding these writes a second time.
void Binder::FlushReady(Pass& pass) {
  if (pass.writes.size() - pass.submitted >= kFlushChunk) Advance(pass);
}

void Binder::Flush(Pass& pass) {
  Advance(pass);
  if (pass.pending.valid()) {
    std::vector<Result<store::TxnResult>> results = pass.pending.get();
    Install(pass, pass.pendingFrom, results);
  }
  // Changes others made meanwhile (seen on the watch) are fetched now, and re-queue their keys.
  pvs_.EndWrites(pass.pvKeys);
  pvcs_.EndWrites(pass.pvcKeys);
  pass.pvKeys.clear();
  pass.pvcKeys.clear();
  pass.opKeys.clear();
  pass.writes.clear();
  pass.submitted = pass.pendingFrom = 0;
}

void Binder::Advance(Pass& pass) {
  std::vector<Result<store::TxnResult>> done;
  const size_t doneFrom = pass.pendingFrom;
  const bool hadPending = pass.pending.valid();
  if (hadPending) done = pass.pending.get();  // chunks commit one after another, in order
  const size_t from = pass.submitted, to = pass.writes.size();
  if (from < to) {
    std::vector<std::string> pvKeys, pvcKeys;
    std::vector<std::vector<store::Op>> txns;
    txns.reserve(to - from);
    pass.opKeys.resize(to);
    for (size_t i = from; i < to; ++i) {
      for (const auto& op : pass.writes[i].ops) {
        pass.opKeys[i].push_back(op.key);
        if (StartsWith(op.key, kPVPrefix)) {
          pvKeys.push_back(op.key);
        } else if (StartsWith(op.key, kPVCPrefix)) {
          pvcKeys.push_back(op.key);
        }
      }
      txns.push_back(std::move(pass.writes[i].ops));
    }
    pvs_.BeginWrites(pvKeys);
    pvcs_.BeginWrites(pvcKeys);
    pass.pvKeys.insert(pass.pvKeys.end(), pvKeys.begin(), pvKeys.end());
    pass.pvcKeys.insert(pass.pvcKeys.end(), pvcKeys.begin(), pvcKeys.end());
    pass.pending = std::async(
        std::launch::async | std::launch::deferred,
        [this](std::vector<std::vector<store::Op>> t) {
          return store_.TxnBatchShared(std::move(t));
        },
        std::move(txns));
    pass.pendingFrom = from;
    pass.submitted = to;
  }
  if (hadPending) Install(pass, doneFrom, done);
}

void Binder::Install(Pass& pass, size_t from, std::vector<Result<store::TxnResult>>& results) {
  for (size_t k = 0; k < results.size(); ++k) {
    const size_t i = from + k;
    Write& w = pass.writes[i];
    if (!results[k].ok()) {
      pass.failed.emplace(w.key, results[k].status());
      if (w.onFail) w.onFail();
      // Volumes reserved for this write become claimable again (as cached).
      for (const auto& key : pass.opKeys[i]) {
        if (!StartsWith(key, kPVPrefix)) continue;
        if (PVItem v = pvs_.Get(key)) {
          std::lock_guard<std::mutex> lk(indexMu_);
          index_.Upsert(v);
        }
      }
      continue;
    }
    const store::TxnResult& r = *results[k];
    tlsAssuming = true;
    for (size_t j = 0; j < r.shared.size(); ++j) {
      const store::Object& o = *r.shared[j];
      if (StartsWith(o.key, kPVPrefix)) {
        AssumeWritten(pvs_, r, j, w.pvKey, w.pv);
      } else if (StartsWith(o.key, kPVCPrefix)) {
        AssumeWritten(pvcs_, r, j, w.pvcKey, w.pvc);
      }
    }
    tlsAssuming = false;
    if (w.onOk) w.onOk();
  }
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
    FlushReady(vpass);
  }
  Flush(vpass);
  finish(volumes, vpass);

  Pass cpass;
  std::vector<std::string> claimKeys;
  claimKeys.reserve(claims.size());
  for (auto& [rev, k] : claims) {
    Status s = SyncClaim(k, cpass);
    if (!s.ok()) cpass.failed.emplace(k, s);
    FlushReady(cpass);
    claimKeys.push_back(std::move(k));
  }
  Flush(cpass);
  finish(claimKeys, cpass);
  events_.Flush();  // one TxnBatch for the pass's events
}

}  // namespace kvol::controller
