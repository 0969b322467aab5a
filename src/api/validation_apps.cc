// Validation of apps/v1 StatefulSet and Deployment (pkg/apis/apps/validation/validation.go).
#include "kvol/api/labels.h"
#include "validation_internal.h"

namespace kvol::api {

using internal::Append;

namespace {

// The selector is required, non-empty, well-formed and must match the template's labels.
ErrorList ValidateSelectorAndTemplate(const std::optional<LabelSelector>& selector,
                                      const PodTemplateSpec& tmpl, const char* kind,
                                      const Path& spec) {
  ErrorList errs;
  Path sel = spec.Child("selector");
  if (!selector) {
    errs.push_back(Required(sel));
    return errs;
  }
  Append(errs, ValidateLabelSelector(*selector, sel));
  if (selector->matchLabels.empty() && selector->matchExpressions.empty())
    errs.push_back(
        InvalidValue(sel, ToJson(*selector), std::string("empty selector is invalid for ") + kind));
  auto expr = LabelSelectorExpr::FromLabelSelector(*selector);
  if (!expr.ok()) {
    errs.push_back(InvalidValue(sel, ToJson(*selector), "invalid label selector"));
  } else if (!expr->Empty() && !expr->Matches(tmpl.metadata.labels)) {
    errs.push_back(InvalidValue(spec.Child("template").Child("metadata").Child("labels"),
                                ToJson(tmpl.metadata.labels),
                                "`selector` does not match template `labels`"));
  }
  return errs;
}

void RestartAlways(const PodTemplateSpec& tmpl, const Path& spec, ErrorList& errs) {
  if (tmpl.spec.restartPolicy != "Always")
    errs.push_back(NotSupported(spec.Child("template").Child("spec").Child("restartPolicy"),
                                tmpl.spec.restartPolicy, {"Always"}));
}

}  // namespace

ErrorList ValidateStatefulSet(const StatefulSet& sts) {
  ErrorList errs = ValidateObjectMeta(sts.metadata, true, NameIsDNSSubdomain, Path("metadata"));
  const StatefulSetSpec& s = sts.spec;
  Path spec("spec");
  if (s.podManagementPolicy.empty()) {
    errs.push_back(Required(spec.Child("podManagementPolicy")));
  } else if (s.podManagementPolicy != "OrderedReady" && s.podManagementPolicy != "Parallel") {
    errs.push_back(InvalidValue(spec.Child("podManagementPolicy"), s.podManagementPolicy,
                                "must be 'OrderedReady' or 'Parallel'"));
  }
  Path us = spec.Child("updateStrategy");
  if (s.updateStrategy.type.empty()) {
    errs.push_back(Required(us));
  } else if (s.updateStrategy.type == "OnDelete") {
    if (s.updateStrategy.rollingUpdate)
      errs.push_back(InvalidValue(us.Child("rollingUpdate"),
                                  ToJson(*s.updateStrategy.rollingUpdate),
                                  "only allowed for updateStrategy 'RollingUpdate'"));
  } else if (s.updateStrategy.type == "RollingUpdate") {
    if (s.updateStrategy.rollingUpdate && s.updateStrategy.rollingUpdate->partition)
      Append(errs, ValidateNonNegativeField(*s.updateStrategy.rollingUpdate->partition,
                                            us.Child("rollingUpdate").Child("partition")));
  } else {
    errs.push_back(
        InvalidValue(us, ToJson(s.updateStrategy), "must be 'RollingUpdate' or 'OnDelete'"));
  }
  if (s.persistentVolumeClaimRetentionPolicy) {
    Path rp = spec.Child("persistentVolumeClaimRetentionPolicy");
    for (auto [value, name] :
         {std::pair{&s.persistentVolumeClaimRetentionPolicy->whenDeleted, "whenDeleted"},
          std::pair{&s.persistentVolumeClaimRetentionPolicy->whenScaled, "whenScaled"}})
      if (*value != "Retain" && *value != "Delete")
        errs.push_back(NotSupported(rp.Child(name), *value, {"Retain", "Delete"}));
  }
  Append(errs, ValidateNonNegativeField(s.replicas.value_or(0), spec.Child("replicas")));
  if (s.ordinals)
    Append(errs,
           ValidateNonNegativeField(s.ordinals->start, spec.Child("ordinals").Child("start")));
  Append(errs, ValidateNonNegativeField(s.minReadySeconds, spec.Child("minReadySeconds")));
  Append(errs, ValidateSelectorAndTemplate(s.selector, s.template_, "statefulset", spec));

  // kvol validates the template's pod spec, counting each claim template as a PVC volume.
  std::vector<Volume> claimVolumes;
  Path vcts = spec.Child("volumeClaimTemplates");
  for (size_t i = 0; i < s.volumeClaimTemplates.size(); ++i) {
    const PersistentVolumeClaim& pvc = s.volumeClaimTemplates[i];
    Path idx = vcts.Index(i);
    if (pvc.metadata.name.empty()) {
      errs.push_back(Required(idx.Child("metadata").Child("name")));
    } else {
      Append(errs, internal::ValidateDNS1123Subdomain(pvc.metadata.name,
                                                      idx.Child("metadata").Child("name")));
    }
    Append(errs, ValidateLabels(pvc.metadata.labels, idx.Child("metadata").Child("labels")));
    Append(errs, ValidatePersistentVolumeClaimSpec(pvc.spec, idx.Child("spec")));
    Volume v;
    v.name = pvc.metadata.name;
    v.persistentVolumeClaim = PersistentVolumeClaimVolumeSource{pvc.metadata.name, false};
    claimVolumes.push_back(std::move(v));
  }
  Path tmpl = spec.Child("template");
  Append(errs, ValidateLabels(s.template_.metadata.labels, tmpl.Child("metadata").Child("labels")));
  Append(errs, ValidateAnnotations(s.template_.metadata.annotations,
                                   tmpl.Child("metadata").Child("annotations")));
  internal::PodSpecOptions opts;
  opts.implicitVolumes = &claimVolumes;
  ErrorList specErrs =
      internal::ValidatePodSpecImpl(s.template_.spec, nullptr, tmpl.Child("spec"), opts);
  for (auto& e : specErrs) {
    if (e.field == tmpl.Child("spec").Child("restartPolicy").str()) continue;  // reported below
    errs.push_back(std::move(e));
  }
  RestartAlways(s.template_, spec, errs);
  if (s.template_.spec.activeDeadlineSeconds)
    errs.push_back(Forbidden(tmpl.Child("spec").Child("activeDeadlineSeconds"),
                             "activeDeadlineSeconds in StatefulSet is not Supported"));
  return errs;
}

ErrorList ValidateStatefulSetUpdate(const StatefulSet& sts, const StatefulSet& old) {
  ErrorList errs = ValidateObjectMetaUpdate(sts.metadata, old.metadata, Path("metadata"));
  StatefulSetSpec clone = sts.spec;
  clone.replicas = old.spec.replicas;
  clone.ordinals = old.spec.ordinals;
  clone.template_ = old.spec.template_;
  clone.updateStrategy = old.spec.updateStrategy;
  clone.revisionHistoryLimit = old.spec.revisionHistoryLimit;
  clone.persistentVolumeClaimRetentionPolicy = old.spec.persistentVolumeClaimRetentionPolicy;
  clone.minReadySeconds = old.spec.minReadySeconds;
  if (ToJson(clone) != ToJson(old.spec))
    errs.push_back(Forbidden(
        Path("spec"),
        "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', "
        "'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and "
        "'minReadySeconds' are forbidden"));
  return errs;
}

ErrorList ValidateDeployment(const Deployment& d) {
  ErrorList errs = ValidateObjectMeta(d.metadata, true, NameIsDNSSubdomain, Path("metadata"));
  const DeploymentSpec& s = d.spec;
  Path spec("spec");
  Append(errs, ValidateNonNegativeField(s.replicas.value_or(0), spec.Child("replicas")));
  Append(errs, ValidateSelectorAndTemplate(s.selector, s.template_, "deployment", spec));
  Path tmpl = spec.Child("template");
  for (auto& e : ValidatePodTemplateSpec(s.template_, tmpl)) {
    if (e.field == tmpl.Child("spec").Child("restartPolicy").str()) continue;
    errs.push_back(std::move(e));
  }
  RestartAlways(s.template_, spec, errs);
  if (s.template_.spec.activeDeadlineSeconds)
    errs.push_back(InvalidValue(tmpl.Child("spec").Child("activeDeadlineSeconds"),
                                *s.template_.spec.activeDeadlineSeconds,
                                "activeDeadlineSeconds in ReplicaSet is not Supported"));
  Path st = spec.Child("strategy");
  if (s.strategy.type == "Recreate") {
    if (s.strategy.rollingUpdate)
      errs.push_back(Forbidden(st.Child("rollingUpdate"),
                               "may not be specified when strategy `type` is 'Recreate'"));
  } else if (s.strategy.type == "RollingUpdate") {
    if (!s.strategy.rollingUpdate) {
      errs.push_back(
          Required(st.Child("rollingUpdate"), "this should be defaulted and never be nil"));
    } else {
      auto isZero = [](const std::optional<IntOrString>& v) {
        return !v || (v->isString ? v->strVal == "0%" : v->intVal == 0);
      };
      if (isZero(s.strategy.rollingUpdate->maxUnavailable) &&
          isZero(s.strategy.rollingUpdate->maxSurge))
        errs.push_back(InvalidValue(st.Child("rollingUpdate").Child("maxUnavailable"),
                                    s.strategy.rollingUpdate->maxUnavailable
                                        ? ToJson(*s.strategy.rollingUpdate->maxUnavailable)
                                        : json(0),
                                    "may not be 0 when `maxSurge` is 0"));
    }
  } else {
    errs.push_back(NotSupported(st, ToJson(s.strategy), {"Recreate", "RollingUpdate"}));
  }
  Append(errs, ValidateNonNegativeField(s.minReadySeconds, spec.Child("minReadySeconds")));
  if (s.revisionHistoryLimit)
    Append(errs,
           ValidateNonNegativeField(*s.revisionHistoryLimit, spec.Child("revisionHistoryLimit")));
  if (s.progressDeadlineSeconds) {
    Append(errs, ValidateNonNegativeField(*s.progressDeadlineSeconds,
                                          spec.Child("progressDeadlineSeconds")));
    if (*s.progressDeadlineSeconds <= s.minReadySeconds)
      errs.push_back(InvalidValue(spec.Child("progressDeadlineSeconds"), *s.progressDeadlineSeconds,
                                  "must be greater than minReadySeconds"));
  }
  return errs;
}

ErrorList ValidateDeploymentUpdate(const Deployment& d, const Deployment& old) {
  ErrorList errs = ValidateObjectMetaUpdate(d.metadata, old.metadata, Path("metadata"));
  json a = d.spec.selector ? ToJson(*d.spec.selector) : json();
  json b = old.spec.selector ? ToJson(*old.spec.selector) : json();
  Append(errs, ValidateImmutableField(a, b, Path("spec").Child("selector")));
  return errs;
}

}  // namespace kvol::api
