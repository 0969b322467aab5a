// core/v1 in the scheme: Namespace, Node, Pod, ConfigMap, Secret, Event here; PersistentVolume and
// PersistentVolumeClaim through RegisterPersistentVolumeKinds (register_pv.cc).
#include <cstdio>
#include <cstdlib>

#include "kvol/api/defaults.h"
#include "kvol/api/register.h"
#include "kvol/api/validation.h"

namespace kvol::api {
namespace {

ResourceInfo CoreInfo(std::string kind, std::string resource, bool namespaced,
                      std::vector<std::string> shortNames, bool hasStatus,
                      std::vector<std::string> selectable = {},
                      std::vector<std::string> categories = {}) {
  ResourceInfo i;
  i.group = "";
  i.version = "v1";
  i.kind = std::move(kind);
  i.resource = std::move(resource);
  i.singular = i.resource.substr(0, i.resource.size() - 1);  // every core plural here ends in 's'
  i.namespaced = namespaced;
  i.shortNames = std::move(shortNames);
  i.hasStatus = hasStatus;
  i.selectableFields = std::move(selectable);
  i.categories = std::move(categories);
  return i;
}

}  // namespace

void MustRegister(Scheme& s, std::unique_ptr<KindOps> ops) {
  Status st = s.Register(std::move(ops));
  if (!st.ok()) {
    std::fprintf(stderr, "kvol: scheme: %s\n", st.ToString().c_str());
    std::abort();
  }
}

void RegisterCoreV1(Scheme& s) {
  MustRegister(s, std::make_unique<TypedKindOps<Namespace>>(
                      CoreInfo("Namespace", "namespaces", false, {"ns"}, true, {"status.phase"}),
                      &DefaultNamespace, &ValidateNamespace, &ValidateNamespaceUpdate));
  MustRegister(
      s, std::make_unique<TypedKindOps<Node>>(CoreInfo("Node", "nodes", false, {"no"}, true),
                                              &DefaultNode, &ValidateNode, &ValidateNodeUpdate));
  MustRegister(s, std::make_unique<TypedKindOps<Pod>>(
                      CoreInfo("Pod", "pods", true, {"po"}, true,
                               {"spec.nodeName", "spec.restartPolicy", "spec.schedulerName",
                                "spec.serviceAccountName", "status.phase", "status.podIP",
                                "status.nominatedNodeName"},
                               {"all"}),
                      &DefaultPod, &ValidatePod, &ValidatePodUpdate));
  MustRegister(s, std::make_unique<TypedKindOps<ConfigMap>>(
                      CoreInfo("ConfigMap", "configmaps", true, {"cm"}, false), &DefaultConfigMap,
                      &ValidateConfigMap, &ValidateConfigMapUpdate));
  MustRegister(s, std::make_unique<TypedKindOps<Secret>>(
                      CoreInfo("Secret", "secrets", true, {}, false, {"type"}), &DefaultSecret,
                      &ValidateSecret, &ValidateSecretUpdate));
  MustRegister(
      s, std::make_unique<TypedKindOps<Event>>(
             CoreInfo("Event", "events", true, {"ev"}, false,
                      {"involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
                       "involvedObject.uid", "involvedObject.apiVersion",
                       "involvedObject.resourceVersion", "involvedObject.fieldPath", "reason",
                       "reportingComponent", "source", "type"}),
             &DefaultEvent, &ValidateEvent, &ValidateEventUpdate));
  RegisterPersistentVolumeKinds(s);
}

}  // namespace kvol::api
