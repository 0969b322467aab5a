// Test fixture pieces for controller tests: object builders and a deterministic harness that
// runs the binder over a FakeStore (or any Store) without threads (informers are relisted, the
// queue is drained until idle, delayed retries are flushed).
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "kvol/controller/binder.h"
#include "kvol/controller/event_recorder.h"
#include "kvol/controller/pv_match.h"
#include "kvol/controller/scheduler.h"
#include "src/driver/local/local_driver.h"
#include "testing/fake_store.h"

namespace kvol::controller::testutil {

using json = store::json;

inline json PV(const std::string& name, const std::string& cap,
               std::vector<std::string> modes = {"ReadWriteOnce"}, const std::string& cls = "",
               const std::string& phase = "Available") {
  json pv = {{"apiVersion", "v1"},
             {"kind", "PersistentVolume"},
             {"metadata", {{"name", name}, {"uid", "uid-" + name}}},
             {"spec",
              {{"capacity", {{"storage", cap}}},
               {"accessModes", modes},
               {"persistentVolumeReclaimPolicy", "Retain"},
               {"hostPath", {{"path", "/tmp/" + name}}}}}};
  if (!cls.empty()) pv["spec"]["storageClassName"] = cls;
  if (!phase.empty()) pv["status"] = {{"phase", phase}};
  return pv;
}

inline json PVC(const std::string& name, const std::string& req,
                std::vector<std::string> modes = {"ReadWriteOnce"},
                std::optional<std::string> cls = std::string(""),
                const std::string& ns = "default") {
  json c = {{"apiVersion", "v1"},
            {"kind", "PersistentVolumeClaim"},
            {"metadata", {{"name", name}, {"namespace", ns}, {"uid", "uid-" + name}}},
            {"spec", {{"accessModes", modes}, {"resources", {{"requests", {{"storage", req}}}}}}}};
  if (cls) c["spec"]["storageClassName"] = *cls;
  return c;
}

// A claim for the randomized VolumeIndex tests, with what both the index and Kubernetes' linear
// rule are asked about it. Input() points into the object: keep it alive while the input is used.
struct ClaimQuery {
  json raw;
  api::PersistentVolumeClaim claim;
  Result<std::optional<api::LabelSelectorExpr>> selector;  // a test asserts it parsed
  MatchInput Input() const {
    MatchInput in;
    in.claim = &claim;
    in.selector = selector.ok() && selector->has_value() ? &**selector : nullptr;
    return in;
  }
};

// Named c0..c9, 1-8Gi, access modes from modeSets[0, modeChoices), a class; sometimes Block,
// sometimes selecting tier=gold.
inline ClaimQuery RandomClaimQuery(std::mt19937_64& rng,
                                   const std::vector<std::vector<std::string>>& modeSets,
                                   size_t modeChoices, const std::vector<std::string>& classes) {
  json c = PVC("c" + std::to_string(rng() % 10), std::to_string(1 + rng() % 8) + "Gi",
               modeSets[rng() % modeChoices], classes[rng() % classes.size()]);
  if (rng() % 6 == 0) c["spec"]["volumeMode"] = "Block";
  if (rng() % 4 == 0) c["spec"]["selector"] = {{"matchLabels", {{"tier", "gold"}}}};
  auto claim = api::FromJsonLoose<api::PersistentVolumeClaim>(c);
  auto selector = ClaimSelector(claim);
  return ClaimQuery{std::move(c), std::move(claim), std::move(selector)};
}

inline json Class(const std::string& name, const std::string& provisioner,
                  const std::string& mode = "Immediate", const std::string& reclaim = "Delete",
                  bool isDefault = false) {
  json sc = {{"apiVersion", "storage.k8s.io/v1"},
             {"kind", "StorageClass"},
             {"metadata", {{"name", name}, {"creationTimestamp", "2026-01-01T00:00:00Z"}}},
             {"provisioner", provisioner},
             {"reclaimPolicy", reclaim},
             {"volumeBindingMode", mode}};
  if (isDefault) {
    sc["metadata"]["annotations"] = {{"storageclass.kubernetes.io/is-default-class", "true"}};
  }
  return sc;
}

inline json Node(const std::string& name, bool ready = true,
                 std::map<std::string, std::string> labels = {}) {
  labels["kubernetes.io/hostname"] = name;
  return {
      {"apiVersion", "v1"},
      {"kind", "Node"},
      {"metadata", {{"name", name}, {"labels", labels}}},
      {"status", {{"conditions", {{{"type", "Ready"}, {"status", ready ? "True" : "False"}}}}}}};
}

// A pod (namespace default) using claim `claim` as volume "data"; bound to `node` unless "".
inline json PodUsing(const std::string& name, const std::string& claim,
                     const std::string& phase = "Running", const std::string& node = "") {
  json p = {
      {"apiVersion", "v1"},
      {"kind", "Pod"},
      {"metadata", {{"name", name}, {"namespace", "default"}, {"uid", "uid-" + name}}},
      {"spec",
       {{"containers", {{{"name", "c"}, {"image", "busybox"}}}},
        {"volumes", {{{"name", "data"}, {"persistentVolumeClaim", {{"claimName", claim}}}}}}}},
      {"status", {{"phase", phase}}}};
  if (!node.empty()) p["spec"]["nodeName"] = node;
  return p;
}

inline std::string PVKey(const std::string& n) { return store::KeyFor("persistentvolumes", "", n); }
inline std::string PVCKey(const std::string& n, const std::string& ns = "default") {
  return store::KeyFor("persistentvolumeclaims", ns, n);
}
inline std::string ClassKey(const std::string& n) { return store::KeyFor("storageclasses", "", n); }
inline std::string NodeKey(const std::string& n) { return store::KeyFor("nodes", "", n); }
inline std::string PodKey(const std::string& n, const std::string& ns = "default") {
  return store::KeyFor("pods", ns, n);
}

inline std::string TempDir() {
  std::string t = (std::filesystem::temp_directory_path() / "kvol-ctl-XXXXXX").string();
  char* d = ::mkdtemp(t.data());
  return d ? std::string(d) : std::string();
}

// The binder over a store, run deterministically.
struct BinderHarness {
  explicit BinderHarness(store::Store& s, const std::string& dataDir = "",
                         const std::string& node = "node-1")
      : st(s),
        pvs(s, store::PrefixFor("persistentvolumes")),
        pvcs(s, store::PrefixFor("persistentvolumeclaims")),
        classes(s, store::PrefixFor("storageclasses")),
        nodes(s, store::PrefixFor("nodes")),
        events(s, "persistentvolume-controller", "", /*buffered=*/true) {
    std::map<std::string, driver::ControllerDriver*> drivers;
    if (!dataDir.empty()) {
      local = std::make_unique<driver::LocalDriver>(dataDir, node);
      drivers[local->Name()] = local.get();
    }
    BinderOptions o;
    o.nodeName = node;
    o.now = [] { return std::string("2026-01-01T00:00:00Z"); };
    binder = std::make_unique<Binder>(s, pvs, pvcs, classes, nodes, events, drivers, o);
    binder->RegisterHandlers();
  }

  // Relists every informer and drains the queue (with retries) until nothing changes.
  void Run(int maxRounds = 50) {
    for (int i = 0; i < maxRounds; ++i) {
      (void)pvs.Relist();
      (void)pvcs.Relist();
      (void)classes.Relist();
      (void)nodes.Relist();
      binder->queue().FlushDelayedForTest();
      auto keys = binder->queue().TryGetBatch(1000000);
      if (keys.empty()) return;
      binder->ProcessKeys(std::move(keys));
    }
  }

  json Get(const std::string& key) {
    auto r = st.Get(key);
    return r.ok() ? r->value : json();
  }
  bool Exists(const std::string& key) { return st.Get(key).ok(); }

  // "Type Reason: message (xN)" of every Event, sorted by name.
  std::vector<std::string> Events() {
    store::ListOptions lo;
    lo.prefix = "/registry/events/";
    std::vector<std::string> out;
    auto r = st.List(lo);
    if (!r.ok()) return out;
    for (auto& o : r->items) {
      const json& e = o.value;
      std::string s = e.value("type", "") + " " + e.value("reason", "") + " " +
                      e["involvedObject"].value("name", "") + ": " + e.value("message", "");
      if (e.value("count", 1) > 1) s += " (x" + std::to_string(e.value("count", 1)) + ")";
      out.push_back(s);
    }
    return out;
  }

  store::Store& st;
  PVInformer pvs;
  PVCInformer pvcs;
  ClassInformer classes;
  NodeInformer nodes;
  EventRecorder events;
  std::unique_ptr<driver::LocalDriver> local;
  std::unique_ptr<Binder> binder;
};

// The scheduler over a store, run deterministically (informers relisted, queue drained).
struct SchedulerHarness {
  explicit SchedulerHarness(store::Store& s)
      : pods(s, store::PrefixFor("pods")),
        nodes(s, store::PrefixFor("nodes")),
        pvcs(s, store::PrefixFor("persistentvolumeclaims")),
        pvs(s, store::PrefixFor("persistentvolumes")),
        classes(s, store::PrefixFor("storageclasses")),
        events(s, "default-scheduler"),
        sched(s, pods, nodes, pvcs, pvs, classes, events) {
    sched.RegisterHandlers();
  }
  void Run() {
    for (int i = 0; i < 20; ++i) {
      (void)classes.Relist();
      (void)nodes.Relist();
      (void)pvs.Relist();
      (void)pvcs.Relist();
      (void)pods.Relist();
      auto keys = sched.queue().TryGetBatch(1000);
      if (keys.empty()) return;
      for (auto& k : keys) {
        (void)sched.Sync(k);
        sched.queue().Done(k);
      }
    }
  }
  PodInformer pods;
  NodeInformer nodes;
  PVCInformer pvcs;
  PVInformer pvs;
  ClassInformer classes;
  EventRecorder events;
  Scheduler sched;
};

}  // namespace kvol::controller::testutil
