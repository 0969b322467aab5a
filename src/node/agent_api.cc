#include "agent_api.h"

#include <chrono>
#include <cstdio>
#include <random>

#include "kvol/api/meta.h"

namespace kvol::node {

using api::json;

ApiQueue::ApiQueue(client::Kubeconfig cfg) : cfg_(std::move(cfg)) {}

ApiQueue::~ApiQueue() { Stop(false); }

void ApiQueue::Start() {
  std::lock_guard<std::mutex> l(mu_);
  stop_ = false;
  thread_ = std::thread([this] { Run(); });
}

void ApiQueue::Stop(bool drain) {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
    drain_ = drain;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ApiQueue::Post(const std::string& key, std::function<void(client::ApiClient&)> fn) {
  {
    std::lock_guard<std::mutex> l(mu_);
    std::string k = key.empty() ? "\x01" + std::to_string(seq_++) : key;
    auto it = pending_.find(k);
    if (it != pending_.end()) {
      it->second = std::move(fn);
      return;
    }
    pending_[k] = std::move(fn);
    order_.push_back(k);
  }
  cv_.notify_all();
}

void ApiQueue::Flush() {
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait(l,
           [this] { return (order_.empty() && !busy_) || thread_.get_id() == std::thread::id(); });
}

void ApiQueue::Run() {
  client::ApiClient c(cfg_);
  std::unique_lock<std::mutex> l(mu_);
  while (true) {
    cv_.wait(l, [this] { return stop_ || !order_.empty(); });
    if (order_.empty() || (stop_ && !drain_)) break;
    std::string k = order_.front();
    order_.pop_front();
    auto fn = std::move(pending_[k]);
    pending_.erase(k);
    busy_ = true;
    l.unlock();
    fn(c);
    l.lock();
    busy_ = false;
    cv_.notify_all();
  }
  busy_ = false;
  cv_.notify_all();
}

void PodEvents::Record(const api::Pod& pod, const std::string& type, const std::string& reason,
                       const std::string& message) {
  std::string ns = pod.metadata.namespace_.empty() ? "default" : pod.metadata.namespace_;
  json ref = {{"kind", "Pod"},
              {"namespace", ns},
              {"name", pod.metadata.name},
              {"uid", pod.metadata.uid},
              {"apiVersion", "v1"}};
  if (!pod.metadata.resourceVersion.empty()) ref["resourceVersion"] = pod.metadata.resourceVersion;
  std::string key = pod.metadata.uid + "\n" + reason + "\n" + message;
  std::string now = api::Now();
  std::string node = node_;
  auto seen = seen_;
  // Unkeyed: every event is sent (in order).
  q_.Post("", [=](client::ApiClient& c) {
    auto it = seen->find(key);
    if (it != seen->end()) {
      it->second.count++;
      json p = {{"count", it->second.count}, {"lastTimestamp", now}};
      auto r = c.Do("PATCH", "/api/v1/namespaces/" + ns + "/events/" + it->second.name, p.dump(),
                    "application/merge-patch+json");
      if (r.ok() && r->status == 200) return;
      seen->erase(it);  // gone (expired): post a new one
    }
    static std::atomic<uint64_t> n{0};
    char suffix[32];
    auto ns_ = std::chrono::system_clock::now().time_since_epoch().count();
    std::snprintf(suffix, sizeof suffix, "%llx",
                  static_cast<unsigned long long>(ns_) + static_cast<unsigned long long>(n++));
    std::string name = ref["name"].get<std::string>() + "." + suffix;
    json ev = {{"apiVersion", "v1"},
               {"kind", "Event"},
               {"metadata", {{"name", name}, {"namespace", ns}}},
               {"involvedObject", ref},
               {"reason", reason},
               {"message", message},
               {"source", {{"component", "kubelet"}, {"host", node}}},
               {"firstTimestamp", now},
               {"lastTimestamp", now},
               {"count", 1},
               {"type", type},
               {"reportingComponent", "kubelet"},
               {"reportingInstance", node}};
    auto r = c.Do("POST", "/api/v1/namespaces/" + ns + "/events", ev.dump(), "application/json");
    if (r.ok() && r->status == 201) {
      (*seen)[key] = Seen{name, 1};
    } else {
      std::fprintf(
          stderr, "kvol node: event %s for pod %s/%s not recorded: %s\n", reason.c_str(),
          ns.c_str(), pod.metadata.name.c_str(),
          r.ok() ? ("HTTP " + std::to_string(r->status)).c_str() : r.status().message().c_str());
    }
  });
}

}  // namespace kvol::node
