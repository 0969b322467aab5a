// Defaulting of Pods, pod templates and the other core/v1 kinds beside them (see defaults.h).
#include <string>
#include <string_view>

#include "kvol/api/defaults.h"
#include "kvol/api/quantity.h"

namespace kvol::api {
namespace {

constexpr int32_t kDefaultFileMode = 0644;  // 420

void DefaultProbe(std::optional<Probe>& p) {
  if (!p) return;
  if (p->timeoutSeconds == 0) p->timeoutSeconds = 1;
  if (p->periodSeconds == 0) p->periodSeconds = 10;
  if (p->successThreshold == 0) p->successThreshold = 1;
  if (p->failureThreshold == 0) p->failureThreshold = 3;
  if (p->httpGet) {
    if (p->httpGet->path.empty()) p->httpGet->path = "/";
    if (p->httpGet->scheme.empty()) p->httpGet->scheme = "HTTP";
  }
}

void DefaultHandler(std::optional<LifecycleHandler>& h) {
  if (!h || !h->httpGet) return;
  if (h->httpGet->path.empty()) h->httpGet->path = "/";
  if (h->httpGet->scheme.empty()) h->httpGet->scheme = "HTTP";
}

void DefaultFieldRef(std::optional<ObjectFieldSelector>& f) {
  if (f && f->apiVersion.empty()) f->apiVersion = "v1";
}

void DefaultDownwardAPIItems(std::vector<DownwardAPIVolumeFile>& items) {
  for (auto& i : items) DefaultFieldRef(i.fieldRef);
}

// PersistentVolumeClaim defaults Kubernetes applies to embedded claims (the storage engineer
// applies the same to PVC objects).
void DefaultClaimSpec(PersistentVolumeClaimSpec& spec) {
  if (!spec.volumeMode) spec.volumeMode = kVolumeModeFilesystem;
}

// Requests default to limits for each resource with a limit and no request.
void DefaultRequestsFromLimits(Container& c) {
  for (const auto& [name, q] : c.resources.limits) c.resources.requests.emplace(name, q);
}

void DefaultHostNetworkPorts(std::vector<Container>& cs) {
  for (auto& c : cs)
    for (auto& p : c.ports)
      if (p.hostPort == 0) p.hostPort = p.containerPort;
}

// Kubernetes' GetPodQOS over containers and init containers.
std::string ComputeQOSClass(const PodSpec& spec) {
  ResourceList requests, limits;
  bool guaranteed = true;
  auto visit = [&](const Container& c) {
    for (const auto& [name, q] : c.resources.requests) {
      if ((name == "cpu" || name == "memory") && q.Sign() > 0) requests[name] += q;
    }
    bool cpu = false, mem = false;
    for (const auto& [name, q] : c.resources.limits) {
      if ((name == "cpu" || name == "memory") && q.Sign() > 0) {
        limits[name] += q;
        (name == "cpu" ? cpu : mem) = true;
      }
    }
    if (!cpu || !mem) guaranteed = false;
  };
  for (const auto& c : spec.initContainers) visit(c);
  for (const auto& c : spec.containers) visit(c);
  if (requests.empty() && limits.empty()) return "BestEffort";
  if (guaranteed) {
    for (const auto& [name, q] : requests) {
      auto it = limits.find(name);
      if (it == limits.end() || !(it->second == q)) guaranteed = false;
    }
  }
  if (guaranteed && requests.size() == limits.size()) return "Guaranteed";
  return "Burstable";
}

}  // namespace

std::string DefaultImagePullPolicy(const std::string& image) {
  // The tag is after the last ':' of the last path component, before any '@digest'.
  std::string_view ref(image);
  bool hasDigest = false;
  if (auto at = ref.find('@'); at != std::string_view::npos) {
    hasDigest = true;
    ref = ref.substr(0, at);
  }
  std::string_view last = ref;
  if (auto slash = ref.rfind('/'); slash != std::string_view::npos) last = ref.substr(slash + 1);
  std::string_view tag;
  if (auto colon = last.rfind(':'); colon != std::string_view::npos) tag = last.substr(colon + 1);
  if (tag.empty() && !hasDigest) tag = "latest";
  return tag == "latest" ? "Always" : "IfNotPresent";
}

void DefaultContainer(Container& c) {
  if (c.imagePullPolicy.empty()) c.imagePullPolicy = DefaultImagePullPolicy(c.image);
  if (c.terminationMessagePath.empty()) c.terminationMessagePath = "/dev/termination-log";
  if (c.terminationMessagePolicy.empty()) c.terminationMessagePolicy = "File";
  for (auto& p : c.ports)
    if (p.protocol.empty()) p.protocol = "TCP";
  for (auto& e : c.env)
    if (e.valueFrom) DefaultFieldRef(e.valueFrom->fieldRef);
  DefaultProbe(c.livenessProbe);
  DefaultProbe(c.readinessProbe);
  DefaultProbe(c.startupProbe);
  if (c.lifecycle) {
    DefaultHandler(c.lifecycle->postStart);
    DefaultHandler(c.lifecycle->preStop);
  }
}

void DefaultVolume(Volume& v) {
  bool any = v.hostPath || v.emptyDir || v.gcePersistentDisk || v.awsElasticBlockStore ||
             v.gitRepo || v.secret || v.nfs || v.persistentVolumeClaim || v.downwardAPI ||
             v.configMap || v.azureDisk || v.projected || v.csi || v.ephemeral;
  if (!any) v.emptyDir = EmptyDirVolumeSource{};
  if (v.hostPath && !v.hostPath->type) v.hostPath->type = "";
  if (v.secret && !v.secret->defaultMode) v.secret->defaultMode = kDefaultFileMode;
  if (v.configMap && !v.configMap->defaultMode) v.configMap->defaultMode = kDefaultFileMode;
  if (v.downwardAPI) {
    if (!v.downwardAPI->defaultMode) v.downwardAPI->defaultMode = kDefaultFileMode;
    DefaultDownwardAPIItems(v.downwardAPI->items);
  }
  if (v.projected) {
    if (!v.projected->defaultMode) v.projected->defaultMode = kDefaultFileMode;
    for (auto& s : v.projected->sources) {
      if (s.downwardAPI) DefaultDownwardAPIItems(s.downwardAPI->items);
      if (s.serviceAccountToken && !s.serviceAccountToken->expirationSeconds)
        s.serviceAccountToken->expirationSeconds = 3600;
    }
  }
  if (v.azureDisk) {
    if (!v.azureDisk->cachingMode) v.azureDisk->cachingMode = "ReadWrite";
    if (!v.azureDisk->kind) v.azureDisk->kind = "Shared";
    if (!v.azureDisk->fsType) v.azureDisk->fsType = "ext4";
    if (!v.azureDisk->readOnly) v.azureDisk->readOnly = false;
  }
  if (v.ephemeral && v.ephemeral->volumeClaimTemplate)
    DefaultClaimSpec(v.ephemeral->volumeClaimTemplate->spec);
}

void DefaultPodSpec(PodSpec& spec) {
  if (spec.dnsPolicy.empty()) spec.dnsPolicy = "ClusterFirst";
  if (spec.restartPolicy.empty()) spec.restartPolicy = "Always";
  if (!spec.securityContext) spec.securityContext = PodSecurityContext{};
  if (!spec.terminationGracePeriodSeconds) spec.terminationGracePeriodSeconds = 30;
  if (spec.schedulerName.empty()) spec.schedulerName = "default-scheduler";
  if (spec.hostNetwork) {
    DefaultHostNetworkPorts(spec.containers);
    DefaultHostNetworkPorts(spec.initContainers);
  }
  for (auto& v : spec.volumes) DefaultVolume(v);
  for (auto& c : spec.initContainers) DefaultContainer(c);
  for (auto& c : spec.containers) DefaultContainer(c);
}

void DefaultPodTemplateSpec(PodTemplateSpec& tmpl) { DefaultPodSpec(tmpl.spec); }

void DefaultPod(Pod& pod) {
  DefaultPodSpec(pod.spec);
  if (!pod.spec.enableServiceLinks) pod.spec.enableServiceLinks = true;
  for (auto& c : pod.spec.initContainers) DefaultRequestsFromLimits(c);
  for (auto& c : pod.spec.containers) DefaultRequestsFromLimits(c);
  if (pod.status.phase.empty()) pod.status.phase = "Pending";
  if (pod.status.qosClass.empty()) pod.status.qosClass = ComputeQOSClass(pod.spec);
}

void DefaultNamespace(Namespace& ns) {
  if (ns.status.phase.empty()) ns.status.phase = "Active";
  bool has = false;
  for (const auto& f : ns.spec.finalizers) has = has || f == "kubernetes";
  if (!has && !ns.metadata.deletionTimestamp) ns.spec.finalizers.push_back("kubernetes");
}

void DefaultNode(Node& node) {
  if (node.status.allocatable.empty()) node.status.allocatable = node.status.capacity;
}

std::string Base64Encode(std::string_view raw) {
  static constexpr char kTable[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((raw.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < raw.size(); i += 3) {
    uint32_t n = (uint32_t(uint8_t(raw[i])) << 16) | (uint32_t(uint8_t(raw[i + 1])) << 8) |
                 uint32_t(uint8_t(raw[i + 2]));
    out += kTable[(n >> 18) & 63];
    out += kTable[(n >> 12) & 63];
    out += kTable[(n >> 6) & 63];
    out += kTable[n & 63];
  }
  if (size_t rest = raw.size() - i; rest > 0) {
    uint32_t n = uint32_t(uint8_t(raw[i])) << 16;
    if (rest == 2) n |= uint32_t(uint8_t(raw[i + 1])) << 8;
    out += kTable[(n >> 18) & 63];
    out += kTable[(n >> 12) & 63];
    out += rest == 2 ? kTable[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

void DefaultSecret(Secret& secret) {
  if (secret.type.empty()) secret.type = "Opaque";
  for (const auto& [k, v] : secret.stringData) secret.data[k] = Base64Encode(v);
  secret.stringData.clear();
}

void DefaultConfigMap(ConfigMap&) {}
void DefaultEvent(Event&) {}

}  // namespace kvol::api
