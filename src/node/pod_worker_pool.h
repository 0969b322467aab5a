// Internal to kvol_node: the pod workers (the kubelet's podWorkers + the parts of SyncPod kvol
// needs). One thread per pod bound to this node, woken by pod updates from the watch, container
// exits from the runtime and its own timers (back-off); it converges the pod: sandbox, volumes,
// init containers in order, containers by restart policy, status; and on deletion tears it all
// down and finalises the deletion through the API.
//
// Thread safety: every public method may be called from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "agent_api.h"
#include "kvol/image/image_store.h"
#include "kvol/node/volume_manager.h"
#include "kvol/os/mount.h"
#include "kvol/runtime/runtime.h"
#include "log_server.h"
#include "pod_worker.h"

namespace kvol::node {

struct PodWorkerDeps {
  std::string dataDir, nodeName;
  runtime::Runtime* runtime = nullptr;
  image::ImageStore* images = nullptr;
  VolumeManager* volumes = nullptr;
  volume::ObjectSource* objects = nullptr;
  os::Mounter* mounter = nullptr;
  ApiQueue* statusQueue = nullptr;  // pod status writes and the final DELETE
  PodEvents* events = nullptr;
  NodeFacts facts;
};

class PodWorkers {
 public:
  explicit PodWorkers(PodWorkerDeps deps);
  ~PodWorkers();  // Shutdown(false)

  // Reconstruction, before any Update: adopts the runtime's containers of `pods` (the pods bound
  // here, from the first list), stops and removes the others, hands every pod to the volume
  // manager, then marks its desired state synced.
  void Reconstruct(const std::vector<api::Pod>& pods);

  void Update(const api::Pod& pod);   // a pod bound here was added or changed
  void Gone(const std::string& uid);  // deleted from the API (or no longer bound here)
  void ContainerExited(const std::string& containerId);
  void VolumesReady(const std::string& uid);

  Result<LogServer::Resolved> ResolveLog(const LogQuery& q);

  // clean: every pod's containers stopped (grace period) and removed, subPath binds and sandboxes
  // removed, then every volume unmounted. Otherwise the threads just end.
  void Shutdown(bool clean);

 private:
  struct Worker;
  std::shared_ptr<Worker> NewWorker(const api::Pod& pod);
  void Run(const std::shared_ptr<Worker>& w);
  void Sync(Worker& w, const api::Pod& pod);
  void Terminate(Worker& w, const api::Pod& pod, bool gone);
  void CleanStop(Worker& w, const api::Pod& pod);
  void Converge(Worker& w, const api::Pod& pod, ContainerRecord& r, const api::Container& spec,
                const std::string& policy,
                const std::map<std::string, volume::MountedVolume>& vols);
  void StartContainer(Worker& w, const api::Pod& pod, ContainerRecord& r,
                      const api::Container& spec,
                      const std::map<std::string, volume::MountedVolume>& vols);
  void Refresh(Worker& w);
  void StopContainers(Worker& w, const api::Pod& pod, int grace, bool events);
  void RemoveContainers(Worker& w);
  void WriteStatus(Worker& w, const api::Pod& pod);
  // A pod event; while the worker starts containers, held back until the status write that
  // follows has been sent (events must not compete with it on the start path).
  void Event(Worker& w, const api::Pod& pod, const char* type, const std::string& reason,
             const std::string& message);
  void Reap();
  std::string PodDir(const std::string& uid) const;

  PodWorkerDeps d_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Worker>> workers_;  // by uid
  std::map<std::string, std::string> uidByKey_;             // "ns/name" -> uid
  std::vector<std::shared_ptr<Worker>> finished_;
  std::thread orphanThread_;  // Reconstruct's clean-up of pods no longer bound here
  bool shutdown_ = false;
  // Set once a sandbox was made: the runtime has made DIR a shared mount by then (its first
  // EnsureSandbox does), so later pods' volumes may be mounted while their sandbox is made.
  std::atomic<bool> sandboxMade_{false};
};

}  // namespace kvol::node
