// Validation of Namespace, Node, ConfigMap, Secret and Event (pkg/apis/core/validation).
#include <algorithm>
#include <set>

#include "validation_internal.h"

namespace kvol::api {

using internal::Append;

namespace {

constexpr size_t kMaxSecretSize = 1024 * 1024;  // corev1.MaxSecretSize, also for ConfigMaps
constexpr const char* kRedacted = "<secret contents redacted>";
constexpr const char* kImmutableWhenSet = "field is immutable when `immutable` is set";

// Go's base64.StdEncoding: decoded size, or the offset Go reports in
// "illegal base64 data at input byte N". Newlines are skipped, as Go does.
bool DecodedSize(const std::string& in, size_t* size, size_t* badAt) {
  auto isB64 = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
  };
  size_t n = 0, quantumStart = 0, inQuantum = 0, pad = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '\r' || c == '\n') continue;
    if (inQuantum == 0) quantumStart = i;
    if (c == '=') {
      if (inQuantum < 2) {
        *badAt = i;
        return false;
      }
      ++pad;
    } else if (!isB64(c) || pad > 0) {
      *badAt = i;
      return false;
    }
    if (++inQuantum == 4) {
      n += 3 - pad;
      inQuantum = 0;
      if (pad > 0) {  // padding ends the input
        for (size_t j = i + 1; j < in.size(); ++j)
          if (in[j] != '\r' && in[j] != '\n') {
            *badAt = j;
            return false;
          }
        break;
      }
    }
  }
  if (inQuantum != 0) {
    *badAt = quantumStart;
    return false;
  }
  *size = n;
  return true;
}

std::string IllegalBase64(size_t at) {
  return "illegal base64 data at input byte " + std::to_string(at);
}

ErrorList ValidateFinalizerName(const std::string& name, const Path& path) {
  ErrorList errs = internal::ValidateQualifiedName(name, path);
  if (errs.empty() && name.find('/') == std::string::npos && name != "kubernetes")
    errs.push_back(InvalidValue(path, name,
                                "name is neither a standard finalizer name nor is it fully "
                                "qualified"));
  return errs;
}

}  // namespace

std::vector<std::string> IsConfigMapKey(std::string_view key) {
  std::vector<std::string> errs;
  if (key.size() > kDNS1123SubdomainMaxLength)
    errs.push_back(MaxLenError(kDNS1123SubdomainMaxLength));
  bool ok = !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
  });
  if (!ok)
    errs.push_back(
        RegexError("a valid config key must consist of alphanumeric characters, '-', "
                   "'_' or '.'",
                   "[-._a-zA-Z0-9]+", {"key.name", "KEY_NAME", "key-name"}));
  if (key == ".") {
    errs.push_back("must not be '.'");
  } else if (key == "..") {
    errs.push_back("must not be '..'");
  } else if (key.substr(0, 2) == "..") {
    errs.push_back("must not start with '..'");
  }
  return errs;
}

// ---- Namespace ----------------------------------------------------------------------------------

ErrorList ValidateNamespace(const Namespace& ns) {
  ErrorList errs = ValidateObjectMeta(ns.metadata, false, ValidateNamespaceName, Path("metadata"));
  for (size_t i = 0; i < ns.spec.finalizers.size(); ++i)
    Append(errs,
           ValidateFinalizerName(ns.spec.finalizers[i], Path("spec").Child("finalizers").Index(i)));
  return errs;
}

ErrorList ValidateNamespaceUpdate(const Namespace& ns, const Namespace& old) {
  return ValidateObjectMetaUpdate(ns.metadata, old.metadata, Path("metadata"));
}

// ---- Node ---------------------------------------------------------------------------------------

ErrorList ValidateNode(const Node& node) {
  ErrorList errs = ValidateObjectMeta(node.metadata, false, NameIsDNSSubdomain, Path("metadata"));
  Path taints = Path("spec").Child("taints");
  std::set<std::string> seen;
  static const std::vector<std::string> kEffects = {"NoSchedule", "PreferNoSchedule", "NoExecute"};
  for (size_t i = 0; i < node.spec.taints.size(); ++i) {
    const Taint& t = node.spec.taints[i];
    Path idx = taints.Index(i);
    Append(errs, internal::ValidateQualifiedName(t.key, idx.Child("key")));
    for (auto& m : IsValidLabelValue(t.value))
      errs.push_back(InvalidValue(idx.Child("value"), t.value, m));
    if (t.effect.empty()) {
      errs.push_back(Required(idx.Child("effect")));
    } else if (std::find(kEffects.begin(), kEffects.end(), t.effect) == kEffects.end()) {
      errs.push_back(NotSupported(idx.Child("effect"), t.effect, kEffects));
    }
    if (!seen.insert(t.key + "\x1f" + t.effect).second)
      errs.push_back(InvalidValue(idx, t.key + ":" + t.effect,
                                  "taints must be unique by key and effect pair"));
  }
  return errs;
}

ErrorList ValidateNodeUpdate(const Node& node, const Node& old) {
  ErrorList errs = ValidateObjectMetaUpdate(node.metadata, old.metadata, Path("metadata"));
  if (!old.spec.podCIDR.empty() && node.spec.podCIDR != old.spec.podCIDR)
    errs.push_back(Forbidden(Path("spec").Child("podCIDR"),
                             "node updates may not change podCIDR except from \"\" to valid"));
  if (!old.spec.providerID.empty() && node.spec.providerID != old.spec.providerID)
    errs.push_back(Forbidden(Path("spec").Child("providerID"),
                             "node updates may not change providerID except from \"\" to valid"));
  return errs;
}

// ---- ConfigMap ----------------------------------------------------------------------------------

ErrorList ValidateConfigMap(const ConfigMap& cm) {
  ErrorList errs = ValidateObjectMeta(cm.metadata, true, NameIsDNSSubdomain, Path("metadata"));
  size_t total = 0;
  Path data("data"), binary("binaryData");
  for (const auto& [k, v] : cm.data) {
    for (auto& msg : IsConfigMapKey(k)) errs.push_back(InvalidValue(data.Key(k), k, msg));
    if (cm.binaryData.count(k))
      errs.push_back(InvalidValue(data.Key(k), k, "duplicate of key present in binaryData"));
    total += v.size();
  }
  for (const auto& [k, v] : cm.binaryData) {
    for (auto& msg : IsConfigMapKey(k)) errs.push_back(InvalidValue(binary.Key(k), k, msg));
    size_t n = 0, bad = 0;
    if (DecodedSize(v, &n, &bad)) {
      total += n;
    } else {
      errs.push_back(InvalidValue(binary.Key(k), v.size() > 64 ? v.substr(0, 64) + "..." : v,
                                  IllegalBase64(bad)));
    }
  }
  if (total > kMaxSecretSize) errs.push_back(TooLong(Path(), "", kMaxSecretSize));
  return errs;
}

ErrorList ValidateConfigMapUpdate(const ConfigMap& cm, const ConfigMap& old) {
  ErrorList errs = ValidateObjectMetaUpdate(cm.metadata, old.metadata, Path("metadata"));
  if (old.immutable.value_or(false)) {
    if (!cm.immutable.value_or(false))
      errs.push_back(Forbidden(Path("immutable"), kImmutableWhenSet));
    if (cm.data != old.data) errs.push_back(Forbidden(Path("data"), kImmutableWhenSet));
    if (cm.binaryData != old.binaryData)
      errs.push_back(Forbidden(Path("binaryData"), kImmutableWhenSet));
  }
  return errs;
}

// ---- Secret -------------------------------------------------------------------------------------

ErrorList ValidateSecret(const Secret& secret) {
  ErrorList errs = ValidateObjectMeta(secret.metadata, true, NameIsDNSSubdomain, Path("metadata"));
  Path data("data");
  size_t total = 0;
  for (const auto& [k, v] : secret.data) {
    for (auto& msg : IsConfigMapKey(k)) errs.push_back(InvalidValue(data.Key(k), k, msg));
    size_t n = 0, bad = 0;
    if (DecodedSize(v, &n, &bad)) {
      total += n;
    } else {
      errs.push_back(InvalidValue(data.Key(k), kRedacted, IllegalBase64(bad)));
    }
  }
  if (total > kMaxSecretSize) errs.push_back(TooLong(data, "", kMaxSecretSize));

  auto require = [&](const char* key) {
    if (!secret.data.count(key)) errs.push_back(Required(data.Key(key)));
  };
  const std::string& t = secret.type;
  if (t == "kubernetes.io/service-account-token") {
    auto it = secret.metadata.annotations.find("kubernetes.io/service-account.name");
    if (it == secret.metadata.annotations.end() || it->second.empty())
      errs.push_back(Required(
          Path("metadata").Child("annotations").Key("kubernetes.io/service-account.name")));
  } else if (t == "kubernetes.io/dockercfg") {
    require(".dockercfg");
  } else if (t == "kubernetes.io/dockerconfigjson") {
    require(".dockerconfigjson");
  } else if (t == "kubernetes.io/basic-auth") {
    if (!secret.data.count("username") && !secret.data.count("password")) {
      errs.push_back(Required(data.Key("username")));
      errs.push_back(Required(data.Key("password")));
    }
  } else if (t == "kubernetes.io/ssh-auth") {
    auto it = secret.data.find("ssh-privatekey");
    if (it == secret.data.end() || it->second.empty())
      errs.push_back(Required(data.Key("ssh-privatekey")));
  } else if (t == "kubernetes.io/tls") {
    require("tls.crt");
    require("tls.key");
  }
  return errs;
}

ErrorList ValidateSecretUpdate(const Secret& secret, const Secret& old) {
  ErrorList errs = ValidateObjectMetaUpdate(secret.metadata, old.metadata, Path("metadata"));
  Append(errs, ValidateImmutableField(secret.type, old.type, Path("type")));
  if (old.immutable.value_or(false)) {
    if (!secret.immutable.value_or(false))
      errs.push_back(Forbidden(Path("immutable"), kImmutableWhenSet));
    if (secret.data != old.data) errs.push_back(Forbidden(Path("data"), kImmutableWhenSet));
  }
  return errs;
}

// ---- Event --------------------------------------------------------------------------------------

ErrorList ValidateEvent(const Event& ev) {
  ErrorList errs = ValidateObjectMeta(ev.metadata, true, NameIsDNSSubdomain, Path("metadata"));
  const std::string& ns = ev.metadata.namespace_;
  const std::string& ions = ev.involvedObject.namespace_;
  Path ionsPath = Path("involvedObject").Child("namespace");
  bool newStyle = ev.eventTime.has_value() && !ev.eventTime->empty();
  if (!newStyle) {
    if (ions.empty() ? (!ns.empty() && ns != "default") : ns != ions)
      errs.push_back(InvalidValue(ionsPath, ions, "does not match event.namespace"));
  } else {
    if (ions.empty() && ns != "default" && ns != "kube-system")
      errs.push_back(InvalidValue(ionsPath, ions, "does not match event.namespace"));
    auto limited = [&](const std::string& v, const char* name, size_t limit, bool required) {
      if (required && v.empty()) errs.push_back(Required(Path(name)));
      if (v.size() > limit)
        errs.push_back(InvalidValue(Path(name), "",
                                    "can have at most " + std::to_string(limit) + " characters"));
    };
    if (ev.reportingComponent.empty()) errs.push_back(Required(Path("reportingComponent")));
    Append(errs,
           internal::ValidateQualifiedName(ev.reportingComponent, Path("reportingComponent")));
    limited(ev.reportingInstance, "reportingInstance", 128, true);
    limited(ev.action, "action", 128, true);
    limited(ev.reason, "reason", 128, true);
    limited(ev.message, "message", 1024, false);
  }
  if (!ev.type.empty() && ev.type != "Normal" && ev.type != "Warning")  // kvol: events.k8s.io rule
    errs.push_back(NotSupported(Path("type"), ev.type, {"Normal", "Warning"}));
  return errs;
}

ErrorList ValidateEventUpdate(const Event& ev, const Event& old) {
  return ValidateObjectMetaUpdate(ev.metadata, old.metadata, Path("metadata"));
}

}  // namespace kvol::api
