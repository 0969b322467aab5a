// Topology for provisioning and scheduling (the external-provisioner's requisite topology and
// the scheduler's VolumeBinding check of StorageClass.allowedTopologies).
//
// - AllowedTopologiesMatch: Kubernetes' TopologySelectorTerm semantics: terms ORed, a term's
//   matchLabelExpressions ANDed, an expression's values ORed; no terms = every node.
// - NodeTopology: the segments a node offers to drivers: kubernetes.io/hostname always, and
//   topology.kubernetes.io/zone when the node carries that label.
// - ProvisionRequisite: what CreateVolume is asked for. With a node (WaitForFirstConsumer's
//   selected node, or the controller's own node for Immediate claims of a class without
//   allowedTopologies): that node's topology. Otherwise one segment set per combination of the
//   class's allowedTopologies values (term by term).
//
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "kvol/api/types_storage.h"
#include "kvol/controller/pv_match.h"
#include "kvol/driver/driver.h"

namespace kvol::controller {

inline constexpr const char* kZoneLabel = "topology.kubernetes.io/zone";
inline constexpr const char* kHostnameLabel = "kubernetes.io/hostname";

bool AllowedTopologiesMatch(const std::vector<api::TopologySelectorTerm>& terms,
                            const NodeInfo& node);
driver::Topology NodeTopology(const NodeInfo& node);
std::vector<driver::Topology> ProvisionRequisite(
    const NodeInfo* node, const std::vector<api::TopologySelectorTerm>& allowed);

}  // namespace kvol::controller
