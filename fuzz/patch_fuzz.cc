// Fuzz target for kvol::patch: the input is "<target JSON>\n<patch JSON>". Every applier and
// both patch generators run on it; none may crash, throw or trip a sanitizer.
#include <cstddef>
#include <cstdint>
#include <string>

#include "kvol/patch/patch.h"

using kvol::patch::json;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string in(reinterpret_cast<const char*>(data), size);
  size_t nl = in.find('\n');
  if (nl == std::string::npos) return 0;
  json target = json::parse(in.substr(0, nl), nullptr, /*allow_exceptions=*/false);
  json patch = json::parse(in.substr(nl + 1), nullptr, /*allow_exceptions=*/false);
  if (target.is_discarded() || patch.is_discarded()) return 0;

  (void)kvol::patch::ApplyMergePatch(target, patch);
  (void)kvol::patch::ApplyJsonPatch(target, patch);
  static const char* const kKinds[][2] = {{"v1", "Pod"},
                                          {"apps/v1", "StatefulSet"},
                                          {"apps/v1", "Deployment"},
                                          {"v1", "Node"},
                                          {"v1", "PersistentVolumeClaim"},
                                          {"snapshot.storage.k8s.io/v1", "VolumeSnapshot"}};
  for (const auto& k : kKinds) {
    auto applied = kvol::patch::ApplyStrategicMergePatch(target, patch, k[0], k[1]);
    // Three-way: last-applied = target, manifest = patch, live = the SMP result (or target).
    const json& live = applied.ok() ? *applied : target;
    auto three = kvol::patch::CreateThreeWayStrategicPatch(target, patch, live, k[0], k[1]);
    if (three.ok()) (void)kvol::patch::ApplyStrategicMergePatch(live, *three, k[0], k[1]);
  }
  json mp = kvol::patch::CreateMergePatch(target, patch);
  (void)kvol::patch::ApplyMergePatch(target, mp);
  return 0;
}
