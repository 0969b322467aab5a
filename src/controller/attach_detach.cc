#include "kvol/controller/attach_detach.h"

#include <algorithm>

#include "kvol/api/attachment.h"

namespace kvol::controller {
namespace {

constexpr const char* kPvKey = "pv:";
constexpr const char* kNodeKey = "node:";

bool HasTaint(const api::Node& n, const std::string& key) {
  return std::any_of(n.spec.taints.begin(), n.spec.taints.end(),
                     [&](const api::Taint& t) { return t.key == key; });
}

}  // namespace

AttachDetachController::AttachDetachController(store::Store& s, PodInformer& pods,
                                               NodeInformer& nodes, PVCInformer& pvcs,
                                               PVInformer& pvs, VolumeAttachmentInformer& vas,
                                               CSIDriverInformer& csiDrivers, EventRecorder& events)
    : store_(s),
      pods_(pods),
      nodes_(nodes),
      pvcs_(pvcs),
      pvs_(pvs),
      vas_(vas),
      csiDrivers_(csiDrivers),
      events_(events) {}

void AttachDetachController::EnqueuePodVolumes(const api::Pod& pod) {
  if (pod.spec.nodeName.empty()) return;
  for (const auto& claim : PodClaimNames(pod)) {
    auto c = pvcs_.Get(store::KeyFor("persistentvolumeclaims", pod.metadata.namespace_, claim));
    if (c && !c->obj.spec.volumeName.empty()) queue_.Add(kPvKey + c->obj.spec.volumeName);
  }
}

void AttachDetachController::IndexPod(const api::Pod& pod, const std::string& key, bool add) {
  std::lock_guard<std::mutex> lk(mu_);
  for (const auto& claim : PodClaimNames(pod)) {
    const std::string ck = store::KeyFor("persistentvolumeclaims", pod.metadata.namespace_, claim);
    if (add) {
      podsByClaim_[ck].insert(key);
    } else if (auto it = podsByClaim_.find(ck); it != podsByClaim_.end()) {
      it->second.erase(key);
      if (it->second.empty()) podsByClaim_.erase(it);
    }
  }
}

void AttachDetachController::IndexAttachment(const api::VolumeAttachment& a, const std::string& key,
                                             bool add) {
  std::lock_guard<std::mutex> lk(mu_);
  for (auto* index : {&vasByPv_, &vasByNode_}) {
    const std::string k =
        index == &vasByPv_ ? a.spec.source.persistentVolumeName.value_or("") : a.spec.nodeName;
    if (add) {
      (*index)[k].insert(key);
    } else if (auto it = index->find(k); it != index->end()) {
      it->second.erase(key);
      if (it->second.empty()) index->erase(it);
    }
  }
}

std::vector<std::string> AttachDetachController::Lookup(
    const std::map<std::string, std::set<std::string>>& index, const std::string& k) {
  std::lock_guard<std::mutex> lk(mu_);
  auto it = index.find(k);
  if (it == index.end()) return {};
  return {it->second.begin(), it->second.end()};
}

void AttachDetachController::RegisterHandlers() {
  PodInformer::Handlers ph;
  ph.onAdd = [this](const PodInformer::ItemPtr& p) {
    IndexPod(p->obj, p->key, true);
    EnqueuePodVolumes(p->obj);
  };
  ph.onUpdate = [this](const PodInformer::ItemPtr& o, const PodInformer::ItemPtr& p) {
    IndexPod(o->obj, o->key, false);
    IndexPod(p->obj, p->key, true);
    EnqueuePodVolumes(o->obj);
    EnqueuePodVolumes(p->obj);
  };
  ph.onDelete = [this](const PodInformer::ItemPtr& p) {
    IndexPod(p->obj, p->key, false);
    EnqueuePodVolumes(p->obj);
  };
  pods_.AddHandlers(std::move(ph));

  PVCInformer::Handlers ch;
  auto claim = [this](const PVCInformer::ItemPtr& c) {
    if (!c->obj.spec.volumeName.empty()) queue_.Add(kPvKey + c->obj.spec.volumeName);
  };
  ch.onAdd = claim;
  ch.onUpdate = [claim](const PVCInformer::ItemPtr&, const PVCInformer::ItemPtr& c) { claim(c); };
  pvcs_.AddHandlers(std::move(ch));

  PVInformer::Handlers vh;
  vh.onAdd = [this](const PVInformer::ItemPtr& v) { queue_.Add(kPvKey + v->obj.metadata.name); };
  vh.onUpdate = [this](const PVInformer::ItemPtr&, const PVInformer::ItemPtr& v) {
    queue_.Add(kPvKey + v->obj.metadata.name);
  };
  vh.onDelete = [this](const PVInformer::ItemPtr& v) { queue_.Add(kPvKey + v->obj.metadata.name); };
  pvs_.AddHandlers(std::move(vh));

  VolumeAttachmentInformer::Handlers ah;
  auto va = [this](const VolumeAttachmentInformer::ItemPtr& a) {
    if (a->obj.spec.source.persistentVolumeName) {
      queue_.Add(kPvKey + *a->obj.spec.source.persistentVolumeName);
    }
    queue_.Add(kNodeKey + a->obj.spec.nodeName);
  };
  ah.onAdd = [this, va](const VolumeAttachmentInformer::ItemPtr& a) {
    IndexAttachment(a->obj, a->key, true);
    va(a);
  };
  ah.onUpdate = [this, va](const VolumeAttachmentInformer::ItemPtr& o,
                           const VolumeAttachmentInformer::ItemPtr& a) {
    IndexAttachment(o->obj, o->key, false);
    IndexAttachment(a->obj, a->key, true);
    va(a);
  };
  ah.onDelete = [this, va](const VolumeAttachmentInformer::ItemPtr& a) {
    IndexAttachment(a->obj, a->key, false);
    va(a);
  };
  vas_.AddHandlers(std::move(ah));

  // A node's volumesInUse or taints changing may allow a detach; a new node needs its list.
  NodeInformer::Handlers nh;
  auto node = [this](const NodeInformer::ItemPtr& n) {
    const std::string& name = n->obj.metadata.name;
    queue_.Add(kNodeKey + name);
    for (const auto& key : Lookup(vasByNode_, name)) {
      auto a = vas_.Get(key);
      if (a && a->obj.spec.source.persistentVolumeName) {
        queue_.Add(kPvKey + *a->obj.spec.source.persistentVolumeName);
      }
    }
  };
  nh.onAdd = node;
  nh.onUpdate = [node](const NodeInformer::ItemPtr&, const NodeInformer::ItemPtr& n) { node(n); };
  nh.onDelete = node;
  nodes_.AddHandlers(std::move(nh));

  CSIDriverInformer::Handlers dh;
  dh.onAdd = [this](const CSIDriverInformer::ItemPtr&) { EnqueueAll(); };
  dh.onUpdate = [this](const CSIDriverInformer::ItemPtr&, const CSIDriverInformer::ItemPtr&) {
    EnqueueAll();
  };
  csiDrivers_.AddHandlers(std::move(dh));
}

void AttachDetachController::EnqueueAll() {
  for (const auto& v : pvs_.List()) queue_.Add(kPvKey + v->obj.metadata.name);
  for (const auto& a : vas_.List()) {
    if (a->obj.spec.source.persistentVolumeName) {
      queue_.Add(kPvKey + *a->obj.spec.source.persistentVolumeName);
    }
  }
  for (const auto& n : nodes_.List()) queue_.Add(kNodeKey + n->obj.metadata.name);
}

bool AttachDetachController::NodeOutOfService(const std::string& nodeName) {
  auto n = nodes_.Get(store::KeyFor("nodes", "", nodeName));
  return n && HasTaint(n->obj, kOutOfServiceTaint);
}

Status AttachDetachController::Sync(const std::string& key) {
  if (key.rfind(kPvKey, 0) == 0) return SyncVolume(key.substr(std::string(kPvKey).size()));
  if (key.rfind(kNodeKey, 0) == 0) return SyncNode(key.substr(std::string(kNodeKey).size()));
  return Status::Ok();
}

Status AttachDetachController::SyncVolume(const std::string& pvName) {
  // The attachments of this volume, by node.
  std::map<std::string, VolumeAttachmentInformer::ItemPtr> attached;
  for (const auto& key : Lookup(vasByPv_, pvName)) {
    auto a = vas_.Get(key);
    if (a && a->obj.spec.source.persistentVolumeName.value_or("") == pvName) {
      attached[a->obj.spec.nodeName] = a;
    }
  }
  auto pv = pvs_.Get(store::KeyFor("persistentvolumes", "", pvName));
  bool managed = false;
  std::string driver, handle;
  if (pv && pv->obj.spec.csi) {
    driver = pv->obj.spec.csi->driver;
    handle = pv->obj.spec.csi->volumeHandle;
    std::optional<api::CSIDriver> d;
    if (auto item = csiDrivers_.Get(store::KeyFor("csidrivers", "", driver))) d = item->obj;
    managed = api::AttachRequired(driver, d);
  }

  // Desired: node -> the pods there that use the volume.
  std::map<std::string, std::vector<PodInformer::ItemPtr>> desired;
  if (managed) {
    for (const auto& podKey : Lookup(podsByClaim_, ClaimRefKey(pv->obj))) {
      auto item = pods_.Get(podKey);
      if (!item) continue;
      const api::Pod& p = item->obj;
      if (p.spec.nodeName.empty() || PodFinished(p)) continue;
      if (p.metadata.deletionTimestamp && NodeOutOfService(p.spec.nodeName)) continue;
      desired[p.spec.nodeName].push_back(item);
    }
  }

  // Detach what is no longer needed, once it is safe.
  const std::string unique = api::UniqueVolumeName(driver, handle);
  for (auto it = attached.begin(); it != attached.end();) {
    const std::string& node = it->first;
    if (desired.count(node) != 0) {
      ++it;
      continue;
    }
    auto n = nodes_.Get(store::KeyFor("nodes", "", node));
    bool inUse = false;
    if (n && pv && !HasTaint(n->obj, kOutOfServiceTaint)) {
      const auto& use = n->obj.status.volumesInUse;
      inUse = std::find(use.begin(), use.end(), unique) != use.end();
    }
    if (inUse) {
      ++it;  // the node still has it mounted: wait for its next status
      continue;
    }
    auto r = store_.Txn({store::Op::Delete(it->second->key, it->second->modRevision)});
    if (!r.ok()) return r.status();
    vas_.AssumeDeleted(r->objects[0]);
    queue_.Add(kNodeKey + node);
    it = attached.erase(it);
  }
  if (!managed) return Status::Ok();

  const bool multi = api::MultiAttachAllowed(pv->obj.spec.accessModes);
  for (const auto& [node, podsThere] : desired) {
    if (attached.count(node) != 0) continue;
    std::string elsewhere;
    for (const auto& [other, a] : attached) {
      if (other != node) elsewhere = other;
    }
    if (!multi && !elsewhere.empty()) {
      for (const auto& p : podsThere) {
        events_.Event(p->raw, kEventWarning, "FailedAttachVolume",
                      "Multi-Attach error for volume \"" + pvName +
                          "\" Volume is already exclusively attached to one node and can't be "
                          "attached to another (attached to node \"" +
                          elsewhere +
                          "\"; it moves once no pod there uses it and the node has unmounted "
                          "it, or the node is tainted " +
                          kOutOfServiceTaint + ")");
      }
      continue;
    }
    const std::string name = api::VolumeAttachmentName(handle, driver, node);
    store::json obj = {
        {"apiVersion", "storage.k8s.io/v1"},
        {"kind", "VolumeAttachment"},
        {"metadata",
         {{"name", name}, {"uid", jsonutil::NewUID()}, {"creationTimestamp", api::Now()}}},
        {"spec",
         {{"attacher", driver},
          {"nodeName", node},
          {"source", {{"persistentVolumeName", pvName}}}}},
        {"status", {{"attached", true}}},
    };
    auto r = store_.Txn({store::Op::Create(store::KeyFor("volumeattachments", "", name), obj)});
    if (!r.ok()) {
      if (r.status().code() == Code::kAlreadyExists) continue;  // the watch brings it
      return r.status();
    }
    vas_.Assume(r->objects[0]);
    attached[node] = vas_.Get(store::KeyFor("volumeattachments", "", name));
    queue_.Add(kNodeKey + node);
    for (const auto& p : podsThere) {
      events_.Event(p->raw, kEventNormal, "SuccessfulAttachVolume",
                    "AttachVolume.Attach succeeded for volume \"" + pvName + "\"");
    }
  }
  return Status::Ok();
}

Status AttachDetachController::SyncNode(const std::string& nodeName) {
  auto n = nodes_.Get(store::KeyFor("nodes", "", nodeName));
  if (!n) return Status::Ok();
  store::json want = store::json::array();
  std::vector<std::pair<std::string, std::string>> rows;
  for (const auto& key : Lookup(vasByNode_, nodeName)) {
    auto a = vas_.Get(key);
    if (!a || a->obj.spec.nodeName != nodeName || !a->obj.status.attached) continue;
    auto pv = pvs_.Get(store::KeyFor("persistentvolumes", "",
                                     a->obj.spec.source.persistentVolumeName.value_or("")));
    std::string handle = pv && pv->obj.spec.csi ? pv->obj.spec.csi->volumeHandle : "";
    rows.emplace_back(api::UniqueVolumeName(a->obj.spec.attacher, handle), "");
  }
  std::sort(rows.begin(), rows.end());
  for (const auto& [name, dev] : rows) want.push_back({{"name", name}, {"devicePath", dev}});
  store::json obj = n->raw;
  store::json& st = obj["status"];
  if (!st.is_object()) st = store::json::object();
  store::json have = st.value("volumesAttached", store::json::array());
  if (have == want) return Status::Ok();
  if (want.empty()) {
    st.erase("volumesAttached");
  } else {
    st["volumesAttached"] = want;
  }
  auto r = store_.Txn({store::Op::Update(n->key, std::move(obj), n->modRevision)});
  if (!r.ok()) return r.status();  // a conflict with the node's own status write: retried
  nodes_.Assume(r->objects[0]);
  return Status::Ok();
}

void AttachDetachController::Run() {
  RunWorker(
      queue_, [this](const std::string& k) { return Sync(k); }, [this] { events_.Flush(); });
}

}  // namespace kvol::controller
