#include "kvol/controller/event_recorder.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

namespace kvol::controller {
namespace {

std::string Str(const store::json& j, const char* a, const char* b = nullptr) {
  auto x = j.find(a);
  if (x == j.end()) return "";
  if (b) {
    if (!x->is_object()) return "";
    auto y = x->find(b);
    if (y == x->end() || !y->is_string()) return "";
    return y->get<std::string>();
  }
  return x->is_string() ? x->get<std::string>() : "";
}

}  // namespace

int64_t EventRecorder::NowNanos() {
  if (nowNanos_) return nowNanos_();
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void EventRecorder::Event(const store::json& obj, const std::string& type,
                          const std::string& reason, const std::string& message) {
  const std::string kind = Str(obj, "kind");
  const std::string name = Str(obj, "metadata", "name");
  const std::string objNs = Str(obj, "metadata", "namespace");
  const std::string uid = Str(obj, "metadata", "uid");
  const std::string ns = objNs.empty() ? "default" : objNs;
  const int64_t nanos = NowNanos();
  const api::Time ts = api::FormatTime(nanos / 1000000000);
  const std::string aggKey = kind + "\x1f" + objNs + "\x1f" + name + "\x1f" + uid + "\x1f" + type +
                             "\x1f" + reason + "\x1f" + message;

  std::lock_guard<std::mutex> lk(mu_);
  auto it = seen_.find(aggKey);
  if (it != seen_.end()) {
    store::json& ev = it->second.event;
    ev["count"] = ev.value("count", 1) + 1;
    ev["lastTimestamp"] = ts;
  } else {
    char hex[32];
    std::snprintf(hex, sizeof hex, "%llx", static_cast<unsigned long long>(nanos));
    std::string evName = name + "." + hex;
    // Two events for one object within the same nanosecond tick: keep names unique.
    for (int n = 1; keys_.count(store::KeyFor("events", ns, evName)); ++n) {
      evName = name + "." + hex + std::to_string(n);
    }
    store::json involved = {{"kind", kind}, {"name", name}};
    if (!objNs.empty()) involved["namespace"] = objNs;
    if (!uid.empty()) involved["uid"] = uid;
    if (auto av = Str(obj, "apiVersion"); !av.empty()) involved["apiVersion"] = av;
    if (auto rv = Str(obj, "metadata", "resourceVersion"); !rv.empty()) {
      involved["resourceVersion"] = rv;
    }
    store::json source = {{"component", component_}};
    if (!host_.empty()) source["host"] = host_;
    store::json ev = {
        {"apiVersion", "v1"},
        {"kind", "Event"},
        {"metadata",
         {{"name", evName}, {"namespace", ns}, {"creationTimestamp", ts}, {"uid", evName}}},
        {"involvedObject", involved},
        {"reason", reason},
        {"message", message},
        {"source", source},
        {"firstTimestamp", ts},
        {"lastTimestamp", ts},
        {"count", 1},
        {"type", type},
        {"reportingComponent", component_},
        {"reportingInstance", host_},
    };
    const std::string key = store::KeyFor("events", ns, evName);
    keys_.insert(key);
    it = seen_.emplace(aggKey, Seen{key, std::move(ev)}).first;
    isNew_[aggKey] = true;
  }
  if (std::find(dirty_.begin(), dirty_.end(), aggKey) == dirty_.end()) dirty_.push_back(aggKey);
  if (!buffered_) FlushLocked();
}

void EventRecorder::Flush() {
  std::lock_guard<std::mutex> lk(mu_);
  FlushLocked();
}

void EventRecorder::FlushLocked() {
  if (dirty_.empty()) return;
  std::vector<std::string> aggs;
  aggs.swap(dirty_);
  std::vector<std::vector<store::Op>> txns;
  txns.reserve(aggs.size());
  for (const auto& a : aggs) {
    const Seen& seen = seen_.at(a);
    if (isNew_[a]) {
      txns.push_back({store::Op::Create(seen.key, seen.event)});
    } else {
      txns.push_back({store::Op::Update(seen.key, seen.event)});
    }
  }
  std::vector<Result<store::TxnResult>> rs = store_.TxnBatch(std::move(txns));
  for (size_t i = 0; i < rs.size(); ++i) {
    const std::string& a = aggs[i];
    if (rs[i].ok()) {
      isNew_[a] = false;
      continue;
    }
    if (rs[i].status().IsNotFound()) {
      // Deleted meanwhile (TTL, user): start over with a fresh Event next time.
      keys_.erase(seen_.at(a).key);
      seen_.erase(a);
      isNew_.erase(a);
    }
    dropped_++;
  }
  // Bounded memory, like client-go's LRU of 4096: forget everything once it grows past that.
  if (seen_.size() > 4096) {
    seen_.clear();
    isNew_.clear();
    keys_.clear();
  }
}

}  // namespace kvol::controller
