#include "kvol/controller/node_lifecycle.h"

#include <algorithm>
#include <ctime>

#include "kvol/api/rfc3339.h"
#include "kvol/controller/attach_detach.h"

namespace kvol::controller {
namespace {

constexpr const char* kUnknownReason = "NodeStatusUnknown";
constexpr const char* kUnknownMessage = "Kubelet stopped posting node status.";

int64_t NowNanos() {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

bool HasTaint(const store::json& node, const std::string& key) {
  const store::json* spec = node.contains("spec") ? &node["spec"] : nullptr;
  if (spec == nullptr || !spec->contains("taints") || !(*spec)["taints"].is_array()) return false;
  for (const auto& t : (*spec)["taints"]) {
    if (t.is_object() && t.value("key", "") == key) return true;
  }
  return false;
}

}  // namespace

NodeLifecycleController::NodeLifecycleController(store::Store& s, NodeInformer& nodes,
                                                 PodInformer& pods, EventRecorder& events,
                                                 NodeLifecycleOptions opts)
    : store_(s), nodes_(nodes), pods_(pods), events_(events), opts_(std::move(opts)) {
  if (!opts_.now) opts_.now = [] { return api::Now(); };
}

void NodeLifecycleController::RegisterHandlers() {
  NodeInformer::Handlers nh;
  nh.onAdd = [this](const NodeInformer::ItemPtr& n) { queue_.Add(n->key); };
  nh.onUpdate = [this](const NodeInformer::ItemPtr&, const NodeInformer::ItemPtr& n) {
    queue_.Add(n->key);
  };
  nodes_.AddHandlers(std::move(nh));
  // A pod landing on an out-of-service node (e.g. bound by hand) goes too.
  PodInformer::Handlers ph;
  ph.onAdd = [this](const PodInformer::ItemPtr& p) {
    if (!p->obj.spec.nodeName.empty()) {
      queue_.Add(store::KeyFor("nodes", "", p->obj.spec.nodeName));
    }
  };
  pods_.AddHandlers(std::move(ph));
}

void NodeLifecycleController::EnqueueAll() {
  for (const auto& k : nodes_.Keys()) queue_.Add(k);
}

Status NodeLifecycleController::Sync(const std::string& nodeKey) {
  auto n = nodes_.Get(nodeKey);
  if (!n) return Status::Ok();
  store::json obj = n->raw;
  store::json& st = obj["status"];
  if (!st.is_object() || !st.contains("conditions") || !st["conditions"].is_array()) {
    return Status::Ok();  // never posted a status: nothing to judge yet
  }
  store::json* ready = nullptr;
  for (auto& c : st["conditions"]) {
    if (c.is_object() && c.value("type", "") == "Ready") ready = &c;
  }
  if (ready == nullptr) return Status::Ok();
  bool changed = false;
  const std::string readyStatus = ready->value("status", "");
  auto hb = api::ParseRfc3339Nanos(ready->value("lastHeartbeatTime", ""));
  const bool stale =
      hb.has_value() && NowNanos() - *hb > int64_t{opts_.gracePeriod.count()} * 1000000;
  bool isReady = readyStatus == "True";
  if (stale && readyStatus != "Unknown") {
    const api::Time now = opts_.now();
    for (auto& c : st["conditions"]) {
      if (!c.is_object() || c.value("status", "") == "Unknown") continue;
      c["status"] = "Unknown";
      c["reason"] = kUnknownReason;
      c["message"] = kUnknownMessage;
      c["lastTransitionTime"] = now;
    }
    isReady = false;
    changed = true;
  }
  // The unreachable taint follows the Ready condition.
  store::json& spec = obj["spec"];
  if (!spec.is_object()) spec = store::json::object();
  const bool unreachable = (*ready).value("status", "") == "Unknown";
  const bool tainted = HasTaint(obj, kUnreachableTaint);
  if (unreachable && !tainted) {
    if (!spec.contains("taints") || !spec["taints"].is_array())
      spec["taints"] = store::json::array();
    spec["taints"].push_back(
        {{"key", kUnreachableTaint}, {"effect", "NoSchedule"}, {"timeAdded", opts_.now()}});
    changed = true;
  } else if (!unreachable && tainted) {
    store::json kept = store::json::array();
    for (const auto& t : spec["taints"]) {
      if (!(t.is_object() && t.value("key", "") == kUnreachableTaint)) kept.push_back(t);
    }
    if (kept.empty()) {
      spec.erase("taints");
    } else {
      spec["taints"] = kept;
    }
    changed = true;
  }
  if (changed) {
    auto r = store_.Txn({store::Op::Update(n->key, obj, n->modRevision)});
    if (!r.ok()) return r.status();  // the agent wrote meanwhile: judged again on its event
    nodes_.Assume(r->objects[0]);
    if (stale && unreachable) {
      events_.Event(obj, kEventNormal, "NodeNotReady",
                    "Node " + n->obj.metadata.name + " status is now: NodeNotReady");
    }
  }
  if (!isReady && HasTaint(obj, kOutOfServiceTaint)) return DeletePodsOf(n->obj.metadata.name);
  return Status::Ok();
}

Status NodeLifecycleController::DeletePodsOf(const std::string& nodeName) {
  for (const auto& p : pods_.List()) {
    if (p->obj.spec.nodeName != nodeName) continue;
    auto r = store_.Txn({store::Op::Delete(p->key, p->modRevision)});
    if (!r.ok()) {
      if (r.status().IsNotFound()) continue;
      return r.status();
    }
    events_.Event(p->raw, kEventWarning, "NodeOutOfService",
                  "Deleted pod " + p->obj.metadata.namespace_ + "/" + p->obj.metadata.name +
                      " at once: node \"" + nodeName + "\" is not ready and tainted " +
                      kOutOfServiceTaint + "; its volumes are detached");
  }
  return Status::Ok();
}

void NodeLifecycleController::Run() {
  RunWorker(
      queue_, [this](const std::string& k) { return Sync(k); }, [this] { events_.Flush(); });
}

}  // namespace kvol::controller
