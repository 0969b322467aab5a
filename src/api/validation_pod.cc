// Validation of Pods, pod specs and pod templates (pkg/apis/core/validation/validation.go:
// ValidatePodCreate, ValidatePodSpec, validateContainers, ValidateVolumeMounts, ValidatePodUpdate).
#include <algorithm>
#include <cctype>
#include <climits>
#include <set>

#include "kvol/api/quantity.h"
#include "validation_internal.h"

namespace kvol::api {

using internal::Append;
using internal::InclusiveRangeError;
using internal::VolumeMap;

namespace {

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// Required when empty, else one of `valid` (in the order Kubernetes lists them).
void RequiredOneOf(const std::string& value, const std::vector<std::string>& valid,
                   const Path& path, ErrorList& errs) {
  if (value.empty()) {
    errs.push_back(Required(path));
  } else if (!Contains(valid, value)) {
    errs.push_back(NotSupported(path, value, valid));
  }
}

std::vector<std::string> IsValidPortNum(int64_t port) {
  if (port >= 1 && port <= 65535) return {};
  return {InclusiveRangeError(1, 65535)};
}

std::vector<std::string> IsValidPortName(const std::string& port) {
  std::vector<std::string> errs;
  if (port.size() > 15) errs.push_back(MaxLenError(15));
  bool charset = !port.empty() && std::all_of(port.begin(), port.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
  if (!charset)
    errs.push_back("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)");
  if (std::none_of(port.begin(), port.end(), [](char c) { return c >= 'a' && c <= 'z'; }))
    errs.push_back("must contain at least one letter (a-z)");
  if (port.find("--") != std::string::npos) errs.push_back("must not contain consecutive hyphens");
  if (!port.empty() && (port.front() == '-' || port.back() == '-'))
    errs.push_back("must not begin or end with a hyphen");
  return errs;
}

// Kubernetes' IsRelaxedEnvVarName (RelaxedEnvironmentVariableValidation, on by default).
std::vector<std::string> IsEnvVarName(const std::string& name) {
  if (name.empty()) return {"environment variable name " + EmptyError()};
  for (unsigned char c : name) {
    if (c > 126 || c < 32 || c == '=')
      return {
          "a valid environment variable name must consist only of printable ASCII characters "
          "other than '='"};
  }
  return {};
}

ErrorList ValidatePortNumOrName(const IntOrString& port, const Path& path) {
  ErrorList errs;
  if (port.isString) {
    for (auto& m : IsValidPortName(port.strVal)) errs.push_back(InvalidValue(path, port.strVal, m));
  } else {
    for (auto& m : IsValidPortNum(port.intVal)) errs.push_back(InvalidValue(path, port.intVal, m));
  }
  return errs;
}

ErrorList ValidateContainerPorts(const std::vector<ContainerPort>& ports, const Path& path) {
  ErrorList errs;
  std::set<std::string> names;
  for (size_t i = 0; i < ports.size(); ++i) {
    const ContainerPort& p = ports[i];
    Path idx = path.Index(i);
    if (!p.name.empty()) {
      auto msgs = IsValidPortName(p.name);
      if (!msgs.empty()) {
        for (auto& m : msgs) errs.push_back(InvalidValue(idx.Child("name"), p.name, m));
      } else if (!names.insert(p.name).second) {
        errs.push_back(Duplicate(idx.Child("name"), p.name));
      }
    }
    if (p.containerPort == 0) {
      errs.push_back(Required(idx.Child("containerPort")));
    } else {
      for (auto& m : IsValidPortNum(p.containerPort))
        errs.push_back(InvalidValue(idx.Child("containerPort"), p.containerPort, m));
    }
    if (p.hostPort != 0)
      for (auto& m : IsValidPortNum(p.hostPort))
        errs.push_back(InvalidValue(idx.Child("hostPort"), p.hostPort, m));
    if (p.protocol.empty()) {
      errs.push_back(Required(idx.Child("protocol")));
    } else if (!Contains({"SCTP", "TCP", "UDP"}, p.protocol)) {
      errs.push_back(NotSupported(idx.Child("protocol"), p.protocol, {"SCTP", "TCP", "UDP"}));
    }
  }
  return errs;
}

ErrorList ValidateKeySelector(const std::string& name, const std::string& key, const Path& path) {
  ErrorList errs;
  for (auto& m : NameIsDNSSubdomain(name, false))
    errs.push_back(InvalidValue(path.Child("name"), name, m));
  if (key.empty()) {
    errs.push_back(Required(path.Child("key")));
  } else {
    for (auto& m : IsConfigMapKey(key)) errs.push_back(InvalidValue(path.Child("key"), key, m));
  }
  return errs;
}

ErrorList ValidateEnv(const std::vector<EnvVar>& env, const Path& path) {
  static const std::vector<std::string> kEnvFieldPaths = {"metadata.annotations",
                                                          "metadata.labels",
                                                          "metadata.name",
                                                          "metadata.namespace",
                                                          "metadata.uid",
                                                          "spec.nodeName",
                                                          "spec.serviceAccountName",
                                                          "status.hostIP",
                                                          "status.hostIPs",
                                                          "status.podIP",
                                                          "status.podIPs"};
  ErrorList errs;
  for (size_t i = 0; i < env.size(); ++i) {
    const EnvVar& e = env[i];
    Path idx = path.Index(i);
    if (e.name.empty()) {
      errs.push_back(Required(idx.Child("name")));
    } else {
      for (auto& m : IsEnvVarName(e.name))
        errs.push_back(InvalidValue(idx.Child("name"), e.name, m));
    }
    if (!e.valueFrom) continue;
    Path vf = idx.Child("valueFrom");
    int n = 0;
    if (e.valueFrom->fieldRef) {
      ++n;
      const auto& f = *e.valueFrom->fieldRef;
      if (f.apiVersion.empty()) {
        errs.push_back(Required(vf.Child("fieldRef").Child("apiVersion")));
      } else if (f.fieldPath.empty()) {
        errs.push_back(Required(vf.Child("fieldRef").Child("fieldPath")));
      } else if (f.fieldPath.find('[') == std::string::npos &&
                 !Contains(kEnvFieldPaths, f.fieldPath)) {
        std::vector<std::string> allowed(kEnvFieldPaths.begin() + 2, kEnvFieldPaths.end());
        errs.push_back(NotSupported(vf.Child("fieldRef").Child("fieldPath"), f.fieldPath, allowed));
      }
    }
    if (e.valueFrom->resourceFieldRef) {
      ++n;
      if (e.valueFrom->resourceFieldRef->resource.empty())
        errs.push_back(Required(vf.Child("resourceFieldRef").Child("resource")));
    }
    if (e.valueFrom->configMapKeyRef) {
      ++n;
      Append(errs,
             ValidateKeySelector(e.valueFrom->configMapKeyRef->name,
                                 e.valueFrom->configMapKeyRef->key, vf.Child("configMapKeyRef")));
    }
    if (e.valueFrom->secretKeyRef) {
      ++n;
      Append(errs, ValidateKeySelector(e.valueFrom->secretKeyRef->name,
                                       e.valueFrom->secretKeyRef->key, vf.Child("secretKeyRef")));
    }
    if (n == 0) {
      errs.push_back(InvalidValue(vf, "",
                                  "must specify one of: `fieldRef`, `resourceFieldRef`, "
                                  "`configMapKeyRef` or `secretKeyRef`"));
    } else if (!e.value.empty()) {
      errs.push_back(InvalidValue(vf, "", "may not be specified when `value` is not empty"));
    } else if (n > 1) {
      errs.push_back(InvalidValue(vf, "", "may not have more than one field specified at a time"));
    }
  }
  return errs;
}

ErrorList ValidateEnvFrom(const std::vector<EnvFromSource>& envFrom, const Path& path) {
  ErrorList errs;
  for (size_t i = 0; i < envFrom.size(); ++i) {
    const EnvFromSource& e = envFrom[i];
    Path idx = path.Index(i);
    if (!e.prefix.empty())
      for (auto& m : IsEnvVarName(e.prefix))
        errs.push_back(InvalidValue(idx.Child("prefix"), e.prefix, m));
    int n = 0;
    auto checkName = [&](const std::string& name, const Path& p) {
      ++n;
      if (name.empty()) {
        errs.push_back(Required(p.Child("name")));
      } else {
        for (auto& m : NameIsDNSSubdomain(name, true))
          errs.push_back(InvalidValue(p.Child("name"), name, m));
      }
    };
    if (e.configMapRef) checkName(e.configMapRef->name, idx.Child("configMapRef"));
    if (e.secretRef) checkName(e.secretRef->name, idx.Child("secretRef"));
    if (n == 0) {
      errs.push_back(InvalidValue(path, "", "must specify one of: `configMapRef` or `secretRef`"));
    } else if (n > 1) {
      errs.push_back(
          InvalidValue(path, "", "may not have more than one field specified at a time"));
    }
  }
  return errs;
}

ErrorList ValidateVolumeMounts(const Container& c, const VolumeMap& volumes, const Path& path) {
  ErrorList errs;
  std::set<std::string> mountpoints;
  std::map<std::string, std::string> devices;
  for (const auto& d : c.volumeDevices) devices[d.name] = d.devicePath;
  for (size_t i = 0; i < c.volumeMounts.size(); ++i) {
    const VolumeMount& m = c.volumeMounts[i];
    Path idx = path.Index(i);
    if (m.name.empty()) errs.push_back(Required(idx.Child("name")));
    if (!volumes.count(m.name)) errs.push_back(NotFoundError(idx.Child("name"), m.name));
    if (m.mountPath.empty()) {
      errs.push_back(Required(idx.Child("mountPath")));
    } else if (m.mountPath[0] != '/') {  // kvol: Kubernetes lets the runtime decide
      errs.push_back(InvalidValue(idx.Child("mountPath"), m.mountPath, "must be an absolute path"));
    }
    if (!mountpoints.insert(m.mountPath).second)
      errs.push_back(InvalidValue(idx.Child("mountPath"), m.mountPath, "must be unique"));
    if (devices.count(m.name))
      errs.push_back(
          InvalidValue(idx.Child("name"), m.name, "must not already exist in volumeDevices"));
    for (const auto& [n, p] : devices)
      if (p == m.mountPath) {
        errs.push_back(InvalidValue(idx.Child("mountPath"), m.mountPath,
                                    "must not already exist as a path in volumeDevices"));
        break;
      }
    // Kubernetes names these two paths without the mount's index.
    if (!m.subPath.empty())
      Append(errs, ValidateLocalDescendingPath(m.subPath, path.Child("subPath")));
    if (!m.subPathExpr.empty()) {
      if (!m.subPath.empty())
        errs.push_back(InvalidValue(idx.Child("subPathExpr"), m.subPathExpr,
                                    "subPathExpr and subPath are mutually exclusive"));
      Append(errs, ValidateLocalDescendingPath(m.subPathExpr, path.Child("subPathExpr")));
    }
    if (m.mountPropagation) {
      Path pp = path.Child("mountPropagation");
      static const std::vector<std::string> kModes = {"Bidirectional", "HostToContainer", "None"};
      if (!Contains(kModes, *m.mountPropagation))
        errs.push_back(NotSupported(pp, *m.mountPropagation, kModes));
      bool privileged = c.securityContext && c.securityContext->privileged.value_or(false);
      if (*m.mountPropagation == "Bidirectional" && !privileged)
        errs.push_back(Forbidden(
            pp, "Bidirectional mount propagation is available only to privileged containers"));
    }
    if (m.recursiveReadOnly) {
      Path rp = path.Child("recursiveReadOnly");
      const std::string& r = *m.recursiveReadOnly;
      if (r == "Enabled" || r == "IfPossible") {
        if (!m.readOnly)
          errs.push_back(Forbidden(rp, "may only be specified when readOnly is true"));
        if (m.mountPropagation && *m.mountPropagation != "None")
          errs.push_back(Forbidden(
              rp, "may only be specified when mountPropagation is None or not specified"));
      } else if (r != "Disabled") {
        errs.push_back(NotSupported(rp, r, {"Disabled", "Enabled", "IfPossible"}));
      }
    }
  }
  return errs;
}

ErrorList ValidateVolumeDevices(const Container& c, const VolumeMap& volumes, const Path& path) {
  ErrorList errs;
  std::set<std::string> paths, names;
  std::map<std::string, std::string> mounts;
  for (const auto& m : c.volumeMounts) mounts[m.name] = m.mountPath;
  for (size_t i = 0; i < c.volumeDevices.size(); ++i) {
    const VolumeDevice& d = c.volumeDevices[i];
    Path idx = path.Index(i);
    auto it = volumes.find(d.name);
    bool matched = it != volumes.end();
    bool isPVC = matched && (it->second->persistentVolumeClaim || it->second->ephemeral);
    if (d.name.empty()) errs.push_back(Required(idx.Child("name")));
    if (names.count(d.name))
      errs.push_back(InvalidValue(idx.Child("name"), d.name, "must be unique"));
    if (matched && !isPVC)
      errs.push_back(InvalidValue(idx.Child("name"), d.name,
                                  "can only use volume source type of PersistentVolumeClaim or "
                                  "Ephemeral for block mode"));
    if (!matched) errs.push_back(NotFoundError(idx.Child("name"), d.name));
    if (d.devicePath.empty()) {
      errs.push_back(Required(idx.Child("devicePath")));
    } else if (d.devicePath[0] != '/') {  // kvol: device nodes live at absolute paths
      errs.push_back(
          InvalidValue(idx.Child("devicePath"), d.devicePath, "must be an absolute path"));
    }
    if (paths.count(d.devicePath))
      errs.push_back(InvalidValue(idx.Child("devicePath"), d.devicePath, "must be unique"));
    if (!d.devicePath.empty() && !ValidatePathNoBacksteps(d.devicePath, path).empty()) {
      errs.push_back(
          InvalidValue(idx.Child("devicePath"), d.devicePath, "can not contain backsteps ('..')"));
    } else {
      paths.insert(d.devicePath);
    }
    if (mounts.count(d.name))
      errs.push_back(
          InvalidValue(idx.Child("name"), d.name, "must not already exist in volumeMounts"));
    for (const auto& [n, p] : mounts)
      if (p == d.devicePath) {
        errs.push_back(InvalidValue(idx.Child("devicePath"), d.devicePath,
                                    "must not already exist as a path in volumeMounts"));
        break;
      }
    if (!d.name.empty()) names.insert(d.name);
  }
  return errs;
}

ErrorList ValidateResources(const ResourceRequirements& r, const Path& path) {
  ErrorList errs;
  for (const auto& [name, q] : r.limits)
    if (q.Sign() < 0)
      errs.push_back(
          InvalidValue(path.Child("limits").Key(name), q.ToString(), kIsNegativeErrorMsg));
  for (const auto& [name, q] : r.requests) {
    Path p = path.Child("requests").Key(name);
    if (q.Sign() < 0) errs.push_back(InvalidValue(p, q.ToString(), kIsNegativeErrorMsg));
    auto lim = r.limits.find(name);
    if (lim != r.limits.end() && q > lim->second)
      errs.push_back(InvalidValue(
          p, q.ToString(),
          "must be less than or equal to " + name + " limit of " + lim->second.ToString()));
  }
  return errs;
}

ErrorList ValidateHandler(const std::optional<ExecAction>& exec,
                          const std::optional<HTTPGetAction>& httpGet,
                          const std::optional<TCPSocketAction>& tcp,
                          const std::optional<SleepAction>& sleep, std::optional<int64_t> grace,
                          const Path& path) {
  ErrorList errs;
  int n = 0;
  auto one = [&](bool present, const char* name) {
    if (!present) return false;
    if (n > 0) {
      errs.push_back(Forbidden(path.Child(name), "may not specify more than 1 handler type"));
      return false;
    }
    ++n;
    return true;
  };
  if (one(exec.has_value(), "exec") && exec->command.empty())
    errs.push_back(Required(path.Child("exec").Child("command")));
  if (one(httpGet.has_value(), "httpGet")) {
    Path p = path.Child("httpGet");
    if (httpGet->path.empty()) errs.push_back(Required(p.Child("path")));
    Append(errs, ValidatePortNumOrName(httpGet->port, p.Child("port")));
    if (!Contains({"HTTP", "HTTPS"}, httpGet->scheme))
      errs.push_back(NotSupported(p.Child("scheme"), httpGet->scheme, {"HTTP", "HTTPS"}));
  }
  if (one(tcp.has_value(), "tcpSocket"))
    Append(errs, ValidatePortNumOrName(tcp->port, path.Child("tcpSocket").Child("port")));
  if (one(sleep.has_value(), "sleep") && grace && (sleep->seconds < 0 || sleep->seconds > *grace))
    errs.push_back(
        InvalidValue(path.Child("sleep"), sleep->seconds,
                     "must be non-negative and less than terminationGracePeriodSeconds (" +
                         std::to_string(*grace) + ")"));
  if (n == 0) errs.push_back(Required(path, "must specify a handler type"));
  return errs;
}

enum class ProbeKind { kLiveness, kReadiness, kStartup };

ErrorList ValidateProbe(const std::optional<Probe>& probe, ProbeKind kind,
                        std::optional<int64_t> grace, const Path& path) {
  if (!probe) return {};
  const Probe& p = *probe;
  ErrorList errs = ValidateHandler(p.exec, p.httpGet, p.tcpSocket, std::nullopt, grace, path);
  Append(errs, ValidateNonNegativeField(p.initialDelaySeconds, path.Child("initialDelaySeconds")));
  Append(errs, ValidateNonNegativeField(p.timeoutSeconds, path.Child("timeoutSeconds")));
  Append(errs, ValidateNonNegativeField(p.periodSeconds, path.Child("periodSeconds")));
  Append(errs, ValidateNonNegativeField(p.successThreshold, path.Child("successThreshold")));
  Append(errs, ValidateNonNegativeField(p.failureThreshold, path.Child("failureThreshold")));
  if (p.terminationGracePeriodSeconds && *p.terminationGracePeriodSeconds <= 0)
    errs.push_back(InvalidValue(path.Child("terminationGracePeriodSeconds"),
                                *p.terminationGracePeriodSeconds, "must be greater than 0"));
  if (kind != ProbeKind::kReadiness && p.successThreshold != 1)
    errs.push_back(InvalidValue(path.Child("successThreshold"), p.successThreshold, "must be 1"));
  if (kind == ProbeKind::kReadiness && p.terminationGracePeriodSeconds)
    errs.push_back(InvalidValue(path.Child("terminationGracePeriodSeconds"),
                                *p.terminationGracePeriodSeconds,
                                "must not be set for readinessProbes"));
  return errs;
}

ErrorList ValidateLifecycle(const Lifecycle& l, std::optional<int64_t> grace, const Path& path) {
  ErrorList errs;
  if (l.postStart)
    Append(errs, ValidateHandler(l.postStart->exec, l.postStart->httpGet, l.postStart->tcpSocket,
                                 l.postStart->sleep, grace, path.Child("postStart")));
  if (l.preStop)
    Append(errs, ValidateHandler(l.preStop->exec, l.preStop->httpGet, l.preStop->tcpSocket,
                                 l.preStop->sleep, grace, path.Child("preStop")));
  return errs;
}

ErrorList ValidateContainerCommon(const Container& c, const VolumeMap& volumes, const Path& path) {
  ErrorList errs;
  if (c.name.empty()) {
    errs.push_back(Required(path.Child("name")));
  } else {
    Append(errs, internal::ValidateDNS1123Label(c.name, path.Child("name")));
  }
  if (c.image.empty()) errs.push_back(Required(path.Child("image")));
  RequiredOneOf(c.terminationMessagePolicy, {"File", "FallbackToLogsOnError"},
                path.Child("terminationMessagePolicy"), errs);
  Append(errs, ValidateContainerPorts(c.ports, path.Child("ports")));
  Append(errs, ValidateEnv(c.env, path.Child("env")));
  Append(errs, ValidateEnvFrom(c.envFrom, path.Child("envFrom")));
  Append(errs, ValidateVolumeMounts(c, volumes, path.Child("volumeMounts")));
  Append(errs, ValidateVolumeDevices(c, volumes, path.Child("volumeDevices")));
  if (c.imagePullPolicy.empty()) {
    errs.push_back(Required(path.Child("imagePullPolicy")));
  } else if (!Contains({"Always", "IfNotPresent", "Never"}, c.imagePullPolicy)) {
    errs.push_back(NotSupported(path.Child("imagePullPolicy"), c.imagePullPolicy,
                                {"Always", "IfNotPresent", "Never"}));
  }
  Append(errs, ValidateResources(c.resources, path.Child("resources")));
  return errs;
}

void CheckHostPortConflicts(const std::vector<Container>& cs, const Path& path, ErrorList& errs) {
  std::set<std::string> seen;
  for (size_t i = 0; i < cs.size(); ++i)
    for (size_t j = 0; j < cs[i].ports.size(); ++j) {
      const ContainerPort& p = cs[i].ports[j];
      if (p.hostPort == 0) continue;
      std::string key = p.protocol + "/" + p.hostIP + "/" + std::to_string(p.hostPort);
      if (!seen.insert(key).second)
        errs.push_back(Duplicate(path.Index(i).Child("ports").Index(j).Child("hostPort"), key));
    }
}

ErrorList ValidateContainers(const PodSpec& spec, const VolumeMap& volumes, const Path& path) {
  if (spec.containers.empty()) return {Required(path)};
  ErrorList errs;
  std::set<std::string> names;
  auto grace = spec.terminationGracePeriodSeconds;
  for (size_t i = 0; i < spec.containers.size(); ++i) {
    const Container& c = spec.containers[i];
    Path p = path.Index(i);
    Append(errs, ValidateContainerCommon(c, volumes, p));
    if (!names.insert(c.name).second) errs.push_back(Duplicate(p.Child("name"), c.name));
    if (c.lifecycle) Append(errs, ValidateLifecycle(*c.lifecycle, grace, p.Child("lifecycle")));
    Append(errs,
           ValidateProbe(c.livenessProbe, ProbeKind::kLiveness, grace, p.Child("livenessProbe")));
    Append(errs, ValidateProbe(c.readinessProbe, ProbeKind::kReadiness, grace,
                               p.Child("readinessProbe")));
    Append(errs,
           ValidateProbe(c.startupProbe, ProbeKind::kStartup, grace, p.Child("startupProbe")));
    if (c.restartPolicy)
      errs.push_back(Forbidden(p.Child("restartPolicy"), "may not be set for non-init containers"));
  }
  CheckHostPortConflicts(spec.containers, path, errs);
  return errs;
}

ErrorList ValidateInitContainers(const PodSpec& spec, const VolumeMap& volumes, const Path& path) {
  ErrorList errs;
  std::set<std::string> names;
  for (const auto& c : spec.containers) names.insert(c.name);
  auto grace = spec.terminationGracePeriodSeconds;
  for (size_t i = 0; i < spec.initContainers.size(); ++i) {
    const Container& c = spec.initContainers[i];
    Path p = path.Index(i);
    Append(errs, ValidateContainerCommon(c, volumes, p));
    bool restartAlways = false;
    if (c.restartPolicy) {
      if (*c.restartPolicy != "Always")
        errs.push_back(NotSupported(p.Child("restartPolicy"), *c.restartPolicy, {"Always"}));
      restartAlways = *c.restartPolicy == "Always";
    }
    if (names.count(c.name)) {
      errs.push_back(Duplicate(p.Child("name"), c.name));
    } else if (!c.name.empty()) {
      names.insert(c.name);
    }
    CheckHostPortConflicts({c}, path, errs);
    if (restartAlways) {
      if (c.lifecycle) Append(errs, ValidateLifecycle(*c.lifecycle, grace, p.Child("lifecycle")));
      Append(errs,
             ValidateProbe(c.livenessProbe, ProbeKind::kLiveness, grace, p.Child("livenessProbe")));
      Append(errs, ValidateProbe(c.readinessProbe, ProbeKind::kReadiness, grace,
                                 p.Child("readinessProbe")));
      Append(errs,
             ValidateProbe(c.startupProbe, ProbeKind::kStartup, grace, p.Child("startupProbe")));
    } else {
      const char* msg = "may not be set for init containers without restartPolicy=Always";
      if (c.lifecycle) errs.push_back(Forbidden(p.Child("lifecycle"), msg));
      if (c.livenessProbe) errs.push_back(Forbidden(p.Child("livenessProbe"), msg));
      if (c.readinessProbe) errs.push_back(Forbidden(p.Child("readinessProbe"), msg));
      if (c.startupProbe) errs.push_back(Forbidden(p.Child("startupProbe"), msg));
    }
  }
  return errs;
}

ErrorList ValidateTolerations(const std::vector<Toleration>& ts, const Path& path) {
  ErrorList errs;
  for (size_t i = 0; i < ts.size(); ++i) {
    const Toleration& t = ts[i];
    Path idx = path.Index(i);
    if (!t.key.empty()) Append(errs, internal::ValidateQualifiedName(t.key, idx.Child("key")));
    if (t.key.empty() && t.operator_ != "Exists")
      errs.push_back(InvalidValue(idx.Child("operator"), t.operator_,
                                  "operator must be Exists when `key` is empty, which means "
                                  "\"match all values and all keys\""));
    if (t.tolerationSeconds && t.effect != "NoExecute")
      errs.push_back(InvalidValue(idx.Child("effect"), t.effect,
                                  "effect must be 'NoExecute' when `tolerationSeconds` is set"));
    if (t.operator_ == "Equal" || t.operator_.empty()) {
      auto msgs = IsValidLabelValue(t.value);
      if (!msgs.empty()) {
        std::string joined;
        for (size_t k = 0; k < msgs.size(); ++k) joined += (k ? ";" : "") + msgs[k];
        errs.push_back(InvalidValue(idx.Child("operator"), t.value, joined));
      }
    } else if (t.operator_ == "Exists") {
      if (!t.value.empty())
        errs.push_back(InvalidValue(idx.Child("operator"), t.value,
                                    "value must be empty when `operator` is 'Exists'"));
    } else {
      errs.push_back(NotSupported(idx.Child("operator"), t.operator_, {"Equal", "Exists"}));
    }
    if (!t.effect.empty() && !Contains({"NoSchedule", "PreferNoSchedule", "NoExecute"}, t.effect))
      errs.push_back(NotSupported(idx.Child("effect"), t.effect,
                                  {"NoSchedule", "PreferNoSchedule", "NoExecute"}));
  }
  return errs;
}

ErrorList ValidateAffinity(const Affinity& a, const Path& path) {
  ErrorList errs;
  if (!a.nodeAffinity) return errs;
  Path na = path.Child("nodeAffinity");
  if (a.nodeAffinity->requiredDuringSchedulingIgnoredDuringExecution)
    Append(errs,
           ValidateNodeSelector(*a.nodeAffinity->requiredDuringSchedulingIgnoredDuringExecution,
                                na.Child("requiredDuringSchedulingIgnoredDuringExecution")));
  const auto& pref = a.nodeAffinity->preferredDuringSchedulingIgnoredDuringExecution;
  Path pp = na.Child("preferredDuringSchedulingIgnoredDuringExecution");
  for (size_t i = 0; i < pref.size(); ++i) {
    if (pref[i].weight <= 0 || pref[i].weight > 100)
      errs.push_back(
          InvalidValue(pp.Index(i).Child("weight"), pref[i].weight, "must be in the range 1-100"));
    NodeSelector one;
    one.nodeSelectorTerms.push_back(pref[i].preference);
    for (auto& e : ValidateNodeSelector(one, Path("x"))) {
      // Re-root "x.nodeSelectorTerms[0]..." at ".preference".
      std::string rest = e.field.substr(std::string("x.nodeSelectorTerms[0]").size());
      e.field = pp.Index(i).Child("preference").str() + rest;
      errs.push_back(std::move(e));
    }
  }
  return errs;
}

ErrorList ValidatePodSecurityContext(const PodSecurityContext& sc, const Path& path) {
  ErrorList errs;
  auto id = [&](const std::optional<int64_t>& v, const Path& p) {
    if (v && (*v < 0 || *v > INT32_MAX))
      errs.push_back(InvalidValue(p, *v, InclusiveRangeError(0, INT32_MAX)));
  };
  id(sc.fsGroup, path.Child("fsGroup"));
  id(sc.runAsUser, path.Child("runAsUser"));
  id(sc.runAsGroup, path.Child("runAsGroup"));
  for (size_t i = 0; i < sc.supplementalGroups.size(); ++i)
    id(sc.supplementalGroups[i], path.Child("supplementalGroups").Index(i));
  if (sc.fsGroupChangePolicy && !Contains({"Always", "OnRootMismatch"}, *sc.fsGroupChangePolicy))
    errs.push_back(NotSupported(path.Child("fsGroupChangePolicy"), *sc.fsGroupChangePolicy,
                                {"Always", "OnRootMismatch"}));
  return errs;
}

}  // namespace

namespace internal {

ErrorList ValidatePodSpecImpl(const PodSpec& spec, const ObjectMeta* podMeta, const Path& path,
                              const PodSpecOptions& opts) {
  ErrorList errs;
  if (!spec.terminationGracePeriodSeconds) {
    errs.push_back(Required(path.Child("terminationGracePeriodSeconds")));
  } else {  // kvol: Kubernetes silently turns a negative grace period into 1
    Append(errs, ValidateNonNegativeField(*spec.terminationGracePeriodSeconds,
                                          path.Child("terminationGracePeriodSeconds")));
  }
  VolumeMap vols;
  Append(errs, ValidateVolumes(spec.volumes, podMeta, path.Child("volumes"), &vols));
  if (opts.implicitVolumes)
    for (const auto& v : *opts.implicitVolumes) vols.emplace(v.name, &v);
  Append(errs, ValidateContainers(spec, vols, path.Child("containers")));
  Append(errs, ValidateInitContainers(spec, vols, path.Child("initContainers")));
  if (spec.hostNetwork) {
    for (size_t i = 0; i < spec.containers.size(); ++i)
      for (size_t j = 0; j < spec.containers[i].ports.size(); ++j) {
        const ContainerPort& p = spec.containers[i].ports[j];
        if ((opts.resourceIsPod || p.hostPort != 0) && p.hostPort != p.containerPort)
          errs.push_back(InvalidValue(
              path.Child("containers").Index(i).Child("ports").Index(j).Child("hostPort"),
              p.hostPort, "must match `containerPort` when `hostNetwork` is true"));
      }
  }
  RequiredOneOf(spec.restartPolicy, {"Always", "OnFailure", "Never"}, path.Child("restartPolicy"),
                errs);
  RequiredOneOf(spec.dnsPolicy, {"ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"},
                path.Child("dnsPolicy"), errs);
  if (spec.dnsPolicy == "None")  // kvol has no dnsConfig
    errs.push_back(
        Required(path.Child("dnsConfig"), "must provide `dnsConfig` when `dnsPolicy` is None"));
  Append(errs, ValidateLabels(spec.nodeSelector, path.Child("nodeSelector")));
  if (spec.securityContext)
    Append(errs, ValidatePodSecurityContext(*spec.securityContext, path.Child("securityContext")));
  for (size_t i = 0; i < spec.imagePullSecrets.size(); ++i)
    if (spec.imagePullSecrets[i].name.empty())
      errs.push_back(Required(path.Child("imagePullSecrets").Index(i).Child("name")));
  if (spec.affinity) Append(errs, ValidateAffinity(*spec.affinity, path.Child("affinity")));
  if (!spec.serviceAccountName.empty())
    for (auto& m : NameIsDNSSubdomain(spec.serviceAccountName, false))
      errs.push_back(InvalidValue(path.Child("serviceAccountName"), spec.serviceAccountName, m));
  if (!spec.nodeName.empty())
    for (auto& m : NameIsDNSSubdomain(spec.nodeName, false))
      errs.push_back(InvalidValue(path.Child("nodeName"), spec.nodeName, m));
  if (spec.activeDeadlineSeconds &&
      (*spec.activeDeadlineSeconds < 1 || *spec.activeDeadlineSeconds > INT32_MAX))
    errs.push_back(InvalidValue(path.Child("activeDeadlineSeconds"), *spec.activeDeadlineSeconds,
                                InclusiveRangeError(1, INT32_MAX)));
  if (!spec.hostname.empty())
    Append(errs, ValidateDNS1123Label(spec.hostname, path.Child("hostname")));
  if (!spec.subdomain.empty())
    Append(errs, ValidateDNS1123Label(spec.subdomain, path.Child("subdomain")));
  Append(errs, ValidateTolerations(spec.tolerations, path.Child("tolerations")));
  if (!spec.priorityClassName.empty())
    for (auto& m : NameIsDNSSubdomain(spec.priorityClassName, false))
      errs.push_back(InvalidValue(path.Child("priorityClassName"), spec.priorityClassName, m));
  if (spec.runtimeClassName)
    for (auto& m : NameIsDNSSubdomain(*spec.runtimeClassName, false))
      errs.push_back(InvalidValue(path.Child("runtimeClassName"), *spec.runtimeClassName, m));
  if (spec.preemptionPolicy)
    RequiredOneOf(*spec.preemptionPolicy, {"PreemptLowerPriority", "Never"},
                  path.Child("preemptionPolicy"), errs);
  return errs;
}

}  // namespace internal

ErrorList ValidatePodSpec(const PodSpec& spec, const ObjectMeta* podMeta, const Path& path) {
  internal::PodSpecOptions opts;
  opts.resourceIsPod = podMeta != nullptr;
  return internal::ValidatePodSpecImpl(spec, podMeta, path, opts);
}

ErrorList ValidatePodTemplateSpec(const PodTemplateSpec& tmpl, const Path& path) {
  ErrorList errs = ValidateLabels(tmpl.metadata.labels, path.Child("metadata").Child("labels"));
  Append(errs, ValidateAnnotations(tmpl.metadata.annotations,
                                   path.Child("metadata").Child("annotations")));
  Append(errs, ValidatePodSpec(tmpl.spec, nullptr, path.Child("spec")));
  return errs;
}

ErrorList ValidatePod(const Pod& pod) {
  ErrorList errs = ValidateObjectMeta(pod.metadata, true, NameIsDNSSubdomain, Path("metadata"));
  Path spec("spec");
  Append(errs, ValidatePodSpec(pod.spec, &pod.metadata, spec));
  auto trimmed = [](const std::string& s) {
    return s.empty() || (!std::isspace(static_cast<unsigned char>(s.front())) &&
                         !std::isspace(static_cast<unsigned char>(s.back())));
  };
  for (const char* list : {"containers", "initContainers"}) {
    const auto& cs =
        std::string(list) == "containers" ? pod.spec.containers : pod.spec.initContainers;
    for (size_t i = 0; i < cs.size(); ++i)
      if (!trimmed(cs[i].image))
        errs.push_back(InvalidValue(spec.Child(list).Index(i).Child("image"), cs[i].image,
                                    "must not have leading or trailing whitespace"));
  }
  return errs;
}

namespace {

constexpr const char* kUpdatablePodSpecFields =
    "`spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,"
    "`spec.tolerations` (only additions to existing tolerations),"
    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)";

// A short account of which top-level spec fields differ (Kubernetes prints a go-cmp diff).
std::string SpecDiff(const json& oldSpec, const json& newSpec) {
  std::string out;
  std::set<std::string> keys;
  for (auto it = oldSpec.begin(); it != oldSpec.end(); ++it) keys.insert(it.key());
  for (auto it = newSpec.begin(); it != newSpec.end(); ++it) keys.insert(it.key());
  for (const auto& k : keys) {
    json a = oldSpec.contains(k) ? oldSpec[k] : json();
    json b = newSpec.contains(k) ? newSpec[k] : json();
    if (a == b) continue;
    out += "  spec." + k + ": " + a.dump() + " -> " + b.dump() + "\n";
  }
  return out;
}

}  // namespace

ErrorList ValidatePodUpdate(const Pod& pod, const Pod& old) {
  ErrorList errs = ValidateObjectMetaUpdate(pod.metadata, old.metadata, Path("metadata"));
  Path spec("spec");
  auto containerCount = [&](const std::vector<Container>& a, const std::vector<Container>& b,
                            const char* name) {
    if (a.size() != b.size()) {
      errs.push_back(Forbidden(spec.Child(name), "pod updates may not add or remove containers"));
      return false;
    }
    return true;
  };
  if (!containerCount(pod.spec.containers, old.spec.containers, "containers")) return errs;
  if (!containerCount(pod.spec.initContainers, old.spec.initContainers, "initContainers"))
    return errs;

  if (pod.spec.activeDeadlineSeconds) {
    int64_t v = *pod.spec.activeDeadlineSeconds;
    if (v < 0 || v > INT32_MAX) {
      errs.push_back(
          InvalidValue(spec.Child("activeDeadlineSeconds"), v, InclusiveRangeError(0, INT32_MAX)));
      return errs;
    }
    if (old.spec.activeDeadlineSeconds && *old.spec.activeDeadlineSeconds < v) {
      errs.push_back(InvalidValue(spec.Child("activeDeadlineSeconds"), v,
                                  "must be less than or equal to previous value"));
      return errs;
    }
  } else if (old.spec.activeDeadlineSeconds) {
    errs.push_back(InvalidValue(spec.Child("activeDeadlineSeconds"), nullptr,
                                "must not update from a positive integer to nil value"));
  }

  // Tolerations: every old one must still be there (tolerationSeconds may change).
  for (const auto& o : old.spec.tolerations) {
    bool found = false;
    for (const auto& n : pod.spec.tolerations) {
      Toleration clone = o;
      clone.tolerationSeconds = n.tolerationSeconds;
      if (ToJson(clone) == ToJson(n)) {
        found = true;
        break;
      }
    }
    if (!found) {
      errs.push_back(
          Forbidden(spec.Child("tolerations"),
                    "existing toleration can not be modified except its tolerationSeconds"));
      break;
    }
  }

  PodSpec munged = pod.spec;
  for (size_t i = 0; i < munged.containers.size(); ++i)
    munged.containers[i].image = old.spec.containers[i].image;
  for (size_t i = 0; i < munged.initContainers.size(); ++i)
    munged.initContainers[i].image = old.spec.initContainers[i].image;
  munged.activeDeadlineSeconds = old.spec.activeDeadlineSeconds;
  munged.tolerations = old.spec.tolerations;
  if (old.spec.terminationGracePeriodSeconds && *old.spec.terminationGracePeriodSeconds < 0 &&
      munged.terminationGracePeriodSeconds && *munged.terminationGracePeriodSeconds == 1)
    munged.terminationGracePeriodSeconds = old.spec.terminationGracePeriodSeconds;
  json a = ToJson(munged), b = ToJson(old.spec);
  if (a != b)
    errs.push_back(Forbidden(spec, std::string("pod updates may not change fields other than ") +
                                       kUpdatablePodSpecFields + "\n" + SpecDiff(b, a)));
  return errs;
}

}  // namespace kvol::api
