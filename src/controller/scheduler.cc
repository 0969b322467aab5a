#include "kvol/controller/scheduler.h"

#include <algorithm>

#include "kvol/common/trace.h"
#include "kvol/controller/topology.h"

namespace kvol::controller {
namespace {

bool NodeReady(const api::Node& n) {
  for (const auto& c : n.status.conditions) {
    if (c.type == "Ready") return c.status == "True";
  }
  return false;
}

bool Tolerates(const std::vector<api::Toleration>& tolerations, const api::Taint& t) {
  for (const auto& tol : tolerations) {
    if (!tol.effect.empty() && tol.effect != t.effect) continue;
    if (tol.key.empty() && tol.operator_ == "Exists") return true;
    if (tol.key != t.key) continue;
    if (tol.operator_ == "Exists" || tol.value == t.value) return true;
  }
  return false;
}

// The first NoSchedule/NoExecute taint of the node the pod does not tolerate, as Kubernetes
// prints it ("{key: value}"); "" when none.
std::string UntoleratedTaint(const api::Pod& pod, const api::Node& node) {
  for (const auto& t : node.spec.taints) {
    if (t.effect != "NoSchedule" && t.effect != "NoExecute") continue;
    if (!Tolerates(pod.spec.tolerations, t)) return "{" + t.key + ": " + t.value + "}";
  }
  return "";
}

}  // namespace

Scheduler::Scheduler(store::Store& s, PodInformer& pods, NodeInformer& nodes, PVCInformer& pvcs,
                     PVInformer& pvs, ClassInformer& classes, EventRecorder& events)
    : store_(s),
      pods_(pods),
      nodes_(nodes),
      pvcs_(pvcs),
      pvs_(pvs),
      classes_(classes),
      events_(events) {}

void Scheduler::EnqueuePending() {
  std::vector<std::string> keys;
  {
    std::lock_guard<std::mutex> lk(mu_);
    keys.assign(pending_.begin(), pending_.end());
  }
  for (const auto& k : keys) queue_.Add(k);
}

void Scheduler::RegisterHandlers() {
  PodInformer::Handlers ph;
  auto track = [this](const PodInformer::ItemPtr& p) {
    bool want =
        p->obj.spec.nodeName.empty() && !PodFinished(p->obj) && !p->obj.metadata.deletionTimestamp;
    {
      std::lock_guard<std::mutex> lk(mu_);
      if (want) {
        pending_.insert(p->key);
      } else {
        pending_.erase(p->key);
      }
    }
    if (want) queue_.Add(p->key);
  };
  ph.onAdd = track;
  ph.onUpdate = [this, track](const PodInformer::ItemPtr& old, const PodInformer::ItemPtr& p) {
    track(p);
    // A pod that finished frees its ReadWriteOncePod claims for the pods waiting on them.
    if (PodFinished(p->obj) && !PodFinished(old->obj)) EnqueuePending();
  };
  ph.onDelete = [this](const PodInformer::ItemPtr& p) {
    {
      std::lock_guard<std::mutex> lk(mu_);
      pending_.erase(p->key);
    }
    EnqueuePending();
  };
  pods_.AddHandlers(std::move(ph));
  // Nodes, claims and volumes changing may make a pending pod schedulable.
  NodeInformer::Handlers nh;
  nh.onAdd = [this](const NodeInformer::ItemPtr&) { EnqueuePending(); };
  nh.onUpdate = [this](const NodeInformer::ItemPtr&, const NodeInformer::ItemPtr&) {
    EnqueuePending();
  };
  nodes_.AddHandlers(std::move(nh));
  PVCInformer::Handlers ch;
  ch.onAdd = [this](const PVCInformer::ItemPtr&) { EnqueuePending(); };
  ch.onUpdate = [this](const PVCInformer::ItemPtr&, const PVCInformer::ItemPtr&) {
    EnqueuePending();
  };
  pvcs_.AddHandlers(std::move(ch));
}

void Scheduler::EnqueueAll() { EnqueuePending(); }

Status Scheduler::MarkUnschedulable(const PodInformer::ItemPtr& pod, const std::string& message) {
  store::json obj = pod->raw;
  store::json& st = obj["status"];
  if (!st.is_object()) st = store::json::object();
  if (st.value("phase", "").empty()) st["phase"] = "Pending";
  store::json& cs = st["conditions"];
  if (!cs.is_array()) cs = store::json::array();
  store::json* cond = nullptr;
  for (auto& c : cs) {
    if (c.is_object() && c.value("type", "") == "PodScheduled") cond = &c;
  }
  const api::Time now = api::Now();
  bool changed = false;
  if (!cond) {
    cs.push_back({{"type", "PodScheduled"},
                  {"status", "False"},
                  {"lastProbeTime", nullptr},
                  {"lastTransitionTime", now},
                  {"reason", "Unschedulable"},
                  {"message", message}});
    changed = true;
  } else if (cond->value("status", "") != "False" || cond->value("message", "") != message) {
    (*cond)["status"] = "False";
    (*cond)["reason"] = "Unschedulable";
    (*cond)["message"] = message;
    (*cond)["lastTransitionTime"] = now;
    changed = true;
  }
  events_.Event(pod->raw, kEventWarning, "FailedScheduling", message);
  if (!changed) return Status::Ok();
  auto r = store_.Txn({store::Op::Update(pod->key, std::move(obj), pod->modRevision)});
  if (!r.ok()) return r.status();
  pods_.Assume(r->objects[0]);
  return Status::Ok();
}

Status Scheduler::MarkUnschedulableWaiting(const PodInformer::ItemPtr& pod,
                                           const std::vector<PVCInformer::ItemPtr>& waiting,
                                           const std::string& message) {
  // The claims waiting for this pod say why (Kubernetes' claim only says WaitForFirstConsumer;
  // kubernetes#88229): "waiting for pod p to be scheduled: 0/3 nodes are available: ...".
  for (const auto& c : waiting) {
    events_.Event(c->raw, kEventNormal, "WaitForPodScheduled",
                  "waiting for pod " + pod->obj.metadata.name + " to be scheduled: " + message);
  }
  return MarkUnschedulable(pod, message);
}

Status Scheduler::Sync(const std::string& podKey) {
  auto pod = pods_.Get(podKey);
  if (!pod) return Status::Ok();
  const api::Pod& p = pod->obj;
  if (!p.spec.nodeName.empty() || PodFinished(p) || p.metadata.deletionTimestamp)
    return Status::Ok();
  if (!p.spec.schedulerName.empty() && p.spec.schedulerName != "default-scheduler") {
    return Status::Ok();
  }
  auto nodeItems = nodes_.List();
  const std::string total = "0/" + std::to_string(nodeItems.size()) + " nodes are available: ";

  // Claims: pod-level checks first.
  std::vector<PVCInformer::ItemPtr> wffc;     // unbound WaitForFirstConsumer claims
  std::vector<PVInformer::ItemPtr> boundPVs;  // volumes of bound claims
  for (const auto& name : PodClaimNames(p)) {
    auto c = pvcs_.Get(store::KeyFor("persistentvolumeclaims", p.metadata.namespace_, name));
    if (!c)
      return MarkUnschedulable(pod, total + "persistentvolumeclaim \"" + name + "\" not found.");
    if (c->obj.metadata.deletionTimestamp) {
      return MarkUnschedulable(pod,
                               total + "persistentvolumeclaim \"" + name + "\" is being deleted.");
    }
    if (!c->obj.spec.volumeName.empty() && c->obj.status.phase == "Bound") {
      if (auto v = pvs_.Get(store::KeyFor("persistentvolumes", "", c->obj.spec.volumeName))) {
        boundPVs.push_back(v);
      }
      continue;
    }
    auto cls = classes_.Get(store::KeyFor("storageclasses", "", ClaimClass(c->obj)));
    if (cls && cls->obj.volumeBindingMode.value_or("Immediate") == "WaitForFirstConsumer") {
      wffc.push_back(c);
      continue;
    }
    return MarkUnschedulable(pod, total + "pod has unbound immediate PersistentVolumeClaims.");
  }

  // ReadWriteOncePod: one pod in the whole cluster (Kubernetes' VolumeRestrictions PreFilter).
  for (const auto& name : PodClaimNames(p)) {
    auto c = pvcs_.Get(store::KeyFor("persistentvolumeclaims", p.metadata.namespace_, name));
    const auto& modes = c->obj.spec.accessModes;
    if (std::find(modes.begin(), modes.end(), "ReadWriteOncePod") == modes.end()) continue;
    for (const auto& other : pods_.List()) {
      const api::Pod& o = other->obj;
      if (other->key == podKey || o.spec.nodeName.empty() || PodFinished(o) ||
          o.metadata.namespace_ != p.metadata.namespace_) {
        continue;
      }
      auto names = PodClaimNames(o);
      if (std::find(names.begin(), names.end(), name) == names.end()) continue;
      return MarkUnschedulableWaiting(
          pod, wffc,
          total + std::to_string(nodeItems.size()) +
              " node(s) unavailable: node has pod using PersistentVolumeClaim with the same "
              "name and ReadWriteOncePod access mode (claim \"" +
              name + "\" is used by pod \"" + o.metadata.name + "\" on node \"" + o.spec.nodeName +
              "\").");
    }
  }

  // Per-node filters.
  std::map<std::string, int> reasons;
  std::vector<std::string> feasible;
  for (const auto& n : nodeItems) {
    const api::Node& node = n->obj;
    NodeInfo info{node.metadata.name, node.metadata.labels};
    if (!NodeReady(node)) {
      reasons["node(s) were not ready"]++;
      continue;
    }
    if (node.spec.unschedulable) {
      reasons["node(s) were unschedulable"]++;
      continue;
    }
    if (std::string taint = UntoleratedTaint(p, node); !taint.empty()) {
      reasons["node(s) had untolerated taint " + taint]++;
      continue;
    }
    bool selectorOk = true;
    for (const auto& [k, v] : p.spec.nodeSelector) {
      auto it = info.labels.find(k);
      std::string have = it != info.labels.end()
                             ? it->second
                             : (k == "kubernetes.io/hostname" ? info.name : std::string("\x01"));
      if (have != v) selectorOk = false;
    }
    if (selectorOk && p.spec.affinity && p.spec.affinity->nodeAffinity &&
        p.spec.affinity->nodeAffinity->requiredDuringSchedulingIgnoredDuringExecution) {
      selectorOk = NodeSelectorMatches(
          *p.spec.affinity->nodeAffinity->requiredDuringSchedulingIgnoredDuringExecution, info);
    }
    if (!selectorOk) {
      reasons["node(s) didn't match Pod's node affinity/selector"]++;
      continue;
    }
    bool volumesOk = true;
    for (const auto& v : boundPVs) {
      if (!VolumeNodeAffinityMatches(v->obj, info)) volumesOk = false;
    }
    if (!volumesOk) {
      reasons["node(s) had volume node affinity conflict"]++;
      continue;
    }
    // Claims still to be provisioned: the class's allowedTopologies must admit the node.
    bool topologyOk = true;
    for (const auto& c : wffc) {
      auto cls = classes_.Get(store::KeyFor("storageclasses", "", ClaimClass(c->obj)));
      if (cls && !AllowedTopologiesMatch(cls->obj.allowedTopologies, info)) topologyOk = false;
    }
    if (!topologyOk) {
      reasons["node(s) didn't find available persistent volumes to bind"]++;
      continue;
    }
    feasible.push_back(node.metadata.name);
  }
  if (feasible.empty()) {
    std::string msg = total;
    if (nodeItems.empty()) {
      msg += "no nodes registered.";
    } else {
      bool first = true;
      for (const auto& [r, count] : reasons) {
        msg += (first ? "" : ", ") + std::to_string(count) + " " + r;
        first = false;
      }
      msg += ".";
    }
    return MarkUnschedulableWaiting(pod, wffc, msg);
  }
  // Fewest pods wins.
  std::map<std::string, int> load;
  for (const auto& other : pods_.List()) {
    if (!other->obj.spec.nodeName.empty() && !PodFinished(other->obj))
      load[other->obj.spec.nodeName]++;
  }
  std::string chosen = feasible[0];
  for (const auto& n : feasible) {
    if (load[n] < load[chosen]) chosen = n;
  }
  // WaitForFirstConsumer claims: select the node, then wait for them to bind.
  if (!wffc.empty()) {
    std::vector<store::Op> ops;
    for (const auto& c : wffc) {
      auto it = c->obj.metadata.annotations.find(api::kAnnSelectedNode);
      if (it != c->obj.metadata.annotations.end() && !it->second.empty()) continue;
      store::json obj = c->raw;
      jsonutil::Annotations(obj)[api::kAnnSelectedNode] = chosen;
      ops.push_back(store::Op::Update(c->key, std::move(obj), c->modRevision));
    }
    if (!ops.empty()) {
      auto r = store_.Txn(std::move(ops));
      if (!r.ok()) return r.status();
      for (auto& o : r->objects) pvcs_.Assume(o);
    }
    return Status::Ok();  // re-queued when the claims change
  }
  // Bind.
  store::json obj = pod->raw;
  obj["spec"]["nodeName"] = chosen;
  store::json& st = obj["status"];
  if (!st.is_object()) st = store::json::object();
  if (st.value("phase", "").empty()) st["phase"] = "Pending";
  store::json cs = store::json::array();
  if (st.contains("conditions") && st["conditions"].is_array()) {
    for (auto& c : st["conditions"]) {
      if (!(c.is_object() && c.value("type", "") == "PodScheduled")) cs.push_back(c);
    }
  }
  cs.push_back({{"type", "PodScheduled"},
                {"status", "True"},
                {"lastProbeTime", nullptr},
                {"lastTransitionTime", api::Now()}});
  st["conditions"] = cs;
  auto r = store_.Txn({store::Op::Update(pod->key, std::move(obj), pod->modRevision)});
  if (!r.ok()) return r.status();
  pods_.Assume(r->objects[0]);
  NodeTrace(p.metadata.uid, "scheduled");
  events_.Event(
      pod->raw, kEventNormal, "Scheduled",
      "Successfully assigned " + p.metadata.namespace_ + "/" + p.metadata.name + " to " + chosen);
  return Status::Ok();
}

void Scheduler::Run() {
  RunWorker(
      queue_, [this](const std::string& k) { return Sync(k); }, [this] { events_.Flush(); });
}

}  // namespace kvol::controller
