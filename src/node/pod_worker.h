// Internal to kvol_node: what a pod worker decides, as pure functions over plain values, so it is
// tested without containers: a container's argv and environment (Kubernetes' rules over the
// image config), the restart policy and crash-loop back-off, and the pod status (phase,
// conditions, containerStatuses) computed from what the runtime reports.
//
// Thread safety: stateless functions; the record types are plain values.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "kvol/api/types_pod.h"
#include "kvol/common/status.h"
#include "kvol/image/image_store.h"
#include "kvol/runtime/runtime.h"
#include "kvol/volume/plugin.h"

namespace kvol::node {

inline constexpr const char* kDefaultPath =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// Kubernetes' $(VAR) expansion (command, args, env values, subPathExpr): $(NAME) becomes the
// value when NAME is defined, stays as written otherwise; $$ is an escaped $.
std::string ExpandVars(const std::string& in, const std::map<std::string, std::string>& env);

// argv from the container's command/args over the image's Entrypoint/Cmd (Kubernetes' table):
// command set -> command + args; only args -> Entrypoint + args; neither -> Entrypoint + Cmd.
// command and args are $(VAR)-expanded with `env`.
std::vector<std::string> ContainerArgs(const image::ImageConfig& img, const api::Container& c,
                                       const std::map<std::string, std::string>& env);

// What fieldRef/resourceFieldRef read besides the pod object.
struct NodeFacts {
  std::string hostIP = "127.0.0.1";
  std::string podIP;
  int64_t cpuCores = 1;
  int64_t memoryBytes = 0;
};

// The container's own variables, in Kubernetes' order: envFrom sources first (prefix + key;
// keys that are not valid variable names are skipped), then env (later entries override, values
// $(VAR)-expanded with what is defined before them). Errors (the container waits with
// CreateContainerConfigError and this message): `configmap "x" not found`, `secret "x" not
// found`, `couldn't find key k in ConfigMap ns/x`, `couldn't find key k in Secret ns/x`.
Result<std::vector<std::pair<std::string, std::string>>> ContainerEnv(const api::Pod& pod,
                                                                      const api::Container& c,
                                                                      volume::ObjectSource& objects,
                                                                      const NodeFacts& facts);

// The final "K=V" list: the image's Env, then the container's variables (overriding by name in
// place), PATH defaulted when neither sets it, HOSTNAME = hostname.
std::vector<std::string> MergeEnv(const std::vector<std::string>& imageEnv,
                                  const std::vector<std::pair<std::string, std::string>>& own,
                                  const std::string& hostname);

// Restart policy: should a container that exited with `exitCode` run again?
// Always -> yes; OnFailure -> exitCode != 0; Never -> no. (A sidecar init container - restartPolicy
// Always on an init container - always restarts.)
bool ShouldRestart(const std::string& podRestartPolicy, int exitCode);

// The kubelet's crash-loop back-off for one container: the first restart at once, then 10 s
// doubling to 300 s; a container that ran 10 minutes or more before it exited starts over.
struct Backoff {
  std::chrono::seconds next{0};  // the delay the next restart waits
  // Called when the container exited after running `ranFor`; returns the delay before restarting.
  std::chrono::seconds OnExit(std::chrono::seconds ranFor);
};

// One container of a pod as the worker tracks it.
struct ContainerRecord {
  std::string name;
  bool init = false;
  bool sidecar = false;  // init container with restartPolicy Always
  int restartCount = 0;
  std::string id;               // current runtime container id ("" = not created yet)
  runtime::ContainerStatus rt;  // last known runtime state of `id`
  std::optional<api::ContainerStateTerminated> lastTermination;  // the run before `id`
  std::string waitingReason, waitingMessage;  // why it does not run (when it does not)
  std::string image, imageID;                 // normalised name, "sha256:..."
  Backoff backoff;
  bool backoffArmed = false;  // the back-off delay of the current exit has been taken
  std::chrono::steady_clock::time_point notBefore{};  // (re)start not before this
  std::chrono::steady_clock::time_point runningSince{};
  bool done = false;  // exited and will not run again (policy)
};

// The terminated state of the record's current (exited) container.
api::ContainerStateTerminated TerminatedOf(const ContainerRecord& r);

// "crun://<id>"
std::string ContainerIdUri(const std::string& id);
// "<uid>_<container>_<restartCount>" and back (false when `id` has another shape).
std::string MakeContainerId(const std::string& uid, const std::string& name, int restartCount);
bool ParseContainerId(const std::string& id, std::string* uid, std::string* name,
                      int* restartCount);

// The container's status entry (state, lastState, ready, started, restartCount, image...).
api::ContainerStatus ContainerStatusOf(const ContainerRecord& r, const api::Container& spec,
                                       bool podInitializing);

// The pod's status from its containers: phase (the kubelet's getPhase), conditions
// PodReadyToStartContainers, Initialized, ContainersReady, Ready (PodScheduled kept from
// `previous`; lastTransitionTime kept while a condition's status is unchanged), startTime,
// hostIP/hostIPs 127.0.0.1, initContainerStatuses, containerStatuses. `now` is an RFC 3339 time.
api::PodStatus ComputePodStatus(const api::Pod& pod, const std::vector<ContainerRecord>& init,
                                const std::vector<ContainerRecord>& regular, bool sandboxReady,
                                const api::PodStatus& previous, const std::string& now);

}  // namespace kvol::node
