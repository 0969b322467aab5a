// Binder: dynamic provisioning (Kubernetes' provisionClaim, with the external-provisioner's
// CreateVolume flow done in process for kvol's own drivers).
#include "kvol/controller/binder.h"
#include "kvol/controller/topology.h"
#include "src/controller/binder_datasource.h"

namespace kvol::controller {
namespace {

constexpr const char* kFsTypeParam = "csi.storage.k8s.io/fstype";

std::string ExternalMsg(const std::string& provisioner) {
  return "Waiting for a volume to be created either by the external provisioner '" + provisioner +
         "' or manually by the system administrator. If volume creation is delayed, please "
         "verify that the provisioner is running and correctly registered.";
}

}  // namespace

Status Binder::Provision(const PVCItem& c, const std::string& cls, const std::string& nearMisses,
                         Pass& pass) {
  const api::PersistentVolumeClaim& pvc = c->obj;
  auto classItem = classes_.Get(store::KeyFor("storageclasses", "", cls));
  if (!classItem) {
    StagePending(c, "ProvisioningFailed", "storageclass.storage.k8s.io \"" + cls + "\" not found",
                 pass, kEventWarning);
    return Status::Ok();
  }
  const api::StorageClass& sc = classItem->obj;
  // Tell provisioners (kvol's or external) the claim is theirs.
  store::json claim = c->raw;
  auto& ann = jsonutil::Annotations(claim);
  if (ann.value(api::kAnnStorageProvisioner, "") != sc.provisioner) {
    ann[api::kAnnStorageProvisioner] = sc.provisioner;
  }
  if (ann.value(api::kAnnBetaStorageProvisioner, "") != sc.provisioner) {
    ann[api::kAnnBetaStorageProvisioner] = sc.provisioner;
  }

  auto d = drivers_.find(sc.provisioner);
  if (d == drivers_.end() || !d->second) {
    std::string msg = ExternalMsg(sc.provisioner);
    if (!nearMisses.empty()) msg += " Candidates: " + nearMisses;
    StagePending(c, "ExternalProvisioning", msg, pass, kEventNormal, &claim);
    return Status::Ok();
  }
  driver::ControllerDriver& drv = *d->second;

  const std::string pvName = "pvc-" + pvc.metadata.uid;
  {
    std::lock_guard<std::mutex> lk(indexMu_);
    if (index_.Get(pvName)) {
      // Provisioned earlier but it does not fit any more (e.g. the claim was edited).
      StagePending(c, "ProvisioningFailed",
                   "volume \"" + pvName + "\" was provisioned for this claim but does not match it",
                   pass, kEventWarning, &claim);
      return Status::Ok();
    }
  }
  // Where the volume must be reachable from: the selected node (WaitForFirstConsumer), else this
  // controller's node unless the class restricts the topology (then its allowedTopologies).
  std::string node = sc.allowedTopologies.empty() ? opts_.nodeName : "";
  if (DelayBinding(pvc)) {
    auto it = pvc.metadata.annotations.find(api::kAnnSelectedNode);
    if (it != pvc.metadata.annotations.end()) node = it->second;
  }
  NodeInfo nodeInfo{node, {}};
  if (auto n = nodes_.Get(store::KeyFor("nodes", "", node)); n && !node.empty()) {
    nodeInfo.labels = n->obj.metadata.labels;
  }
  if (!node.empty() && !AllowedTopologiesMatch(sc.allowedTopologies, nodeInfo)) {
    jsonutil::Annotations(claim).erase(api::kAnnSelectedNode);
    StagePending(c, "ProvisioningFailed",
                 "failed to provision volume with StorageClass \"" + cls + "\": node \"" + node +
                     "\" is outside the class's allowedTopologies",
                 pass, kEventWarning, &claim);
    return Status::Ok();
  }
  const api::Quantity request = ClaimRequest(pvc);
  driver::CreateVolumeRequest req;
  req.name = pvName;
  req.capacity.requiredBytes = request.Value();
  req.parameters = sc.parameters;
  req.accessModes = pvc.spec.accessModes;  // a driver refuses modes it cannot serve
  req.block = pvc.spec.volumeMode.value_or("") == api::kVolumeModeBlock;
  req.accessibility.requisite =
      ProvisionRequisite(node.empty() ? nullptr : &nodeInfo, sc.allowedTopologies);
  // Restore / clone: the claim's data source (binder_datasource.cc).
  DataSourceDecision source = ResolveDataSource(store_, pvcs_, pvs_, pvc, drv);
  if (source.wait) {
    StagePending(c, "ProvisioningFailed",
                 "failed to provision volume with StorageClass \"" + cls + "\": " + source.message,
                 pass, kEventWarning, &claim);
    return Unavailable(source.message);  // retried with backoff until the source is ready
  }
  req.contentSource = source.source;
  Result<driver::VolumeInfo> info = drv.CreateVolume(req);
  if (!info.ok()) {
    // Kubernetes drops selected-node so the scheduler picks again.
    jsonutil::Annotations(claim).erase(api::kAnnSelectedNode);
    StagePending(
        c, "ProvisioningFailed",
        "failed to provision volume with StorageClass \"" + cls + "\": " + info.status().message(),
        pass, kEventWarning, &claim);
    return info.status();
  }

  const api::Time now = opts_.now();
  store::json capacity = {
      {"storage", info->capacityBytes > 0 && info->capacityBytes != request.Value()
                      ? api::ToJson(api::Quantity::FromInt(info->capacityBytes))
                      : api::ToJson(request)}};
  store::json modes = c->raw["spec"].value("accessModes", store::json::array());
  store::json csi = {{"driver", drv.Name()}, {"volumeHandle", info->volumeId}};
  if (auto fs = sc.parameters.find(kFsTypeParam); fs != sc.parameters.end()) {
    csi["fsType"] = fs->second;
  }
  if (!info->volumeContext.empty()) csi["volumeAttributes"] = info->volumeContext;
  store::json spec = {
      {"capacity", capacity},
      {"csi", csi},
      {"accessModes", modes},
      {"claimRef",
       {{"kind", "PersistentVolumeClaim"},
        {"namespace", pvc.metadata.namespace_},
        {"name", pvc.metadata.name},
        {"uid", pvc.metadata.uid},
        {"apiVersion", "v1"},
        {"resourceVersion", pvc.metadata.resourceVersion}}},
      {"persistentVolumeReclaimPolicy", sc.reclaimPolicy.value_or("Delete")},
      {"storageClassName", cls},
      {"volumeMode", pvc.spec.volumeMode.value_or("Filesystem")},
  };
  if (!sc.mountOptions.empty()) spec["mountOptions"] = sc.mountOptions;
  if (!info->accessibleTopology.empty()) {
    store::json terms = store::json::array();
    for (const auto& topo : info->accessibleTopology) {
      store::json exprs = store::json::array();
      for (const auto& [k, val] : topo) {
        exprs.push_back({{"key", k}, {"operator", "In"}, {"values", {val}}});
      }
      terms.push_back({{"matchExpressions", exprs}});
    }
    spec["nodeAffinity"] = {{"required", {{"nodeSelectorTerms", terms}}}};
  }
  store::json pv = {
      {"apiVersion", "v1"},
      {"kind", "PersistentVolume"},
      {"metadata",
       {{"name", pvName},
        {"uid", opts_.newUID()},
        {"creationTimestamp", now},
        {"annotations",
         {{api::kAnnProvisionedBy, drv.Name()}, {api::kAnnBoundByController, "yes"}}},
        {"finalizers", {api::kFinalizerPVProtection}}}},
      {"spec", spec},
      {"status", {{"phase", "Bound"}, {"lastPhaseTransitionTime", now}}},
  };

  // The claim, bound to it in the same Txn.
  claim["spec"]["volumeName"] = pvName;
  auto& cann = jsonutil::Annotations(claim);
  cann[api::kAnnBindCompleted] = "yes";
  cann[api::kAnnBoundByController] = "yes";
  store::json& st = claim["status"];
  if (!st.is_object()) st = store::json::object();
  st["phase"] = "Bound";
  st["accessModes"] = modes;
  st["capacity"] = capacity;
  if (st.contains("conditions") && st["conditions"].is_array()) {
    store::json keep = store::json::array();
    for (auto& x : st["conditions"]) {
      if (!(x.is_object() && x.value("type", "") == kClaimConditionPending)) keep.push_back(x);
    }
    if (keep.empty()) {
      st.erase("conditions");
    } else {
      st["conditions"] = keep;
    }
  }
  if (!pvc.metadata.deletionTimestamp)
    jsonutil::EnsureFinalizer(claim, api::kFinalizerPVCProtection);

  pass.reserved.insert(pvName);
  store::json claimForEvent = c->raw;
  Write w;
  w.key = c->key;
  w.ops.push_back(store::Op::Create(store::KeyFor("persistentvolumes", "", pvName), std::move(pv)));
  w.ops.push_back(store::Op::Update(c->key, std::move(claim), c->modRevision));
  const std::string claimKey = c->key;
  w.onOk = [this, claimForEvent, pvName, claimKey] {
    {
      std::lock_guard<std::mutex> lk(uncommittedMu_);
      uncommitted_.erase(claimKey);
    }
    events_.Event(claimForEvent, kEventNormal, "ProvisioningSucceeded",
                  "Successfully provisioned volume " + pvName);
  };
  w.onFail = [this, claimKey, uid = pvc.metadata.uid, d = &drv, id = info->volumeId] {
    std::lock_guard<std::mutex> lk(uncommittedMu_);
    uncommitted_[claimKey] = Uncommitted{uid, d, id};
  };
  pass.writes.push_back(std::move(w));
  return Status::Ok();
}

void Binder::ForgetUncommitted(const std::string& claimKey, const std::string& claimUid) {
  Uncommitted u;
  {
    std::lock_guard<std::mutex> lk(uncommittedMu_);
    auto it = uncommitted_.find(claimKey);
    if (it == uncommitted_.end() || it->second.claimUid == claimUid) return;
    u = std::move(it->second);
    uncommitted_.erase(it);
  }
  // No PV names this volume (its Create op failed with the bind), so nothing else can own it.
  Status s = u.driver->DeleteVolume(u.volumeId);
  if (!s.ok()) {
    std::lock_guard<std::mutex> lk(uncommittedMu_);
    uncommitted_.emplace(claimKey, std::move(u));  // retried at the key's next sync
  }
}

}  // namespace kvol::controller
