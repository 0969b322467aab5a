// Registration helpers shared by the per-group Register* functions (scheme.h declares those).
//
// RegisterCoreV1 (src/api/register_core.cc) registers Namespace, Node, Pod, ConfigMap, Secret and
// Event itself and calls RegisterPersistentVolumeKinds for PersistentVolume and
// PersistentVolumeClaim, which the storage engineer defines beside the PV/PVC validators.
//
// Thread safety: called once while the scheme is built (Scheme::Default()), never afterwards.
#pragma once

#include <string>
#include <vector>

#include "kvol/api/scheme.h"

namespace kvol::api {

// core/v1 PersistentVolume (cluster-scoped, "pv") and PersistentVolumeClaim ("pvc", status
// subresource). Defined in src/api/register_storage*.cc.
void RegisterPersistentVolumeKinds(Scheme& s);

// The ResourceInfo of one kind of version v1 in `group` ("" for core); the singular name is the
// kind lowercased, as Kubernetes derives it.
ResourceInfo MakeResourceInfo(std::string group, std::string kind, std::string resource,
                              bool namespaced, std::vector<std::string> shortNames, bool hasStatus,
                              std::vector<std::string> selectableFields = {},
                              std::vector<std::string> categories = {});

// Registers `ops`; a duplicate is a programming error and aborts start-up with a message.
void MustRegister(Scheme& s, std::unique_ptr<KindOps> ops);

}  // namespace kvol::api
