// Binder: claim sync (Kubernetes' syncClaim / syncUnboundClaim / syncBoundClaim) and binding.
#include <algorithm>

#include "kvol/controller/binder.h"

namespace kvol::controller {
namespace {

constexpr const char* kYes = "yes";
constexpr const char* kNoClassMsg =
    "no persistent volumes available for this claim and no storage class is set";
constexpr const char* kWFFCMsg = "waiting for first consumer to be created before binding";

std::string Quote(const std::string& s) { return "\"" + s + "\""; }

// Removes kvol's Pending condition; true when it was there.
bool DropPendingCondition(store::json& obj) {
  auto st = obj.find("status");
  if (st == obj.end() || !st->is_object()) return false;
  auto cs = st->find("conditions");
  if (cs == st->end() || !cs->is_array()) return false;
  store::json out = store::json::array();
  bool dropped = false;
  for (auto& c : *cs) {
    if (c.is_object() && c.value("type", "") == kClaimConditionPending) {
      dropped = true;
    } else {
      out.push_back(c);
    }
  }
  if (!dropped) return false;
  if (out.empty()) {
    st->erase("conditions");
  } else {
    *cs = std::move(out);
  }
  return true;
}

// Sets annotation `k` on the JSON object and on its typed metadata alike.
void SetAnnotation(store::json& obj, api::ObjectMeta& typed, const char* k, const char* v) {
  store::json& m = obj["metadata"];
  if (!m.is_object()) typed = {};  // Annotations() below replaces it with an empty object
  jsonutil::Annotations(obj)[k] = v;
  typed.annotations[k] = v;
}

}  // namespace

bool Binder::DelayBinding(const api::PersistentVolumeClaim& c) {
  std::string cls = ClaimClass(c);
  if (cls.empty()) return false;
  auto item = classes_.Get(store::KeyFor("storageclasses", "", cls));
  if (!item) return false;
  return item->obj.volumeBindingMode.value_or("Immediate") == "WaitForFirstConsumer";
}

const api::StorageClass* Binder::DefaultClass(std::vector<ClassInformer::ItemPtr>& hold) {
  hold = classes_.List();
  const api::StorageClass* best = nullptr;
  for (const auto& it : hold) {
    const auto& a = it->obj.metadata.annotations;
    auto d = a.find(api::kAnnDefaultStorageClass);
    if (d == a.end() || d->second != "true") continue;
    // Kubernetes: the newest default wins when several are marked.
    if (!best ||
        api::ParseTime(it->obj.metadata.creationTimestamp) >
            api::ParseTime(best->metadata.creationTimestamp) ||
        (api::ParseTime(it->obj.metadata.creationTimestamp) ==
             api::ParseTime(best->metadata.creationTimestamp) &&
         it->obj.metadata.name < best->metadata.name)) {
      best = &it->obj;
    }
  }
  return best;
}

std::string Binder::NearMisses(const MatchInput& in) {
  std::vector<Miss> misses;
  {
    std::lock_guard<std::mutex> lk(indexMu_);
    for (const auto& v : index_.Candidates(ClaimClass(*in.claim), 256)) {
      if (auto m = ExplainMismatch(in, v->obj)) misses.push_back(std::move(*m));
    }
  }
  std::stable_sort(misses.begin(), misses.end(), [](const Miss& a, const Miss& b) {
    return a.rank != b.rank ? a.rank < b.rank : a.text < b.text;
  });
  std::string out;
  for (size_t i = 0; i < misses.size() && i < opts_.explainLimit; ++i) {
    out += (i ? ", " : "") + misses[i].text;
  }
  return out;
}

Status Binder::SyncClaim(const std::string& key, Pass& pass) {
  PVCItem c = pvcs_.Get(key);
  // A volume provisioned for a claim that is gone (or replaced) before its bind committed.
  ForgetUncommitted(key, c ? c->obj.metadata.uid : "");
  if (!c) return Status::Ok();  // deleted: the volume's sync releases it
  if (!HasAnn(c->obj.metadata, api::kAnnBindCompleted)) return SyncUnboundClaim(c, pass);
  return SyncBoundClaim(c, pass);
}

void Binder::StagePending(const PVCItem& c, const std::string& reason, const std::string& message,
                          Pass& pass, const char* eventType, const store::json* base) {
  store::json obj = base ? *base : c->raw;
  bool changed = base && *base != c->raw;
  store::json& st = obj["status"];
  if (!st.is_object()) st = store::json::object();
  if (st.value("phase", "") != "Pending") changed = true;
  st["phase"] = "Pending";
  store::json& cs = st["conditions"];
  if (!cs.is_array()) cs = store::json::array();
  store::json* cond = nullptr;
  for (auto& x : cs) {
    if (x.is_object() && x.value("type", "") == kClaimConditionPending) cond = &x;
  }
  const api::Time now = opts_.now();
  if (!cond) {
    cs.push_back({{"type", kClaimConditionPending},
                  {"status", "True"},
                  {"lastProbeTime", now},
                  {"lastTransitionTime", now},
                  {"reason", reason},
                  {"message", message}});
    changed = true;
  } else if (cond->value("reason", "") != reason || cond->value("message", "") != message ||
             cond->value("status", "") != "True") {
    if (cond->value("status", "") != "True") (*cond)["lastTransitionTime"] = now;
    (*cond)["status"] = "True";
    (*cond)["reason"] = reason;
    (*cond)["message"] = message;
    (*cond)["lastProbeTime"] = now;
    changed = true;
  }
  if (!c->obj.metadata.deletionTimestamp &&
      jsonutil::EnsureFinalizer(obj, api::kFinalizerPVCProtection)) {
    changed = true;
  }
  if (changed) {
    pass.writes.push_back(
        Write{c->key, {store::Op::Update(c->key, std::move(obj), c->modRevision)}, nullptr});
  }
  // Kubernetes records the event on every sync (the recorder aggregates repeats).
  events_.Event(c->raw, eventType, reason, message);
}

void Binder::StageLost(const PVCItem& c, const std::string& reason, const std::string& message,
                       Pass& pass) {
  if (c->obj.status.phase != "Lost") {
    store::json obj = c->raw;
    obj["status"]["phase"] = "Lost";
    DropPendingCondition(obj);
    pass.writes.push_back(
        Write{c->key, {store::Op::Update(c->key, std::move(obj), c->modRevision)}, nullptr});
  }
  events_.Event(c->raw, kEventWarning, reason, message);
}

void Binder::StageBind(const PVItem& v, const PVCItem& c, Pass& pass, const std::string& key) {
  const api::PersistentVolume& pv = v->obj;
  const api::PersistentVolumeClaim& pvc = c->obj;
  const api::Time now = opts_.now();

  // The same edits are made on the JSON and on copies of the typed objects (assumed into the
  // informers without a decode once written).
  // The volume: claimRef, bound-by-controller when the controller made the link, phase Bound.
  store::json vj = v->raw;
  auto vt = std::make_shared<api::PersistentVolume>(pv);
  bool vChanged = false;
  const auto& ref = pv.spec.claimRef;
  if (!ref || ref->name != pvc.metadata.name || ref->namespace_ != pvc.metadata.namespace_ ||
      ref->uid != pvc.metadata.uid) {
    if (!IsVolumeBoundToClaim(pv, pvc)) {
      SetAnnotation(vj, vt->metadata, api::kAnnBoundByController, kYes);
    }
    vj["spec"]["claimRef"] = {{"kind", "PersistentVolumeClaim"},
                              {"namespace", pvc.metadata.namespace_},
                              {"name", pvc.metadata.name},
                              {"uid", pvc.metadata.uid},
                              {"apiVersion", "v1"},
                              {"resourceVersion", pvc.metadata.resourceVersion}};
    api::ObjectReference r;
    r.kind = "PersistentVolumeClaim";
    r.namespace_ = pvc.metadata.namespace_;
    r.name = pvc.metadata.name;
    r.uid = pvc.metadata.uid;
    r.apiVersion = "v1";
    r.resourceVersion = pvc.metadata.resourceVersion;
    vt->spec.claimRef = std::move(r);
    vChanged = true;
  }
  if (pv.status.phase != "Bound") {
    store::json& st = vj["status"];
    if (!st.is_object()) {
      st = store::json::object();
      vt->status = {};
    }
    st["phase"] = "Bound";
    st.erase("message");
    st.erase("reason");
    st["lastPhaseTransitionTime"] = now;
    vt->status.phase = "Bound";
    vt->status.message.clear();
    vt->status.reason.clear();
    vt->status.lastPhaseTransitionTime = now;
    vChanged = true;
  }
  if (!pv.metadata.deletionTimestamp &&
      jsonutil::EnsureFinalizer(vj, api::kFinalizerPVProtection)) {
    vt->metadata.finalizers.push_back(api::kFinalizerPVProtection);
    vChanged = true;
  }

  // The claim: volumeName, bind-completed (+ bound-by-controller), status Bound with the PV's
  // capacity and access modes.
  store::json cj = c->raw;
  auto ct = std::make_shared<api::PersistentVolumeClaim>(pvc);
  bool cChanged = false;
  if (pvc.spec.volumeName != pv.metadata.name) {
    store::json& spec = cj["spec"];
    if (!spec.is_object()) ct->spec = {};  // operator[] below turns null into an object
    spec["volumeName"] = pv.metadata.name;
    ct->spec.volumeName = pv.metadata.name;
    SetAnnotation(cj, ct->metadata, api::kAnnBoundByController, kYes);
    cChanged = true;
  }
  if (!HasAnn(pvc.metadata, api::kAnnBindCompleted)) {
    SetAnnotation(cj, ct->metadata, api::kAnnBindCompleted, kYes);
    cChanged = true;
  }
  store::json& cst = cj["status"];
  if (!cst.is_object()) {
    cst = store::json::object();
    ct->status = {};
  }
  store::json modes = v->raw["spec"].value("accessModes", store::json::array());
  store::json cap = v->raw["spec"].value("capacity", store::json::object());
  // The capacity is copied when the claim becomes Bound (or has none), as Kubernetes'
  // updateClaimStatus does; afterwards it belongs to expansion, which raises it only once the
  // filesystem has grown (FileSystemResizePending keeps the old size until then).
  const bool becomingBound = cst.value("phase", "") != "Bound";
  const bool noCapacity = !cst.contains("capacity") || cst["capacity"].empty();
  if (becomingBound || noCapacity || cst.value("accessModes", store::json()) != modes) {
    cst["phase"] = "Bound";
    cst["accessModes"] = modes;
    ct->status.phase = "Bound";
    ct->status.accessModes = pv.spec.accessModes;  // decoded from `modes`
    if (becomingBound || noCapacity) {
      cst["capacity"] = cap;
      ct->status.capacity = pv.spec.capacity;  // decoded from `cap`
    }
    cChanged = true;
  }
  if (DropPendingCondition(cj)) {
    std::erase_if(ct->status.conditions, [](const api::PersistentVolumeClaimCondition& x) {
      return x.type == kClaimConditionPending;
    });
    cChanged = true;
  }
  if (!pvc.metadata.deletionTimestamp &&
      jsonutil::EnsureFinalizer(cj, api::kFinalizerPVCProtection)) {
    ct->metadata.finalizers.push_back(api::kFinalizerPVCProtection);
    cChanged = true;
  }

  pass.reserved.insert(pv.metadata.name);
  {
    std::lock_guard<std::mutex> lk(indexMu_);
    index_.Reserve(pv.metadata.name);
  }
  Write w;
  w.key = key;
  if (vChanged) {
    w.ops.push_back(store::Op::Update(v->key, std::move(vj), v->modRevision));
    w.pvKey = v->key;
    w.pv = std::move(vt);
  }
  if (cChanged) {
    w.ops.push_back(store::Op::Update(c->key, std::move(cj), c->modRevision));
    w.pvcKey = c->key;
    w.pvc = std::move(ct);
  }
  if (!w.ops.empty()) pass.writes.push_back(std::move(w));
}

Status Binder::SyncUnboundClaim(const PVCItem& c, Pass& pass) {
  const api::PersistentVolumeClaim& pvc = c->obj;
  if (pvc.spec.volumeName.empty()) {
    // [Unit test set 1] The user does not care which volume they get.
    const bool delay = DelayBinding(pvc);
    std::optional<NodeInfo> node;
    if (delay) {
      auto sel = pvc.metadata.annotations.find(api::kAnnSelectedNode);
      if (sel != pvc.metadata.annotations.end()) {
        node = NodeInfo{sel->second, {}};
        if (auto n = nodes_.Get(store::KeyFor("nodes", "", sel->second))) {
          node->labels = n->obj.metadata.labels;
        }
      }
    }
    Result<std::optional<api::LabelSelectorExpr>> selector = ClaimSelector(pvc);
    if (!selector.ok()) {
      StagePending(c, "InvalidSelector", selector.status().message(), pass, kEventWarning);
      return Status::Ok();
    }
    MatchInput in;
    in.claim = &pvc;
    in.selector = selector->has_value() ? &**selector : nullptr;
    in.node = node ? &*node : nullptr;
    in.delayBinding = delay;
    PVItem found;
    {
      std::lock_guard<std::mutex> lk(indexMu_);
      found = index_.Find(in, [&](const std::string& n) { return pass.reserved.count(n) > 0; });
    }
    if (found) {
      StageBind(found, c, pass, c->key);
      return Status::Ok();
    }
    // No volume. Retroactive default class for claims that never set one.
    if (ClaimClassUnset(pvc)) {
      std::vector<ClassInformer::ItemPtr> hold;
      if (const api::StorageClass* def = DefaultClass(hold)) {
        store::json obj = c->raw;
        obj["spec"]["storageClassName"] = def->metadata.name;
        pass.writes.push_back(Write{c->key,
                                    {store::Op::Update(c->key, std::move(obj), c->modRevision)},
                                    [this, key = c->key] { queue_.Add(key); }});
        return Status::Ok();  // the update re-queues the claim
      }
    }
    const std::string cls = ClaimClass(pvc);
    if (delay && !node) {
      StagePending(c, "WaitForFirstConsumer", kWFFCMsg, pass, kEventNormal);
      return Status::Ok();
    }
    if (!cls.empty()) return Provision(c, cls, NearMisses(in), pass);
    std::string msg = kNoClassMsg;
    if (std::string near = NearMisses(in); !near.empty()) msg += "; candidates: " + near;
    StagePending(c, "FailedBinding", msg, pass, kEventNormal);
    return Status::Ok();
  }

  // [Unit test set 2] The user asked for a specific volume.
  PVItem v;
  {
    std::lock_guard<std::mutex> lk(indexMu_);
    v = index_.Get(pvc.spec.volumeName);
  }
  if (!v) {
    StagePending(c, "VolumeNotFound",
                 "volume " + Quote(pvc.spec.volumeName) + " requested by claim not found", pass,
                 kEventWarning);
    return Status::Ok();
  }
  const api::PersistentVolume& pv = v->obj;
  if (!pv.spec.claimRef || IsVolumeBoundToClaim(pv, pvc)) {
    if (!pv.spec.claimRef) {
      Status ok = CheckVolumeSatisfyClaim(pv, pvc);
      if (!ok.ok()) {
        StagePending(
            c, "VolumeMismatch",
            "Cannot bind to requested volume " + Quote(pv.metadata.name) + ": " + ok.message(),
            pass, kEventWarning);
        return Status::Ok();
      }
    }
    if (pass.reserved.count(pv.metadata.name)) {
      return Conflict("volume " + Quote(pv.metadata.name) + " is being bound in this pass");
    }
    StageBind(v, c, pass, c->key);
    return Status::Ok();
  }
  if (!HasAnn(pvc.metadata, api::kAnnBoundByController)) {
    StagePending(c, "FailedBinding",
                 "volume " + Quote(pv.metadata.name) + " already bound to a different claim.", pass,
                 kEventWarning);
    return Status::Ok();
  }
  return Internal("invalid binding of claim " + Quote(pvc.metadata.name) + " to volume " +
                  Quote(pv.metadata.name) + ": volume already claimed by " +
                  Quote(pv.spec.claimRef->namespace_ + "/" + pv.spec.claimRef->name));
}

Status Binder::SyncBoundClaim(const PVCItem& c, Pass& pass) {
  const api::PersistentVolumeClaim& pvc = c->obj;
  if (pvc.spec.volumeName.empty()) {
    StageLost(c, "ClaimLost",
              "Bound claim has lost reference to PersistentVolume. Data on the volume is lost!",
              pass);
    return Status::Ok();
  }
  PVItem v;
  {
    std::lock_guard<std::mutex> lk(indexMu_);
    v = index_.Get(pvc.spec.volumeName);
  }
  if (!v) {
    StageLost(c, "ClaimLost",
              "Bound claim has lost its PersistentVolume. Data on the volume is lost!", pass);
    return Status::Ok();
  }
  const api::PersistentVolume& pv = v->obj;
  if (!pv.spec.claimRef || IsVolumeBoundToClaim(pv, pvc)) {
    // Unbound volume or the binding is complete: (re)write whatever half is missing.
    StageBind(v, c, pass, c->key);
    return Status::Ok();
  }
  StageLost(c, "ClaimMisbound",
            "Two claims are bound to the same volume, this one is bound incorrectly", pass);
  return Status::Ok();
}

}  // namespace kvol::controller
