// Printers of core/v1 kinds other than PV/PVC: Pod (printPod's STATUS logic), Node, Namespace,
// ConfigMap, Secret, Event.
#include <set>
#include <string>

#include "kvol/apiserver/table.h"
#include "src/apiserver/printers_util.h"

namespace kvol::apiserver::printers {

namespace {

std::string Age(const json& o, int64_t now) {
  return TimestampSince(At(o, {"metadata", "creationTimestamp"}), now);
}

bool HasCondition(const json& status, const char* type) {
  if (const json& cs = At(status, {"conditions"}); cs.is_array()) {
    for (const auto& c : cs)
      if (Str(c, {"type"}) == type && Str(c, {"status"}) == "True") return true;
  }
  return false;
}

// The later of `cur` and the container's lastState.terminated.finishedAt.
void LaterFinish(const json& cstatus, int64_t& cur) {
  const json& f = At(cstatus, {"lastState", "terminated", "finishedAt"});
  if (!f.is_string()) return;
  if (auto t = ParseTimestamp(f.get<std::string>()); t && *t > cur) cur = *t;
}

std::string TerminatedReason(const json& term, const std::string& prefix) {
  std::string r = Str(term, {"reason"});
  if (!r.empty()) return prefix + r;
  int64_t sig = Int(term, {"signal"});
  if (sig != 0) return prefix + "Signal:" + std::to_string(sig);
  return prefix + "ExitCode:" + std::to_string(Int(term, {"exitCode"}));
}

json PodCells(const json& pod, int64_t now) {
  const json& spec = At(pod, {"spec"});
  const json& status = At(pod, {"status"});
  int64_t restarts = 0, sidecarRestarts = 0;
  int64_t lastRestart = 0, lastSidecarRestart = 0;  // 0: none
  int ready = 0;
  int total = 0;
  if (const json& cs = At(spec, {"containers"}); cs.is_array()) total = static_cast<int>(cs.size());

  std::string phase = Str(status, {"phase"});
  std::string reason = phase;
  if (!Str(status, {"reason"}).empty()) reason = Str(status, {"reason"});
  if (const json& conds = At(status, {"conditions"}); conds.is_array()) {
    for (const auto& c : conds)
      if (Str(c, {"type"}) == "PodScheduled" && Str(c, {"reason"}) == "SchedulingGated")
        reason = "SchedulingGated";
  }

  std::set<std::string> sidecars;
  int initCount = 0;
  if (const json& ics = At(spec, {"initContainers"}); ics.is_array()) {
    initCount = static_cast<int>(ics.size());
    for (const auto& c : ics) {
      if (Str(c, {"restartPolicy"}) == "Always") {
        sidecars.insert(Str(c, {"name"}));
        ++total;
      }
    }
  }

  bool initializing = false;
  if (const json& ist = At(status, {"initContainerStatuses"}); ist.is_array()) {
    for (size_t i = 0; i < ist.size(); ++i) {
      const json& c = ist[i];
      restarts += Int(c, {"restartCount"});
      LaterFinish(c, lastRestart);
      bool sidecar = sidecars.count(Str(c, {"name"})) > 0;
      if (sidecar) {
        sidecarRestarts += Int(c, {"restartCount"});
        LaterFinish(c, lastSidecarRestart);
      }
      const json& term = At(c, {"state", "terminated"});
      const json& waiting = At(c, {"state", "waiting"});
      if (term.is_object() && Int(term, {"exitCode"}) == 0) continue;
      if (sidecar && Bool(c, {"started"}, false)) {
        if (Bool(c, {"ready"}, false)) ++ready;
        continue;
      }
      if (term.is_object()) {
        reason = TerminatedReason(term, "Init:");
      } else if (waiting.is_object() && !Str(waiting, {"reason"}).empty() &&
                 Str(waiting, {"reason"}) != "PodInitializing") {
        reason = "Init:" + Str(waiting, {"reason"});
      } else {
        reason = "Init:" + std::to_string(i) + "/" + std::to_string(initCount);
      }
      initializing = true;
      break;
    }
  }

  if (!initializing || HasCondition(status, "Initialized")) {
    restarts = sidecarRestarts;
    lastRestart = lastSidecarRestart;
    bool hasRunning = false;
    if (const json& cst = At(status, {"containerStatuses"}); cst.is_array()) {
      for (size_t k = cst.size(); k-- > 0;) {
        const json& c = cst[k];
        restarts += Int(c, {"restartCount"});
        LaterFinish(c, lastRestart);
        const json& term = At(c, {"state", "terminated"});
        const json& waiting = At(c, {"state", "waiting"});
        if (waiting.is_object() && !Str(waiting, {"reason"}).empty()) {
          reason = Str(waiting, {"reason"});
        } else if (term.is_object()) {
          reason = TerminatedReason(term, "");
        } else if (Bool(c, {"ready"}, false) && At(c, {"state", "running"}).is_object()) {
          hasRunning = true;
          ++ready;
        }
      }
    }
    if (reason == "Completed" && hasRunning) {
      reason = HasCondition(status, "Ready") ? "Running" : "NotReady";
    }
  }

  bool deleting = !At(pod, {"metadata", "deletionTimestamp"}).is_null();
  if (deleting && Str(status, {"reason"}) == "NodeLost") {
    reason = "Unknown";
  } else if (deleting && phase != "Succeeded" && phase != "Failed") {
    reason = "Terminating";
  }

  std::string restartsStr = std::to_string(restarts);
  if (restarts != 0 && lastRestart != 0) {
    restartsStr += " (" + HumanDuration(now - lastRestart) + " ago)";
  }

  std::string ip = "<none>";
  if (const json& ips = At(status, {"podIPs"}); ips.is_array() && !ips.empty()) {
    if (std::string v = Str(ips[0], {"ip"}); !v.empty()) ip = v;
  }
  std::string node = Str(spec, {"nodeName"});
  if (node.empty()) node = "<none>";
  std::string nominated = Str(status, {"nominatedNodeName"});
  if (nominated.empty()) nominated = "<none>";
  std::string gates = "<none>";
  if (const json& rg = At(spec, {"readinessGates"}); rg.is_array() && !rg.empty()) {
    int trueCount = 0;
    for (const auto& g : rg) {
      std::string type = Str(g, {"conditionType"});
      if (const json& conds = At(status, {"conditions"}); conds.is_array()) {
        for (const auto& c : conds) {
          if (Str(c, {"type"}) == type) {
            if (Str(c, {"status"}) == "True") ++trueCount;
            break;
          }
        }
      }
    }
    gates = std::to_string(trueCount) + "/" + std::to_string(rg.size());
  }
  return json::array({Str(pod, {"metadata", "name"}),
                      std::to_string(ready) + "/" + std::to_string(total), reason, restartsStr,
                      Age(pod, now), ip, node, nominated, gates});
}

Printer Pod() {
  Printer p;
  p.columns = {
      NameColumn(),
      {"Ready", "string", "", "The aggregate readiness state of this pod for accepting traffic."},
      {"Status", "string", "", "The aggregate status of the containers in this pod."},
      {"Restarts", "string", "",
       "The number of times the containers in this pod have been restarted and when the last "
       "container in this pod has restarted."},
      AgeColumn(),
      {"IP", "string", "",
       "podIP address allocated to the pod. Routable at least within the cluster. Empty if not "
       "yet allocated.",
       1},
      {"Node", "string", "",
       "NodeName indicates in which node this pod is scheduled. If empty, this pod is a candidate "
       "for scheduling by the scheduler defined in schedulerName.",
       1},
      {"Nominated Node", "string", "",
       "nominatedNodeName is set only when this pod preempts other pods on the node, but it "
       "cannot be scheduled right away as preemption victims receive their graceful termination "
       "periods.",
       1},
      {"Readiness Gates", "string", "",
       "If specified, all readiness gates will be evaluated for pod readiness.", 1},
  };
  p.cells = PodCells;
  p.conditions = [](const json& pod) -> json {
    std::string phase = Str(pod, {"status", "phase"});
    if (phase == "Succeeded") {
      return json::array({{{"type", "Completed"},
                           {"status", "True"},
                           {"reason", "Succeeded"},
                           {"message", "The pod has completed successfully."}}});
    }
    if (phase == "Failed") {
      return json::array({{{"type", "Completed"},
                           {"status", "True"},
                           {"reason", "Failed"},
                           {"message", "The pod failed."}}});
    }
    return nullptr;
  };
  return p;
}

std::string NodeAddress(const json& node, const char* type) {
  if (const json& as = At(node, {"status", "addresses"}); as.is_array()) {
    for (const auto& a : as)
      if (Str(a, {"type"}) == type) return Str(a, {"address"});
  }
  return "<none>";
}

Printer Node() {
  Printer p;
  p.columns = {
      NameColumn(),
      {"Status", "string", "", "The status of the node"},
      {"Roles", "string", "", "The roles of the node"},
      AgeColumn(),
      {"Version", "string", "", "Deprecated. Kubelet Version reported by the node."},
      {"Internal-IP", "string", "", "List of addresses reachable to the node.", 1},
      {"External-IP", "string", "", "List of addresses reachable to the node.", 1},
      {"OS-Image", "string", "",
       "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).", 1},
      {"Kernel-Version", "string", "",
       "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).", 1},
      {"Container-Runtime", "string", "",
       "ContainerRuntime Version reported by the node through runtime remote API (e.g. "
       "containerd://1.4.2).",
       1},
  };
  p.cells = [](const json& o, int64_t now) {
    std::string status;
    if (const json& cs = At(o, {"status", "conditions"}); cs.is_array()) {
      for (const auto& c : cs) {
        if (Str(c, {"type"}) != "Ready") continue;
        status = Str(c, {"status"}) == "True" ? "Ready" : "NotReady";
      }
    }
    if (status.empty()) status = "Unknown";
    if (Bool(o, {"spec", "unschedulable"}, false)) status += ",SchedulingDisabled";
    std::set<std::string> roles;
    if (const json& ls = At(o, {"metadata", "labels"}); ls.is_object()) {
      const std::string prefix = "node-role.kubernetes.io/";
      for (auto it = ls.begin(); it != ls.end(); ++it) {
        if (it.key().rfind(prefix, 0) == 0 && it.key().size() > prefix.size()) {
          roles.insert(it.key().substr(prefix.size()));
        } else if (it.key() == "kubernetes.io/role" && it.value().is_string() &&
                   !it.value().get<std::string>().empty()) {
          roles.insert(it.value().get<std::string>());
        }
      }
    }
    std::string rolesStr;
    for (const auto& r : roles) rolesStr += (rolesStr.empty() ? "" : ",") + r;
    if (rolesStr.empty()) rolesStr = "<none>";
    auto orUnknown = [](std::string s) { return s.empty() ? std::string("<unknown>") : s; };
    const json& info = At(o, {"status", "nodeInfo"});
    return json::array({Str(o, {"metadata", "name"}), status, rolesStr, Age(o, now),
                        Str(info, {"kubeletVersion"}), NodeAddress(o, "InternalIP"),
                        NodeAddress(o, "ExternalIP"), orUnknown(Str(info, {"osImage"})),
                        orUnknown(Str(info, {"kernelVersion"})),
                        orUnknown(Str(info, {"containerRuntimeVersion"}))});
  };
  return p;
}

Printer Namespace() {
  Printer p;
  p.columns = {NameColumn(), {"Status", "string", "", "The status of the namespace"}, AgeColumn()};
  p.cells = [](const json& o, int64_t now) {
    return json::array({Str(o, {"metadata", "name"}), Str(o, {"status", "phase"}), Age(o, now)});
  };
  return p;
}

int64_t MapSize(const json& m) { return m.is_object() ? static_cast<int64_t>(m.size()) : 0; }

Printer ConfigMap() {
  Printer p;
  p.columns = {NameColumn(),
               {"Data", "string", "",
                "Data contains the configuration data. Each key must consist of alphanumeric "
                "characters, '-', '_' or '.'. Values with non-UTF-8 byte sequences must use the "
                "BinaryData field. The keys stored in Data must not overlap with the keys in the "
                "BinaryData field, this is enforced during validation process."},
               AgeColumn()};
  p.cells = [](const json& o, int64_t now) {
    return json::array({Str(o, {"metadata", "name"}),
                        MapSize(At(o, {"data"})) + MapSize(At(o, {"binaryData"})), Age(o, now)});
  };
  return p;
}

Printer Secret() {
  Printer p;
  p.columns = {NameColumn(),
               {"Type", "string", "", "Used to facilitate programmatic handling of secret data."},
               {"Data", "string", "",
                "Data contains the secret data. Each key must consist of alphanumeric characters, "
                "'-', '_' or '.'. The serialized form of the secret data is a base64 encoded "
                "string, representing the arbitrary (possibly non-string) data value here."},
               AgeColumn()};
  p.cells = [](const json& o, int64_t now) {
    return json::array(
        {Str(o, {"metadata", "name"}), Str(o, {"type"}), MapSize(At(o, {"data"})), Age(o, now)});
  };
  return p;
}

Printer Event() {
  Printer p;
  p.columns = {
      {"Last Seen", "string", "",
       "The time at which the most recent occurrence of this event was recorded."},
      {"Type", "string", "",
       "Type of this event (Normal, Warning), new types could be added in "
       "the future"},
      {"Reason", "string", "",
       "This should be a short, machine understandable string that gives the reason for the "
       "transition into the object's current status."},
      {"Object", "string", "", "The object that this event is about."},
      {"Subobject", "string", "",
       "If referring to a piece of an object instead of an entire object, this string should "
       "contain a valid JSON/Go field access statement, such as "
       "desiredState.manifest.containers[2].",
       1},
      {"Source", "string", "",
       "The component reporting this event. Should be a short machine understandable string.", 1},
      {"Message", "string", "", "A human-readable description of the status of this operation."},
      {"First Seen", "string", "",
       "The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)",
       1},
      {"Count", "string", "", "The number of times this event has occurred.", 1},
      {"Name", "string", "name", NameColumn().description, 1},
  };
  p.cells = [](const json& o, int64_t now) {
    std::string first = TimestampSince(At(o, {"firstTimestamp"}), now);
    if (At(o, {"firstTimestamp"}).is_null()) first = TimestampSince(At(o, {"eventTime"}), now);
    std::string last = TimestampSince(At(o, {"lastTimestamp"}), now);
    if (At(o, {"lastTimestamp"}).is_null()) last = first;
    int64_t count = Int(o, {"count"});
    if (At(o, {"series"}).is_object()) {
      last = TimestampSince(At(o, {"series", "lastObservedTime"}), now);
      count = Int(o, {"series", "count"});
    } else if (count == 0) {
      count = 1;
    }
    std::string kind = Str(o, {"involvedObject", "kind"});
    for (auto& ch : kind) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    std::string target = kind;
    if (std::string n = Str(o, {"involvedObject", "name"}); !n.empty()) target += "/" + n;
    std::string component = Str(o, {"source", "component"});
    if (component.empty()) component = Str(o, {"reportingComponent"});
    std::string host = Str(o, {"source", "host"});
    if (host.empty()) host = Str(o, {"reportingInstance"});
    std::string source = host.empty() ? component : component + ", " + host;
    std::string msg = Str(o, {"message"});
    size_t b = msg.find_first_not_of(" \t\r\n");
    size_t e = msg.find_last_not_of(" \t\r\n");
    msg = b == std::string::npos ? "" : msg.substr(b, e - b + 1);
    return json::array({last, Str(o, {"type"}), Str(o, {"reason"}), target,
                        Str(o, {"involvedObject", "fieldPath"}), source, msg, first, count,
                        Str(o, {"metadata", "name"})});
  };
  return p;
}

}  // namespace

void AddCorePrinters(PrinterMap& m) {
  m["/Pod"] = Pod();
  m["/Node"] = Node();
  m["/Namespace"] = Namespace();
  m["/ConfigMap"] = ConfigMap();
  m["/Secret"] = Secret();
  m["/Event"] = Event();
}

}  // namespace kvol::apiserver::printers
