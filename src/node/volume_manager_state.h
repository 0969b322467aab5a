// The two worlds of the volume manager (private to src/node), in the kubelet's shape:
// - DesiredPod: a pod the agent wants running here and, per volume of its spec, the plugin that
//   serves it and the convergence bookkeeping of that volume (backoff, last error, refresh due);
// - ActualPod: what is on disk for a pod uid: volumes set up by this process (by volume name) and
//   volumes found at reconstruction (plugin dir + dir name) not yet adopted by a SetUp.
// Plus the two small timing rules every operation follows (Backoff, EventThrottle).
//
// Thread safety: none; VolumeManager guards all of it with its one mutex. Ownership: a DesiredPod
// holds its pod by shared_ptr so an operation running outside the lock keeps it alive; the
// api::Volume pointers point into that pod.
#pragma once

#include <cstdint>

#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "kvol/api/types_pod.h"
#include "kvol/common/status.h"
#include "kvol/volume/plugin.h"

namespace kvol::node::vmstate {

using Clock = std::chrono::steady_clock;

// Per-operation exponential backoff: the first failure waits 0.5 s, each next one twice as long,
// at most 30 s. Reset (success, or an ObjectChanged touching the volume) makes it ready at once.
class Backoff {
 public:
  static constexpr Clock::duration kInitial = std::chrono::milliseconds(500);
  static constexpr Clock::duration kMax = std::chrono::seconds(30);

  void Failed(Clock::time_point now);
  void Reset();
  bool Ready(Clock::time_point now) const { return now >= notBefore_; }
  Clock::time_point notBefore() const { return notBefore_; }
  Clock::duration delay() const { return delay_; }

 private:
  Clock::duration delay_{0};
  Clock::time_point notBefore_{};
};

// Keeps one repeated message from flooding the pod's events: a new message goes out at once; the
// same message again only after a gap that doubles like the backoff (0.5 s ... 30 s).
class EventThrottle {
 public:
  bool ShouldEmit(const std::string& message, Clock::time_point now);
  void Reset();

 private:
  std::string last_;
  Clock::time_point lastAt_{};
  Clock::duration gap_{0};
};

struct DesiredVolume {
  const api::Volume* spec = nullptr;    // into DesiredPod::pod
  volume::Plugin* plugin = nullptr;     // null: no plugin matched (stays pending)
  std::vector<volume::ObjectRef> refs;  // plugin->References(pod, volume), at AddPod time
  bool refresh = false;                 // mounted, but SetUp must run again (content changed)
  // Bumped by every change of a referenced object. A SetUp that started at an older value may
  // have read the old content, so finishing it does not clear `refresh`: it runs again.
  uint64_t changeGen = 0;
  bool reportedNoPlugin = false;
  Backoff backoff;
  Status lastError;  // of the last SetUp (OK once it succeeded)
  EventThrottle events;
};

struct DesiredPod {
  std::shared_ptr<const api::Pod> pod;
  std::vector<DesiredVolume> volumes;  // pod.spec.volumes order
  bool readyNotified = false;          // onPodVolumesReady sent for the current mounts
};

// Builds the desired volumes of `pod` with the plugins given (first CanHandle wins), keeping the
// bookkeeping of `previous` (same volume names) when the pod was already known. Volumes whose
// References() include the pod itself ("pods") are marked for refresh when the pod's labels or
// annotations changed.
DesiredPod MakeDesiredPod(std::shared_ptr<const api::Pod> pod,
                          const std::vector<std::unique_ptr<volume::Plugin>>& plugins,
                          const DesiredPod* previous);

bool RefsContain(const std::vector<volume::ObjectRef>& refs, const volume::ObjectRef& ref);

struct ActualPod {
  std::map<std::string, volume::MountedVolume> mounted;         // by volume name
  std::set<std::pair<std::string, std::string>> reconstructed;  // (pluginDir, dirName)
  std::shared_ptr<const api::Pod> pod;  // last known object (events); a uid-only stub if none
  bool removed = false;                 // RemovePod said so: may go before MarkDesiredSynced
  Backoff teardownBackoff;
  EventThrottle events;
  Status lastError;  // of the last tear down
};

// A pod with only metadata.uid set: what events name for a pod found on disk alone.
std::shared_ptr<const api::Pod> UidOnlyPod(const std::string& uid);

// DIR/pods/*/volumes/<plugin>/<dir>, skipping entries whose names start with '.'; pods with only a
// volume-subpaths directory are found too (with no volumes). uid -> (pluginDir, dirName) set.
Result<std::map<std::string, std::set<std::pair<std::string, std::string>>>> ScanPodVolumes(
    const std::string& dataDir);

}  // namespace kvol::node::vmstate
