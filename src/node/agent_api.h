// Internal to kvol_node: the agent's writes to the API, off the pod workers' threads. An ApiQueue
// is one thread with its own ApiClient running posted requests in order; a posted request with a
// key replaces a pending one with the same key in place (pod status writes coalesce: only the
// latest status of a pod is sent). PodEvents turns (pod, type, reason, message) into core/v1
// Events (source.component "kubelet", source.host the node), a repeat of the same event within
// the agent's life counted on the first one (count, lastTimestamp), as the kubelet's recorder does.
//
// Thread safety: Post/Record may be called from any thread.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "kvol/api/types_pod.h"
#include "kvol/client/client.h"

namespace kvol::node {

class ApiQueue {
 public:
  explicit ApiQueue(client::Kubeconfig cfg);
  ~ApiQueue();  // Stop(false)
  void Start();
  // drain: run what is queued first.
  void Stop(bool drain);
  void Post(const std::string& key, std::function<void(client::ApiClient&)> fn);
  // Blocks until everything posted so far has run (tests, clean stop).
  void Flush();

 private:
  void Run();

  client::Kubeconfig cfg_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> order_;  // keys ("" + sequence for unkeyed requests)
  std::map<std::string, std::function<void(client::ApiClient&)>> pending_;
  uint64_t seq_ = 0;
  bool stop_ = false, drain_ = false, busy_ = false;
  std::thread thread_;
};

class PodEvents {
 public:
  PodEvents(ApiQueue& q, std::string nodeName) : q_(q), node_(std::move(nodeName)) {}
  // type "Normal" | "Warning".
  void Record(const api::Pod& pod, const std::string& type, const std::string& reason,
              const std::string& message);

 private:
  struct Seen {
    std::string name;
    int count = 0;
  };
  ApiQueue& q_;
  std::string node_;
  std::shared_ptr<std::map<std::string, Seen>> seen_ =
      std::make_shared<std::map<std::string, Seen>>();
};

}  // namespace kvol::node
