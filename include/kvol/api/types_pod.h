// core/v1 Pod (containers, spec, status), PodTemplateSpec, and the small workload objects that
// live beside it: Namespace, Node, ConfigMap, Secret, Event.
//
// Exactly Kubernetes' field names and JSON shapes (k8s.io/api/core/v1/types.go); Go pointers are
// std::optional. Plain value types.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "kvol/api/meta.h"
#include "kvol/api/types_volume.h"

namespace kvol::api {

// ---- containers -------------------------------------------------------------------------------

struct ContainerPort {
  std::string name;
  int32_t hostPort = 0;
  int32_t containerPort = 0;
  std::string protocol;
  std::string hostIP;
  KVOL_REFLECT(ContainerPort, name, hostPort, containerPort, protocol, hostIP)
};

struct ConfigMapKeySelector {
  std::string name;
  std::string key;
  std::optional<bool> optional;
  KVOL_REFLECT(ConfigMapKeySelector, name, key, optional)
};

struct SecretKeySelector {
  std::string name;
  std::string key;
  std::optional<bool> optional;
  KVOL_REFLECT(SecretKeySelector, name, key, optional)
};

struct EnvVarSource {
  std::optional<ObjectFieldSelector> fieldRef;
  std::optional<ResourceFieldSelector> resourceFieldRef;
  std::optional<ConfigMapKeySelector> configMapKeyRef;
  std::optional<SecretKeySelector> secretKeyRef;
  KVOL_REFLECT(EnvVarSource, fieldRef, resourceFieldRef, configMapKeyRef, secretKeyRef)
};

struct EnvVar {
  std::string name;
  std::string value;
  std::optional<EnvVarSource> valueFrom;
  KVOL_REFLECT(EnvVar, name, value, valueFrom)
};

struct ConfigMapEnvSource {
  std::string name;
  std::optional<bool> optional;
  KVOL_REFLECT(ConfigMapEnvSource, name, optional)
};

struct SecretEnvSource {
  std::string name;
  std::optional<bool> optional;
  KVOL_REFLECT(SecretEnvSource, name, optional)
};

struct EnvFromSource {
  std::string prefix;
  std::optional<ConfigMapEnvSource> configMapRef;
  std::optional<SecretEnvSource> secretRef;
  KVOL_REFLECT(EnvFromSource, prefix, configMapRef, secretRef)
};

struct ResourceClaim {
  std::string name;
  std::string request;
  KVOL_REFLECT(ResourceClaim, name, request)
};

struct ResourceRequirements {
  ResourceList limits;
  ResourceList requests;
  std::vector<ResourceClaim> claims;
  KVOL_REFLECT(ResourceRequirements, limits, requests, claims)
};

struct VolumeMount {
  std::string name;
  bool readOnly = false;
  std::optional<std::string> recursiveReadOnly;  // Disabled | IfPossible | Enabled
  std::string mountPath;
  std::string subPath;
  std::optional<std::string> mountPropagation;  // None | HostToContainer | Bidirectional
  std::string subPathExpr;
  KVOL_REFLECT(VolumeMount, name, readOnly, recursiveReadOnly, mountPath, subPath, mountPropagation,
               subPathExpr)
};

struct VolumeDevice {
  std::string name;
  std::string devicePath;
  KVOL_REFLECT(VolumeDevice, name, devicePath)
};

struct ExecAction {
  std::vector<std::string> command;
  KVOL_REFLECT(ExecAction, command)
};

struct HTTPHeader {
  std::string name;
  std::string value;
  KVOL_REFLECT(HTTPHeader, name, value)
};

struct HTTPGetAction {
  std::string path;
  IntOrString port;
  std::string host;
  std::string scheme;
  std::vector<HTTPHeader> httpHeaders;
  KVOL_REFLECT(HTTPGetAction, path, port, host, scheme, httpHeaders)
};

struct TCPSocketAction {
  IntOrString port;
  std::string host;
  KVOL_REFLECT(TCPSocketAction, port, host)
};

struct SleepAction {
  int64_t seconds = 0;
  KVOL_REFLECT(SleepAction, seconds)
};

struct Probe {
  std::optional<ExecAction> exec;
  std::optional<HTTPGetAction> httpGet;
  std::optional<TCPSocketAction> tcpSocket;
  int32_t initialDelaySeconds = 0;
  int32_t timeoutSeconds = 0;
  int32_t periodSeconds = 0;
  int32_t successThreshold = 0;
  int32_t failureThreshold = 0;
  std::optional<int64_t> terminationGracePeriodSeconds;
  KVOL_REFLECT(Probe, exec, httpGet, tcpSocket, initialDelaySeconds, timeoutSeconds, periodSeconds,
               successThreshold, failureThreshold, terminationGracePeriodSeconds)
};

struct LifecycleHandler {
  std::optional<ExecAction> exec;
  std::optional<HTTPGetAction> httpGet;
  std::optional<TCPSocketAction> tcpSocket;
  std::optional<SleepAction> sleep;
  KVOL_REFLECT(LifecycleHandler, exec, httpGet, tcpSocket, sleep)
};

struct Lifecycle {
  std::optional<LifecycleHandler> postStart;
  std::optional<LifecycleHandler> preStop;
  KVOL_REFLECT(Lifecycle, postStart, preStop)
};

struct Capabilities {
  std::vector<std::string> add;
  std::vector<std::string> drop;
  KVOL_REFLECT(Capabilities, add, drop)
};

struct SecurityContext {
  std::optional<Capabilities> capabilities;
  std::optional<bool> privileged;
  std::optional<int64_t> runAsUser;
  std::optional<int64_t> runAsGroup;
  std::optional<bool> runAsNonRoot;
  std::optional<bool> readOnlyRootFilesystem;
  std::optional<bool> allowPrivilegeEscalation;
  std::optional<std::string> procMount;
  KVOL_REFLECT(SecurityContext, capabilities, privileged, runAsUser, runAsGroup, runAsNonRoot,
               readOnlyRootFilesystem, allowPrivilegeEscalation, procMount)
};

struct Container {
  std::string name;
  std::string image;
  std::vector<std::string> command;
  std::vector<std::string> args;
  std::string workingDir;
  std::vector<ContainerPort> ports;
  std::vector<EnvFromSource> envFrom;
  std::vector<EnvVar> env;
  ResourceRequirements resources;
  std::optional<std::string> restartPolicy;  // init-container sidecars: Always
  std::vector<VolumeMount> volumeMounts;
  std::vector<VolumeDevice> volumeDevices;
  std::optional<Probe> livenessProbe;
  std::optional<Probe> readinessProbe;
  std::optional<Probe> startupProbe;
  std::optional<Lifecycle> lifecycle;
  std::string terminationMessagePath;
  std::string terminationMessagePolicy;
  std::string imagePullPolicy;  // Always | Never | IfNotPresent
  std::optional<SecurityContext> securityContext;
  bool stdin = false;
  bool stdinOnce = false;
  bool tty = false;
  KVOL_REFLECT(Container, name, image, command, args, workingDir, ports, envFrom, env, resources,
               restartPolicy, volumeMounts, volumeDevices, livenessProbe, readinessProbe,
               startupProbe, lifecycle, terminationMessagePath, terminationMessagePolicy,
               imagePullPolicy, securityContext, stdin, stdinOnce, tty)
};

// ---- scheduling -------------------------------------------------------------------------------

struct PreferredSchedulingTerm {
  int32_t weight = 0;
  NodeSelectorTerm preference;
  KVOL_REFLECT(PreferredSchedulingTerm, weight, preference)
};

struct NodeAffinity {
  std::optional<NodeSelector> requiredDuringSchedulingIgnoredDuringExecution;
  std::vector<PreferredSchedulingTerm> preferredDuringSchedulingIgnoredDuringExecution;
  KVOL_REFLECT(NodeAffinity, requiredDuringSchedulingIgnoredDuringExecution,
               preferredDuringSchedulingIgnoredDuringExecution)
};

struct Affinity {
  std::optional<NodeAffinity> nodeAffinity;
  json podAffinity;      // kept verbatim: kvol schedules by node affinity and volume topology
  json podAntiAffinity;  // kept verbatim
  KVOL_REFLECT(Affinity, nodeAffinity, podAffinity, podAntiAffinity)
};

struct Toleration {
  std::string key;
  std::string operator_;  // Exists | Equal
  std::string value;
  std::string effect;  // NoSchedule | PreferNoSchedule | NoExecute
  std::optional<int64_t> tolerationSeconds;
  KVOL_REFLECT(Toleration, key, operator_, value, effect, tolerationSeconds)
};

struct PodSecurityContext {
  std::optional<int64_t> runAsUser;
  std::optional<int64_t> runAsGroup;
  std::optional<bool> runAsNonRoot;
  std::vector<int64_t> supplementalGroups;
  std::optional<int64_t> fsGroup;
  std::optional<std::string> fsGroupChangePolicy;  // OnRootMismatch | Always
  KVOL_REFLECT(PodSecurityContext, runAsUser, runAsGroup, runAsNonRoot, supplementalGroups, fsGroup,
               fsGroupChangePolicy)
};

struct PodSpec {
  std::vector<Volume> volumes;
  std::vector<Container> initContainers;
  std::vector<Container> containers;
  std::string restartPolicy;  // Always | OnFailure | Never
  std::optional<int64_t> terminationGracePeriodSeconds;
  std::optional<int64_t> activeDeadlineSeconds;
  std::string dnsPolicy;
  std::map<std::string, std::string> nodeSelector;
  std::string serviceAccountName;
  std::string serviceAccount;
  std::optional<bool> automountServiceAccountToken;
  std::string nodeName;
  bool hostNetwork = false;
  bool hostPID = false;
  bool hostIPC = false;
  std::optional<bool> shareProcessNamespace;
  std::optional<PodSecurityContext> securityContext;
  std::vector<LocalObjectReference> imagePullSecrets;
  std::string hostname;
  std::string subdomain;
  std::optional<Affinity> affinity;
  std::string schedulerName;
  std::vector<Toleration> tolerations;
  std::string priorityClassName;
  std::optional<int32_t> priority;
  std::optional<std::string> runtimeClassName;
  std::optional<bool> enableServiceLinks;
  std::optional<std::string> preemptionPolicy;
  KVOL_REFLECT(PodSpec, volumes, initContainers, containers, restartPolicy,
               terminationGracePeriodSeconds, activeDeadlineSeconds, dnsPolicy, nodeSelector,
               serviceAccountName, serviceAccount, automountServiceAccountToken, nodeName,
               hostNetwork, hostPID, hostIPC, shareProcessNamespace, securityContext,
               imagePullSecrets, hostname, subdomain, affinity, schedulerName, tolerations,
               priorityClassName, priority, runtimeClassName, enableServiceLinks, preemptionPolicy)
};

// ---- status -----------------------------------------------------------------------------------

struct ContainerStateWaiting {
  std::string reason;
  std::string message;
  KVOL_REFLECT(ContainerStateWaiting, reason, message)
};

struct ContainerStateRunning {
  Time startedAt;
  KVOL_REFLECT(ContainerStateRunning, startedAt)
};

struct ContainerStateTerminated {
  int32_t exitCode = 0;
  int32_t signal = 0;
  std::string reason;
  std::string message;
  Time startedAt;
  Time finishedAt;
  std::string containerID;
  KVOL_REFLECT(ContainerStateTerminated, exitCode, signal, reason, message, startedAt, finishedAt,
               containerID)
  static constexpr std::string_view kvolAlwaysEmit[] = {"exitCode"};
};

struct ContainerState {
  std::optional<ContainerStateWaiting> waiting;
  std::optional<ContainerStateRunning> running;
  std::optional<ContainerStateTerminated> terminated;
  KVOL_REFLECT(ContainerState, waiting, running, terminated)
};

struct ContainerStatus {
  std::string name;
  ContainerState state;
  ContainerState lastState;
  bool ready = false;
  int32_t restartCount = 0;
  std::string image;
  std::string imageID;
  std::string containerID;
  std::optional<bool> started;
  KVOL_REFLECT(ContainerStatus, name, state, lastState, ready, restartCount, image, imageID,
               containerID, started)
  static constexpr std::string_view kvolAlwaysEmit[] = {"state", "lastState", "ready",
                                                        "restartCount"};
};

struct PodCondition {
  std::string type;
  std::string status;
  Time lastProbeTime;
  Time lastTransitionTime;
  std::string reason;
  std::string message;
  KVOL_REFLECT(PodCondition, type, status, lastProbeTime, lastTransitionTime, reason, message)
};

struct PodIP {
  std::string ip;
  KVOL_REFLECT(PodIP, ip)
};

struct PodStatus {
  std::string phase;  // Pending | Running | Succeeded | Failed | Unknown
  std::vector<PodCondition> conditions;
  std::string message;
  std::string reason;
  std::string nominatedNodeName;
  std::string hostIP;
  std::vector<PodIP> hostIPs;
  std::string podIP;
  std::vector<PodIP> podIPs;
  Time startTime;
  std::vector<ContainerStatus> initContainerStatuses;
  std::vector<ContainerStatus> containerStatuses;
  std::string qosClass;
  KVOL_REFLECT(PodStatus, phase, conditions, message, reason, nominatedNodeName, hostIP, hostIPs,
               podIP, podIPs, startTime, initContainerStatuses, containerStatuses, qosClass)
};

struct Pod {
  std::string apiVersion;
  std::string kind;
  ObjectMeta metadata;
  PodSpec spec;
  PodStatus status;
  KVOL_REFLECT(Pod, apiVersion, kind, metadata, spec, status)
};

struct PodTemplateSpec {
  ObjectMeta metadata;
  PodSpec spec;
  KVOL_REFLECT(PodTemplateSpec, metadata, spec)
};

// ---- Namespace --------------------------------------------------------------------------------

struct NamespaceSpec {
  std::vector<std::string> finalizers;
  KVOL_REFLECT(NamespaceSpec, finalizers)
};

struct NamespaceStatus {
  std::string phase;  // Active | Terminating
  KVOL_REFLECT(NamespaceStatus, phase)
};

struct Namespace {
  std::string apiVersion;
  std::string kind;
  ObjectMeta metadata;
  NamespaceSpec spec;
  NamespaceStatus status;
  KVOL_REFLECT(Namespace, apiVersion, kind, metadata, spec, status)
};

// ---- Node -------------------------------------------------------------------------------------

struct Taint {
  std::string key;
  std::string value;
  std::string effect;
  std::optional<Time> timeAdded;
  KVOL_REFLECT(Taint, key, value, effect, timeAdded)
};

struct NodeSpec {
  std::string podCIDR;
  std::vector<std::string> podCIDRs;
  std::string providerID;
  bool unschedulable = false;
  std::vector<Taint> taints;
  KVOL_REFLECT(NodeSpec, podCIDR, podCIDRs, providerID, unschedulable, taints)
};

struct NodeCondition {
  std::string type;
  std::string status;
  Time lastHeartbeatTime;
  Time lastTransitionTime;
  std::string reason;
  std::string message;
  KVOL_REFLECT(NodeCondition, type, status, lastHeartbeatTime, lastTransitionTime, reason, message)
};

struct NodeAddress {
  std::string type;
  std::string address;
  KVOL_REFLECT(NodeAddress, type, address)
};

struct NodeSystemInfo {
  std::string machineID;
  std::string systemUUID;
  std::string bootID;
  std::string kernelVersion;
  std::string osImage;
  std::string containerRuntimeVersion;
  std::string kubeletVersion;
  std::string kubeProxyVersion;
  std::string operatingSystem;
  std::string architecture;
  KVOL_REFLECT(NodeSystemInfo, machineID, systemUUID, bootID, kernelVersion, osImage,
               containerRuntimeVersion, kubeletVersion, kubeProxyVersion, operatingSystem,
               architecture)
};

struct AttachedVolume {
  std::string name;
  std::string devicePath;
  KVOL_REFLECT(AttachedVolume, name, devicePath)
};

struct NodeStatus {
  ResourceList capacity;
  ResourceList allocatable;
  std::string phase;
  std::vector<NodeCondition> conditions;
  std::vector<NodeAddress> addresses;
  json daemonEndpoints;
  NodeSystemInfo nodeInfo;
  std::vector<std::string> volumesInUse;
  std::vector<AttachedVolume> volumesAttached;
  KVOL_REFLECT(NodeStatus, capacity, allocatable, phase, conditions, addresses, daemonEndpoints,
               nodeInfo, volumesInUse, volumesAttached)
};

struct Node {
  std::string apiVersion;
  std::string kind;
  ObjectMeta metadata;
  NodeSpec spec;
  NodeStatus status;
  KVOL_REFLECT(Node, apiVersion, kind, metadata, spec, status)
};

// ---- ConfigMap, Secret ------------------------------------------------------------------------

struct ConfigMap {
  std::string apiVersion;
  std::string kind;
  ObjectMeta metadata;
  std::optional<bool> immutable;
  std::map<std::string, std::string> data;
  std::map<std::string, std::string> binaryData;  // base64, as on the wire
  KVOL_REFLECT(ConfigMap, apiVersion, kind, metadata, immutable, data, binaryData)
};

struct Secret {
  std::string apiVersion;
  std::string kind;
  ObjectMeta metadata;
  std::optional<bool> immutable;
  std::map<std::string, std::string> data;        // base64, as on the wire
  std::map<std::string, std::string> stringData;  // write-only: folded into data on write
  std::string type;                               // default Opaque
  KVOL_REFLECT(Secret, apiVersion, kind, metadata, immutable, data, stringData, type)
};

// ---- Event ------------------------------------------------------------------------------------

struct EventSource {
  std::string component;
  std::string host;
  KVOL_REFLECT(EventSource, component, host)
};

struct EventSeries {
  int32_t count = 0;
  std::string lastObservedTime;
  KVOL_REFLECT(EventSeries, count, lastObservedTime)
};

struct Event {
  std::string apiVersion;
  std::string kind;
  ObjectMeta metadata;
  ObjectReference involvedObject;
  std::string reason;
  std::string message;
  EventSource source;
  Time firstTimestamp;
  Time lastTimestamp;
  int32_t count = 0;
  std::string type;                      // Normal | Warning
  std::optional<std::string> eventTime;  // MicroTime
  std::optional<EventSeries> series;
  std::string action;
  std::optional<ObjectReference> related;
  std::string reportingComponent;
  std::string reportingInstance;
  KVOL_REFLECT(Event, apiVersion, kind, metadata, involvedObject, reason, message, source,
               firstTimestamp, lastTimestamp, count, type, eventTime, series, action, related,
               reportingComponent, reportingInstance)
};

}  // namespace kvol::api
