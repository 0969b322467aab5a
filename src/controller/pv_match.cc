#include "kvol/controller/pv_match.h"

#include <algorithm>
#include <cstdlib>

#include "kvol/store/store.h"

namespace kvol::controller {
namespace {

const char* kModeOrder[] = {api::kReadWriteOnce, api::kReadOnlyMany, api::kReadWriteMany,
                            api::kReadWriteOncePod};
constexpr const char* kBetaClassAnn = "volume.beta.kubernetes.io/storage-class";

bool Has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::string ModesList(const std::vector<std::string>& modes) {
  std::string out = "[";
  bool first = true;
  for (const char* m : kModeOrder) {
    if (!Has(modes, m)) continue;
    if (!first) out += " ";
    out += m;
    first = false;
  }
  return out + "]";
}

bool ParseInt(const std::string& s, int64_t* out) {
  if (s.empty()) return false;
  char* end = nullptr;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (*end != '\0') return false;
  *out = v;
  return true;
}

bool RequirementMatches(const api::NodeSelectorRequirement& r, const std::string* value) {
  const std::string& op = r.operator_;
  if (op == "In") return value && Has(r.values, *value);
  if (op == "NotIn") return !value || !Has(r.values, *value);
  if (op == "Exists") return value != nullptr;
  if (op == "DoesNotExist") return value == nullptr;
  if (op == "Gt" || op == "Lt") {
    int64_t a = 0;
    int64_t b = 0;
    if (!value || r.values.size() != 1 || !ParseInt(*value, &a) || !ParseInt(r.values[0], &b)) {
      return false;
    }
    return op == "Gt" ? a > b : a < b;
  }
  return false;
}

std::string VolumeModeOf(const std::optional<std::string>& m) {
  return m && !m->empty() ? *m : "Filesystem";
}

}  // namespace

std::string ShortMode(const std::string& mode) {
  if (mode == api::kReadWriteOnce) return "RWO";
  if (mode == api::kReadOnlyMany) return "ROX";
  if (mode == api::kReadWriteMany) return "RWX";
  if (mode == api::kReadWriteOncePod) return "RWOP";
  return mode;
}

std::string AccessModesKey(const std::vector<std::string>& modes) {
  std::string out;
  for (const char* m : kModeOrder) {
    if (!Has(modes, m)) continue;
    if (!out.empty()) out += ",";
    out += ShortMode(m);
  }
  return out;
}

bool ContainsAllModes(const std::vector<std::string>& have, const std::vector<std::string>& want) {
  for (const auto& w : want) {
    if (!Has(have, w)) return false;
  }
  return true;
}

bool ClaimClassUnset(const api::PersistentVolumeClaim& c) {
  return !c.spec.storageClassName && !c.metadata.annotations.count(kBetaClassAnn);
}

std::string ClaimClass(const api::PersistentVolumeClaim& c) {
  auto it = c.metadata.annotations.find(kBetaClassAnn);
  if (it != c.metadata.annotations.end()) return it->second;
  return c.spec.storageClassName.value_or("");
}

std::string VolumeClass(const api::PersistentVolume& v) {
  auto it = v.metadata.annotations.find(kBetaClassAnn);
  if (it != v.metadata.annotations.end()) return it->second;
  return v.spec.storageClassName;
}

api::Quantity ClaimRequest(const api::PersistentVolumeClaim& c) {
  auto it = c.spec.resources.requests.find("storage");
  return it == c.spec.resources.requests.end() ? api::Quantity() : it->second;
}

api::Quantity VolumeCapacity(const api::PersistentVolume& v) {
  auto it = v.spec.capacity.find("storage");
  return it == v.spec.capacity.end() ? api::Quantity() : it->second;
}

bool VolumeModeMismatch(const api::PersistentVolumeClaim& c, const api::PersistentVolume& v) {
  return VolumeModeOf(c.spec.volumeMode) != VolumeModeOf(v.spec.volumeMode);
}

bool IsVolumeBoundToClaim(const api::PersistentVolume& v, const api::PersistentVolumeClaim& c) {
  if (!v.spec.claimRef) return false;
  const auto& r = *v.spec.claimRef;
  if (r.name != c.metadata.name || r.namespace_ != c.metadata.namespace_) return false;
  return r.uid.empty() || r.uid == c.metadata.uid;
}

bool HasAnn(const api::ObjectMeta& m, const char* key) { return m.annotations.count(key) > 0; }

std::string ClaimKeyOf(const api::PersistentVolumeClaim& c) {
  return store::KeyFor("persistentvolumeclaims", c.metadata.namespace_, c.metadata.name);
}

bool PodFinished(const api::Pod& p) {
  return p.status.phase == "Succeeded" || p.status.phase == "Failed";
}

std::vector<std::string> PodClaimNames(const api::Pod& pod) {
  std::vector<std::string> out;
  for (const auto& v : pod.spec.volumes) {
    if (v.persistentVolumeClaim) {
      out.push_back(v.persistentVolumeClaim->claimName);
    } else if (v.ephemeral) {
      out.push_back(pod.metadata.name + "-" + v.name);
    }
  }
  return out;
}

std::string ClaimRefKey(const api::PersistentVolume& v) {
  if (!v.spec.claimRef) return "";
  return store::KeyFor("persistentvolumeclaims", v.spec.claimRef->namespace_,
                       v.spec.claimRef->name);
}

bool NodeSelectorMatches(const api::NodeSelector& sel, const NodeInfo& node) {
  std::map<std::string, std::string> labels = node.labels;
  labels.emplace("kubernetes.io/hostname", node.name);
  for (const auto& term : sel.nodeSelectorTerms) {
    if (term.matchExpressions.empty() && term.matchFields.empty()) continue;  // matches nothing
    bool ok = true;
    for (const auto& r : term.matchExpressions) {
      auto it = labels.find(r.key);
      if (!RequirementMatches(r, it == labels.end() ? nullptr : &it->second)) {
        ok = false;
        break;
      }
    }
    for (const auto& r : term.matchFields) {
      if (!ok) break;
      if (r.key != "metadata.name" || !RequirementMatches(r, &node.name)) ok = false;
    }
    if (ok) return true;
  }
  return false;
}

bool VolumeNodeAffinityMatches(const api::PersistentVolume& v, const NodeInfo& node) {
  if (!v.spec.nodeAffinity || !v.spec.nodeAffinity->required) return true;
  return NodeSelectorMatches(*v.spec.nodeAffinity->required, node);
}

Result<std::optional<api::LabelSelectorExpr>> ClaimSelector(const api::PersistentVolumeClaim& c) {
  if (!c.spec.selector) return std::optional<api::LabelSelectorExpr>();
  auto r = api::LabelSelectorExpr::FromLabelSelector(*c.spec.selector);
  if (!r.ok()) {
    return BadRequest("error creating internal label selector for claim: " + r.status().message());
  }
  return std::optional<api::LabelSelectorExpr>(std::move(r).value());
}

Status CheckVolumeSatisfyClaim(const api::PersistentVolume& v,
                               const api::PersistentVolumeClaim& c) {
  if (v.metadata.deletionTimestamp) {
    return BadRequest("the volume is marked for deletion \"" + v.metadata.name + "\"");
  }
  if (VolumeCapacity(v) < ClaimRequest(c)) return BadRequest("requested PV is too small");
  if (VolumeClass(v) != ClaimClass(c)) return BadRequest("storageClassName does not match");
  if (VolumeModeMismatch(c, v)) return BadRequest("incompatible volumeMode");
  if (!ContainsAllModes(v.spec.accessModes, c.spec.accessModes)) {
    return BadRequest("incompatible accessMode");
  }
  return Status::Ok();
}

const api::PersistentVolume* FindMatchingVolumeLinear(
    const MatchInput& in, const std::vector<const api::PersistentVolume*>& volumes) {
  const api::PersistentVolumeClaim& c = *in.claim;
  // Buckets: distinct mode sets containing every requested mode.
  std::map<std::string, std::vector<const api::PersistentVolume*>> buckets;
  for (const auto* v : volumes) {
    if (ContainsAllModes(v->spec.accessModes, c.spec.accessModes)) {
      buckets[AccessModesKey(v->spec.accessModes)].push_back(v);
    }
  }
  std::vector<std::pair<size_t, std::string>> order;
  for (auto& [k, vs] : buckets) {
    size_t n = k.empty() ? 0 : std::count(k.begin(), k.end(), ',') + 1;
    order.emplace_back(n, k);
    std::sort(vs.begin(), vs.end(),
              [](auto* a, auto* b) { return a->metadata.name < b->metadata.name; });
  }
  std::sort(order.begin(), order.end());
  const api::Quantity req = ClaimRequest(c);
  const std::string cls = ClaimClass(c);
  for (const auto& [n, k] : order) {
    const api::PersistentVolume* smallest = nullptr;
    bool bucketDone = false;
    for (const auto* v : buckets[k]) {
      if (v->spec.claimRef && !IsVolumeBoundToClaim(*v, c)) continue;
      if (VolumeCapacity(*v) < req) continue;
      if (VolumeModeMismatch(c, *v)) continue;
      if (v->metadata.deletionTimestamp) continue;
      bool nodeOk = !in.node || VolumeNodeAffinityMatches(*v, *in.node);
      if (IsVolumeBoundToClaim(*v, c)) {
        if (!nodeOk) {
          smallest = nullptr;
          bucketDone = true;
          break;
        }
        return v;
      }
      if (!in.node && in.delayBinding) continue;
      if (v->status.phase != "Available") continue;
      if (in.selector && !in.selector->Matches(v->metadata.labels)) continue;
      if (VolumeClass(*v) != cls) continue;
      if (!nodeOk) continue;
      if (!smallest || VolumeCapacity(*smallest) > VolumeCapacity(*v)) smallest = v;
    }
    if (bucketDone) continue;
    if (smallest) return smallest;
  }
  return nullptr;
}

std::optional<Miss> ExplainMismatch(const MatchInput& in, const api::PersistentVolume& v) {
  const api::PersistentVolumeClaim& c = *in.claim;
  const std::string& n = v.metadata.name;
  if (v.spec.claimRef && !IsVolumeBoundToClaim(v, c)) {
    return Miss{n + ": bound to claim " + v.spec.claimRef->namespace_ + "/" + v.spec.claimRef->name,
                60};
  }
  if (v.metadata.deletionTimestamp) return Miss{n + ": being deleted", 70};
  if (VolumeClass(v) != ClaimClass(c)) {
    std::string have = VolumeClass(v).empty() ? "\"\"" : "\"" + VolumeClass(v) + "\"";
    std::string want = ClaimClass(c).empty() ? "\"\"" : "\"" + ClaimClass(c) + "\"";
    return Miss{n + ": storage class " + have + " != " + want, 50};
  }
  if (!ContainsAllModes(v.spec.accessModes, c.spec.accessModes)) {
    std::string lack;
    for (const char* m : kModeOrder) {
      if (Has(c.spec.accessModes, m) && !Has(v.spec.accessModes, m)) {
        lack += lack.empty() ? m : std::string(",") + m;
      }
    }
    return Miss{n + ": access modes " + ModesList(v.spec.accessModes) + " lack " + lack, 20};
  }
  const api::Quantity req = ClaimRequest(c);
  if (VolumeCapacity(v) < req) {
    return Miss{n + ": capacity " + VolumeCapacity(v).ToString() + " < request " + req.ToString(),
                10};
  }
  if (VolumeModeMismatch(c, v)) {
    return Miss{n + ": volumeMode " + VolumeModeOf(v.spec.volumeMode) +
                    " != " + VolumeModeOf(c.spec.volumeMode),
                30};
  }
  bool nodeOk = !in.node || VolumeNodeAffinityMatches(v, *in.node);
  if (IsVolumeBoundToClaim(v, c)) {
    if (!nodeOk) return Miss{n + ": node affinity does not match node " + in.node->name, 35};
    return std::nullopt;
  }
  if (!in.node && in.delayBinding) {
    return Miss{n + ": waiting for first consumer (WaitForFirstConsumer)", 80};
  }
  if (v.status.phase != "Available") {
    return Miss{
        n + ": phase " + (v.status.phase.empty() ? "Pending" : v.status.phase) + ", not Available",
        40};
  }
  if (in.selector && !in.selector->Matches(v.metadata.labels)) {
    return Miss{n + ": labels do not match selector " + in.selector->ToString(), 25};
  }
  if (!nodeOk) return Miss{n + ": node affinity does not match node " + in.node->name, 35};
  return std::nullopt;
}

}  // namespace kvol::controller
