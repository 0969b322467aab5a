// apps/v1 in the scheme: StatefulSet and Deployment.
#include "kvol/api/defaults.h"
#include "kvol/api/register.h"
#include "kvol/api/validation.h"

namespace kvol::api {
namespace {

ResourceInfo AppsInfo(std::string kind, std::string resource, std::string singular,
                      std::vector<std::string> shortNames) {
  ResourceInfo i;
  i.group = "apps";
  i.version = "v1";
  i.kind = std::move(kind);
  i.resource = std::move(resource);
  i.singular = std::move(singular);
  i.namespaced = true;
  i.shortNames = std::move(shortNames);
  i.categories = {"all"};
  i.hasStatus = true;
  return i;
}

}  // namespace

void RegisterAppsV1(Scheme& s) {
  MustRegister(s, std::make_unique<TypedKindOps<StatefulSet>>(
                      AppsInfo("StatefulSet", "statefulsets", "statefulset", {"sts"}),
                      &DefaultStatefulSet, &ValidateStatefulSet, &ValidateStatefulSetUpdate));
  MustRegister(s, std::make_unique<TypedKindOps<Deployment>>(
                      AppsInfo("Deployment", "deployments", "deployment", {"deploy"}),
                      &DefaultDeployment, &ValidateDeployment, &ValidateDeploymentUpdate));
}

}  // namespace kvol::api
