// Internal pieces shared by the validation_*.cc files of kvol::api (not a public header).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "kvol/api/validation.h"
#include "kvol/api/validation_util.h"

namespace kvol::api::internal {

// Volume name -> its definition, for volumeMounts/volumeDevices lookups.
using VolumeMap = std::map<std::string, const Volume*>;

struct PodSpecOptions {
  bool resourceIsPod = false;  // the spec belongs to a Pod (not a workload template)
  // Volumes the spec may reference without declaring them (a StatefulSet's claim templates).
  const std::vector<Volume>* implicitVolumes = nullptr;
};

ErrorList ValidatePodSpecImpl(const PodSpec& spec, const ObjectMeta* podMeta, const Path& path,
                              const PodSpecOptions& opts);
// Kubernetes' ValidateVolumes: sources, names (DNS-1123 labels, unique). Fills `out` with the
// valid ones.
ErrorList ValidateVolumes(const std::vector<Volume>& volumes, const ObjectMeta* podMeta,
                          const Path& path, VolumeMap* out);
// Embedded template metadata: labels and annotations only ("cannot be set" for anything else).
ErrorList ValidateTemplateObjectMeta(const ObjectMeta& meta, const Path& path);

ErrorList ValidateDNS1123Label(const std::string& value, const Path& path);
ErrorList ValidateDNS1123Subdomain(const std::string& value, const Path& path);
ErrorList ValidateQualifiedName(const std::string& value, const Path& path);
// "must be between lo and hi, inclusive"
std::string InclusiveRangeError(int64_t lo, int64_t hi);
// Relative, no '..' element, not starting with '..'.
ErrorList ValidateLocalNonReservedPath(const std::string& target, const Path& path);

inline void Append(ErrorList& to, ErrorList from) {
  to.insert(to.end(), std::make_move_iterator(from.begin()), std::make_move_iterator(from.end()));
}

}  // namespace kvol::api::internal
