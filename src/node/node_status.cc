#include "node_status.h"

#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "kvol/api/meta.h"
#include "kvol/os/exec.h"
#include "src/volume/volumes_in_use.h"

namespace kvol::node {

using api::json;

namespace {

void Log(const std::string& m) { std::fprintf(stderr, "kvol node: %s\n", m.c_str()); }

std::string FirstLine(const std::string& path) {
  std::ifstream f(path);
  std::string line;
  std::getline(f, line);
  return line;
}

std::string GoArch(const std::string& machine) {
  if (machine == "x86_64") return "amd64";
  if (machine == "aarch64") return "arm64";
  if (machine == "i686" || machine == "i386") return "386";
  if (machine.rfind("armv", 0) == 0) return "arm";
  return machine;
}

std::string HttpError(const char* what, const Result<client::HttpResult>& r) {
  if (!r.ok()) return std::string(what) + ": " + r.status().message();
  return std::string(what) + ": HTTP " + std::to_string(r->status) + ": " + r->body;
}

}  // namespace

HostInfo ReadHostInfo(const std::string& dataDir, const std::string& crunPath) {
  HostInfo h;
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  h.cpus = n > 0 ? n : 1;
  {
    std::ifstream f("/proc/meminfo");
    std::string key;
    int64_t v = 0;
    std::string unit;
    while (f >> key >> v >> unit) {
      if (key == "MemTotal:") {
        h.memoryKi = v;
        break;
      }
    }
  }
  struct statvfs vfs {};
  if (statvfs(dataDir.c_str(), &vfs) == 0) {
    h.ephemeralKi = static_cast<int64_t>(vfs.f_blocks) * static_cast<int64_t>(vfs.f_frsize) / 1024;
  }
  struct utsname u {};
  if (uname(&u) == 0) {
    h.kernelVersion = u.release;
    h.architecture = GoArch(u.machine);
  }
  {
    std::ifstream f("/etc/os-release");
    std::string line;
    while (std::getline(f, line)) {
      if (line.rfind("PRETTY_NAME=", 0) == 0) {
        std::string v = line.substr(12);
        if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'')) v = v.substr(1, v.size() - 2);
        h.osImage = v;
      }
    }
    if (h.osImage.empty()) h.osImage = "Linux";
  }
  h.machineID = FirstLine("/etc/machine-id");
  h.bootID = FirstLine("/proc/sys/kernel/random/boot_id");
  os::ExecOptions eo;
  eo.timeoutSec = 5;
  auto v = os::Exec({crunPath, "--version"}, eo);
  if (v.ok() && v->exitCode == 0) {
    // "crun version 1.8.1"
    std::istringstream s(v->out);
    std::string a, b, ver;
    s >> a >> b >> ver;
    h.crunVersion = ver;
  }
  if (h.crunVersion.empty()) h.crunVersion = "unknown";
  return h;
}

json BuildNode(const std::string& name, const std::string& zone, int logPort, const HostInfo& h,
               const std::string& now) {
  json labels = {{"kubernetes.io/hostname", name},
                 {"kubernetes.io/os", "linux"},
                 {"kubernetes.io/arch", h.architecture}};
  if (!zone.empty()) labels["topology.kubernetes.io/zone"] = zone;
  json resources = {{"cpu", std::to_string(h.cpus)},
                    {"memory", std::to_string(h.memoryKi) + "Ki"},
                    {"ephemeral-storage", std::to_string(h.ephemeralKi) + "Ki"},
                    {"pods", "110"}};
  auto cond = [&](const char* type, const char* status, const char* reason, const char* msg) {
    return json{{"type", type},   {"status", status},         {"reason", reason},
                {"message", msg}, {"lastHeartbeatTime", now}, {"lastTransitionTime", now}};
  };
  json conditions = json::array(
      {cond("MemoryPressure", "False", "KubeletHasSufficientMemory",
            "kvol node agent has sufficient memory available"),
       cond("DiskPressure", "False", "KubeletHasNoDiskPressure",
            "kvol node agent has no disk pressure"),
       cond("PIDPressure", "False", "KubeletHasSufficientPID",
            "kvol node agent has sufficient PID available"),
       cond("Ready", "True", "KubeletReady", "kvol node agent is posting ready status")});
  json status = {{"capacity", resources},
                 {"allocatable", resources},
                 {"conditions", conditions},
                 {"addresses", json::array({{{"type", "InternalIP"}, {"address", "127.0.0.1"}},
                                            {{"type", "Hostname"}, {"address", name}}})},
                 {"daemonEndpoints", {{"kubeletEndpoint", {{"Port", logPort}}}}},
                 {"nodeInfo",
                  {{"machineID", h.machineID},
                   {"systemUUID", h.machineID},
                   {"bootID", h.bootID},
                   {"kernelVersion", h.kernelVersion},
                   {"osImage", h.osImage},
                   {"containerRuntimeVersion", "crun://" + h.crunVersion},
                   {"kubeletVersion", "v1.32.0-kvol"},
                   {"kubeProxyVersion", ""},
                   {"operatingSystem", "linux"},
                   {"architecture", h.architecture}}}};
  return {{"apiVersion", "v1"},
          {"kind", "Node"},
          {"metadata", {{"name", name}, {"labels", labels}}},
          {"status", status}};
}

NodeStatusReporter::NodeStatusReporter(client::Kubeconfig cfg, std::string name, std::string zone,
                                       int logPort, HostInfo host, int heartbeatSeconds)
    : cfg_(std::move(cfg)),
      name_(std::move(name)),
      zone_(std::move(zone)),
      logPort_(logPort),
      host_(std::move(host)),
      heartbeatSeconds_(heartbeatSeconds) {}

NodeStatusReporter::~NodeStatusReporter() { Stop(); }

Status NodeStatusReporter::PatchStatus(client::ApiClient& c, const json& status) {
  std::string body = json({{"status", status}}).dump();
  auto r =
      c.Do("PATCH", "/api/v1/nodes/" + name_ + "/status", body, "application/merge-patch+json");
  if (r.ok() && r->status == 200) return Status::Ok();
  return Unavailable(HttpError(("node " + name_ + " status").c_str(), r));
}

json NodeStatusReporter::VolumesInUse() const {
  json out = json::array();
  for (auto& v : volume::CsiVolumesInUse(dataDir_)) out.push_back(std::move(v));
  return out;
}

Status NodeStatusReporter::Register() {
  client::ApiClient c(cfg_);
  readySince_ = api::Now();
  json node = BuildNode(name_, zone_, logPort_, host_, readySince_);
  json inUse;
  if (!dataDir_.empty()) {
    inUse = VolumesInUse();
    node["status"]["volumesInUse"] = inUse;
  }
  auto r = c.Do("POST", "/api/v1/nodes", node.dump(), "application/json");
  if (r.ok() && r->status == 201) {
    lastInUse_ = inUse;
    return Status::Ok();
  }
  if (!r.ok() || r->status != 409) return Unavailable(HttpError(("node " + name_).c_str(), r));
  // Already registered (by `kvol serve`'s bootstrap, or an earlier run): ours is the truth.
  json p = {{"metadata", {{"labels", node["metadata"]["labels"]}}}};
  auto m = c.Do("PATCH", "/api/v1/nodes/" + name_, p.dump(), "application/merge-patch+json");
  if (!m.ok() || m->status != 200) return Unavailable(HttpError(("node " + name_).c_str(), m));
  Status s = PatchStatus(c, node["status"]);
  if (s.ok()) lastInUse_ = inUse;
  return s;
}

void NodeStatusReporter::StartHeartbeat() {
  thread_ = std::thread([this] { Heartbeat(); });
}

void NodeStatusReporter::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void NodeStatusReporter::Heartbeat() {
  client::ApiClient c(cfg_);
  auto nextBeat = std::chrono::steady_clock::now() + std::chrono::seconds(heartbeatSeconds_);
  auto nextInUse = std::chrono::steady_clock::now();
  std::unique_lock<std::mutex> l(mu_);
  while (!stop_) {
    auto wake = nextBeat;
    if (!dataDir_.empty()) wake = std::min(wake, nextInUse);
    if (cv_.wait_until(l, wake, [this] { return stop_; })) break;
    l.unlock();
    const auto now = std::chrono::steady_clock::now();
    json inUse;
    if (!dataDir_.empty() && now >= nextInUse) {
      inUse = VolumesInUse();
      nextInUse = now + kVolumesInUsePoll;
    }
    if (now >= nextBeat) {
      nextBeat = now + std::chrono::seconds(heartbeatSeconds_);
      json status = BuildNode(name_, zone_, logPort_, host_, api::Now())["status"];
      for (auto& cond : status["conditions"]) cond["lastTransitionTime"] = readySince_;
      if (!inUse.is_null()) status["volumesInUse"] = inUse;
      Status s = PatchStatus(c, status);
      if (s.ok()) {
        if (!inUse.is_null()) lastInUse_ = inUse;
      } else if (s.message().find("HTTP 404") != std::string::npos) {
        // Someone deleted our Node: register again, as the kubelet does.
        s = Register();
      }
      if (!s.ok()) Log("heartbeat: " + s.message());
    } else if (!inUse.is_null() && inUse != lastInUse_) {
      // A volume was set up or torn down: the attach/detach controller must know at once.
      Status s = PatchStatus(c, json{{"volumesInUse", inUse}});
      if (s.ok()) {
        lastInUse_ = inUse;
      } else {
        Log("volumesInUse: " + s.message());
        nextInUse = now + std::chrono::seconds(1);  // the API is away: do not spin
      }
    }
    l.lock();
  }
}

}  // namespace kvol::node
