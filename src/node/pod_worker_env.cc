// A container's argv and environment, by Kubernetes' rules (pod_worker.h).
#include <cctype>

#include "kvol/api/quantity.h"
#include "pod_worker.h"

namespace kvol::node {

namespace {

using json = api::json;

bool IsEnvVarName(const std::string& s) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    bool ok = std::isalpha(c) || c == '_' || c == '-' || c == '.' || (i > 0 && std::isdigit(c));
    if (!ok) return false;
  }
  return true;
}

std::string Base64Decode(const std::string& in) {
  static int8_t table[256];
  static bool init = [] {
    for (int i = 0; i < 256; ++i) table[i] = -1;
    const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (int i = 0; i < 64; ++i) table[static_cast<unsigned char>(a[i])] = static_cast<int8_t>(i);
    return true;
  }();
  (void)init;
  std::string out;
  unsigned buf = 0;
  int bits = 0;
  for (unsigned char c : in) {
    if (table[c] < 0) continue;  // '=' padding, whitespace
    buf = (buf << 6) | static_cast<unsigned>(table[c]);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buf >> bits) & 0xff);
    }
  }
  return out;
}

// "key": value of a labels/annotations map in the downward API's format: one `k="v"` per line,
// sorted, values with quotes and backslashes escaped.
std::string FormatMap(const std::map<std::string, std::string>& m) {
  std::string out;
  for (const auto& [k, v] : m) {
    if (!out.empty()) out += "\n";
    std::string esc;
    for (char c : v) {
      if (c == '"' || c == '\\') esc += '\\';
      if (c == '\n') {
        esc += "\\n";
        continue;
      }
      esc += c;
    }
    out += k + "=\"" + esc + "\"";
  }
  return out;
}

// metadata.labels['app'] -> ("labels", "app").
bool Subscript(const std::string& path, const std::string& prefix, std::string* key) {
  if (path.rfind(prefix + "['", 0) != 0 || path.size() < prefix.size() + 4) return false;
  if (path.compare(path.size() - 2, 2, "']") != 0) return false;
  *key = path.substr(prefix.size() + 2, path.size() - prefix.size() - 4);
  return true;
}

Result<std::string> FieldRef(const api::Pod& pod, const std::string& path, const NodeFacts& f) {
  const auto& m = pod.metadata;
  std::string key;
  if (path == "metadata.name") return m.name;
  if (path == "metadata.namespace") return m.namespace_;
  if (path == "metadata.uid") return m.uid;
  if (path == "metadata.labels") return FormatMap(m.labels);
  if (path == "metadata.annotations") return FormatMap(m.annotations);
  if (Subscript(path, "metadata.labels", &key)) {
    auto it = m.labels.find(key);
    return it == m.labels.end() ? std::string() : it->second;
  }
  if (Subscript(path, "metadata.annotations", &key)) {
    auto it = m.annotations.find(key);
    return it == m.annotations.end() ? std::string() : it->second;
  }
  if (path == "spec.nodeName") return pod.spec.nodeName;
  if (path == "spec.serviceAccountName") return pod.spec.serviceAccountName;
  if (path == "status.hostIP" || path == "status.hostIPs") return f.hostIP;
  if (path == "status.podIP" || path == "status.podIPs") return f.podIP;
  return BadRequest("unsupported fieldRef fieldPath: " + path);
}

Result<std::string> ResourceRef(const api::Container& c, const api::ResourceFieldSelector& sel,
                                const NodeFacts& f) {
  const std::string& res = sel.resource;
  auto dot = res.find('.');
  if (dot == std::string::npos) return BadRequest("unsupported resource: " + res);
  std::string kind = res.substr(0, dot), name = res.substr(dot + 1);
  const api::ResourceList& list = kind == "limits" ? c.resources.limits : c.resources.requests;
  api::Quantity divisor =
      sel.divisor && !sel.divisor->IsZero() ? *sel.divisor : api::Quantity::MustParse("1");
  auto it = list.find(name);
  std::optional<api::Quantity> q;
  if (it != list.end()) q = it->second;
  if (!q && kind == "limits") {  // no limit: the node's allocatable
    if (name == "cpu") q = api::Quantity::FromInt(f.cpuCores, api::Quantity::Format::kDecimalSI);
    if (name == "memory") q = api::Quantity::FromInt(f.memoryBytes);
  }
  if (!q) q = api::Quantity();
  if (name == "cpu") {
    int64_t d = divisor.MilliValue();
    int64_t v = q->MilliValue();
    return std::to_string(d > 0 ? (v + d - 1) / d : v);
  }
  int64_t d = divisor.Value();
  int64_t v = q->Value();
  return std::to_string(d > 0 ? (v + d - 1) / d : v);
}

// data[key] of a ConfigMap (data, then binaryData decoded) or Secret (base64-decoded).
std::optional<std::string> Key(const json& obj, bool secret, const std::string& key) {
  auto data = obj.find("data");
  if (data != obj.end() && data->is_object()) {
    auto it = data->find(key);
    if (it != data->end() && it->is_string()) {
      return secret ? Base64Decode(it->get<std::string>()) : it->get<std::string>();
    }
  }
  if (!secret) {
    auto bin = obj.find("binaryData");
    if (bin != obj.end() && bin->is_object()) {
      auto it = bin->find(key);
      if (it != bin->end() && it->is_string()) return Base64Decode(it->get<std::string>());
    }
  }
  return std::nullopt;
}

}  // namespace

std::string ExpandVars(const std::string& in, const std::map<std::string, std::string>& env) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '$' || i + 1 >= in.size()) {
      out += in[i];
      continue;
    }
    if (in[i + 1] == '$') {  // $$ -> $
      out += '$';
      ++i;
      continue;
    }
    if (in[i + 1] == '(') {
      auto close = in.find(')', i + 2);
      if (close != std::string::npos) {
        std::string name = in.substr(i + 2, close - i - 2);
        auto it = env.find(name);
        if (it != env.end()) {
          out += it->second;
        } else {
          out += in.substr(i, close - i + 1);
        }
        i = close;
        continue;
      }
    }
    out += in[i];
  }
  return out;
}

std::vector<std::string> ContainerArgs(const image::ImageConfig& img, const api::Container& c,
                                       const std::map<std::string, std::string>& env) {
  std::vector<std::string> out;
  if (!c.command.empty()) {
    for (const auto& a : c.command) out.push_back(ExpandVars(a, env));
    for (const auto& a : c.args) out.push_back(ExpandVars(a, env));
  } else if (!c.args.empty()) {
    out = img.entrypoint;
    for (const auto& a : c.args) out.push_back(ExpandVars(a, env));
  } else {
    out = img.entrypoint;
    out.insert(out.end(), img.cmd.begin(), img.cmd.end());
  }
  return out;
}

Result<std::vector<std::pair<std::string, std::string>>> ContainerEnv(const api::Pod& pod,
                                                                      const api::Container& c,
                                                                      volume::ObjectSource& objects,
                                                                      const NodeFacts& facts) {
  const std::string& ns = pod.metadata.namespace_;
  std::vector<std::pair<std::string, std::string>> out;
  std::map<std::string, std::string> defined;
  auto set = [&](const std::string& k, const std::string& v) {
    defined[k] = v;
    for (auto& [ek, ev] : out) {
      if (ek == k) {
        ev = v;
        return;
      }
    }
    out.emplace_back(k, v);
  };
  for (const auto& from : c.envFrom) {
    bool secret = from.secretRef.has_value();
    std::string name = secret ? from.secretRef->name
                              : (from.configMapRef ? from.configMapRef->name : std::string());
    if (name.empty()) continue;
    bool optional = secret ? from.secretRef->optional.value_or(false)
                           : from.configMapRef->optional.value_or(false);
    auto obj = objects.Get(secret ? "secrets" : "configmaps", ns, name);
    if (!obj.ok()) {
      if (obj.status().IsNotFound() && optional) continue;
      if (obj.status().IsNotFound()) {
        return NotFound(std::string(secret ? "secret" : "configmap") + " \"" + name +
                        "\" not found");
      }
      return obj.status();
    }
    std::vector<std::string> keys;
    for (const char* field : {"data", "binaryData"}) {
      if (secret && std::string(field) == "binaryData") continue;
      auto d = obj->find(field);
      if (d == obj->end() || !d->is_object()) continue;
      for (auto it = d->begin(); it != d->end(); ++it) keys.push_back(it.key());
    }
    for (const auto& k : keys) {
      std::string var = from.prefix + k;
      if (!IsEnvVarName(var)) continue;  // the kubelet skips them (and says so in an event)
      set(var, Key(*obj, secret, k).value_or(""));
    }
  }
  for (const auto& e : c.env) {
    if (!e.valueFrom) {
      set(e.name, ExpandVars(e.value, defined));
      continue;
    }
    const auto& vf = *e.valueFrom;
    if (vf.fieldRef) {
      KVOL_ASSIGN_OR_RETURN(std::string v, FieldRef(pod, vf.fieldRef->fieldPath, facts));
      set(e.name, v);
    } else if (vf.resourceFieldRef) {
      KVOL_ASSIGN_OR_RETURN(std::string v, ResourceRef(c, *vf.resourceFieldRef, facts));
      set(e.name, v);
    } else if (vf.configMapKeyRef || vf.secretKeyRef) {
      bool secret = vf.secretKeyRef.has_value();
      const std::string& name = secret ? vf.secretKeyRef->name : vf.configMapKeyRef->name;
      const std::string& key = secret ? vf.secretKeyRef->key : vf.configMapKeyRef->key;
      bool optional = secret ? vf.secretKeyRef->optional.value_or(false)
                             : vf.configMapKeyRef->optional.value_or(false);
      auto obj = objects.Get(secret ? "secrets" : "configmaps", ns, name);
      if (!obj.ok()) {
        if (obj.status().IsNotFound() && optional) continue;
        if (obj.status().IsNotFound()) {
          return NotFound(std::string(secret ? "secret" : "configmap") + " \"" + name +
                          "\" not found");
        }
        return obj.status();
      }
      auto v = Key(*obj, secret, key);
      if (!v) {
        if (optional) continue;
        return NotFound("couldn't find key " + key + " in " + (secret ? "Secret " : "ConfigMap ") +
                        ns + "/" + name);
      }
      set(e.name, *v);
    }
  }
  return out;
}

std::vector<std::string> MergeEnv(const std::vector<std::string>& imageEnv,
                                  const std::vector<std::pair<std::string, std::string>>& own,
                                  const std::string& hostname) {
  std::vector<std::pair<std::string, std::string>> all;
  auto set = [&](const std::string& k, const std::string& v) {
    for (auto& [ek, ev] : all) {
      if (ek == k) {
        ev = v;
        return;
      }
    }
    all.emplace_back(k, v);
  };
  for (const auto& kv : imageEnv) {
    auto eq = kv.find('=');
    if (eq == std::string::npos) {
      set(kv, "");
    } else {
      set(kv.substr(0, eq), kv.substr(eq + 1));
    }
  }
  bool hasPath = false;
  for (const auto& [k, v] : all) hasPath = hasPath || k == "PATH";
  if (!hasPath) all.insert(all.begin(), {"PATH", kDefaultPath});
  set("HOSTNAME", hostname);
  for (const auto& [k, v] : own) set(k, v);
  std::vector<std::string> out;
  out.reserve(all.size());
  for (const auto& [k, v] : all) out.push_back(k + "=" + v);
  return out;
}

}  // namespace kvol::node
