// Internal to kvol_node: the agent's watch caches (the kubelet's informers). A Reflector keeps one
// resource (optionally narrowed by a field selector) in memory by list + watch through the API:
// one thread, watches re-opened from the last resourceVersion, a relist on 410 Expired or when the
// server went away (the diff against the cache is delivered as ADDED/MODIFIED/DELETED, so
// handlers never miss a change). ObjectCache serves the volume plugins' ObjectSource from the
// configmaps, secrets, persistentvolumeclaims, persistentvolumes, volumeattachments and csidrivers
// (storage.k8s.io/v1) reflectors, and "nodes" (this node only, by field selector) when it is given
// a node name (persistentVolumeClaim's SetUp reads status.volumesInUse and the attachment there).
//
// Thread safety: every method may be called from any thread; handlers run on the reflector's
// thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "kvol/client/client.h"
#include "kvol/volume/plugin.h"

namespace kvol::node {

using json = api::json;

// "ns/name" ("name" for cluster-scoped objects).
std::string ObjectKey(const json& obj);

class Reflector {
 public:
  // type: "ADDED", "MODIFIED", "DELETED"; for DELETED obj is the last known state.
  using Handler = std::function<void(const std::string& type, const json& obj)>;

  // basePath: "/api/v1/configmaps" (all namespaces); fieldSelector "" = none.
  Reflector(client::Kubeconfig cfg, std::string basePath, std::string fieldSelector,
            Handler onEvent);
  ~Reflector();  // Stop()

  void Start();
  void RequestStop();  // interrupts the open watch: the thread ends soon; Stop() joins it
  void Stop();
  // Blocks until the first list has been delivered (true) or the deadline passed (false).
  bool WaitSynced(std::chrono::steady_clock::time_point deadline);
  bool synced() const { return synced_.load(); }

  std::optional<json> Get(const std::string& key) const;
  std::vector<json> List() const;

  // How long one watch request stays open (the server ends it at timeoutSeconds=300 first). A
  // watch re-opened often is not free: the server replays every change since its
  // resourceVersion, which stays old on a quiet resource between bookmarks.
  static constexpr std::chrono::seconds kWatchTimeout{330};

 private:
  void Run();
  bool ListOnce(client::ApiClient& c, std::string& rv);
  void Apply(const std::string& type, const json& obj);
  void SleepFor(std::chrono::milliseconds d);

  std::string basePath_, fieldSelector_;
  Handler onEvent_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, json> items_;
  std::atomic<bool> synced_{false};
  std::atomic<bool> stop_{false};
  client::ApiClient client_;  // used by the thread; Interrupt() from RequestStop
  std::thread thread_;
};

class ObjectCache : public volume::ObjectSource {
 public:
  // onChange(resource, obj) for every change of a cached object (after the cache holds it; for a
  // deletion, obj is its last state). nodeName "": no "nodes" cache.
  ObjectCache(client::Kubeconfig cfg,
              std::function<void(const std::string& resource, const json& obj)> onChange,
              const std::string& nodeName = "");
  ~ObjectCache() override;
  void Start();
  void Stop();
  bool WaitSynced(std::chrono::steady_clock::time_point deadline);

  // ObjectSource: kNotFound `<resource> "<name>" not found` when absent; waits (up to 5 s) for
  // the resource's first list.
  Result<json> Get(const std::string& resource, const std::string& ns,
                   const std::string& name) override;
  // Every cached object of `resource` (empty when there is no such cache).
  std::vector<json> List(const std::string& resource) const;

 private:
  std::map<std::string, std::unique_ptr<Reflector>> reflectors_;
};

}  // namespace kvol::node
