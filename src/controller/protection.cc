#include "kvol/controller/protection.h"

namespace kvol::controller {
namespace {
const std::string kPVPrefix = "/registry/persistentvolumes/";
const std::string kPVCPrefix = "/registry/persistentvolumeclaims/";
bool StartsWith(const std::string& s, const std::string& p) {
  return s.compare(0, p.size(), p) == 0;
}
}  // namespace

ProtectionController::ProtectionController(store::Store& s, PVInformer& pvs, PVCInformer& pvcs,
                                           PodInformer& pods)
    : store_(s), pvs_(pvs), pvcs_(pvcs), pods_(pods) {}

std::set<std::string> ProtectionController::ClaimsOf(const api::Pod& pod) {
  std::set<std::string> out;
  if (PodFinished(pod)) return out;
  for (const auto& name : PodClaimNames(pod)) {
    out.insert(store::KeyFor("persistentvolumeclaims", pod.metadata.namespace_, name));
  }
  return out;
}

void ProtectionController::PodChanged(const PodInformer::ItemPtr& old,
                                      const PodInformer::ItemPtr& neu) {
  std::set<std::string> before = old ? ClaimsOf(old->obj) : std::set<std::string>();
  std::set<std::string> after = neu ? ClaimsOf(neu->obj) : std::set<std::string>();
  const std::string& podKey = neu ? neu->key : old->key;
  {
    std::lock_guard<std::mutex> lk(mu_);
    for (const auto& k : before) {
      if (after.count(k)) continue;
      auto it = users_.find(k);
      if (it == users_.end()) continue;
      it->second.erase(podKey);
      if (it->second.empty()) users_.erase(it);
    }
    for (const auto& k : after) users_[k].insert(podKey);
  }
  for (const auto& k : before) {
    if (!after.count(k)) queue_.Add(k);  // maybe no longer in use
  }
}

bool ProtectionController::ClaimInUse(const std::string& claimKey) {
  std::lock_guard<std::mutex> lk(mu_);
  auto it = users_.find(claimKey);
  return it != users_.end() && !it->second.empty();
}

void ProtectionController::RegisterHandlers() {
  PVInformer::Handlers vh;
  vh.onAdd = [this](const PVInformer::ItemPtr& v) {
    if (v->obj.metadata.deletionTimestamp) queue_.Add(v->key);
  };
  vh.onUpdate = [this](const PVInformer::ItemPtr&, const PVInformer::ItemPtr& v) {
    if (v->obj.metadata.deletionTimestamp) queue_.Add(v->key);
  };
  pvs_.AddHandlers(std::move(vh));
  PVCInformer::Handlers ch;
  ch.onAdd = [this](const PVCInformer::ItemPtr& c) {
    if (c->obj.metadata.deletionTimestamp) queue_.Add(c->key);
  };
  ch.onUpdate = [this](const PVCInformer::ItemPtr&, const PVCInformer::ItemPtr& c) {
    if (c->obj.metadata.deletionTimestamp) queue_.Add(c->key);
  };
  pvcs_.AddHandlers(std::move(ch));
  PodInformer::Handlers ph;
  ph.onAdd = [this](const PodInformer::ItemPtr& p) { PodChanged(nullptr, p); };
  ph.onUpdate = [this](const PodInformer::ItemPtr& o, const PodInformer::ItemPtr& p) {
    PodChanged(o, p);
  };
  ph.onDelete = [this](const PodInformer::ItemPtr& p) { PodChanged(p, nullptr); };
  pods_.AddHandlers(std::move(ph));
}

void ProtectionController::EnqueueAll() {
  for (const auto& v : pvs_.List()) {
    if (v->obj.metadata.deletionTimestamp) queue_.Add(v->key);
  }
  for (const auto& c : pvcs_.List()) {
    if (c->obj.metadata.deletionTimestamp) queue_.Add(c->key);
  }
}

Status ProtectionController::Sync(const std::string& key) {
  if (StartsWith(key, kPVCPrefix)) {
    auto c = pvcs_.Get(key);
    if (!c || !c->obj.metadata.deletionTimestamp) return Status::Ok();
    if (!jsonutil::HasFinalizer(c->raw, api::kFinalizerPVCProtection)) return Status::Ok();
    if (ClaimInUse(key)) return Status::Ok();  // re-queued when its pods go
    store::json obj = c->raw;
    jsonutil::RemoveFinalizer(obj, api::kFinalizerPVCProtection);
    auto r = store_.Txn({store::Op::Update(key, std::move(obj), c->modRevision)});
    if (!r.ok()) return r.status();
    r->deleted[0] ? pvcs_.AssumeDeleted(r->objects[0]) : pvcs_.Assume(r->objects[0]);
    return Status::Ok();
  }
  if (StartsWith(key, kPVPrefix)) {
    auto v = pvs_.Get(key);
    if (!v || !v->obj.metadata.deletionTimestamp) return Status::Ok();
    if (!jsonutil::HasFinalizer(v->raw, api::kFinalizerPVProtection)) return Status::Ok();
    if (v->obj.status.phase == "Bound") return Status::Ok();
    store::json obj = v->raw;
    jsonutil::RemoveFinalizer(obj, api::kFinalizerPVProtection);
    auto r = store_.Txn({store::Op::Update(key, std::move(obj), v->modRevision)});
    if (!r.ok()) return r.status();
    r->deleted[0] ? pvs_.AssumeDeleted(r->objects[0]) : pvs_.Assume(r->objects[0]);
    return Status::Ok();
  }
  return Status::Ok();
}

void ProtectionController::Run() {
  std::string key;
  while (queue_.Get(&key)) {
    Status s = Sync(key);
    if (s.ok() || s.IsNotFound()) {
      queue_.Forget(key);
    } else {
      queue_.AddRateLimited(key);
    }
    queue_.Done(key);
  }
}

}  // namespace kvol::controller
