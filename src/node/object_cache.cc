#include "object_cache.h"

#include <cstdio>
#include <set>

namespace kvol::node {

namespace {

using Clock = std::chrono::steady_clock;

void Log(const std::string& m) { std::fprintf(stderr, "kvol node: %s\n", m.c_str()); }

std::string UrlEncode(const std::string& s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string Rv(const json& obj) {
  auto m = obj.find("metadata");
  if (m == obj.end() || !m->is_object()) return "";
  return m->value("resourceVersion", "");
}

}  // namespace

std::string ObjectKey(const json& obj) {
  auto m = obj.find("metadata");
  if (m == obj.end() || !m->is_object()) return "";
  std::string ns = m->value("namespace", "");
  std::string name = m->value("name", "");
  return ns.empty() ? name : ns + "/" + name;
}

Reflector::Reflector(client::Kubeconfig cfg, std::string basePath, std::string fieldSelector,
                     Handler onEvent)
    : basePath_(std::move(basePath)),
      fieldSelector_(std::move(fieldSelector)),
      onEvent_(std::move(onEvent)),
      client_(std::move(cfg)) {}

Reflector::~Reflector() { Stop(); }

void Reflector::Start() {
  stop_ = false;
  thread_ = std::thread([this] { Run(); });
}

void Reflector::RequestStop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  client_.Interrupt();
}

void Reflector::Stop() {
  RequestStop();
  if (thread_.joinable()) thread_.join();
}

bool Reflector::WaitSynced(Clock::time_point deadline) {
  std::unique_lock<std::mutex> l(mu_);
  return cv_.wait_until(l, deadline, [this] { return synced_.load() || stop_.load(); }) &&
         synced_.load();
}

std::optional<json> Reflector::Get(const std::string& key) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = items_.find(key);
  if (it == items_.end()) return std::nullopt;
  return it->second;
}

std::vector<json> Reflector::List() const {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<json> out;
  out.reserve(items_.size());
  for (const auto& [k, v] : items_) out.push_back(v);
  return out;
}

void Reflector::SleepFor(std::chrono::milliseconds d) {
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait_for(l, d, [this] { return stop_.load(); });
}

void Reflector::Apply(const std::string& type, const json& obj) {
  std::string key = ObjectKey(obj);
  json last = obj;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (type == "DELETED") {
      auto it = items_.find(key);
      if (it == items_.end()) return;
      items_.erase(it);
    } else {
      items_[key] = obj;
    }
  }
  if (onEvent_) onEvent_(type, last);
}

// Lists the resource, replaces the cache and delivers the difference.
bool Reflector::ListOnce(client::ApiClient& c, std::string& rv) {
  std::string target = basePath_;
  if (!fieldSelector_.empty()) target += "?fieldSelector=" + UrlEncode(fieldSelector_);
  auto r = c.Do("GET", target);
  if (!r.ok() || r->status != 200) {
    if (!stop_) {
      Log("list " + target +
          " failed: " + (r.ok() ? "HTTP " + std::to_string(r->status) : r.status().message()));
    }
    return false;
  }
  json list = json::parse(r->body, nullptr, false);
  if (list.is_discarded() || !list.is_object()) return false;
  rv = list.contains("metadata") ? list["metadata"].value("resourceVersion", "") : "";
  std::map<std::string, json> fresh;
  if (list.contains("items") && list["items"].is_array()) {
    for (auto& item : list["items"]) {
      std::string key = ObjectKey(item);  // before the move (json's operator= takes a value)
      fresh[key] = std::move(item);
    }
  }
  std::vector<std::pair<std::string, json>> changes;
  {
    std::lock_guard<std::mutex> l(mu_);
    for (const auto& [k, v] : items_) {
      if (!fresh.count(k)) changes.emplace_back("DELETED", v);
    }
    for (const auto& [k, v] : fresh) {
      auto it = items_.find(k);
      if (it == items_.end()) {
        changes.emplace_back("ADDED", v);
      } else if (Rv(it->second) != Rv(v)) {
        changes.emplace_back("MODIFIED", v);
      }
    }
    items_ = std::move(fresh);
  }
  if (onEvent_) {
    for (const auto& [type, obj] : changes) onEvent_(type, obj);
  }
  {
    std::lock_guard<std::mutex> l(mu_);
    synced_ = true;
  }
  cv_.notify_all();
  return true;
}

void Reflector::Run() {
  client::ApiClient& c = client_;
  std::string rv;
  bool needList = true;
  std::chrono::milliseconds backoff{100};
  while (!stop_) {
    if (needList) {
      if (!ListOnce(c, rv)) {
        SleepFor(backoff);
        backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
        continue;
      }
      backoff = std::chrono::milliseconds(100);
      needList = false;
    }
    std::string target = basePath_ + "?watch=true&allowWatchBookmarks=true&timeoutSeconds=300" +
                         "&resourceVersion=" + rv;
    if (!fieldSelector_.empty()) target += "&fieldSelector=" + UrlEncode(fieldSelector_);
    client::HttpResult err;
    Status s = c.Watch(
        target,
        [&](const json& ev) {
          if (stop_) return false;
          std::string type = ev.value("type", "");
          const json& obj = ev.contains("object") ? ev["object"] : json();
          if (type == "ERROR") {
            needList = true;  // 410 Expired or anything else: start over
            return false;
          }
          std::string newRv = Rv(obj);
          if (!newRv.empty()) rv = newRv;
          if (type == "ADDED" || type == "MODIFIED" || type == "DELETED") Apply(type, obj);
          return true;
        },
        Clock::now() + kWatchTimeout, &err);
    if (stop_) break;
    if (s.ok() || s.code() == Code::kTimeout) continue;
    // Refused (410 on an old resourceVersion), or the server went away: relist.
    needList = true;
    SleepFor(std::chrono::milliseconds(s.code() == Code::kBadRequest ? 0 : 200));
  }
}

ObjectCache::ObjectCache(client::Kubeconfig cfg,
                         std::function<void(const std::string&, const json&)> onChange,
                         const std::string& nodeName) {
  struct Source {
    const char* resource;
    const char* basePath;
  };
  std::vector<Source> sources = {{"configmaps", "/api/v1/configmaps"},
                                 {"secrets", "/api/v1/secrets"},
                                 {"persistentvolumeclaims", "/api/v1/persistentvolumeclaims"},
                                 {"persistentvolumes", "/api/v1/persistentvolumes"},
                                 {"volumeattachments", "/apis/storage.k8s.io/v1/volumeattachments"},
                                 {"csidrivers", "/apis/storage.k8s.io/v1/csidrivers"}};
  if (!nodeName.empty()) sources.push_back({"nodes", "/api/v1/nodes"});
  for (const Source& src : sources) {
    std::string resource = src.resource;
    std::string selector = resource == "nodes" ? "metadata.name=" + nodeName : "";
    reflectors_[resource] = std::make_unique<Reflector>(
        cfg, src.basePath, selector, [resource, onChange](const std::string&, const json& obj) {
          if (onChange) onChange(resource, obj);
        });
  }
}

ObjectCache::~ObjectCache() { Stop(); }

void ObjectCache::Start() {
  for (auto& [k, r] : reflectors_) r->Start();
}

void ObjectCache::Stop() {
  for (auto& [k, r] : reflectors_) r->RequestStop();
  for (auto& [k, r] : reflectors_) r->Stop();
}

bool ObjectCache::WaitSynced(Clock::time_point deadline) {
  bool all = true;
  for (auto& [k, r] : reflectors_) all = r->WaitSynced(deadline) && all;
  return all;
}

std::vector<json> ObjectCache::List(const std::string& resource) const {
  auto it = reflectors_.find(resource);
  if (it == reflectors_.end()) return {};
  return it->second->List();
}

Result<json> ObjectCache::Get(const std::string& resource, const std::string& ns,
                              const std::string& name) {
  auto it = reflectors_.find(resource);
  if (it == reflectors_.end()) return BadRequest("no cache for resource " + resource);
  if (!it->second->synced()) it->second->WaitSynced(Clock::now() + std::chrono::seconds(5));
  auto v = it->second->Get(ns.empty() ? name : ns + "/" + name);
  if (!v) return NotFound(resource + " \"" + name + "\" not found");
  return std::move(*v);
}

}  // namespace kvol::node
