// The payload builders of the four object-projecting volume types (internal to kvol::volume):
// configMap (configmap.cc), secret (secret.cc), downwardAPI (downward_api.cc) each turn their
// source into an AtomicWriter payload; projected (projected.cc) combines them. Also the SetUp /
// TearDown steps they share (projected_sources.cc).
//
// Errors, with the kubelet's wording (the pod's event shows them):
//   kUnavailable  configmap "app" not found / secret "db" not found          (not optional)
//   kUnavailable  configmap references non-existent config key: k / references non-existent
//                 secret key: k                                             (not optional)
//   kFailedPrecondition (kvol's, see plugins_internal.h)  unsupported fieldPath / resourceFieldRef
//   other ObjectSource errors are passed through.
//
// Thread safety: stateless.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "kvol/api/types_pod.h"
#include "kvol/volume/plugin.h"
#include "src/volume/atomic_writer.h"

namespace kvol::volume {

inline constexpr unsigned kDefaultFileMode = 0644;  // Kubernetes' *VolumeSourceDefaultMode

// Go's %q of a string (strconv.Quote): "a\"b\n" for a"b<newline>.
std::string GoQuote(const std::string& s);
// pkg/fieldpath FormatMap: sorted `key="value"` lines (value %q-quoted) joined by "\n".
std::string FormatMap(const std::map<std::string, std::string>& m);
// Standard base64 (padded; newlines skipped, as Go's decoder does); kInvalid on bad input.
Result<std::string> Base64Decode(const std::string& in);

// The value of a downwardAPI fieldRef (pkg/fieldpath ExtractFieldPathAsString, plus the spec and
// status fields the kubelet resolves): metadata.name, .namespace, .uid, .labels, .annotations,
// .labels['k'], .annotations['k'], spec.nodeName, spec.serviceAccountName, status.podIP,
// status.hostIP. Other paths: kvol's FailedPrecondition "unsupported fieldPath: x".
Result<std::string> ExtractFieldPath(const api::Pod& pod, const std::string& fieldPath);

// The payload of decoded key -> bytes `data`: every key (path = key, defaultMode) when `items` is
// empty, else each item's key at its path with its mode; a missing key is skipped when
// `optional`, else kUnavailable `missingKeyMessage + key`.
Result<Payload> ItemsPayload(const std::map<std::string, std::string>& data,
                             const std::vector<api::KeyToPath>& items, unsigned defaultMode,
                             bool optional, const std::string& missingKeyMessage);
// obj[field] as a string map (absent or null: empty); kInternal naming `what` when malformed.
Result<std::map<std::string, std::string>> StringMapField(const json& obj, const char* field,
                                                          const std::string& what);

// configmap.MakePayload: every key (data and binaryData, binaryData base64-decoded) or only the
// items; the mode of each file is the item's mode or defaultMode. A missing object (when
// `optional`) yields an empty payload.
Result<Payload> ConfigMapPayload(ObjectSource& objects, const std::string& ns,
                                 const std::string& name, const std::vector<api::KeyToPath>& items,
                                 unsigned defaultMode, bool optional);
// secret.MakePayload: the same over a Secret's data (base64) and stringData (plain, wins).
Result<Payload> SecretPayload(ObjectSource& objects, const std::string& ns, const std::string& name,
                              const std::vector<api::KeyToPath>& items, unsigned defaultMode,
                              bool optional);
// downwardapi.CollectData: one file per item (fieldRef only; resourceFieldRef is refused).
Result<Payload> DownwardApiPayload(const api::Pod& pod,
                                   const std::vector<api::DownwardAPIVolumeFile>& items,
                                   unsigned defaultMode);

// utilerrors.NewAggregate: OK for none, the one Status for one, else the code of the first and
// "[m1, m2]" (as the kubelet reports several failed sources of one volume).
Status AggregateErrors(const std::vector<Status>& errs);

// A mode given in a spec (int32) as permission bits.
inline unsigned ModeOr(const std::optional<int32_t>& mode, unsigned dflt) {
  return mode ? static_cast<unsigned>(*mode) & 07777u : dflt;
}

// SetUp's common tail: makes <podDir>/volumes/<pluginDir>/<volume name> (0755), mounts a tmpfs
// on it first when `onTmpfs` (sized for the payload with room for an update), writes `payload`
// there atomically, with the pod's securityContext.fsGroup applied (see AtomicWriter). Returns
// the read-only MountedVolume.
Result<MountedVolume> SetUpPayloadVolume(const VolumeRequest& req, const std::string& pluginDir,
                                         const Payload& payload, bool onTmpfs);
// TearDown's: unmounts whatever is mounted at or under the directory (a tmpfs) and removes it
// without crossing into another filesystem. Missing directory: OK.
Status TearDownPayloadVolume(const NodeContext& node, const std::string& podDir,
                             const std::string& pluginDir, const std::string& dirName);

}  // namespace kvol::volume
