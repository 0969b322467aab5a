// Defaulting of apps/v1 StatefulSet and Deployment (pkg/apis/apps/v1/defaults.go).
#include "kvol/api/defaults.h"

namespace kvol::api {

void DefaultStatefulSet(StatefulSet& sts) {
  StatefulSetSpec& s = sts.spec;
  if (s.podManagementPolicy.empty()) s.podManagementPolicy = "OrderedReady";
  if (s.updateStrategy.type.empty()) {
    s.updateStrategy.type = "RollingUpdate";
    if (!s.updateStrategy.rollingUpdate)
      s.updateStrategy.rollingUpdate = RollingUpdateStatefulSetStrategy{};
  }
  if (s.updateStrategy.type == "RollingUpdate" && s.updateStrategy.rollingUpdate &&
      !s.updateStrategy.rollingUpdate->partition) {
    s.updateStrategy.rollingUpdate->partition = 0;
  }
  if (!s.persistentVolumeClaimRetentionPolicy)
    s.persistentVolumeClaimRetentionPolicy = StatefulSetPersistentVolumeClaimRetentionPolicy{};
  auto& rp = *s.persistentVolumeClaimRetentionPolicy;
  if (rp.whenDeleted.empty()) rp.whenDeleted = "Retain";
  if (rp.whenScaled.empty()) rp.whenScaled = "Retain";
  if (!s.replicas) s.replicas = 1;
  if (!s.revisionHistoryLimit) s.revisionHistoryLimit = 10;
  DefaultPodTemplateSpec(s.template_);
  for (auto& pvc : s.volumeClaimTemplates) {
    if (!pvc.spec.volumeMode) pvc.spec.volumeMode = kVolumeModeFilesystem;
    if (pvc.status.phase.empty()) pvc.status.phase = "Pending";
  }
}

void DefaultDeployment(Deployment& d) {
  DeploymentSpec& s = d.spec;
  if (!s.replicas) s.replicas = 1;
  if (s.strategy.type.empty()) s.strategy.type = "RollingUpdate";
  if (s.strategy.type == "RollingUpdate") {
    if (!s.strategy.rollingUpdate) s.strategy.rollingUpdate = RollingUpdateDeployment{};
    if (!s.strategy.rollingUpdate->maxUnavailable)
      s.strategy.rollingUpdate->maxUnavailable = IntOrString::Str("25%");
    if (!s.strategy.rollingUpdate->maxSurge)
      s.strategy.rollingUpdate->maxSurge = IntOrString::Str("25%");
  }
  if (!s.revisionHistoryLimit) s.revisionHistoryLimit = 10;
  if (!s.progressDeadlineSeconds) s.progressDeadlineSeconds = 600;
  DefaultPodTemplateSpec(s.template_);
}

}  // namespace kvol::api
