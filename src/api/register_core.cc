// core/v1 in the scheme: Namespace, Node, Pod, ConfigMap, Secret, Event here; PersistentVolume and
// PersistentVolumeClaim through RegisterPersistentVolumeKinds (register_pv.cc).
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>

#include "kvol/api/defaults.h"
#include "kvol/api/register.h"
#include "kvol/api/validation.h"

namespace kvol::api {
ResourceInfo MakeResourceInfo(std::string group, std::string kind, std::string resource,
                              bool namespaced, std::vector<std::string> shortNames, bool hasStatus,
                              std::vector<std::string> selectableFields,
                              std::vector<std::string> categories) {
  ResourceInfo i;
  i.group = std::move(group);
  i.version = "v1";
  i.singular = kind;
  std::transform(i.singular.begin(), i.singular.end(), i.singular.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  i.kind = std::move(kind);
  i.resource = std::move(resource);
  i.namespaced = namespaced;
  i.shortNames = std::move(shortNames);
  i.hasStatus = hasStatus;
  i.selectableFields = std::move(selectableFields);
  i.categories = std::move(categories);
  return i;
}

void MustRegister(Scheme& s, std::unique_ptr<KindOps> ops) {
  Status st = s.Register(std::move(ops));
  if (!st.ok()) {
    std::fprintf(stderr, "kvol: scheme: %s\n", st.ToString().c_str());
    std::abort();
  }
}

void RegisterCoreV1(Scheme& s) {
  MustRegister(
      s, std::make_unique<TypedKindOps<Namespace>>(
             MakeResourceInfo("", "Namespace", "namespaces", false, {"ns"}, true, {"status.phase"}),
             &DefaultNamespace, &ValidateNamespace, &ValidateNamespaceUpdate));
  MustRegister(s, std::make_unique<TypedKindOps<Node>>(
                      MakeResourceInfo("", "Node", "nodes", false, {"no"}, true), &DefaultNode,
                      &ValidateNode, &ValidateNodeUpdate));
  MustRegister(s, std::make_unique<TypedKindOps<Pod>>(
                      MakeResourceInfo("", "Pod", "pods", true, {"po"}, true,
                                       {"spec.nodeName", "spec.restartPolicy", "spec.schedulerName",
                                        "spec.serviceAccountName", "status.phase", "status.podIP",
                                        "status.nominatedNodeName"},
                                       {"all"}),
                      &DefaultPod, &ValidatePod, &ValidatePodUpdate));
  MustRegister(s, std::make_unique<TypedKindOps<ConfigMap>>(
                      MakeResourceInfo("", "ConfigMap", "configmaps", true, {"cm"}, false),
                      &DefaultConfigMap, &ValidateConfigMap, &ValidateConfigMapUpdate));
  MustRegister(s, std::make_unique<TypedKindOps<Secret>>(
                      MakeResourceInfo("", "Secret", "secrets", true, {}, false, {"type"}),
                      &DefaultSecret, &ValidateSecret, &ValidateSecretUpdate));
  MustRegister(s, std::make_unique<TypedKindOps<Event>>(
                      MakeResourceInfo(
                          "", "Event", "events", true, {"ev"}, false,
                          {"involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
                           "involvedObject.uid", "involvedObject.apiVersion",
                           "involvedObject.resourceVersion", "involvedObject.fieldPath", "reason",
                           "reportingComponent", "source", "type"}),
                      &DefaultEvent, &ValidateEvent, &ValidateEventUpdate));
  RegisterPersistentVolumeKinds(s);
}

}  // namespace kvol::api
