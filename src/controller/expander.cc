#include "kvol/controller/expander.h"

namespace kvol::controller {
namespace {

constexpr const char* kNotExpandable =
    "only dynamically provisioned pvc can be resized and the storageclass that provisions the "
    "pvc must support resize";

bool HasCondition(const api::PersistentVolumeClaim& c, const std::string& type) {
  for (const auto& cond : c.status.conditions) {
    if (cond.type == type) return true;
  }
  return false;
}

void RemoveCondition(store::json& obj, const std::string& type) {
  if (!obj.contains("status") || !obj["status"].contains("conditions")) return;
  store::json& conds = obj["status"]["conditions"];
  if (!conds.is_array()) return;
  store::json kept = store::json::array();
  for (const auto& c : conds) {
    if (!c.is_object() || c.value("type", "") != type) kept.push_back(c);
  }
  if (kept.empty()) {
    obj["status"].erase("conditions");
  } else {
    conds = std::move(kept);
  }
}

void SetCondition(store::json& obj, const std::string& type, const std::string& message,
                  const api::Time& now) {
  RemoveCondition(obj, type);
  store::json c = {
      {"type", type}, {"status", "True"}, {"lastProbeTime", nullptr}, {"lastTransitionTime", now}};
  if (!message.empty()) c["message"] = message;
  obj["status"]["conditions"].push_back(std::move(c));
}

std::optional<api::Quantity> Storage(const api::ResourceList& l) {
  auto it = l.find("storage");
  if (it == l.end()) return std::nullopt;
  return it->second;
}

}  // namespace

ExpandController::ExpandController(store::Store& s, PVInformer& pvs, PVCInformer& pvcs,
                                   ClassInformer& classes, EventRecorder& events,
                                   std::map<std::string, driver::ControllerDriver*> drivers,
                                   ExpandOptions opts)
    : store_(s),
      pvs_(pvs),
      pvcs_(pvcs),
      classes_(classes),
      events_(events),
      drivers_(std::move(drivers)),
      opts_(std::move(opts)) {
  if (!opts_.now) opts_.now = [] { return api::Now(); };
}

void ExpandController::RegisterHandlers() {
  PVCInformer::Handlers ch;
  ch.onAdd = [this](const PVCInformer::ItemPtr& c) { queue_.Add(c->key); };
  ch.onUpdate = [this](const PVCInformer::ItemPtr&, const PVCInformer::ItemPtr& c) {
    queue_.Add(c->key);
  };
  pvcs_.AddHandlers(std::move(ch));
  auto pvChanged = [this](const PVInformer::ItemPtr& v) {
    const auto& ref = v->obj.spec.claimRef;
    if (ref && !ref->name.empty()) {
      queue_.Add(store::KeyFor("persistentvolumeclaims", ref->namespace_, ref->name));
    }
  };
  PVInformer::Handlers vh;
  vh.onAdd = pvChanged;
  vh.onUpdate = [pvChanged](const PVInformer::ItemPtr&, const PVInformer::ItemPtr& v) {
    pvChanged(v);
  };
  pvs_.AddHandlers(std::move(vh));
  ClassInformer::Handlers sh;
  sh.onAdd = [this](const ClassInformer::ItemPtr& s) {
    EnqueueClaimsOfClass(s->obj.metadata.name);
  };
  sh.onUpdate = [this](const ClassInformer::ItemPtr&, const ClassInformer::ItemPtr& s) {
    EnqueueClaimsOfClass(s->obj.metadata.name);
  };
  classes_.AddHandlers(std::move(sh));
}

void ExpandController::EnqueueClaimsOfClass(const std::string& className) {
  for (const auto& c : pvcs_.List()) {
    if (c->obj.spec.storageClassName.value_or("") == className) queue_.Add(c->key);
  }
}

void ExpandController::EnqueueAll() {
  for (const auto& c : pvcs_.List()) queue_.Add(c->key);
}

Status ExpandController::Sync(const std::string& key) {
  auto c = pvcs_.Get(key);
  if (!c) return Status::Ok();
  const api::PersistentVolumeClaim& claim = c->obj;
  if (claim.metadata.deletionTimestamp || claim.status.phase != "Bound") return Status::Ok();
  auto request = Storage(claim.spec.resources.requests);
  auto capacity = Storage(claim.status.capacity);
  if (!request || !capacity || *request <= *capacity) return Status::Ok();
  auto allocated = Storage(claim.status.allocatedResources);
  if (HasCondition(claim, kClaimConditionFileSystemResizePending) && allocated &&
      *allocated >= *request) {
    return Status::Ok();  // the controller part is done; the node finishes it
  }

  const std::string className = claim.spec.storageClassName.value_or("");
  auto cls =
      className.empty() ? nullptr : classes_.Get(store::KeyFor("storageclasses", "", className));
  if (!cls || !cls->obj.allowVolumeExpansion.value_or(false)) {
    const std::string once = claim.metadata.uid + "/" + request->ToString();
    {
      std::lock_guard<std::mutex> lk(mu_);
      if (!refused_.insert(once).second) return Status::Ok();
    }
    events_.Event(c->raw, kEventWarning, "VolumeResizeFailed", kNotExpandable);
    return Status::Ok();
  }
  auto pv = pvs_.Get(store::KeyFor("persistentvolumes", "", claim.spec.volumeName));
  if (!pv || !pv->obj.spec.csi) return Status::Ok();  // re-queued when the PV shows up
  auto drv = drivers_.find(pv->obj.spec.csi->driver);
  if (drv == drivers_.end() || drv->second == nullptr) return Status::Ok();  // not ours
  const std::string& pvName = pv->obj.metadata.name;
  const std::string& handle = pv->obj.spec.csi->volumeHandle;

  // 1. Resizing + allocatedResources.
  PVCInformer::ItemPtr cur = c;
  if (!HasCondition(claim, kClaimConditionResizing) || !allocated || *allocated != *request) {
    store::json obj = c->raw;
    SetCondition(obj, kClaimConditionResizing, "", opts_.now());
    obj["status"]["allocatedResources"]["storage"] = request->ToString();
    auto r = store_.Txn({store::Op::Update(key, std::move(obj), c->modRevision)});
    if (!r.ok()) return r.status();
    pvcs_.Assume(r->objects[0]);
    cur = PVCInformer::MakeItem(r->objects[0]);
    events_.Event(cur->raw, kEventNormal, "Resizing",
                  "External resizer is resizing volume " + pvName);
  }

  // 2. The driver (skipped when the PV already covers the request).
  api::Quantity newSize = *request;
  bool nodeExpansion = false;
  auto pvCap = Storage(pv->obj.spec.capacity);
  if (!pvCap || *pvCap < *request) {
    driver::CapacityRange range;
    range.requiredBytes = request->Value();
    auto got = drv->second->ControllerExpandVolume(handle, range);
    if (!got.ok()) {
      events_.Event(cur->raw, kEventWarning, "VolumeResizeFailed",
                    "resize volume " + pvName + " failed: " + got.status().message());
      return got.status();
    }
    if (*got > request->Value()) newSize = api::Quantity::FromInt(*got);
    if (auto* ner = dynamic_cast<NodeExpansionReporter*>(drv->second)) {
      nodeExpansion = ner->NodeExpansionRequired(handle);
    }
  } else {
    newSize = *pvCap;
  }

  // 3. PV capacity and claim status in one Txn.
  store::json pvObj = pv->raw;
  pvObj["spec"]["capacity"]["storage"] = newSize.ToString();
  store::json claimObj = cur->raw;
  RemoveCondition(claimObj, kClaimConditionResizing);
  if (nodeExpansion) {
    SetCondition(claimObj, kClaimConditionFileSystemResizePending,
                 "Waiting for user to (re-)start a pod to finish file system resize of volume on "
                 "node.",
                 opts_.now());
  } else {
    RemoveCondition(claimObj, kClaimConditionFileSystemResizePending);
    claimObj["status"]["capacity"]["storage"] = newSize.ToString();
  }
  auto r = store_.Txn({store::Op::Update(pv->key, std::move(pvObj), pv->modRevision),
                       store::Op::Update(key, std::move(claimObj), cur->modRevision)});
  if (!r.ok()) return r.status();
  pvs_.Assume(r->objects[0]);
  pvcs_.Assume(r->objects[1]);
  if (nodeExpansion) {
    events_.Event(r->objects[1].value, kEventNormal, "FileSystemResizeRequired",
                  "Require file system resize of volume on node");
  } else {
    events_.Event(r->objects[1].value, kEventNormal, "VolumeResizeSuccessful",
                  "resize volume " + pvName + " succeeded");
  }
  return Status::Ok();
}

void ExpandController::ProcessKey(const std::string& key) {
  ProcessWorkKey(queue_, key, [this](const std::string& k) { return Sync(k); });
}

void ExpandController::Run() {
  RunWorker(queue_, [this](const std::string& k) { return Sync(k); });
}

}  // namespace kvol::controller
