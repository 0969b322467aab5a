#include "kvol/node/agent.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <mutex>

#include "../driver/block/block_node_driver.h"
#include "../driver/local/local_node_driver.h"
#include "agent_api.h"
#include "attachment_wake.h"
#include "kvol/api/meta.h"
#include "kvol/common/trace.h"
#include "kvol/image/image_store.h"
#include "kvol/node/volume_manager.h"
#include "kvol/os/cgroup_tuning.h"
#include "kvol/os/fs.h"
#include "kvol/os/mount.h"
#include "kvol/runtime/runtime.h"
#include "log_server.h"
#include "node_status.h"
#include "object_cache.h"
#include "pod_worker_pool.h"
#include "pod_worker_state.h"
#include "volume_resizer.h"

namespace kvol::node {

using Clock = std::chrono::steady_clock;
using api::json;

namespace {

void Log(const std::string& m) { std::fprintf(stderr, "kvol node: %s\n", m.c_str()); }

std::string Dns1123(const std::string& s) {
  std::string out;
  for (char ch : s) {
    char c = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-') {
      out += c;
    } else {
      out += '-';
    }
  }
  while (!out.empty() && (out.front() == '-' || out.front() == '.')) out.erase(out.begin());
  while (!out.empty() && (out.back() == '-' || out.back() == '.')) out.pop_back();
  if (out.size() > 253) out.resize(253);
  return out.empty() ? "localhost" : out;
}

std::string HostName() {
  char buf[256] = {0};
  if (gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  return Dns1123(buf);
}

std::optional<api::Pod> DecodePod(const json& j) {
  api::Pod pod;
  api::DecodeContext ctx;
  api::FromJson(j, pod, ctx);
  if (pod.metadata.uid.empty()) return std::nullopt;
  return pod;
}

}  // namespace

struct Agent::Impl {
  NodeOptions o;
  std::string name;
  client::Kubeconfig cfg;
  bool running = false;
  bool stopped = false;

  std::unique_ptr<driver::LocalNodeDriver> localDriver;
  std::unique_ptr<driver::BlockNodeDriver> blockDriver;  // kvol.io/block (--block-pool)
  std::unique_ptr<VolumeResizer> resizer;  // NodeExpandVolume (destroyed after the queues)
  std::unique_ptr<image::ImageStore> images;
  std::unique_ptr<runtime::Runtime> runtime;
  std::unique_ptr<ObjectCache> objects;
  std::unique_ptr<VolumeManager> volumes;
  std::unique_ptr<ApiQueue> statusQueue, eventQueue;
  std::unique_ptr<PodEvents> events;
  std::unique_ptr<PodWorkers> workers;
  std::unique_ptr<LogServer> logs;
  std::unique_ptr<NodeStatusReporter> nodeStatus;
  std::unique_ptr<Reflector> pods;
  int logPort = 0;
  std::mutex inUseMu;
  std::vector<std::string> lastInUse;  // this Node's status.volumesInUse as last seen

  Status Start();
  void Stop(bool clean);
  void OnPodEvent(const std::string& type, const json& obj);
  void OnObjectChange(const std::string& res, const json& obj);
};

Status Agent::Impl::Start() {
  if (o.dataDir.empty()) return BadRequest("--data-dir is required");
  if (o.server.empty()) return BadRequest("--server is required");
  name = o.nodeName.empty() ? HostName() : o.nodeName;
  std::error_code ec;
  std::filesystem::create_directories(o.dataDir + "/pods", ec);
  if (ec) return Internal("cannot create " + o.dataDir + "/pods: " + ec.message());
  o.dataDir = std::filesystem::absolute(o.dataDir).lexically_normal().string();
  if (o.dataDir.size() > 1 && o.dataDir.back() == '/') o.dataDir.pop_back();
  cfg.server = o.server;
  cfg.token = o.token;
  cfg.caFile = o.certificateAuthority;

  NodeTrace("agent", "start");
  if (!o.protectKernelDefaults) {
    auto tuned = os::FavorCgroupDynamicModifications();
    if (!tuned.ok()) {
      Log("leaving cgroup2 as it is: " + tuned.status().message());
    } else if (!tuned->empty()) {
      Log("set the cgroup2 option favordynmods on " + *tuned +
          " (faster container starts; --protect-kernel-defaults leaves it alone)");
    }
  }
  HostInfo host = ReadHostInfo(o.dataDir, o.crunPath);
  NodeTrace("agent", "host info");
  localDriver = std::make_unique<driver::LocalNodeDriver>(o.dataDir);
  blockDriver = std::make_unique<driver::BlockNodeDriver>(o.dataDir, o.blockPool);
  images = std::make_unique<image::ImageStore>(o.dataDir + "/images");
  runtime::RuntimeOptions ro;
  ro.dataDir = o.dataDir;
  ro.selfExe = o.selfExe;
  ro.crunPath = o.crunPath;
  runtime = runtime::NewCrunRuntime(ro);

  statusQueue = std::make_unique<ApiQueue>(cfg);
  eventQueue = std::make_unique<ApiQueue>(cfg);
  events = std::make_unique<PodEvents>(*eventQueue, name);

  objects = std::make_unique<ObjectCache>(
      cfg, [this](const std::string& res, const json& obj) { OnObjectChange(res, obj); }, name);

  VolumeManagerOptions vo;
  vo.node.dataDir = o.dataDir;
  vo.node.nodeName = name;
  vo.node.allowedHostPaths = o.allowedHostPaths;
  vo.node.mounter = &os::RealMounter();
  vo.node.drivers[localDriver->Name()] = localDriver.get();
  vo.node.drivers[blockDriver->Name()] = blockDriver.get();
  resizer = std::make_unique<VolumeResizer>(o.dataDir, *objects, *statusQueue, vo.node.drivers);
  vo.objects = objects.get();
  vo.plugins = volume::BuiltinPlugins();
  vo.onEvent = [this](const api::Pod& pod, const std::string& reason, const std::string& msg) {
    events->Record(pod, "Warning", reason, msg);
  };
  vo.onPodVolumesReady = [this](const std::string& uid) {
    if (resizer) resizer->Resync();  // a stage may have grown a volume (ext4, offline)
    if (workers) workers->VolumesReady(uid);
  };
  volumes = std::make_unique<VolumeManager>(std::move(vo));

  PodWorkerDeps deps;
  deps.dataDir = o.dataDir;
  deps.nodeName = name;
  deps.runtime = runtime.get();
  deps.images = images.get();
  deps.volumes = volumes.get();
  deps.objects = objects.get();
  deps.mounter = &os::RealMounter();
  deps.statusQueue = statusQueue.get();
  deps.events = events.get();
  deps.facts.cpuCores = host.cpus;
  deps.facts.memoryBytes = host.memoryKi * 1024;
  workers = std::make_unique<PodWorkers>(std::move(deps));
  runtime->SetExitHandler([this](const std::string& id) {
    if (workers) workers->ContainerExited(id);
  });

  statusQueue->Start();
  eventQueue->Start();
  objects->Start();
  KVOL_RETURN_IF_ERROR(volumes->Start());
  NodeTrace("agent", "volume manager");

  logs = std::make_unique<LogServer>(o.token,
                                     [this](const LogQuery& q) { return workers->ResolveLog(q); });
  KVOL_ASSIGN_OR_RETURN(logPort, logs->Start());

  nodeStatus =
      std::make_unique<NodeStatusReporter>(cfg, name, o.zone, logPort, host, o.heartbeatSeconds);
  nodeStatus->ReportVolumesInUseFrom(o.dataDir);
  KVOL_RETURN_IF_ERROR(nodeStatus->Register());
  NodeTrace("agent", "registered");

  // The pods bound here: the first list drives reconstruction, then the watch takes over.
  pods = std::make_unique<Reflector>(
      cfg, "/api/v1/pods", "spec.nodeName=" + name,
      [this](const std::string& type, const json& obj) { OnPodEvent(type, obj); });
  {
    client::ApiClient c(cfg);
    auto r = c.Do("GET", "/api/v1/pods?fieldSelector=spec.nodeName%3D" + name);
    if (!r.ok() || r->status != 200) {
      return Unavailable("listing the pods of node " + name + ": " +
                         (r.ok() ? "HTTP " + std::to_string(r->status) : r.status().message()));
    }
    json list = json::parse(r->body, nullptr, false);
    std::vector<api::Pod> bound;
    if (list.is_object() && list.contains("items") && list["items"].is_array()) {
      for (const auto& item : list["items"]) {
        if (auto p = DecodePod(item)) bound.push_back(std::move(*p));
      }
    }
    NodeTrace("agent", "pods listed");
    objects->WaitSynced(Clock::now() + std::chrono::seconds(5));
    NodeTrace("agent", "caches synced");
    workers->Reconstruct(bound);
  }
  NodeTrace("agent", "reconstructed");
  pods->Start();
  nodeStatus->StartHeartbeat();
  running = true;
  Log("node " + name + " registered; container logs on 127.0.0.1:" + std::to_string(logPort));
  return Status::Ok();
}

void Agent::Impl::OnObjectChange(const std::string& res, const json& obj) {
  if (resizer && res == "persistentvolumeclaims") resizer->ClaimChanged(obj);
  if (!volumes) return;
  if (res == "volumeattachments") {
    // A pod waiting for this attachment retries at once.
    for (const auto& ref : ClaimsOfAttachment(obj, name, *objects)) volumes->ObjectChanged(ref);
    return;
  }
  if (res == "nodes") {
    // Volumes newly listed in status.volumesInUse: their pods may go on to the attach check.
    std::vector<std::string> now = VolumesInUseOf(obj), added;
    {
      std::lock_guard<std::mutex> l(inUseMu);
      for (const auto& v : now) {
        if (std::find(lastInUse.begin(), lastInUse.end(), v) == lastInUse.end()) {
          added.push_back(v);
        }
      }
      lastInUse = now;
    }
    for (const auto& ref : ClaimsOfVolumes(added, objects->List("persistentvolumes"))) {
      volumes->ObjectChanged(ref);
    }
    return;
  }
  auto m = obj.find("metadata");
  if (m == obj.end()) return;
  volumes->ObjectChanged(volume::ObjectRef{res, m->value("namespace", ""), m->value("name", "")});
}

void Agent::Impl::OnPodEvent(const std::string& type, const json& obj) {
  auto pod = DecodePod(obj);
  if (!pod) return;
  if (type == "DELETED" || pod->spec.nodeName != name) {
    workers->Gone(pod->metadata.uid);
  } else {
    workers->Update(*pod);
  }
}

void Agent::Impl::Stop(bool clean) {
  if (stopped) return;
  stopped = true;
  // The watch threads end within a watch slice: let them wind down while the pods stop.
  if (pods) pods->RequestStop();
  if (pods) pods->Stop();
  if (nodeStatus) nodeStatus->Stop();
  if (workers) workers->Shutdown(clean);
  if (logs) logs->Stop();
  if (volumes) volumes->Stop();
  if (clean && blockDriver) {
    // The block pool's loop-mounted image, once no volume of it is attached any more.
    Status s = blockDriver->ReleasePool();
    if (!s.ok()) Log("clean stop: " + s.message());
  }
  if (clean && runtime) {
    // Last: nothing of the node may stay mounted under DIR after a clean stop.
    Status s = runtime->ReleaseDataDir();
    if (!s.ok()) Log("clean stop: " + s.message());
  }
  if (objects) objects->Stop();
  if (eventQueue) eventQueue->Stop(clean);
  if (statusQueue) statusQueue->Stop(clean);
  running = false;
}

Agent::Agent(NodeOptions opts) : impl_(std::make_unique<Impl>()) { impl_->o = std::move(opts); }

Agent::~Agent() {
  impl_->Stop(false);
  // Members are destroyed in reverse order: the workers before the runtime they use.
  impl_->pods.reset();
  impl_->workers.reset();
}

Status Agent::Start() {
  Status s = impl_->Start();
  if (!s.ok()) impl_->Stop(false);
  return s;
}

void Agent::Stop(bool cleanStop) { impl_->Stop(cleanStop); }

const std::string& Agent::nodeName() const { return impl_->name; }

int Agent::logPort() const { return impl_->logPort; }

int RunNode(const NodeOptions& opts) {
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  Agent agent(opts);
  Status s = agent.Start();
  if (!s.ok()) {
    std::fprintf(stderr, "kvol: %s\n", s.message().c_str());
    return 1;
  }
  std::fprintf(stdout, "kvol node ready %s\n", agent.nodeName().c_str());
  std::fflush(stdout);
  int sig = 0;
  while (sigwait(&sigs, &sig) != 0) {
  }
  Log(std::string("stopping (") + (sig == SIGINT ? "SIGINT" : "SIGTERM") + ")");
  agent.Stop(true);
  Log("stopped");
  return 0;
}

}  // namespace kvol::node
