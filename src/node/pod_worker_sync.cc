// What a pod worker does on each wake-up (pod_worker_pool.h): converge a live pod, tear down a
// deleted one, stop one cleanly at shutdown, and report status.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "kvol/api/meta.h"
#include "kvol/common/trace.h"
#include "kvol/os/fs.h"
#include "kvol/volume/subpath.h"
#include "pod_worker_pool.h"
#include "pod_worker_state.h"

namespace kvol::node {

using Clock = std::chrono::steady_clock;
using api::json;

namespace {

void Log(const std::string& m) { std::fprintf(stderr, "kvol node: %s\n", m.c_str()); }

std::string Hostname(const api::Pod& pod) {
  std::string h = pod.spec.hostname.empty() ? pod.metadata.name : pod.spec.hostname;
  if (h.size() > 63) h = h.substr(0, 63);
  while (!h.empty() && (h.back() == '-' || h.back() == '.')) h.pop_back();
  return h;
}

std::string PodRef(const api::Pod& pod) {
  return pod.metadata.name + "_" + pod.metadata.namespace_ + "(" + pod.metadata.uid + ")";
}

// Looks `name` up in <rootfs>/etc/passwd (or group): the numeric id, -1 when absent.
int64_t LookupId(const std::string& rootfs, const char* file, const std::string& name,
                 int64_t* gidOut) {
  std::ifstream f(rootfs + "/etc/" + file);
  std::string line;
  while (std::getline(f, line)) {
    std::vector<std::string> parts;
    std::stringstream ss(line);
    std::string p;
    while (std::getline(ss, p, ':')) parts.push_back(p);
    if (parts.size() >= 3 && parts[0] == name) {
      try {
        if (gidOut && parts.size() >= 4) *gidOut = std::stoll(parts[3]);
        return std::stoll(parts[2]);
      } catch (...) {
        return -1;
      }
    }
  }
  return -1;
}

bool IsNumber(const std::string& s) {
  return !s.empty() && s.size() < 10 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// The image's User ("1000", "1000:1000", "nobody", "nobody:nogroup") as uid/gid.
Status ImageUser(const std::string& rootfs, const std::string& user, int64_t* uid, int64_t* gid) {
  *uid = 0;
  *gid = 0;
  if (user.empty()) return Status::Ok();
  std::string u = user, g;
  if (auto c = user.find(':'); c != std::string::npos) {
    u = user.substr(0, c);
    g = user.substr(c + 1);
  }
  int64_t pwGid = 0;
  if (IsNumber(u)) {
    *uid = std::stoll(u);
  } else {
    *uid = LookupId(rootfs, "passwd", u, &pwGid);
    if (*uid < 0)
      return NotFound("unable to find user " + u + ": no matching entries in passwd file");
    *gid = pwGid;
  }
  if (!g.empty()) {
    if (IsNumber(g)) {
      *gid = std::stoll(g);
    } else {
      *gid = LookupId(rootfs, "group", g, nullptr);
      if (*gid < 0)
        return NotFound("unable to find group " + g + ": no matching entries in group file");
    }
  }
  return Status::Ok();
}

std::string DefaultPullPolicy(const api::Container& c) {
  if (!c.imagePullPolicy.empty()) return c.imagePullPolicy;
  std::string img = c.image;
  auto slash = img.rfind('/');
  std::string last = slash == std::string::npos ? img : img.substr(slash + 1);
  if (last.find('@') != std::string::npos) return "IfNotPresent";
  auto colon = last.find(':');
  if (colon == std::string::npos || last.substr(colon + 1) == "latest") return "Always";
  return "IfNotPresent";
}

bool Running(const ContainerRecord& r) {
  return !r.id.empty() &&
         (r.rt.state == runtime::State::kRunning || r.rt.state == runtime::State::kCreated);
}

const char* kEtcHosts =
    "# Kubernetes-managed hosts file.\n"
    "127.0.0.1\tlocalhost\n"
    "::1\tlocalhost ip6-localhost ip6-loopback\n"
    "fe00::0\tip6-localnet\n"
    "fe00::0\tip6-mcastprefix\n"
    "fe00::1\tip6-allnodes\n"
    "fe00::2\tip6-allrouters\n";

}  // namespace

void PodWorkers::Refresh(Worker& w) {
  std::set<std::string> exited;
  {
    std::lock_guard<std::mutex> l(w.mu);
    exited.swap(w.exited);
  }
  for (auto* list : {&w.init, &w.regular}) {
    for (auto& r : *list) {
      if (r.id.empty() || !exited.count(r.id)) continue;
      auto st = d_.runtime->Inspect(r.id);
      if (st.ok()) {
        r.rt = *st;
      } else {
        r.rt.state = runtime::State::kExited;
        r.rt.exitCode = 255;
        r.rt.reason = "Error";
        r.rt.message = st.status().message();
      }
    }
  }
}

void PodWorkers::Sync(Worker& w, const api::Pod& pod) {
  const std::string policy = pod.spec.restartPolicy.empty() ? "Always" : pod.spec.restartPolicy;
  // A pod the API already reports finished is never started again (the kubelet's rule).
  bool anyId = false;
  for (const auto* list : {&w.init, &w.regular}) {
    for (const auto& r : *list) anyId = anyId || !r.id.empty();
  }
  if (!anyId && !w.lastStatus &&
      (pod.status.phase == "Succeeded" || pod.status.phase == "Failed")) {
    return;
  }
  // The volume manager needs the pod again only when what its volumes read of it changed
  // (downwardAPI: labels, annotations).
  auto addVolumes = [&] {
    std::string volKey = json(pod.metadata.labels).dump() + json(pod.metadata.annotations).dump();
    if (volKey != w.addedRv) {
      d_.volumes->AddPod(pod);
      w.addedRv = volKey;
    }
    NodeTrace(w.uid, "volumes added");
  };
  // Volumes first when the runtime has made DIR shared already (see sandboxMade_), so that they
  // are set up (on the volume manager's thread) while the sandbox is made.
  const bool volumesFirst = sandboxMade_.load();
  if (volumesFirst) addVolumes();
  if (!w.sandboxReady) {
    auto sb = d_.runtime->EnsureSandbox(PodDir(w.uid), w.uid, Hostname(pod));
    if (!sb.ok()) {
      d_.events->Record(pod, "Warning", "FailedCreatePodSandBox",
                        "Failed to create pod sandbox: " + sb.status().message());
      w.WakeBy(Clock::now() + std::chrono::seconds(5));
      WriteStatus(w, pod);
      return;
    }
    w.sandbox = *sb;
    w.sandboxReady = true;
    sandboxMade_ = true;
    NodeTrace(w.uid, "sandbox");
  }
  if (!volumesFirst) addVolumes();
  auto vols = d_.volumes->WaitForVolumes(w.uid, Clock::now() + std::chrono::milliseconds(500));
  NodeTrace(w.uid, "volumes ready");
  if (!vols.ok()) {
    // The volume manager reports the reason as events (FailedMount) and wakes us when ready.
    w.WakeBy(Clock::now() + std::chrono::milliseconds(500));
    WriteStatus(w, pod);
    return;
  }
  {
    std::lock_guard<std::mutex> l(w.startMu);
    w.deferEvents = true;
  }
  bool initDone = true;
  for (size_t i = 0; i < w.init.size() && i < pod.spec.initContainers.size(); ++i) {
    ContainerRecord& r = w.init[i];
    const api::Container& spec = pod.spec.initContainers[i];
    if (r.sidecar) {
      Converge(w, pod, r, spec, "Always", *vols);
      if (!Running(r)) {
        initDone = false;
        break;
      }
      continue;
    }
    if (!r.id.empty() && r.rt.state == runtime::State::kExited && r.rt.exitCode == 0) {
      r.done = true;
      r.waitingReason.clear();
      continue;
    }
    initDone = false;
    if (r.done || Running(r)) break;  // failed for good, or still running
    Converge(w, pod, r, spec, policy == "Never" ? "Never" : "OnFailure", *vols);
    break;
  }
  if (initDone) {
    // Containers that need the runtime start side by side (crun takes milliseconds each); the
    // ones already running cost nothing.
    std::vector<size_t> act;
    for (size_t i = 0; i < w.regular.size() && i < pod.spec.containers.size(); ++i) {
      const ContainerRecord& r = w.regular[i];
      if (r.id.empty() || (r.rt.state == runtime::State::kExited && !r.done)) act.push_back(i);
    }
    if (act.size() > 1) {
      std::vector<std::thread> ts;
      for (size_t k = 1; k < act.size(); ++k) {
        size_t i = act[k];
        ts.emplace_back(
            [&, i] { Converge(w, pod, w.regular[i], pod.spec.containers[i], policy, *vols); });
      }
      Converge(w, pod, w.regular[act[0]], pod.spec.containers[act[0]], policy, *vols);
      for (auto& t : ts) t.join();
    } else if (act.size() == 1) {
      Converge(w, pod, w.regular[act[0]], pod.spec.containers[act[0]], policy, *vols);
    }
  }
  WriteStatus(w, pod);
}

void PodWorkers::Converge(Worker& w, const api::Pod& pod, ContainerRecord& r,
                          const api::Container& spec, const std::string& policy,
                          const std::map<std::string, volume::MountedVolume>& vols) {
  auto now = Clock::now();
  if (r.id.empty()) {
    if (now < r.notBefore) {
      w.WakeBy(r.notBefore);
      return;
    }
    StartContainer(w, pod, r, spec, vols);
    return;
  }
  if (r.rt.state != runtime::State::kExited || r.done) return;
  if (!ShouldRestart(policy, r.rt.exitCode)) {
    r.done = true;
    r.waitingReason.clear();
    return;
  }
  if (!r.backoffArmed) {
    auto ranFor = std::chrono::duration_cast<std::chrono::seconds>(now - r.runningSince);
    auto delay = r.backoff.OnExit(ranFor);
    r.backoffArmed = true;
    r.notBefore = now + delay;
    if (delay.count() > 0) {
      r.waitingReason = "CrashLoopBackOff";
      r.waitingMessage = "back-off " + std::to_string(delay.count()) +
                         "s restarting failed container=" + r.name + " pod=" + PodRef(pod);
      d_.events->Record(
          pod, "Warning", "BackOff",
          "Back-off restarting failed container " + r.name + " in pod " + PodRef(pod));
    }
  }
  if (now < r.notBefore) {
    w.WakeBy(r.notBefore);
    return;
  }
  // Restart: the exited container goes (its log stays for --previous), a new one starts.
  r.lastTermination = TerminatedOf(r);
  Status s = d_.runtime->Remove(r.id);
  if (!s.ok()) Log("removing container " + r.id + ": " + s.message());
  r.id.clear();
  r.rt = runtime::ContainerStatus{};
  r.restartCount++;
  r.waitingReason.clear();
  r.waitingMessage.clear();
  StartContainer(w, pod, r, spec, vols);
}

void PodWorkers::StartContainer(Worker& w, const api::Pod& pod, ContainerRecord& r,
                                const api::Container& spec,
                                const std::map<std::string, volume::MountedVolume>& vols) {
  auto now = Clock::now();
  auto wait = [&](const std::string& reason, const std::string& message,
                  std::chrono::seconds retry) {
    r.waitingReason = reason;
    r.waitingMessage = message;
    r.notBefore = now + retry;
    w.WakeBy(r.notBefore);
  };
  const std::string podDir = PodDir(w.uid);

  // Image: only what the node's store holds (there is no registry).
  auto img = d_.images->Get(spec.image);
  if (!img.ok()) {
    std::chrono::seconds delay;
    int failures;
    {
      std::lock_guard<std::mutex> l(w.startMu);
      delay = w.imageBackoff[r.name].OnExit(std::chrono::seconds(0));
      failures = ++w.imageFailures[r.name];
    }
    if (DefaultPullPolicy(spec) == "Never") {
      std::string msg =
          "Container image \"" + spec.image + "\" is not present with pull policy of Never";
      Event(w, pod, "Warning", "ErrImageNeverPull", msg);
      wait("ErrImageNeverPull", msg, std::max(delay, std::chrono::seconds(10)));
      return;
    }
    if (failures == 1) {
      std::string msg = "Failed to pull image \"" + spec.image + "\": " + img.status().message() +
                        "; kvol has no registry: import the image with `kvol image import`";
      Event(w, pod, "Warning", "Failed", msg);
      Event(w, pod, "Warning", "Failed", "Error: ErrImagePull");
      wait("ErrImagePull", msg, std::max(delay, std::chrono::seconds(1)));
    } else {
      std::string msg = "Back-off pulling image \"" + spec.image + "\"";
      Event(w, pod, "Normal", "BackOff", msg);
      wait("ImagePullBackOff", msg, std::max(delay, std::chrono::seconds(1)));
    }
    return;
  }
  {
    std::lock_guard<std::mutex> l(w.startMu);
    w.imageBackoff.erase(r.name);
    w.imageFailures.erase(r.name);
  }
  r.image = img->name;
  r.imageID = img->id;
  Event(w, pod, "Normal", "Pulled",
        "Container image \"" + spec.image + "\" already present on machine");

  auto configError = [&](const std::string& msg) {
    Event(w, pod, "Warning", "Failed", "Error: " + msg);
    wait("CreateContainerConfigError", msg, std::chrono::seconds(2));
  };
  auto own = ContainerEnv(pod, spec, *d_.objects, d_.facts);
  if (!own.ok()) return configError(own.status().message());
  std::map<std::string, std::string> envMap(own->begin(), own->end());

  runtime::ContainerConfig c;
  c.restartCount = r.restartCount;
  c.id = MakeContainerId(w.uid, r.name, r.restartCount);
  c.podUid = w.uid;
  c.podName = pod.metadata.name;
  c.podNamespace = pod.metadata.namespace_;
  c.containerName = r.name;
  c.imageRootfs = img->rootfs;
  c.containerDir = podDir + "/containers/" + r.name;
  c.logPath = c.containerDir + "/" + std::to_string(r.restartCount) + ".log";
  c.args = ContainerArgs(img->config, spec, envMap);
  if (c.args.empty()) return configError("no command specified");
  c.hostname = Hostname(pod);
  c.env = MergeEnv(img->config.env, *own, c.hostname);
  c.workingDir = spec.workingDir.empty() ? img->config.workingDir : spec.workingDir;
  c.sandbox = w.sandbox;

  bool ownHosts = false;
  for (size_t i = 0; i < spec.volumeMounts.size(); ++i) {
    const auto& m = spec.volumeMounts[i];
    auto it = vols.find(m.name);
    if (it == vols.end()) {
      return configError("cannot find volume \"" + m.name + "\" to mount into container \"" +
                         spec.name + "\"");
    }
    const volume::MountedVolume& mv = it->second;
    if (mv.block) {
      return configError("volume \"" + m.name +
                         "\" is a block device: use volumeDevices, not volumeMounts");
    }
    bool ro = m.readOnly || mv.readOnly;
    std::string host = mv.hostPath;
    std::string sub = m.subPath;
    if (!m.subPathExpr.empty()) {
      auto e = volume::ExpandSubPathExpr(m.subPathExpr, envMap);
      if (!e.ok()) return configError(e.status().message());
      sub = *e;
    }
    if (!sub.empty()) {
      auto p = volume::PrepareSubPath(*d_.mounter, podDir, mv.hostPath, sub, m.name, spec.name,
                                      static_cast<int>(i), ro);
      if (!p.ok()) return configError(p.status().message());
      host = *p;
    }
    if (m.mountPath == "/etc/hosts") ownHosts = true;
    c.mounts.push_back(runtime::BindMount{host, m.mountPath, ro, false});
  }
  for (const auto& dev : spec.volumeDevices) {
    auto it = vols.find(dev.name);
    if (it == vols.end() || !it->second.block) {
      return configError("volume \"" + dev.name + "\" is not a block volume (volumeDevices)");
    }
    c.mounts.push_back(
        runtime::BindMount{it->second.hostPath, dev.devicePath, it->second.readOnly, true});
  }
  if (!ownHosts) {
    std::string hosts = podDir + "/etc-hosts";
    std::lock_guard<std::mutex> l(w.startMu);
    if (!w.hostsWritten) {
      // No fsync: the file is rewritten whenever the pod starts on this node.
      std::string tmp = hosts + ".tmp";
      {
        std::ofstream f(tmp, std::ios::trunc);
        f << kEtcHosts << "127.0.0.1\t" << c.hostname << "\n";
        w.hostsWritten = static_cast<bool>(f);
      }
      w.hostsWritten = w.hostsWritten && std::rename(tmp.c_str(), hosts.c_str()) == 0;
    }
    if (w.hostsWritten) c.mounts.push_back(runtime::BindMount{hosts, "/etc/hosts", false, false});
  }
  const auto* psc = pod.spec.securityContext ? &*pod.spec.securityContext : nullptr;
  const auto* sc = spec.securityContext ? &*spec.securityContext : nullptr;
  int64_t uid = 0, gid = 0;
  Status us = ImageUser(img->rootfs, img->config.user, &uid, &gid);
  if (!us.ok()) return configError(us.message());
  if (psc && psc->runAsUser) uid = *psc->runAsUser;
  if (psc && psc->runAsGroup) gid = *psc->runAsGroup;
  if (sc && sc->runAsUser) uid = *sc->runAsUser;
  if (sc && sc->runAsGroup) gid = *sc->runAsGroup;
  c.uid = uid;
  c.gid = gid;
  c.privileged = sc && sc->privileged.value_or(false);
  c.readOnlyRootfs = sc && sc->readOnlyRootFilesystem.value_or(false);

  NodeTrace(w.uid, "container config");
  Status st = d_.runtime->Start(c);
  NodeTrace(w.uid, "container started");
  if (st.IsAlreadyExists()) {  // left behind by a run that died while starting it
    Status s = d_.runtime->Stop(c.id, 0);
    s = d_.runtime->Remove(c.id);
    (void)s;
    st = d_.runtime->Start(c);
  }
  if (!st.ok()) {
    Event(w, pod, "Warning", "Failed", "Error: " + st.message());
    auto delay = r.backoff.OnExit(std::chrono::seconds(0));
    wait("RunContainerError", st.message(), std::max(delay, std::chrono::seconds(1)));
    return;
  }
  r.id = c.id;
  r.waitingReason.clear();
  r.waitingMessage.clear();
  r.backoffArmed = false;
  r.runningSince = now;
  auto ins = d_.runtime->Inspect(c.id);
  if (ins.ok()) {
    r.rt = *ins;
  } else {
    r.rt = runtime::ContainerStatus{};
    r.rt.id = c.id;
    r.rt.state = runtime::State::kRunning;
    r.rt.startedAt = api::Now();
  }
  Event(w, pod, "Normal", "Created", "Created container: " + r.name);
  if (r.rt.state == runtime::State::kExited && r.rt.reason == "StartError") {
    Event(w, pod, "Warning", "Failed", "Error: " + r.rt.message);
  } else {
    Event(w, pod, "Normal", "Started", "Started container " + r.name);
  }
}

void PodWorkers::StopContainers(Worker& w, const api::Pod& pod, int grace, bool events) {
  std::vector<std::thread> stops;
  for (auto* list : {&w.init, &w.regular}) {
    for (auto& r : *list) {
      if (!Running(r)) continue;
      if (events) d_.events->Record(pod, "Normal", "Killing", "Stopping container " + r.name);
      std::string id = r.id;
      stops.emplace_back([this, id, grace] {
        Status s = d_.runtime->Stop(id, grace);
        if (!s.ok()) Log("stopping container " + id + ": " + s.message());
      });
    }
  }
  for (auto& t : stops) t.join();
  for (auto* list : {&w.init, &w.regular}) {
    for (auto& r : *list) {
      if (r.id.empty()) continue;
      auto st = d_.runtime->Inspect(r.id);
      if (st.ok()) r.rt = *st;
      r.waitingReason.clear();
      r.done = true;
    }
  }
  std::lock_guard<std::mutex> l(w.mu);
  w.exited.clear();
}

void PodWorkers::RemoveContainers(Worker& w) {
  for (auto* list : {&w.init, &w.regular}) {
    for (auto& r : *list) {
      if (r.id.empty()) continue;
      Status s = d_.runtime->Remove(r.id);
      if (!s.ok()) Log("removing container " + r.id + ": " + s.message());
    }
  }
}

void PodWorkers::Terminate(Worker& w, const api::Pod& pod, bool gone) {
  int64_t grace = pod.spec.terminationGracePeriodSeconds.value_or(30);
  if (pod.metadata.deletionGracePeriodSeconds) {
    grace = *pod.metadata.deletionGracePeriodSeconds;
  } else if (gone) {
    grace = std::min<int64_t>(grace, 2);  // deleted without a grace period (force)
  }
  if (grace < 0) grace = 0;
  StopContainers(w, pod, static_cast<int>(grace), !gone);
  w.Publish();
  if (!gone) WriteStatus(w, pod);
  RemoveContainers(w);
  const std::string podDir = PodDir(w.uid);
  Status s = volume::CleanupSubPaths(*d_.mounter, podDir);
  if (!s.ok()) Log("pod " + w.uid + ": " + s.message());
  s = d_.runtime->RemoveSandbox(podDir);
  if (!s.ok()) Log("pod " + w.uid + ": " + s.message());
  d_.volumes->RemovePod(w.uid);
  auto deadline = Clock::now() + std::chrono::minutes(2);
  auto step = std::chrono::milliseconds(2);
  while (!d_.volumes->PodCleanedUp(w.uid) && Clock::now() < deadline) {
    {
      std::unique_lock<std::mutex> l(w.mu);
      if (w.cv.wait_for(l, step, [&] { return w.shutdown; })) break;
    }
    step = std::min(step * 2, std::chrono::milliseconds(100));
  }
  if (d_.volumes->PodCleanedUp(w.uid)) {
    s = os::RemoveTreeOneFs(podDir);
    if (!s.ok()) Log("pod " + w.uid + ": " + s.message());
  } else {
    Log("pod " + w.uid + ": volumes not torn down yet; its directory stays");
  }
  if (gone) return;
  std::string ns = pod.metadata.namespace_, name = pod.metadata.name, uid = w.uid;
  d_.statusQueue->Post("delete/" + uid, [ns, name, uid](client::ApiClient& c) {
    json opts = {{"apiVersion", "v1"},
                 {"kind", "DeleteOptions"},
                 {"gracePeriodSeconds", 0},
                 {"preconditions", {{"uid", uid}}}};
    auto r = c.Do("DELETE", "/api/v1/namespaces/" + ns + "/pods/" + name + "?gracePeriodSeconds=0",
                  opts.dump(), "application/json");
    if (!r.ok() || (r->status != 200 && r->status != 404 && r->status != 409)) {
      Log("deleting pod " + ns + "/" + name + ": " +
          (r.ok() ? "HTTP " + std::to_string(r->status) + ": " + r->body : r.status().message()));
    }
  });
}

void PodWorkers::CleanStop(Worker& w, const api::Pod& pod) {
  int64_t grace = pod.spec.terminationGracePeriodSeconds.value_or(30);
  StopContainers(w, pod, static_cast<int>(std::max<int64_t>(grace, 0)), false);
  RemoveContainers(w);
  Status s = volume::CleanupSubPaths(*d_.mounter, PodDir(w.uid));
  if (!s.ok()) Log("pod " + w.uid + ": " + s.message());
  s = d_.runtime->RemoveSandbox(PodDir(w.uid));
  if (!s.ok()) Log("pod " + w.uid + ": " + s.message());
}

void PodWorkers::Event(Worker& w, const api::Pod& pod, const char* type, const std::string& reason,
                       const std::string& message) {
  {
    std::lock_guard<std::mutex> l(w.startMu);
    if (w.deferEvents) {
      w.deferredEvents.push_back({type, reason, message});
      return;
    }
  }
  d_.events->Record(pod, type, reason, message);
}

void PodWorkers::WriteStatus(Worker& w, const api::Pod& pod) {
  std::vector<Worker::DeferredEvent> events;
  {
    std::lock_guard<std::mutex> l(w.startMu);
    events.swap(w.deferredEvents);
    w.deferEvents = false;
  }
  auto sendEvents = [&] {
    if (events.empty()) return;
    // Behind the status write on its queue: recorded once it has been sent.
    PodEvents* pe = d_.events;
    d_.statusQueue->Post("", [pe, pod, events](client::ApiClient&) {
      for (const auto& e : events) pe->Record(pod, e.type, e.reason, e.message);
    });
  };
  api::PodStatus prev = w.lastStatus ? *w.lastStatus : pod.status;
  bool hasScheduled = false;
  for (const auto& c : prev.conditions) hasScheduled = hasScheduled || c.type == "PodScheduled";
  if (!hasScheduled) {
    for (const auto& c : pod.status.conditions) {
      if (c.type == "PodScheduled") prev.conditions.push_back(c);
    }
  }
  api::PodStatus st = ComputePodStatus(pod, w.init, w.regular, w.sandboxReady, prev, api::Now());
  json sj = api::ToJson(st);
  std::string text = sj.dump();
  if (text == w.lastStatusJson) {
    sendEvents();
    return;
  }
  w.lastStatus = st;
  w.lastStatusJson = text;
  std::string ns = pod.metadata.namespace_, name = pod.metadata.name, uid = w.uid;
  json body = {{"metadata", {{"uid", uid}}}, {"status", sj}};
  std::string b = body.dump();
  NodeTrace(uid, "status queued");
  d_.statusQueue->Post("status/" + uid, [ns, name, b, uid](client::ApiClient& c) {
    NodeTrace(uid, "status sending");
    auto r = c.Do("PATCH", "/api/v1/namespaces/" + ns + "/pods/" + name + "/status", b,
                  "application/merge-patch+json");
    NodeTrace(uid, "status written");
    if (!r.ok() || (r->status != 200 && r->status != 404)) {
      Log("pod " + ns + "/" + name + " status: " +
          (r.ok() ? "HTTP " + std::to_string(r->status) + ": " + r->body : r.status().message()));
    }
  });
  sendEvents();
}

}  // namespace kvol::node
