// kvol describe: kubectl describe's layouts (k8s.io/kubectl/pkg/describe/describe.go) for
// PersistentVolumeClaim, PersistentVolume, StorageClass and Pod; other kinds print their name,
// labels, annotations and events.
#include <algorithm>
#include <ostream>

#include "kvol/apiserver/table.h"
#include "src/cli/verbs_common.h"

namespace kvol::cli {

using namespace internal;

namespace {

constexpr size_t kMaxAnnotationLen = 140;

const json& At(const json& o, std::initializer_list<const char*> path) {
  static const json kNull;
  const json* cur = &o;
  for (const char* k : path) {
    if (!cur->is_object() || !cur->contains(k)) return kNull;
    cur = &(*cur)[k];
  }
  return *cur;
}
std::string Str(const json& o, std::initializer_list<const char*> path) {
  const json& v = At(o, path);
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number()) return v.dump();
  return "";
}

// Go's %v of a []string: "[a b]".
std::string GoList(const json& a) {
  std::string s = "[";
  if (a.is_array()) {
    for (size_t i = 0; i < a.size(); ++i) {
      if (i) s += " ";
      s += a[i].is_string() ? a[i].get<std::string>() : a[i].dump();
    }
  }
  return s + "]";
}

// labels.FormatLabels: "a=b,c=d" or "<none>".
std::string FormatLabels(const json& m) {
  std::string s;
  if (m.is_object()) {
    for (auto it = m.begin(); it != m.end(); ++it) {
      if (!s.empty()) s += ",";
      s += it.key() + "=" + (it.value().is_string() ? it.value().get<std::string>() : "");
    }
  }
  return s.empty() ? "<none>" : s;
}

void LabelsMultiline(std::string& w, const std::string& title, const json& labels) {
  w += title + ":\t";
  if (!labels.is_object() || labels.empty()) {
    w += "<none>\n";
    return;
  }
  bool first = true;
  for (auto it = labels.begin(); it != labels.end(); ++it) {
    if (!first) w += "\t";
    first = false;
    w += it.key() + "=" + (it.value().is_string() ? it.value().get<std::string>() : "") + "\n";
  }
}

void AnnotationsMultiline(std::string& w, const json& ann) {
  w += "Annotations:\t";
  std::vector<std::string> keys;
  if (ann.is_object()) {
    for (auto it = ann.begin(); it != ann.end(); ++it)
      if (it.key() != "kubectl.kubernetes.io/last-applied-configuration") keys.push_back(it.key());
  }
  if (keys.empty()) {
    w += "<none>\n";
    return;
  }
  for (size_t i = 0; i < keys.size(); ++i) {
    if (i) w += "\t";
    std::string value = ann[keys[i]].is_string() ? ann[keys[i]].get<std::string>() : "";
    if (!value.empty() && value.back() == '\n') value.pop_back();
    if (value.size() + keys[i].size() + 2 > kMaxAnnotationLen ||
        value.find('\n') != std::string::npos) {
      w += keys[i] + ":\n";
      size_t start = 0;
      while (true) {
        size_t nl = value.find('\n', start);
        std::string line =
            value.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
        if (line.size() > kMaxAnnotationLen - 2)
          line = line.substr(0, kMaxAnnotationLen - 2) + "...";
        w += "\t  " + line + "\n";
        if (nl == std::string::npos) break;
        start = nl + 1;
      }
    } else {
      w += keys[i] + ": " + value + "\n";
    }
  }
}

std::string Since(const json& ts) { return apiserver::TimestampSince(ts, NowUnix()); }

// DescribeEvents: flushes the aligned part, then the events table.
std::string Events(std::string& w, const json* events) {
  std::string out;
  if (!events) return TabFormat(w, 0, 2);
  std::vector<json> items;
  if (events->is_object() && events->contains("items") && (*events)["items"].is_array())
    items = (*events)["items"].get<std::vector<json>>();
  if (items.empty()) {
    w += "Events:\t<none>\n";
    return TabFormat(w, 0, 2);
  }
  out = TabFormat(w, 0, 2);
  std::stable_sort(items.begin(), items.end(), [](const json& a, const json& b) {
    auto ta = apiserver::ParseTimestamp(Str(a, {"lastTimestamp"})).value_or(0);
    auto tb = apiserver::ParseTimestamp(Str(b, {"lastTimestamp"})).value_or(0);
    return ta < tb;
  });
  std::string t =
      "Events:\n  Type\tReason\tAge\tFrom\tMessage\n  ----\t------\t----\t----\t-------\n";
  for (const auto& e : items) {
    std::string first = Since(At(e, {"eventTime"}));
    if (At(e, {"eventTime"}).is_null()) first = Since(At(e, {"firstTimestamp"}));
    std::string interval = first;
    int64_t count = At(e, {"count"}).is_number() ? At(e, {"count"}).get<int64_t>() : 0;
    if (At(e, {"series"}).is_object()) {
      interval = Since(At(e, {"series", "lastObservedTime"})) + " (x" +
                 Str(e, {"series", "count"}) + " over " + first + ")";
    } else if (count > 1) {
      interval =
          Since(At(e, {"lastTimestamp"})) + " (x" + std::to_string(count) + " over " + first + ")";
    }
    std::string source = Str(e, {"source", "component"});
    if (source.empty()) source = Str(e, {"reportingComponent"});
    std::string msg = Str(e, {"message"});
    size_t b = msg.find_first_not_of(" \t\r\n"), en = msg.find_last_not_of(" \t\r\n");
    msg = b == std::string::npos ? "" : msg.substr(b, en - b + 1);
    t += "  " + Str(e, {"type"}) + "\t" + Str(e, {"reason"}) + "\t" + interval + "\t" + source +
         "\t" + msg + "\n";
  }
  return out + TabFormat(t, 0, 2);
}

std::string TerminatingOr(const json& o, const std::string& phase) {
  if (!At(o, {"metadata", "deletionTimestamp"}).is_null())
    return "Terminating (lasts " + Since(At(o, {"metadata", "deletionTimestamp"})) + ")";
  return phase;
}

std::string ClassOf(const json& o) {
  const json& a = At(o, {"metadata", "annotations", "volume.beta.kubernetes.io/storage-class"});
  return a.is_string() ? a.get<std::string>() : Str(o, {"spec", "storageClassName"});
}

std::string DescribePvc(const json& pvc, const std::vector<std::string>& usedBy,
                        const json* events) {
  std::string w;
  w += "Name:\t" + Str(pvc, {"metadata", "name"}) + "\n";
  w += "Namespace:\t" + Str(pvc, {"metadata", "namespace"}) + "\n";
  w += "StorageClass:\t" + ClassOf(pvc) + "\n";
  w += "Status:\t" + TerminatingOr(pvc, Str(pvc, {"status", "phase"})) + "\n";
  w += "Volume:\t" + Str(pvc, {"spec", "volumeName"}) + "\n";
  LabelsMultiline(w, "Labels", At(pvc, {"metadata", "labels"}));
  AnnotationsMultiline(w, At(pvc, {"metadata", "annotations"}));
  w += "Finalizers:\t" + GoList(At(pvc, {"metadata", "finalizers"})) + "\n";
  std::string capacity, modes;
  if (!Str(pvc, {"spec", "volumeName"}).empty()) {
    modes = apiserver::AccessModesString(At(pvc, {"status", "accessModes"}));
    capacity = Str(pvc, {"status", "capacity", "storage"});
    if (capacity.empty()) capacity = "0";
  }
  w += "Capacity:\t" + capacity + "\n";
  w += "Access Modes:\t" + modes + "\n";
  if (!Str(pvc, {"spec", "volumeMode"}).empty())
    w += "VolumeMode:\t" + Str(pvc, {"spec", "volumeMode"}) + "\n";
  if (At(pvc, {"spec", "dataSource"}).is_object()) {
    w += "DataSource:\n";
    if (At(pvc, {"spec", "dataSource", "apiGroup"}).is_string())
      w += "  APIGroup:\t" + Str(pvc, {"spec", "dataSource", "apiGroup"}) + "\n";
    w += "  Kind:\t" + Str(pvc, {"spec", "dataSource", "kind"}) + "\n";
    w += "  Name:\t" + Str(pvc, {"spec", "dataSource", "name"}) + "\n";
  }
  w += "Used By:\t";
  if (usedBy.empty()) w += "<none>\n";
  for (size_t i = 0; i < usedBy.size(); ++i) w += (i ? "\t" : "") + usedBy[i] + "\n";
  if (const json& conds = At(pvc, {"status", "conditions"}); conds.is_array() && !conds.empty()) {
    w += "Conditions:\n";
    w += "  Type\tStatus\tLastProbeTime\tLastTransitionTime\tReason\tMessage\n";
    w += "  ----\t------\t-----------------\t------------------\t------\t-------\n";
    for (const auto& c : conds) {
      w += "  " + Str(c, {"type"}) + " \t" + Str(c, {"status"}) + " \t" +
           Str(c, {"lastProbeTime"}) + " \t" + Str(c, {"lastTransitionTime"}) + " \t" +
           Str(c, {"reason"}) + " \t" + Str(c, {"message"}) + "\n";
    }
  }
  return Events(w, events);
}

std::string DescribePv(const json& pv, const json* events) {
  std::string w;
  w += "Name:\t" + Str(pv, {"metadata", "name"}) + "\n";
  LabelsMultiline(w, "Labels", At(pv, {"metadata", "labels"}));
  AnnotationsMultiline(w, At(pv, {"metadata", "annotations"}));
  w += "Finalizers:\t" + GoList(At(pv, {"metadata", "finalizers"})) + "\n";
  w += "StorageClass:\t" + ClassOf(pv) + "\n";
  w += "Status:\t" + TerminatingOr(pv, Str(pv, {"status", "phase"})) + "\n";
  std::string claim;
  if (At(pv, {"spec", "claimRef"}).is_object())
    claim =
        Str(pv, {"spec", "claimRef", "namespace"}) + "/" + Str(pv, {"spec", "claimRef", "name"});
  w += "Claim:\t" + claim + "\n";
  w += "Reclaim Policy:\t" + Str(pv, {"spec", "persistentVolumeReclaimPolicy"}) + "\n";
  w += "Access Modes:\t" + apiserver::AccessModesString(At(pv, {"spec", "accessModes"})) + "\n";
  if (!Str(pv, {"spec", "volumeMode"}).empty())
    w += "VolumeMode:\t" + Str(pv, {"spec", "volumeMode"}) + "\n";
  std::string cap = Str(pv, {"spec", "capacity", "storage"});
  w += "Capacity:\t" + (cap.empty() ? "0" : cap) + "\n";
  w += "Node Affinity:\t";
  const json& req = At(pv, {"spec", "nodeAffinity", "required"});
  if (!req.is_object()) {
    w += "<none>\n";
  } else {
    w += "\n  Required Terms:\t";
    const json& terms = At(req, {"nodeSelectorTerms"});
    if (!terms.is_array() || terms.empty()) {
      w += "<none>\n";
    } else {
      w += "\n";
      for (size_t i = 0; i < terms.size(); ++i) {
        w += "    Term " + std::to_string(i) + ":\t";
        const json& exprs = At(terms[i], {"matchExpressions"});
        if (!exprs.is_array() || exprs.empty()) w += "<none>\n";
        for (size_t j = 0; exprs.is_array() && j < exprs.size(); ++j) {
          if (j) w += "    \t";
          std::string op = Str(exprs[j], {"operator"});
          std::transform(op.begin(), op.end(), op.begin(), ::tolower);
          std::string e = Str(exprs[j], {"key"}) + " " + op;
          if (const json& v = At(exprs[j], {"values"}); v.is_array() && !v.empty()) {
            e += " [";
            for (size_t k = 0; k < v.size(); ++k) e += (k ? ", " : "") + v[k].get<std::string>();
            e += "]";
          }
          w += e + "\n";
        }
      }
    }
  }
  w += "Message:\t" + Str(pv, {"status", "message"}) + "\n";
  w += "Source:\n";
  const json& spec = At(pv, {"spec"});
  if (At(spec, {"csi"}).is_object()) {
    const json& csi = At(spec, {"csi"});
    w += "    Type:\tCSI (a Container Storage Interface (CSI) volume source)\n";
    w += "    Driver:\t" + Str(csi, {"driver"}) + "\n";
    w += "    FSType:\t" + Str(csi, {"fsType"}) + "\n";
    w += "    VolumeHandle:\t" + Str(csi, {"volumeHandle"}) + "\n";
    w += "    ReadOnly:\t" +
         std::string(At(csi, {"readOnly"}).is_boolean() && At(csi, {"readOnly"}).get<bool>()
                         ? "true"
                         : "false") +
         "\n";
    w += "    VolumeAttributes:\t";
    const json& attrs = At(csi, {"volumeAttributes"});
    if (!attrs.is_object() || attrs.empty()) w += "<none>\n";
    bool first = true;
    for (auto it = attrs.begin(); attrs.is_object() && it != attrs.end(); ++it) {
      if (!first) w += "    \t";
      first = false;
      std::string line =
          it.key() + "=" + (it.value().is_string() ? it.value().get<std::string>() : "");
      if (line.size() > kMaxAnnotationLen) line = line.substr(0, kMaxAnnotationLen) + "...";
      w += line + "\n";
    }
  } else if (At(spec, {"hostPath"}).is_object()) {
    std::string type = Str(spec, {"hostPath", "type"});
    w += "    Type:\tHostPath (bare host directory volume)\n";
    w += "    Path:\t" + Str(spec, {"hostPath", "path"}) + "\n";
    w += "    HostPathType:\t" + (type.empty() ? "<none>" : type) + "\n";
  } else if (At(spec, {"local"}).is_object()) {
    w += "    Type:\tLocalVolume (a persistent volume backed by local storage on a node)\n";
    w += "    Path:\t" + Str(spec, {"local", "path"}) + "\n";
  } else if (At(spec, {"nfs"}).is_object()) {
    w += "    Type:\tNFS (an NFS mount that lasts the lifetime of a pod)\n";
    w += "    Server:\t" + Str(spec, {"nfs", "server"}) + "\n";
    w += "    Path:\t" + Str(spec, {"nfs", "path"}) + "\n";
    w += "    ReadOnly:\t" + std::string(At(spec, {"nfs", "readOnly"}) == true ? "true" : "false") +
         "\n";
  }
  return Events(w, events);
}

std::string DescribeSc(const json& sc, const json* events) {
  std::string w;
  w += "Name:\t" + Str(sc, {"metadata", "name"}) + "\n";
  const json& ann = At(sc, {"metadata", "annotations"});
  bool isDefault = Str(ann, {"storageclass.kubernetes.io/is-default-class"}) == "true" ||
                   Str(ann, {"storageclass.beta.kubernetes.io/is-default-class"}) == "true";
  w += std::string("IsDefaultClass:\t") + (isDefault ? "Yes" : "No") + "\n";
  w += "Annotations:\t" + FormatLabels(ann) + "\n";
  w += "Provisioner:\t" + Str(sc, {"provisioner"}) + "\n";
  w += "Parameters:\t" + FormatLabels(At(sc, {"parameters"})) + "\n";
  const json& ave = At(sc, {"allowVolumeExpansion"});
  w += "AllowVolumeExpansion:\t" +
       std::string(ave.is_boolean() ? (ave.get<bool>() ? "True" : "False") : "<unset>") + "\n";
  const json& mo = At(sc, {"mountOptions"});
  if (!mo.is_array() || mo.empty()) {
    w += "MountOptions:\t<none>\n";
  } else {
    w += "MountOptions:\n";
    for (const auto& o : mo) w += "  " + o.get<std::string>() + "\n";
  }
  if (!Str(sc, {"reclaimPolicy"}).empty())
    w += "ReclaimPolicy:\t" + Str(sc, {"reclaimPolicy"}) + "\n";
  if (!Str(sc, {"volumeBindingMode"}).empty())
    w += "VolumeBindingMode:\t" + Str(sc, {"volumeBindingMode"}) + "\n";
  return Events(w, events);
}

std::string DescribePod(const json& pod, const json* events) {
  std::string w;
  w += "Name:\t" + Str(pod, {"metadata", "name"}) + "\n";
  w += "Namespace:\t" + Str(pod, {"metadata", "namespace"}) + "\n";
  w += "Priority:\t" +
       (Str(pod, {"spec", "priority"}).empty() ? "0" : Str(pod, {"spec", "priority"})) + "\n";
  if (!Str(pod, {"spec", "serviceAccountName"}).empty())
    w += "Service Account:\t" + Str(pod, {"spec", "serviceAccountName"}) + "\n";
  std::string node = Str(pod, {"spec", "nodeName"});
  w += "Node:\t" + (node.empty() ? "<none>" : node + "/" + Str(pod, {"status", "hostIP"})) + "\n";
  if (!Str(pod, {"status", "startTime"}).empty())
    w += "Start Time:\t" + Str(pod, {"status", "startTime"}) + "\n";
  LabelsMultiline(w, "Labels", At(pod, {"metadata", "labels"}));
  AnnotationsMultiline(w, At(pod, {"metadata", "annotations"}));
  w += "Status:\t" + TerminatingOr(pod, Str(pod, {"status", "phase"})) + "\n";
  if (!Str(pod, {"status", "reason"}).empty())
    w += "Reason:\t" + Str(pod, {"status", "reason"}) + "\n";
  if (!Str(pod, {"status", "message"}).empty())
    w += "Message:\t" + Str(pod, {"status", "message"}) + "\n";
  w += "IP:\t" + Str(pod, {"status", "podIP"}) + "\n";
  w += "Containers:\n";
  const json& statuses = At(pod, {"status", "containerStatuses"});
  const json& cs = At(pod, {"spec", "containers"});
  for (size_t i = 0; cs.is_array() && i < cs.size(); ++i) {
    const json& c = cs[i];
    json st;
    for (size_t j = 0; statuses.is_array() && j < statuses.size(); ++j)
      if (Str(statuses[j], {"name"}) == Str(c, {"name"})) st = statuses[j];
    w += "  " + Str(c, {"name"}) + ":\n";
    if (!st.is_null()) w += "    Container ID:\t" + Str(st, {"containerID"}) + "\n";
    w += "    Image:\t" + Str(c, {"image"}) + "\n";
    if (!st.is_null()) {
      const json& s = At(st, {"state"});
      if (At(s, {"running"}).is_object()) {
        w += "    State:\tRunning\n      Started:\t" + Str(s, {"running", "startedAt"}) + "\n";
      } else if (At(s, {"waiting"}).is_object()) {
        w += "    State:\tWaiting\n      Reason:\t" + Str(s, {"waiting", "reason"}) + "\n";
      } else if (At(s, {"terminated"}).is_object()) {
        w += "    State:\tTerminated\n      Reason:\t" + Str(s, {"terminated", "reason"}) +
             "\n      Exit Code:\t" + Str(s, {"terminated", "exitCode"}) + "\n";
      }
      w += std::string("    Ready:\t") + (At(st, {"ready"}) == true ? "True" : "False") + "\n";
      w += "    Restart Count:\t" +
           (Str(st, {"restartCount"}).empty() ? "0" : Str(st, {"restartCount"})) + "\n";
    }
    w += "    Mounts:\t";
    const json& vm = At(c, {"volumeMounts"});
    if (!vm.is_array() || vm.empty()) w += "<none>\n";
    for (size_t j = 0; vm.is_array() && j < vm.size(); ++j) {
      if (j) w += "      ";
      w += (j ? "" : "\n      ") + Str(vm[j], {"mountPath"}) + " from " + Str(vm[j], {"name"}) +
           " (" + (At(vm[j], {"readOnly"}) == true ? "ro" : "rw") + ")\n";
    }
  }
  const json& conds = At(pod, {"status", "conditions"});
  if (conds.is_array() && !conds.empty()) {
    w += "Conditions:\n  Type\tStatus\n";
    for (const auto& c : conds) w += "  " + Str(c, {"type"}) + " \t" + Str(c, {"status"}) + " \n";
  }
  w += "Volumes:";
  const json& vols = At(pod, {"spec", "volumes"});
  if (!vols.is_array() || vols.empty()) w += "\t<none>";
  w += "\n";
  for (size_t i = 0; vols.is_array() && i < vols.size(); ++i) {
    const json& v = vols[i];
    w += "  " + Str(v, {"name"}) + ":\n";
    if (At(v, {"persistentVolumeClaim"}).is_object()) {
      w += "    Type:\tPersistentVolumeClaim (a reference to a PersistentVolumeClaim in the same "
           "namespace)\n";
      w += "    ClaimName:\t" + Str(v, {"persistentVolumeClaim", "claimName"}) + "\n";
      w += std::string("    ReadOnly:\t") +
           (At(v, {"persistentVolumeClaim", "readOnly"}) == true ? "true" : "false") + "\n";
    } else if (At(v, {"emptyDir"}).is_object()) {
      w += "    Type:\tEmptyDir (a temporary directory that shares a pod's lifetime)\n";
      w += "    Medium:\t" + Str(v, {"emptyDir", "medium"}) + "\n";
      std::string lim = Str(v, {"emptyDir", "sizeLimit"});
      w += "    SizeLimit:\t" + (lim.empty() ? "<unset>" : lim) + "\n";
    } else if (At(v, {"configMap"}).is_object()) {
      w += "    Type:\tConfigMap (a volume populated by a ConfigMap)\n";
      w += "    Name:\t" + Str(v, {"configMap", "name"}) + "\n";
      w += std::string("    Optional:\t") +
           (At(v, {"configMap", "optional"}) == true ? "true" : "false") + "\n";
    } else if (At(v, {"secret"}).is_object()) {
      w += "    Type:\tSecret (a volume populated by a Secret)\n";
      w += "    SecretName:\t" + Str(v, {"secret", "secretName"}) + "\n";
      w += std::string("    Optional:\t") +
           (At(v, {"secret", "optional"}) == true ? "true" : "false") + "\n";
    } else if (At(v, {"hostPath"}).is_object()) {
      std::string type = Str(v, {"hostPath", "type"});
      w += "    Type:\tHostPath (bare host directory volume)\n";
      w += "    Path:\t" + Str(v, {"hostPath", "path"}) + "\n";
      w += "    HostPathType:\t" + type + "\n";
    }
  }
  return Events(w, events);
}

std::string DescribeGeneric(const json& o, const json* events) {
  std::string w;
  w += "Name:\t" + Str(o, {"metadata", "name"}) + "\n";
  if (!Str(o, {"metadata", "namespace"}).empty())
    w += "Namespace:\t" + Str(o, {"metadata", "namespace"}) + "\n";
  LabelsMultiline(w, "Labels", At(o, {"metadata", "labels"}));
  AnnotationsMultiline(w, At(o, {"metadata", "annotations"}));
  w += "API Version:\t" + Str(o, {"apiVersion"}) + "\n";
  w += "Kind:\t" + Str(o, {"kind"}) + "\n";
  return Events(w, events);
}

}  // namespace

int RunDescribe(const ClientOptions& opts, const std::vector<std::string>& args, std::ostream& out,
                std::ostream& err) {
  std::vector<std::pair<const api::ResourceInfo*, std::string>> targets;
  if (args.empty()) {
    err << "error: You must specify the type of resource to describe. Use \"kvol api-resources\" "
           "for a complete list of supported resources.\n";
    return 1;
  }
  if (args[0].find('/') != std::string::npos) {
    for (const auto& a : args) {
      auto p = a.find('/');
      const api::ResourceInfo* info =
          p == std::string::npos ? nullptr : ResolveType(a.substr(0, p));
      if (!info) {
        err << UnknownTypeError(a.substr(0, p)) << "\n";
        return 1;
      }
      targets.push_back({info, a.substr(p + 1)});
    }
  } else {
    const api::ResourceInfo* info = ResolveType(args[0]);
    if (!info) {
      err << UnknownTypeError(args[0]) << "\n";
      return 1;
    }
    for (size_t i = 1; i < args.size(); ++i) targets.push_back({info, args[i]});
  }
  auto session = OpenSession(opts, err);
  if (!session) return 1;
  ApiClient& c = *session->client;
  const std::string ns = session->ns;
  if (targets.empty()) {  // describe TYPE: every object of the type
    const api::ResourceInfo* info = ResolveType(args[0]);
    auto r = c.Do("GET", CollectionPath(*info, info->namespaced ? ns : "") + "?limit=500");
    if (!r.ok()) {
      err << FormatTransportError(c.config(), r.status()) << "\n";
      return 1;
    }
    json list = json::parse(r->body, nullptr, false);
    if (list.is_object() && list.contains("items"))
      for (const auto& i : list["items"]) targets.push_back({info, Str(i, {"metadata", "name"})});
    if (targets.empty()) {
      if (info->namespaced)
        err << "No resources found in " << ns << " namespace.\n";
      else
        err << "No resources found\n";
      return 0;
    }
  }
  int rc = 0;
  bool first = true;
  for (const auto& [info, name] : targets) {
    auto r = c.Do("GET", ObjectPath(*info, ns, name));
    if (!r.ok()) {
      err << FormatTransportError(c.config(), r.status()) << "\n";
      return 1;
    }
    if (r->status != 200) {
      err << FormatServerError(*r) << "\n";
      rc = 1;
      continue;
    }
    json obj = json::parse(r->body, nullptr, false);
    std::string objNs = info->namespaced ? Str(obj, {"metadata", "namespace"}) : "";
    // Events about the object (the server filters; filter again in case it does not).
    std::string sel = "involvedObject.name=" + name +
                      (info->namespaced ? ",involvedObject.namespace=" + objNs : "") +
                      ",involvedObject.kind=" + info->kind +
                      ",involvedObject.uid=" + Str(obj, {"metadata", "uid"});
    std::string evPath =
        (info->namespaced ? "/api/v1/namespaces/" + objNs + "/events" : "/api/v1/events") +
        std::string("?fieldSelector=") + QueryEscape(sel) + "&limit=500";
    json events = json::object({{"items", json::array()}});
    if (auto er = c.Do("GET", evPath); er.ok() && er->status == 200) {
      json list = json::parse(er->body, nullptr, false);
      if (list.is_object() && list.contains("items") && list["items"].is_array()) {
        for (const auto& e : list["items"]) {
          if (Str(e, {"involvedObject", "name"}) == name &&
              Str(e, {"involvedObject", "kind"}) == info->kind &&
              (Str(e, {"involvedObject", "uid"}).empty() ||
               Str(e, {"involvedObject", "uid"}) == Str(obj, {"metadata", "uid"})))
            events["items"].push_back(e);
        }
      }
    }
    if (!first) out << "\n\n";
    first = false;
    if (info->kind == "PersistentVolumeClaim" && info->group.empty()) {
      std::vector<std::string> usedBy;
      if (auto pr = c.Do("GET", "/api/v1/namespaces/" + objNs + "/pods?limit=500");
          pr.ok() && pr->status == 200) {
        json pods = json::parse(pr->body, nullptr, false);
        if (pods.is_object() && pods.contains("items")) {
          for (const auto& p : pods["items"]) {
            const json& vols = At(p, {"spec", "volumes"});
            for (size_t i = 0; vols.is_array() && i < vols.size(); ++i) {
              if (Str(vols[i], {"persistentVolumeClaim", "claimName"}) == name ||
                  (At(vols[i], {"ephemeral"}).is_object() &&
                   Str(p, {"metadata", "name"}) + "-" + Str(vols[i], {"name"}) == name)) {
                usedBy.push_back(Str(p, {"metadata", "name"}));
                break;
              }
            }
          }
        }
      }
      std::sort(usedBy.begin(), usedBy.end());
      out << DescribePvc(obj, usedBy, &events);
    } else if (info->kind == "PersistentVolume" && info->group.empty()) {
      out << DescribePv(obj, &events);
    } else if (info->kind == "StorageClass") {
      out << DescribeSc(obj, &events);
    } else if (info->kind == "Pod" && info->group.empty()) {
      out << DescribePod(obj, &events);
    } else {
      if (!obj.contains("kind")) obj["kind"] = info->kind;
      if (!obj.contains("apiVersion")) obj["apiVersion"] = info->ApiVersion();
      out << DescribeGeneric(obj, &events);
    }
  }
  return rc;
}

}  // namespace kvol::cli
