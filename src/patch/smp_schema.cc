// Hard-coded patch strategies of the built-in kinds kvol serves (k8s.io/api struct tags).
#include "smp_schema.h"

#include <array>

namespace kvol::patch::internal {
namespace {

FieldMeta MergeList(std::string key, const TypeSchema* elem = nullptr) {
  FieldMeta f;
  f.merge = true;
  f.mergeKey = std::move(key);
  f.type = elem;
  return f;
}

FieldMeta Nested(const TypeSchema* t) {
  FieldMeta f;
  f.type = t;
  return f;
}

const TypeSchema& ObjectMeta() {
  static const TypeSchema s{{
      {"ownerReferences", MergeList("uid")},
      {"finalizers", MergeList("")},  // list of strings: union
  }};
  return s;
}

const TypeSchema& Container() {
  static const TypeSchema s{{
      {"ports", MergeList("containerPort")},
      {"env", MergeList("name")},
      {"volumeMounts", MergeList("mountPath")},
      {"volumeDevices", MergeList("devicePath")},
  }};
  return s;
}

const TypeSchema& PodSpec() {
  static const TypeSchema s = [] {
    TypeSchema t;
    t.fields["containers"] = MergeList("name", &Container());
    t.fields["initContainers"] = MergeList("name", &Container());
    t.fields["ephemeralContainers"] = MergeList("name", &Container());
    FieldMeta volumes = MergeList("name");
    volumes.retainKeys = true;
    t.fields["volumes"] = volumes;
    t.fields["imagePullSecrets"] = MergeList("name");
    t.fields["hostAliases"] = MergeList("ip");
    FieldMeta claims = MergeList("name");
    claims.retainKeys = true;
    t.fields["resourceClaims"] = claims;
    t.fields["schedulingGates"] = MergeList("name");
    // tolerations, topologySpreadConstraints...: no strategy, replaced whole.
    return t;
  }();
  return s;
}

const TypeSchema& ConditionsStatus() {
  static const TypeSchema s{{{"conditions", MergeList("type")}}};
  return s;
}

const TypeSchema& PodStatus() {
  static const TypeSchema s{{
      {"conditions", MergeList("type")},
      {"podIPs", MergeList("ip")},
      {"hostIPs", MergeList("ip")},
  }};
  return s;
}

const TypeSchema& PodTemplateSpec() {
  static const TypeSchema s{{
      {"metadata", Nested(&ObjectMeta())},
      {"spec", Nested(&PodSpec())},
  }};
  return s;
}

// metadata + spec (holding template) + status{conditions}.
TypeSchema Workload(const TypeSchema* spec) {
  return TypeSchema{{
      {"metadata", Nested(&ObjectMeta())},
      {"spec", Nested(spec)},
      {"status", Nested(&ConditionsStatus())},
  }};
}

const TypeSchema& TemplateSpec() {  // spec of StatefulSet, ReplicaSet, DaemonSet, Job
  static const TypeSchema s{{{"template", Nested(&PodTemplateSpec())}}};
  return s;
}

const TypeSchema& Pod() {
  static const TypeSchema s{{
      {"metadata", Nested(&ObjectMeta())},
      {"spec", Nested(&PodSpec())},
      {"status", Nested(&PodStatus())},
  }};
  return s;
}

const TypeSchema& PodTemplate() {
  static const TypeSchema s{{
      {"metadata", Nested(&ObjectMeta())},
      {"template", Nested(&PodTemplateSpec())},
  }};
  return s;
}

const TypeSchema& StatefulSet() {
  // spec.volumeClaimTemplates has no strategy: replaced whole.
  static const TypeSchema s = Workload(&TemplateSpec());
  return s;
}

const TypeSchema& Deployment() {
  static const TypeSchema spec = [] {
    FieldMeta strategy;
    strategy.retainKeys = true;
    return TypeSchema{{{"template", Nested(&PodTemplateSpec())}, {"strategy", strategy}}};
  }();
  static const TypeSchema s = Workload(&spec);
  return s;
}

const TypeSchema& PlainWorkload() {  // ReplicaSet, DaemonSet, Job, ReplicationController
  static const TypeSchema s = Workload(&TemplateSpec());
  return s;
}

const TypeSchema& CronJob() {
  static const TypeSchema s = [] {
    static const TypeSchema jobSpec{{{"template", Nested(&PodTemplateSpec())}}};
    static const TypeSchema jobTemplate{{
        {"metadata", Nested(&ObjectMeta())},
        {"spec", Nested(&jobSpec)},
    }};
    static const TypeSchema spec{{{"jobTemplate", Nested(&jobTemplate)}}};
    return TypeSchema{{{"metadata", Nested(&ObjectMeta())}, {"spec", Nested(&spec)}}};
  }();
  return s;
}

const TypeSchema& Node() {
  static const TypeSchema spec{{{"podCIDRs", MergeList("")}}};
  static const TypeSchema status{{
      {"conditions", MergeList("type")},
      {"addresses", MergeList("type")},
  }};
  static const TypeSchema s{{
      {"metadata", Nested(&ObjectMeta())},
      {"spec", Nested(&spec)},
      {"status", Nested(&status)},
  }};
  return s;
}

// metadata + status.conditions: PersistentVolumeClaim, Namespace.
const TypeSchema& WithConditions() {
  static const TypeSchema s{{
      {"metadata", Nested(&ObjectMeta())},
      {"status", Nested(&ConditionsStatus())},
  }};
  return s;
}

const TypeSchema& CSINode() {
  static const TypeSchema spec{{{"drivers", MergeList("name")}}};
  static const TypeSchema s{{{"metadata", Nested(&ObjectMeta())}, {"spec", Nested(&spec)}}};
  return s;
}

// Only metadata merges specially: PV, SC, ConfigMap, Secret, Event, VolumeAttachment,
// CSIDriver and any other built-in kind (all their lists are replaced whole).
const TypeSchema& MetadataOnly() {
  static const TypeSchema s{{{"metadata", Nested(&ObjectMeta())}}};
  return s;
}

std::string_view GroupOf(std::string_view apiVersion) {
  auto slash = apiVersion.find('/');
  return slash == std::string_view::npos ? std::string_view() : apiVersion.substr(0, slash);
}

}  // namespace

const FieldMeta& TypeSchema::Field(std::string_view name) const {
  static const FieldMeta kNone;
  auto it = fields.find(name);
  return it == fields.end() ? kNone : it->second;
}

const TypeSchema& EmptySchema() {
  static const TypeSchema s;
  return s;
}

bool IsBuiltinGroup(std::string_view apiVersion) {
  if (apiVersion.empty()) return false;
  static constexpr std::array<std::string_view, 16> kGroups = {"",
                                                               "apps",
                                                               "batch",
                                                               "storage.k8s.io",
                                                               "events.k8s.io",
                                                               "policy",
                                                               "autoscaling",
                                                               "networking.k8s.io",
                                                               "rbac.authorization.k8s.io",
                                                               "coordination.k8s.io",
                                                               "node.k8s.io",
                                                               "scheduling.k8s.io",
                                                               "discovery.k8s.io",
                                                               "certificates.k8s.io",
                                                               "admissionregistration.k8s.io",
                                                               "resource.k8s.io"};
  std::string_view g = GroupOf(apiVersion);
  for (std::string_view k : kGroups)
    if (g == k) return true;
  return false;
}

const TypeSchema& SchemaFor(std::string_view apiVersion, std::string_view kind) {
  if (!IsBuiltinGroup(apiVersion)) return EmptySchema();
  std::string_view g = GroupOf(apiVersion);
  if (g.empty()) {
    if (kind == "Pod") return Pod();
    if (kind == "PodTemplate") return PodTemplate();
    if (kind == "Node") return Node();
    if (kind == "PersistentVolumeClaim" || kind == "Namespace") return WithConditions();
    if (kind == "ReplicationController") return PlainWorkload();
    return MetadataOnly();
  }
  if (g == "apps") {
    if (kind == "StatefulSet") return StatefulSet();
    if (kind == "Deployment") return Deployment();
    if (kind == "ReplicaSet" || kind == "DaemonSet") return PlainWorkload();
  }
  if (g == "batch") {
    if (kind == "Job") return PlainWorkload();
    if (kind == "CronJob") return CronJob();
  }
  if (g == "storage.k8s.io" && kind == "CSINode") return CSINode();
  return MetadataOnly();
}

}  // namespace kvol::patch::internal
