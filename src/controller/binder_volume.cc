// Binder: volume sync (Kubernetes' syncVolume) and reclaim (Retain / Delete / Recycle).
#include "kvol/controller/binder.h"

namespace kvol::controller {
namespace {
std::string Quote(const std::string& s) { return "\"" + s + "\""; }
}  // namespace

void Binder::StageVolumePhase(const PVItem& v, const std::string& phase, const std::string& message,
                              Pass& pass, const std::string& reason) {
  const auto& st = v->obj.status;
  const bool addFinalizer = !v->obj.metadata.deletionTimestamp &&
                            !jsonutil::HasFinalizer(v->raw, api::kFinalizerPVProtection);
  if (st.phase == phase && st.message == message && st.reason == reason && !addFinalizer) return;
  // The same edits on the JSON and on a copy of the typed object (assumed without a decode).
  store::json obj = v->raw;
  auto typed = std::make_shared<api::PersistentVolume>(v->obj);
  store::json& s = obj["status"];
  if (!s.is_object()) {
    s = store::json::object();
    typed->status = {};
  }
  if (st.phase != phase) {
    const api::Time now = opts_.now();
    s["lastPhaseTransitionTime"] = now;
    typed->status.lastPhaseTransitionTime = now;
  }
  s["phase"] = phase;
  typed->status.phase = phase;
  if (message.empty()) {
    s.erase("message");
  } else {
    s["message"] = message;
  }
  typed->status.message = message;
  if (reason.empty()) {
    s.erase("reason");
  } else {
    s["reason"] = reason;
  }
  typed->status.reason = reason;
  if (addFinalizer && jsonutil::EnsureFinalizer(obj, api::kFinalizerPVProtection)) {
    typed->metadata.finalizers.push_back(api::kFinalizerPVProtection);
  }
  std::function<void()> onOk;
  if (phase == "Released") onOk = [this, key = v->key] { queue_.Add(key); };  // reclaim next
  Write w{v->key, {store::Op::Update(v->key, std::move(obj), v->modRevision)}, std::move(onOk)};
  w.pvKey = v->key;
  w.pv = std::move(typed);
  pass.writes.push_back(std::move(w));
}

Status Binder::SyncVolume(const std::string& key, Pass& pass) {
  PVItem v = pvs_.Get(key);
  if (!v) return Status::Ok();  // deleted: the claim's sync marks it Lost
  const api::PersistentVolume& pv = v->obj;
  if (pass.reserved.count(pv.metadata.name)) return Status::Ok();
  if (!pv.spec.claimRef) {
    // [Unit test set 4] Unused volume.
    StageVolumePhase(v, "Available", "", pass);
    return Status::Ok();
  }
  if (pv.spec.claimRef->uid.empty()) {
    // Pre-bound by the user to a claim that is not bound yet: stays Available; the claim's
    // sync binds it (if the claim exists and fits).
    StageVolumePhase(v, "Available", "", pass);
    if (!ClaimRefKey(pv).empty()) queue_.Add(ClaimRefKey(pv));
    return Status::Ok();
  }
  PVCInformer::ItemPtr c = pvcs_.Get(ClaimRefKey(pv));
  if (c && c->obj.metadata.uid != pv.spec.claimRef->uid) c = nullptr;  // deleted and re-created
  if (!c) {
    // The claim is gone: Released, then reclaim.
    if (pv.status.phase != "Released" && pv.status.phase != "Failed") {
      StageVolumePhase(v, "Released", "", pass);
      return Status::Ok();  // the write re-queues the volume; reclaim runs on Released
    }
    return Reclaim(v, pass);
  }
  const api::PersistentVolumeClaim& pvc = c->obj;
  if (pvc.spec.volumeName.empty()) {
    if (VolumeModeMismatch(pvc, pv)) {
      events_.Event(v->raw, kEventWarning, "VolumeMismatch",
                    "Cannot bind PersistentVolume to requested PersistentVolumeClaim " +
                        Quote(pvc.metadata.name) + " due to incompatible volumeMode.");
      events_.Event(c->raw, kEventWarning, "VolumeMismatch",
                    "Cannot bind PersistentVolume " + Quote(pv.metadata.name) +
                        " to requested PersistentVolumeClaim due to incompatible volumeMode.");
      return Status::Ok();
    }
    queue_.Add(c->key);  // the claim's sync finishes the binding
    return Status::Ok();
  }
  if (pvc.spec.volumeName == pv.metadata.name) {
    StageVolumePhase(v, "Bound", "", pass);
    return Status::Ok();
  }
  // Bound to a claim that is bound elsewhere.
  if (HasAnn(pv.metadata, api::kAnnProvisionedBy) &&
      pv.spec.persistentVolumeReclaimPolicy == "Delete") {
    if (pv.status.phase != "Released" && pv.status.phase != "Failed") {
      StageVolumePhase(v, "Released", "", pass);
      return Status::Ok();
    }
    return Reclaim(v, pass);
  }
  if (HasAnn(pv.metadata, api::kAnnBoundByController)) {
    // We made this link for a claim that got another volume: undo it.
    store::json obj = v->raw;
    obj["spec"].erase("claimRef");
    jsonutil::Annotations(obj).erase(api::kAnnBoundByController);
    obj["status"]["phase"] = "Available";
    obj["status"]["lastPhaseTransitionTime"] = opts_.now();
    pass.writes.push_back(
        Write{v->key, {store::Op::Update(v->key, std::move(obj), v->modRevision)}, nullptr});
  }
  // Otherwise the user pre-bound it to a claim now bound elsewhere: leave it alone.
  return Status::Ok();
}

Status Binder::Reclaim(const PVItem& v, Pass& pass) {
  const api::PersistentVolume& pv = v->obj;
  const std::string& policy = pv.spec.persistentVolumeReclaimPolicy;
  if (policy == "Retain" || policy.empty()) return Status::Ok();  // kept for the admin

  driver::ControllerDriver* drv = nullptr;
  std::string volumeId;
  if (pv.spec.csi) {
    auto d = drivers_.find(pv.spec.csi->driver);
    if (d != drivers_.end()) drv = d->second;
    volumeId = pv.spec.csi->volumeHandle;
  }

  if (policy == "Recycle") {
    auto* rec = dynamic_cast<driver::Recycler*>(drv);
    if (!rec) {
      const std::string msg = "No recycler plugin found for the volume!";
      events_.Event(v->raw, kEventWarning, "VolumeFailedRecycle", msg);
      StageVolumePhase(v, "Failed", msg, pass);
      return Status::Ok();
    }
    Status s = rec->RecycleVolume(volumeId);
    if (!s.ok()) {
      const std::string msg = "Recycle failed: " + s.message();
      events_.Event(v->raw, kEventWarning, "VolumeFailedRecycle", msg);
      StageVolumePhase(v, "Failed", msg, pass);
      return s;
    }
    // Scrubbed: unbind (a user's pre-binding keeps the claim name) and make it Available.
    store::json obj = v->raw;
    if (HasAnn(pv.metadata, api::kAnnBoundByController)) {
      obj["spec"].erase("claimRef");
      jsonutil::Annotations(obj).erase(api::kAnnBoundByController);
    } else {
      obj["spec"]["claimRef"]["uid"] = "";
      obj["spec"]["claimRef"].erase("resourceVersion");
    }
    obj["status"] = {{"phase", "Available"}, {"lastPhaseTransitionTime", opts_.now()}};
    store::json forEvent = v->raw;
    pass.writes.push_back(Write{
        v->key, {store::Op::Update(v->key, std::move(obj), v->modRevision)}, [this, forEvent] {
          events_.Event(forEvent, kEventNormal, "VolumeRecycled", "Volume recycled");
        }});
    return Status::Ok();
  }

  if (policy == "Delete") {
    if (pv.metadata.deletionTimestamp) return Status::Ok();  // finalizers are being removed
    if (!drv) {
      auto prov = pv.metadata.annotations.find(api::kAnnProvisionedBy);
      if (prov != pv.metadata.annotations.end() && pv.spec.csi &&
          pv.spec.csi->driver == prov->second) {
        return Status::Ok();  // an external provisioner owns the deletion
      }
      const std::string msg = "error getting deleter volume plugin for volume " +
                              Quote(pv.metadata.name) + ": no deletable volume plugin matched";
      events_.Event(v->raw, kEventWarning, "VolumeFailedDelete", msg);
      StageVolumePhase(v, "Failed", msg, pass);
      return Status::Ok();
    }
    Status s = drv->DeleteVolume(volumeId);
    if (!s.ok()) {
      events_.Event(v->raw, kEventWarning, "VolumeFailedDelete", s.message());
      StageVolumePhase(v, "Failed", s.message(), pass);
      return s;  // retried with backoff
    }
    // The storage is gone: delete the object. pv-protection (if any) is lifted because the
    // volume is not Bound; one Update that drops it and sets deletionTimestamp deletes the object
    // (the Store's finalizer rule) or leaves it marked for other finalizers.
    store::json obj = v->raw;
    std::vector<store::Op> ops;
    if (jsonutil::RemoveFinalizer(obj, api::kFinalizerPVProtection)) {
      obj["metadata"]["deletionTimestamp"] = opts_.now();
      ops.push_back(store::Op::Update(v->key, std::move(obj), v->modRevision));
    } else {
      ops.push_back(store::Op::Delete(v->key, v->modRevision));
    }
    pass.writes.push_back(Write{v->key, std::move(ops), nullptr});
    return Status::Ok();
  }

  const std::string msg = "Volume has unrecognized PersistentVolumeReclaimPolicy";
  events_.Event(v->raw, kEventWarning, "VolumeUnknownReclaimPolicy", msg);
  StageVolumePhase(v, "Failed", msg, pass);
  return Status::Ok();
}

}  // namespace kvol::controller
