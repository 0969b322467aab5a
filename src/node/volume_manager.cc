// VolumeManager: desired state, actual state and the reconciler thread that converges them (see
// include/kvol/node/volume_manager.h). One mutex guards both states; plugin calls and callbacks run
// outside it. Operations run one at a time on the reconciler thread, so there is never more than
// one operation per volume; each pass tears down pods that are no longer desired before it sets up
// volumes (as the kubelet's reconciler does).
#include "kvol/node/volume_manager.h"

#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include "kvol/common/trace.h"
#include "kvol/os/fs.h"
#include "kvol/os/mount.h"
#include "volume_manager_state.h"

namespace kvol::node {

using vmstate::Clock;

namespace {

constexpr const char* kFailedMount = "FailedMount";
constexpr const char* kFailedUnmount = "FailedUnmount";

struct PendingEvent {
  std::shared_ptr<const api::Pod> pod;
  std::string reason, message;
};

struct Notifications {
  std::vector<PendingEvent> events;
  std::vector<std::string> ready;
  bool empty() const { return events.empty() && ready.empty(); }
};

std::string SetUpFailedMessage(const std::string& volume, const Status& st) {
  return "MountVolume.SetUp failed for volume \"" + volume + "\" : " + st.message();
}

// One SetUp of one desired volume.
struct SetUpOp {
  std::string uid;
  std::string volume;
  std::shared_ptr<const api::Pod> pod;  // keeps `spec` alive
  const api::Volume* spec = nullptr;
  volume::Plugin* plugin = nullptr;
  uint64_t changeGen = 0;  // DesiredVolume::changeGen when the op was chosen
};

// The tear down of everything a pod that is not desired has on disk.
struct TeardownOp {
  struct Item {
    std::string volume;  // volume name ("" for a reconstructed entry)
    std::string pluginDir, dirName;
  };
  std::string uid;
  std::vector<Item> items;
};

struct TeardownOutcome {
  std::vector<bool> done;  // per item: torn down (or nothing to do)
  bool dirsRemoved = false;
  Status error;  // first failure (OK when everything is gone)
};

}  // namespace

struct VolumeManager::Impl {
  VolumeManagerOptions opts;
  std::map<std::string, volume::Plugin*> byDir;  // PluginDir() -> plugin; immutable after ctor

  std::mutex mu;
  std::condition_variable work;     // wakes the reconciler
  std::condition_variable changed;  // wakes WaitForVolumes and UnmountAll
  std::map<std::string, vmstate::DesiredPod> desired;
  std::map<std::string, vmstate::ActualPod> actual;
  bool synced = false;
  bool stopping = false;
  bool paused = false;  // UnmountAll ran: nothing new is started
  bool opInFlight = false;
  bool started = false;
  std::thread thread;

  explicit Impl(VolumeManagerOptions o) : opts(std::move(o)) {
    if (opts.plugins.empty()) opts.plugins = volume::BuiltinPlugins();
    for (const auto& p : opts.plugins) byDir.emplace(p->PluginDir(), p.get());
  }

  std::string PodDir(const std::string& uid) const { return opts.node.dataDir + "/pods/" + uid; }
  os::Mounter& Mounter() const {
    return opts.node.mounter != nullptr ? *opts.node.mounter : os::RealMounter();
  }

  // ---- queries (mu held) ------------------------------------------------------------------------

  bool IsMounted(const std::string& uid, const std::string& volume) const {
    auto a = actual.find(uid);
    return a != actual.end() && a->second.mounted.count(volume) != 0;
  }

  bool AllMounted(const std::string& uid, const vmstate::DesiredPod& dp) const {
    for (const auto& v : dp.volumes) {
      if (!IsMounted(uid, v.spec->name)) return false;
    }
    return true;
  }

  Result<std::map<std::string, volume::MountedVolume>> MountedVolumesLocked(
      const std::string& uid) const {
    auto d = desired.find(uid);
    if (d == desired.end()) {
      return NotFound("pod " + uid + " is not known to the volume manager");
    }
    std::map<std::string, volume::MountedVolume> out;
    std::vector<std::string> unmounted;
    std::string firstError;
    for (const auto& v : d->second.volumes) {
      const std::string& name = v.spec->name;
      auto a = actual.find(uid);
      if (a != actual.end()) {
        auto m = a->second.mounted.find(name);
        if (m != a->second.mounted.end()) {
          out.emplace(name, m->second);
          continue;
        }
      }
      unmounted.push_back(name);
      if (firstError.empty() && !v.lastError.ok()) {
        firstError =
            v.plugin == nullptr ? v.lastError.message() : SetUpFailedMessage(name, v.lastError);
      }
    }
    if (unmounted.empty()) return out;
    if (!firstError.empty()) return Unavailable(firstError);
    std::string list;
    for (const auto& n : unmounted) list += (list.empty() ? "" : " ") + n;
    return Unavailable("waiting for volumes to be set up: unmounted volumes=[" + list + "]");
  }

  // ---- the reconciler -------------------------------------------------------------------------

  // Events for volumes no plugin serves, and readiness of pods whose volumes are all mounted.
  void CollectNotifications(Notifications& n) {
    for (auto& [uid, dp] : desired) {
      for (auto& v : dp.volumes) {
        if (v.plugin == nullptr && !v.reportedNoPlugin) {
          v.reportedNoPlugin = true;
          n.events.push_back({dp.pod, kFailedMount, v.lastError.message()});
        }
      }
      if (!dp.readyNotified && AllMounted(uid, dp)) {
        dp.readyNotified = true;
        n.ready.push_back(uid);
      }
    }
  }

  bool TeardownAllowed(const std::string& uid, const vmstate::ActualPod& ap) const {
    return desired.count(uid) == 0 && (ap.removed || synced);
  }

  std::optional<TeardownOp> NextTeardown(Clock::time_point now, Clock::time_point& wake) {
    for (auto& [uid, ap] : actual) {
      if (!TeardownAllowed(uid, ap)) continue;
      if (!ap.teardownBackoff.Ready(now)) {
        wake = std::min(wake, ap.teardownBackoff.notBefore());
        continue;
      }
      return MakeTeardownOp(uid, ap);
    }
    return std::nullopt;
  }

  static TeardownOp MakeTeardownOp(const std::string& uid, const vmstate::ActualPod& ap) {
    TeardownOp op;
    op.uid = uid;
    for (const auto& [name, mv] : ap.mounted) op.items.push_back({name, mv.pluginDir, mv.dirName});
    for (const auto& [pluginDir, dirName] : ap.reconstructed) {
      op.items.push_back({"", pluginDir, dirName});
    }
    return op;
  }

  std::optional<SetUpOp> NextSetUp(Clock::time_point now, Clock::time_point& wake) {
    for (auto& [uid, dp] : desired) {
      for (auto& v : dp.volumes) {
        if (v.plugin == nullptr) continue;
        if (IsMounted(uid, v.spec->name) && !v.refresh) continue;
        if (!v.backoff.Ready(now)) {
          wake = std::min(wake, v.backoff.notBefore());
          continue;
        }
        return SetUpOp{uid, v.spec->name, dp.pod, v.spec, v.plugin, v.changeGen};
      }
    }
    return std::nullopt;
  }

  Result<volume::MountedVolume> RunSetUp(const SetUpOp& op) {
    volume::VolumeRequest req;
    req.pod = op.pod.get();
    req.volume = op.spec;
    req.podDir = PodDir(op.uid);
    req.objects = opts.objects;
    req.node = &opts.node;
    auto r = op.plugin->SetUp(req);
    if (NodeTraceOn()) NodeTrace(op.uid, "volume " + op.volume + " set up");
    return r;
  }

  void ApplySetUp(const SetUpOp& op, const Result<volume::MountedVolume>& r, Notifications& n) {
    const auto now = Clock::now();
    if (r.ok()) {
      // Whatever the desired state became meanwhile, this is on disk now.
      auto& ap = actual[op.uid];
      if (ap.pod == nullptr) ap.pod = op.pod;
      ap.mounted[op.volume] = r.value();
      ap.reconstructed.erase({r->pluginDir, r->dirName});  // adopted
    }
    auto d = desired.find(op.uid);
    if (d == desired.end()) return;
    for (auto& v : d->second.volumes) {
      if (v.spec->name != op.volume) continue;
      if (r.ok()) {
        if (v.refresh) d->second.readyNotified = false;  // content changed: tell the worker
        // A referenced object changed while this SetUp ran: it may have written the old
        // content, so it runs again.
        v.refresh = v.changeGen != op.changeGen;
        v.backoff.Reset();
        v.lastError = Status::Ok();
        v.events.Reset();
      } else {
        // A referenced object changed while this SetUp ran (say the VolumeAttachment became
        // attached after SetUp read it): the change may be what it waited for, so no backoff.
        if (v.changeGen != op.changeGen) {
          v.backoff.Reset();
        } else {
          v.backoff.Failed(now);
        }
        v.lastError = r.status();
        const std::string msg = SetUpFailedMessage(op.volume, r.status());
        if (v.events.ShouldEmit(msg, now)) n.events.push_back({d->second.pod, kFailedMount, msg});
      }
      break;
    }
  }

  // keepData (a clean node stop): Plugin::Unmount instead of TearDown, and the volume
  // directories stay for the next start to adopt.
  TeardownOutcome RunTeardown(const TeardownOp& op, bool keepData = false) {
    TeardownOutcome out;
    out.done.assign(op.items.size(), false);
    const std::string podDir = PodDir(op.uid);
    for (size_t i = 0; i < op.items.size(); ++i) {
      const auto& it = op.items[i];
      auto p = byDir.find(it.pluginDir);
      if (it.pluginDir.empty() || p == byDir.end()) {
        // hostPath (nothing on disk), or a plugin this build lacks: the directory removal below
        // takes what is left and refuses if a mount is still there.
        out.done[i] = true;
        continue;
      }
      Status st = keepData ? p->second->Unmount(opts.node, podDir, it.dirName)
                           : p->second->TearDown(opts.node, podDir, it.dirName);
      if (st.ok()) {
        out.done[i] = true;
      } else if (out.error.ok()) {
        out.error = Status(st.code(), "UnmountVolume.TearDown failed for volume \"" +
                                          (it.volume.empty() ? it.dirName : it.volume) +
                                          "\" : " + st.message());
      }
    }
    if (!out.error.ok()) return out;
    const std::string subpaths = podDir + "/volume-subpaths";
    Status st;
    if (os::Exists(subpaths)) {
      st = Mounter().UnmountAllUnder(subpaths);
      if (st.ok()) st = os::RemoveTreeOneFs(subpaths);
    }
    if (st.ok() && !keepData) st = os::RemoveTreeOneFs(podDir + "/volumes");
    if (!st.ok()) {
      out.error = Status(st.code(), "removing the volumes of pod " + op.uid + ": " + st.message());
      return out;
    }
    out.dirsRemoved = !keepData;
    return out;
  }

  void ApplyTeardown(const TeardownOp& op, const TeardownOutcome& r, Notifications& n) {
    auto a = actual.find(op.uid);
    if (a == actual.end()) return;
    auto& ap = a->second;
    for (size_t i = 0; i < op.items.size(); ++i) {
      if (!r.done[i]) continue;
      const auto& it = op.items[i];
      if (!it.volume.empty()) {
        auto m = ap.mounted.find(it.volume);
        // Only if it is still the entry torn down (a SetUp may have run since: pod re-added).
        if (m != ap.mounted.end() && m->second.pluginDir == it.pluginDir &&
            m->second.dirName == it.dirName) {
          ap.mounted.erase(m);
        }
      } else {
        ap.reconstructed.erase({it.pluginDir, it.dirName});
      }
    }
    auto d = desired.find(op.uid);
    if (d != desired.end()) d->second.readyNotified = false;
    if (r.error.ok()) {
      if (r.dirsRemoved && d == desired.end() && ap.mounted.empty() && ap.reconstructed.empty()) {
        actual.erase(a);
      } else {
        ap.teardownBackoff.Failed(Clock::now());  // left over (cannot happen): never spin
      }
      return;
    }
    const auto now = Clock::now();
    ap.teardownBackoff.Failed(now);
    ap.lastError = r.error;
    if (ap.events.ShouldEmit(r.error.message(), now)) {
      n.events.push_back({ap.pod != nullptr ? ap.pod : vmstate::UidOnlyPod(op.uid), kFailedUnmount,
                          r.error.message()});
    }
  }

  void Dispatch(const Notifications& n) {
    for (const auto& e : n.events) {
      if (opts.onEvent) opts.onEvent(*e.pod, e.reason, e.message);
    }
    for (const auto& uid : n.ready) {
      if (opts.onPodVolumesReady) opts.onPodVolumesReady(uid);
    }
  }

  void Run() {
    std::unique_lock<std::mutex> l(mu);
    while (!stopping) {
      Notifications n;
      CollectNotifications(n);
      if (!n.empty()) {
        l.unlock();
        Dispatch(n);
        l.lock();
        continue;
      }
      if (paused) {
        work.wait(l);
        continue;
      }
      const auto now = Clock::now();
      auto wake = Clock::time_point::max();
      if (auto op = NextTeardown(now, wake)) {
        opInFlight = true;
        l.unlock();
        TeardownOutcome r = RunTeardown(*op);
        l.lock();
        opInFlight = false;
        ApplyTeardown(*op, r, n);
        changed.notify_all();
        l.unlock();
        Dispatch(n);
        l.lock();
        continue;
      }
      if (auto op = NextSetUp(now, wake)) {
        opInFlight = true;
        l.unlock();
        Result<volume::MountedVolume> r = RunSetUp(*op);
        l.lock();
        opInFlight = false;
        ApplySetUp(*op, r, n);
        changed.notify_all();
        l.unlock();
        Dispatch(n);
        l.lock();
        continue;
      }
      if (wake == Clock::time_point::max()) {
        work.wait(l);
      } else {
        work.wait_until(l, wake);
      }
    }
  }

  Status Reconstruct() {
    auto found = vmstate::ScanPodVolumes(opts.node.dataDir);
    if (!found.ok()) return found.status();
    std::lock_guard<std::mutex> l(mu);
    for (auto& [uid, dirs] : found.value()) {
      auto& ap = actual[uid];
      if (ap.pod == nullptr) ap.pod = vmstate::UidOnlyPod(uid);
      for (const auto& pd : dirs) {
        bool known = false;
        for (const auto& [name, mv] : ap.mounted) {
          known = known || (mv.pluginDir == pd.first && mv.dirName == pd.second);
        }
        if (!known) ap.reconstructed.insert(pd);
      }
    }
    return Status::Ok();
  }
};

VolumeManager::VolumeManager(VolumeManagerOptions opts)
    : impl_(std::make_unique<Impl>(std::move(opts))) {}

VolumeManager::~VolumeManager() { Stop(); }

Status VolumeManager::Start() {
  {
    std::lock_guard<std::mutex> l(impl_->mu);
    if (impl_->started) return Status(Code::kConflict, "volume manager already started");
    impl_->started = true;
  }
  KVOL_RETURN_IF_ERROR(impl_->Reconstruct());
  impl_->thread = std::thread([this] { impl_->Run(); });
  return Status::Ok();
}

void VolumeManager::Stop() {
  {
    std::lock_guard<std::mutex> l(impl_->mu);
    impl_->stopping = true;
  }
  impl_->work.notify_all();
  impl_->changed.notify_all();
  if (impl_->thread.joinable()) impl_->thread.join();
}

void VolumeManager::AddPod(const api::Pod& pod) {
  auto p = std::make_shared<const api::Pod>(pod);
  const std::string& uid = p->metadata.uid;
  {
    std::lock_guard<std::mutex> l(impl_->mu);
    auto d = impl_->desired.find(uid);
    vmstate::DesiredPod dp = vmstate::MakeDesiredPod(
        p, impl_->opts.plugins, d == impl_->desired.end() ? nullptr : &d->second);
    for (auto& v : dp.volumes) {
      if (v.plugin == nullptr && v.lastError.ok()) {
        v.lastError = Unavailable("volume \"" + v.spec->name + "\": no volume plugin matched");
      }
    }
    impl_->desired[uid] = std::move(dp);
    auto a = impl_->actual.find(uid);
    if (a != impl_->actual.end()) {
      a->second.pod = p;
      a->second.removed = false;
      a->second.teardownBackoff.Reset();
    }
  }
  impl_->work.notify_all();
  impl_->changed.notify_all();
}

void VolumeManager::RemovePod(const std::string& podUid) {
  {
    std::lock_guard<std::mutex> l(impl_->mu);
    auto d = impl_->desired.find(podUid);
    std::shared_ptr<const api::Pod> last;
    if (d != impl_->desired.end()) {
      last = d->second.pod;
      impl_->desired.erase(d);
    }
    auto& ap = impl_->actual[podUid];  // even when nothing is known: the directories may exist
    if (last != nullptr) ap.pod = last;
    if (ap.pod == nullptr) ap.pod = vmstate::UidOnlyPod(podUid);
    ap.removed = true;
    ap.teardownBackoff.Reset();
  }
  impl_->work.notify_all();
  impl_->changed.notify_all();
}

void VolumeManager::MarkDesiredSynced() {
  {
    std::lock_guard<std::mutex> l(impl_->mu);
    impl_->synced = true;
  }
  impl_->work.notify_all();
}

void VolumeManager::ObjectChanged(const volume::ObjectRef& ref) {
  bool any = false;
  {
    std::lock_guard<std::mutex> l(impl_->mu);
    for (auto& [uid, dp] : impl_->desired) {
      for (auto& v : dp.volumes) {
        if (!vmstate::RefsContain(v.refs, ref)) continue;
        any = true;
        v.backoff.Reset();
        ++v.changeGen;
        if (impl_->IsMounted(uid, v.spec->name)) v.refresh = true;
      }
    }
  }
  if (any) impl_->work.notify_all();
}

Result<std::map<std::string, volume::MountedVolume>> VolumeManager::MountedVolumes(
    const std::string& podUid) {
  std::lock_guard<std::mutex> l(impl_->mu);
  return impl_->MountedVolumesLocked(podUid);
}

Result<std::map<std::string, volume::MountedVolume>> VolumeManager::WaitForVolumes(
    const std::string& podUid, std::chrono::steady_clock::time_point deadline) {
  std::unique_lock<std::mutex> l(impl_->mu);
  while (true) {
    auto r = impl_->MountedVolumesLocked(podUid);
    if (r.ok() || impl_->stopping) return r;
    if (impl_->changed.wait_until(l, deadline) == std::cv_status::timeout) {
      return impl_->MountedVolumesLocked(podUid);
    }
  }
}

bool VolumeManager::PodCleanedUp(const std::string& podUid) {
  {
    std::lock_guard<std::mutex> l(impl_->mu);
    if (impl_->desired.count(podUid) != 0 || impl_->actual.count(podUid) != 0) return false;
  }
  const std::string podDir = impl_->PodDir(podUid);
  return !os::Exists(podDir + "/volumes") && !os::Exists(podDir + "/volume-subpaths");
}

Status VolumeManager::UnmountAll() {
  std::vector<std::string> uids;
  {
    std::unique_lock<std::mutex> l(impl_->mu);
    impl_->paused = true;
    impl_->changed.wait(l, [&] { return !impl_->opInFlight; });
    for (const auto& [uid, ap] : impl_->actual) uids.push_back(uid);
  }
  Status first;
  for (const std::string& uid : uids) {
    TeardownOp op;
    {
      std::lock_guard<std::mutex> l(impl_->mu);
      auto a = impl_->actual.find(uid);
      if (a == impl_->actual.end()) continue;
      op = Impl::MakeTeardownOp(uid, a->second);
    }
    TeardownOutcome r = impl_->RunTeardown(op, /*keepData=*/true);
    Notifications n;
    {
      std::lock_guard<std::mutex> l(impl_->mu);
      impl_->ApplyTeardown(op, r, n);
      auto a = impl_->actual.find(uid);
      // A desired pod keeps no empty entry: its volumes are simply not mounted any more.
      if (r.error.ok() && a != impl_->actual.end() && a->second.mounted.empty() &&
          a->second.reconstructed.empty()) {
        impl_->actual.erase(a);
      }
    }
    impl_->changed.notify_all();
    impl_->Dispatch(n);
    if (first.ok() && !r.error.ok()) first = r.error;
  }
  return first;
}

}  // namespace kvol::node
