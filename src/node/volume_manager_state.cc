#include "volume_manager_state.h"

#include <algorithm>
#include <filesystem>
#include <system_error>

namespace kvol::node::vmstate {

namespace fs = std::filesystem;

void Backoff::Failed(Clock::time_point now) {
  delay_ = delay_ == Clock::duration{0} ? kInitial : std::min<Clock::duration>(delay_ * 2, kMax);
  notBefore_ = now + delay_;
}

void Backoff::Reset() {
  delay_ = Clock::duration{0};
  notBefore_ = Clock::time_point{};
}

bool EventThrottle::ShouldEmit(const std::string& message, Clock::time_point now) {
  if (message != last_ || gap_ == Clock::duration{0}) {
    last_ = message;
    lastAt_ = now;
    gap_ = Backoff::kInitial;
    return true;
  }
  if (now - lastAt_ < gap_) return false;
  lastAt_ = now;
  gap_ = std::min<Clock::duration>(gap_ * 2, Backoff::kMax);
  return true;
}

void EventThrottle::Reset() {
  last_.clear();
  gap_ = Clock::duration{0};
}

bool RefsContain(const std::vector<volume::ObjectRef>& refs, const volume::ObjectRef& ref) {
  return std::any_of(refs.begin(), refs.end(), [&](const volume::ObjectRef& r) {
    return r.resource == ref.resource && r.ns == ref.ns && r.name == ref.name;
  });
}

namespace {

bool RefersToPod(const std::vector<volume::ObjectRef>& refs) {
  return std::any_of(refs.begin(), refs.end(),
                     [](const volume::ObjectRef& r) { return r.resource == "pods"; });
}

}  // namespace

DesiredPod MakeDesiredPod(std::shared_ptr<const api::Pod> pod,
                          const std::vector<std::unique_ptr<volume::Plugin>>& plugins,
                          const DesiredPod* previous) {
  DesiredPod out;
  out.pod = std::move(pod);
  const bool metaChanged =
      previous != nullptr && (previous->pod->metadata.labels != out.pod->metadata.labels ||
                              previous->pod->metadata.annotations != out.pod->metadata.annotations);
  for (const api::Volume& v : out.pod->spec.volumes) {
    DesiredVolume dv;
    if (previous != nullptr) {
      for (const DesiredVolume& p : previous->volumes) {
        if (p.spec->name == v.name) {
          dv = p;  // backoff, error, refresh flag carry over
          break;
        }
      }
    }
    dv.spec = &v;
    dv.plugin = nullptr;
    for (const auto& p : plugins) {
      if (p->CanHandle(v)) {
        dv.plugin = p.get();
        break;
      }
    }
    dv.refs = dv.plugin != nullptr ? dv.plugin->References(*out.pod, v)
                                   : std::vector<volume::ObjectRef>{};
    if (metaChanged && RefersToPod(dv.refs)) {
      dv.refresh = true;
      dv.backoff.Reset();
    }
    out.volumes.push_back(std::move(dv));
  }
  if (previous != nullptr) out.readyNotified = previous->readyNotified;
  return out;
}

std::shared_ptr<const api::Pod> UidOnlyPod(const std::string& uid) {
  auto p = std::make_shared<api::Pod>();
  p->apiVersion = "v1";
  p->kind = "Pod";
  p->metadata.uid = uid;
  return p;
}

Result<std::map<std::string, std::set<std::pair<std::string, std::string>>>> ScanPodVolumes(
    const std::string& dataDir) {
  std::map<std::string, std::set<std::pair<std::string, std::string>>> out;
  const fs::path podsDir = fs::path(dataDir) / "pods";
  std::error_code ec;
  if (!fs::exists(podsDir, ec)) return out;
  // Entries of `dir` not starting with '.'; only directories unless anyKind (a volume's own entry
  // may be a file, a device node or a stale mount whose stat fails).
  auto listDirs = [](const fs::path& dir, std::vector<std::string>& names,
                     bool anyKind = false) -> Status {
    std::error_code e;
    for (fs::directory_iterator it(dir, e), end; !e && it != end; it.increment(e)) {
      const std::string name = it->path().filename().string();
      if (name.empty() || name[0] == '.') continue;
      std::error_code se;
      if (!anyKind && it->symlink_status(se).type() != fs::file_type::directory) continue;
      names.push_back(name);
    }
    if (e) return Internal("reading " + dir.string() + ": " + e.message());
    return Status::Ok();
  };
  std::vector<std::string> uids;
  KVOL_RETURN_IF_ERROR(listDirs(podsDir, uids));
  for (const std::string& uid : uids) {
    const fs::path podDir = podsDir / uid;
    const fs::path volumesDir = podDir / "volumes";
    const bool hasVolumes = fs::is_directory(fs::symlink_status(volumesDir, ec));
    const bool hasSubpaths = fs::is_directory(fs::symlink_status(podDir / "volume-subpaths", ec));
    if (!hasVolumes && !hasSubpaths) continue;
    auto& set = out[uid];
    if (!hasVolumes) continue;
    std::vector<std::string> pluginDirs;
    KVOL_RETURN_IF_ERROR(listDirs(volumesDir, pluginDirs));
    for (const std::string& pluginDir : pluginDirs) {
      std::vector<std::string> dirNames;
      KVOL_RETURN_IF_ERROR(listDirs(volumesDir / pluginDir, dirNames, true));
      for (std::string& d : dirNames) set.emplace(pluginDir, std::move(d));
    }
  }
  return out;
}

}  // namespace kvol::node::vmstate
