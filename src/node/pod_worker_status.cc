// Restart policy, back-off and pod status computation (pod_worker.h).
#include <algorithm>

#include "pod_worker.h"

namespace kvol::node {

bool ShouldRestart(const std::string& policy, int exitCode) {
  if (policy == "Never") return false;
  if (policy == "OnFailure") return exitCode != 0;
  return true;  // Always (the default)
}

std::chrono::seconds Backoff::OnExit(std::chrono::seconds ranFor) {
  if (ranFor >= std::chrono::minutes(10)) next = std::chrono::seconds(0);
  std::chrono::seconds delay = next;
  next =
      next.count() == 0 ? std::chrono::seconds(10) : std::min(next * 2, std::chrono::seconds(300));
  return delay;
}

std::string ContainerIdUri(const std::string& id) { return id.empty() ? "" : "crun://" + id; }

std::string MakeContainerId(const std::string& uid, const std::string& name, int restartCount) {
  return uid + "_" + name + "_" + std::to_string(restartCount);
}

bool ParseContainerId(const std::string& id, std::string* uid, std::string* name,
                      int* restartCount) {
  auto a = id.find('_');
  auto b = id.rfind('_');
  if (a == std::string::npos || a == 0 || b == a || b + 1 >= id.size()) return false;
  std::string n = id.substr(b + 1);
  if (!std::all_of(n.begin(), n.end(), [](char c) { return c >= '0' && c <= '9'; })) return false;
  if (n.size() > 9) return false;
  *uid = id.substr(0, a);
  *name = id.substr(a + 1, b - a - 1);
  *restartCount = std::stoi(n);
  return !name->empty();
}

api::ContainerStateTerminated TerminatedOf(const ContainerRecord& r) {
  api::ContainerStateTerminated t;
  t.exitCode = r.rt.exitCode;
  t.reason = r.rt.reason.empty() ? (r.rt.exitCode == 0 ? "Completed" : "Error") : r.rt.reason;
  t.message = r.rt.message;
  t.startedAt = r.rt.startedAt;
  t.finishedAt = r.rt.finishedAt;
  t.containerID = ContainerIdUri(r.id);
  return t;
}

namespace {

bool Running(const ContainerRecord& r) {
  return !r.id.empty() && r.rt.state == runtime::State::kRunning;
}
bool Exited(const ContainerRecord& r) {
  return !r.id.empty() && r.rt.state == runtime::State::kExited;
}

api::PodCondition Cond(const std::string& type, bool ok, const std::string& reason,
                       const std::string& message, const api::PodStatus& previous,
                       const std::string& now) {
  api::PodCondition c;
  c.type = type;
  c.status = ok ? "True" : "False";
  if (!ok) {
    c.reason = reason;
    c.message = message;
  }
  c.lastTransitionTime = now;
  for (const auto& p : previous.conditions) {
    if (p.type == type && p.status == c.status && !p.lastTransitionTime.empty()) {
      c.lastTransitionTime = p.lastTransitionTime;
    }
  }
  return c;
}

std::string NameList(const std::vector<std::string>& names) {
  std::string s = "[";
  for (size_t i = 0; i < names.size(); ++i) s += (i ? " " : "") + names[i];
  return s + "]";
}

}  // namespace

api::ContainerStatus ContainerStatusOf(const ContainerRecord& r, const api::Container& spec,
                                       bool podInitializing) {
  api::ContainerStatus s;
  s.name = r.name;
  s.image = r.image.empty() ? spec.image : r.image;
  s.imageID = r.imageID;
  s.restartCount = r.restartCount;
  s.containerID = ContainerIdUri(r.id);
  s.started = false;
  if (r.lastTermination) s.lastState.terminated = r.lastTermination;
  if (Running(r)) {
    s.state.running = api::ContainerStateRunning{r.rt.startedAt};
    s.ready = true;
    s.started = true;
  } else if (Exited(r)) {
    if (!r.waitingReason.empty()) {
      s.state.waiting = api::ContainerStateWaiting{r.waitingReason, r.waitingMessage};
      s.lastState = api::ContainerState{};
      s.lastState.terminated = TerminatedOf(r);
    } else {
      s.state.terminated = TerminatedOf(r);
    }
  } else {
    std::string reason = r.waitingReason;
    if (reason.empty()) reason = podInitializing ? "PodInitializing" : "ContainerCreating";
    s.state.waiting = api::ContainerStateWaiting{reason, r.waitingMessage};
  }
  return s;
}

api::PodStatus ComputePodStatus(const api::Pod& pod, const std::vector<ContainerRecord>& init,
                                const std::vector<ContainerRecord>& regular, bool sandboxReady,
                                const api::PodStatus& previous, const std::string& now) {
  const std::string policy = pod.spec.restartPolicy.empty() ? "Always" : pod.spec.restartPolicy;
  api::PodStatus st;
  st.hostIP = "127.0.0.1";
  st.hostIPs = {api::PodIP{"127.0.0.1"}};
  st.startTime = previous.startTime.empty() ? now : previous.startTime;
  st.qosClass = previous.qosClass;
  st.nominatedNodeName = previous.nominatedNodeName;

  // Init containers.
  int pendingInit = 0, failedInit = 0;
  std::vector<std::string> incomplete;
  for (size_t i = 0; i < init.size(); ++i) {
    const auto& r = init[i];
    bool complete;
    if (r.sidecar) {
      complete = Running(r);
    } else if (Exited(r) && r.waitingReason.empty()) {
      complete = r.rt.exitCode == 0;
      if (!complete) ++failedInit;
    } else if (Exited(r) || (r.id.empty() && r.lastTermination && r.lastTermination->exitCode)) {
      complete = false;
      ++failedInit;
    } else {
      complete = false;
      ++pendingInit;
    }
    if (!complete) incomplete.push_back(r.name);
    const api::Container& spec =
        i < pod.spec.initContainers.size() ? pod.spec.initContainers[i] : api::Container{};
    st.initContainerStatuses.push_back(ContainerStatusOf(r, spec, false));
  }
  bool initialized = incomplete.empty();

  // Regular containers.
  int waiting = 0, running = 0, stopped = 0, succeeded = 0;
  std::vector<std::string> unready;
  for (size_t i = 0; i < regular.size(); ++i) {
    const auto& r = regular[i];
    const api::Container& spec =
        i < pod.spec.containers.size() ? pod.spec.containers[i] : api::Container{};
    api::ContainerStatus cs = ContainerStatusOf(r, spec, !initialized);
    if (cs.state.running) {
      ++running;
    } else if (cs.state.terminated) {
      ++stopped;
      if (cs.state.terminated->exitCode == 0) ++succeeded;
    } else if (cs.lastState.terminated) {
      ++stopped;
    } else {
      ++waiting;
    }
    if (!cs.ready) unready.push_back(r.name);
    st.containerStatuses.push_back(std::move(cs));
  }

  if (failedInit > 0 && policy == "Never") {
    st.phase = "Failed";
  } else if (pendingInit > 0 || failedInit > 0 || !initialized || waiting > 0) {
    st.phase = "Pending";
  } else if (running > 0) {
    st.phase = "Running";
  } else if (stopped > 0) {
    if (policy == "Always") {
      st.phase = "Running";
    } else if (stopped == succeeded) {
      st.phase = "Succeeded";
    } else if (policy == "Never") {
      st.phase = "Failed";
    } else {
      st.phase = "Running";
    }
  } else {
    st.phase = "Pending";
  }
  bool terminal = st.phase == "Succeeded" || st.phase == "Failed";

  std::string readyReason = terminal ? "PodCompleted" : "ContainersNotReady";
  std::string readyMsg = terminal ? "" : "containers with unready status: " + NameList(unready);
  st.conditions.push_back(
      Cond("PodReadyToStartContainers", sandboxReady && !terminal, "", "", previous, now));
  st.conditions.push_back(Cond(
      "Initialized", initialized || (terminal && failedInit == 0),
      terminal ? "PodCompleted" : "ContainersNotInitialized",
      terminal ? "" : "containers with incomplete status: " + NameList(incomplete), previous, now));
  bool ready = unready.empty() && !terminal;
  st.conditions.push_back(Cond("Ready", ready, readyReason, readyMsg, previous, now));
  st.conditions.push_back(Cond("ContainersReady", ready, readyReason, readyMsg, previous, now));
  for (const auto& p : previous.conditions) {
    if (p.type == "PodScheduled") st.conditions.push_back(p);
  }
  return st;
}

}  // namespace kvol::node
