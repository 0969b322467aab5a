// apps/v1 in the scheme: StatefulSet and Deployment.
#include "kvol/api/defaults.h"
#include "kvol/api/register.h"
#include "kvol/api/validation.h"

namespace kvol::api {

void RegisterAppsV1(Scheme& s) {
  MustRegister(s, std::make_unique<TypedKindOps<StatefulSet>>(
                      MakeResourceInfo("apps", "StatefulSet", "statefulsets", true, {"sts"}, true,
                                       {}, {"all"}),
                      &DefaultStatefulSet, &ValidateStatefulSet, &ValidateStatefulSetUpdate));
  MustRegister(s, std::make_unique<TypedKindOps<Deployment>>(
                      MakeResourceInfo("apps", "Deployment", "deployments", true, {"deploy"}, true,
                                       {}, {"all"}),
                      &DefaultDeployment, &ValidateDeployment, &ValidateDeploymentUpdate));
}

}  // namespace kvol::api
