// The PV controller's matching rules, exactly Kubernetes' (component-helpers
// storage/volume/pv_helpers.go FindMatchingVolume, CheckVolumeModeMismatches; pv_controller.go
// checkVolumeSatisfyClaim), plus kvol's explanations of why a volume does not fit a claim.
//
// FindMatchingVolumeLinear is the plain, unindexed rule (the reference the index is tested
// against, and the benchmark's oracle):
//   for each access-mode bucket containing all requested modes, fewest modes first (ties by the
//   bucket's mode string), over the bucket's volumes in name order:
//     skip: claimRef set to another claim; capacity < request; volumeMode mismatch (unset =
//     Filesystem); deletionTimestamp set;
//     a volume pre-bound to this claim (claimRef namespace+name, uid empty or equal) is returned
//     at once (if a node is given and its node affinity rejects the node: no match in this bucket);
//     delay binding without a node: skip;
//     skip: phase != Available; claim selector does not match labels; class differs; node given
//     and node affinity rejects it;
//     keep the smallest capacity (ties: first by name).
//   the first bucket with a result wins.
// Kubernetes breaks capacity ties by informer iteration order (unspecified); kvol by PV name.
//
// Thread safety: pure functions.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "kvol/api/labels.h"
#include "kvol/api/types_pod.h"
#include "kvol/api/types_pv.h"
#include "kvol/common/status.h"

namespace kvol::controller {

// Canonical access-mode set string (Kubernetes' GetAccessModesAsString order: RWO,ROX,RWX,RWOP).
std::string AccessModesKey(const std::vector<std::string>& modes);
std::string ShortMode(const std::string& mode);
// True when every mode in `want` is in `have`.
bool ContainsAllModes(const std::vector<std::string>& have, const std::vector<std::string>& want);

std::string ClaimClass(const api::PersistentVolumeClaim& c);  // "" = no class
std::string VolumeClass(const api::PersistentVolume& v);
bool ClaimClassUnset(const api::PersistentVolumeClaim& c);  // nil storageClassName, no beta ann
api::Quantity ClaimRequest(const api::PersistentVolumeClaim& c);
api::Quantity VolumeCapacity(const api::PersistentVolume& v);
bool VolumeModeMismatch(const api::PersistentVolumeClaim& c, const api::PersistentVolume& v);
bool IsVolumeBoundToClaim(const api::PersistentVolume& v, const api::PersistentVolumeClaim& c);
bool HasAnn(const api::ObjectMeta& m, const char* key);
std::string ClaimKeyOf(const api::PersistentVolumeClaim& c);  // store key
std::string ClaimRefKey(const api::PersistentVolume& v);      // store key of claimRef, or ""
// A pod that has finished (phase Succeeded or Failed) uses no volume any more.
bool PodFinished(const api::Pod& p);
// The names of the claims a pod uses, in its namespace: persistentVolumeClaim volumes and the
// claims of generic ephemeral volumes (<pod>-<volume>), in spec order.
std::vector<std::string> PodClaimNames(const api::Pod& pod);

// A node as the rules see it: its name and labels (kubernetes.io/hostname is implied).
struct NodeInfo {
  std::string name;
  std::map<std::string, std::string> labels;
};
// Kubernetes' NodeSelector semantics: terms ORed, expressions ANDed (In, NotIn, Exists,
// DoesNotExist, Gt, Lt; matchFields metadata.name). An empty term list matches nothing.
bool NodeSelectorMatches(const api::NodeSelector& sel, const NodeInfo& node);
bool VolumeNodeAffinityMatches(const api::PersistentVolume& v, const NodeInfo& node);

// The claim's selector, or nullopt when it has none. Errors: the selector is invalid.
Result<std::optional<api::LabelSelectorExpr>> ClaimSelector(const api::PersistentVolumeClaim& c);

// checkVolumeSatisfyClaim (a claim naming spec.volumeName): Kubernetes' messages
// ("requested PV is too small", "storageClassName does not match", "incompatible volumeMode",
// "incompatible accessMode", "the volume is marked for deletion \"<name>\"").
Status CheckVolumeSatisfyClaim(const api::PersistentVolume& v, const api::PersistentVolumeClaim& c);

struct MatchInput {
  const api::PersistentVolumeClaim* claim = nullptr;
  const api::LabelSelectorExpr* selector = nullptr;  // nullptr: none
  const NodeInfo* node = nullptr;                    // the scheduler path (selected node)
  bool delayBinding = false;
};

// The reference rule over a list of volumes (see the header comment).
const api::PersistentVolume* FindMatchingVolumeLinear(
    const MatchInput& in, const std::vector<const api::PersistentVolume*>& volumes);

// Why `v` does not fit the claim, as "<pv>: <the first criterion it fails>" (e.g.
// "pv-7: capacity 1Gi < request 5Gi"); nullopt when it fits. `rank` (lower = closer miss) orders
// candidates for display.
struct Miss {
  std::string text;
  int rank = 0;
};
std::optional<Miss> ExplainMismatch(const MatchInput& in, const api::PersistentVolume& v);

}  // namespace kvol::controller
