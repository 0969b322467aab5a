#include "kvol/api/validation_util.h"

#include <algorithm>
#include <set>

namespace kvol::api {
namespace {

constexpr const char* kDNS1123LabelFmt = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
constexpr const char* kDNS1123LabelErrMsg =
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
    "must start and end with an alphanumeric character";
constexpr const char* kDNS1123SubdomainFmt =
    "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
constexpr const char* kDNS1123SubdomainErrMsg =
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character";
constexpr const char* kQualifiedNameFmt = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
constexpr const char* kQualifiedNameErrMsg =
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character";
constexpr const char* kLabelValueFmt = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?";
constexpr const char* kLabelValueErrMsg =
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character";

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool IsAlnum(char c) { return IsLowerAlnum(c) || (c >= 'A' && c <= 'Z'); }

// [a-z0-9]([-a-z0-9]*[a-z0-9])?
bool MatchesDNSLabel(std::string_view s) {
  if (s.empty() || !IsLowerAlnum(s.front()) || !IsLowerAlnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return IsLowerAlnum(c) || c == '-'; });
}

bool MatchesDNSSubdomain(std::string_view s) {
  size_t start = 0;
  while (true) {
    size_t dot = s.find('.', start);
    std::string_view part =
        s.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (!MatchesDNSLabel(part)) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

// ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]
bool MatchesQualifiedName(std::string_view s) {
  if (s.empty() || !IsAlnum(s.front()) || !IsAlnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return IsAlnum(c) || c == '-' || c == '_' || c == '.'; });
}

std::vector<std::string> PrefixEach(std::vector<std::string> msgs, std::string_view prefix) {
  for (auto& m : msgs) m = std::string(prefix) + m;
  return msgs;
}

// Kubernetes' maskTrailingDash: a generateName may end in '-'.
std::string MaskTrailingDash(std::string_view name) {
  std::string s(name);
  if (s.size() > 1 && s.back() == '-') s.back() = 'a';
  return s;
}

void Append(ErrorList& to, ErrorList from) {
  for (auto& e : from) to.push_back(std::move(e));
}

}  // namespace

std::string MaxLenError(size_t length) {
  return "must be no more than " + std::to_string(length) + " characters";
}

std::string EmptyError() { return "must be non-empty"; }

std::string RegexError(std::string_view msg, std::string_view fmt,
                       const std::vector<std::string>& examples) {
  std::string out(msg);
  if (examples.empty()) return out + " (regex used for validation is '" + std::string(fmt) + "')";
  out += " (e.g. ";
  for (size_t i = 0; i < examples.size(); ++i) {
    if (i > 0) out += " or ";
    out += "'" + examples[i] + "', ";
  }
  out += "regex used for validation is '" + std::string(fmt) + "')";
  return out;
}

std::vector<std::string> IsDNS1123Label(std::string_view value) {
  std::vector<std::string> errs;
  if (value.size() > kDNS1123LabelMaxLength) errs.push_back(MaxLenError(kDNS1123LabelMaxLength));
  if (!MatchesDNSLabel(value)) {
    if (MatchesDNSSubdomain(value)) {
      errs.push_back("must not contain dots");
    } else {
      errs.push_back(RegexError(kDNS1123LabelErrMsg, kDNS1123LabelFmt, {"my-name", "123-abc"}));
    }
  }
  return errs;
}

std::vector<std::string> IsDNS1123Subdomain(std::string_view value) {
  std::vector<std::string> errs;
  if (value.size() > kDNS1123SubdomainMaxLength) {
    errs.push_back(MaxLenError(kDNS1123SubdomainMaxLength));
  }
  if (!MatchesDNSSubdomain(value)) {
    errs.push_back(RegexError(kDNS1123SubdomainErrMsg, kDNS1123SubdomainFmt, {"example.com"}));
  }
  return errs;
}

std::vector<std::string> IsQualifiedName(std::string_view value) {
  std::vector<std::string> errs;
  std::string_view name = value;
  size_t slash = value.find('/');
  if (slash != std::string_view::npos) {
    if (value.find('/', slash + 1) != std::string_view::npos) {
      errs.push_back(
          "a qualified name " +
          RegexError(kQualifiedNameErrMsg, kQualifiedNameFmt, {"MyName", "my.name", "123-abc"}) +
          " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')");
      return errs;
    }
    std::string_view prefix = value.substr(0, slash);
    name = value.substr(slash + 1);
    if (prefix.empty()) {
      errs.push_back("prefix part " + EmptyError());
    } else {
      auto msgs = IsDNS1123Subdomain(prefix);
      for (auto& m : PrefixEach(msgs, "prefix part ")) errs.push_back(std::move(m));
    }
  }
  if (name.empty()) {
    errs.push_back("name part " + EmptyError());
  } else if (name.size() > kQualifiedNameMaxLength) {
    errs.push_back("name part " + MaxLenError(kQualifiedNameMaxLength));
  }
  if (!MatchesQualifiedName(name)) {
    errs.push_back("name part " + RegexError(kQualifiedNameErrMsg, kQualifiedNameFmt,
                                             {"MyName", "my.name", "123-abc"}));
  }
  return errs;
}

std::vector<std::string> IsValidLabelValue(std::string_view value) {
  std::vector<std::string> errs;
  if (value.size() > kLabelValueMaxLength) errs.push_back(MaxLenError(kLabelValueMaxLength));
  if (!value.empty() && !MatchesQualifiedName(value)) {
    errs.push_back(RegexError(kLabelValueErrMsg, kLabelValueFmt, {"MyValue", "my_value", "12345"}));
  }
  return errs;
}

std::vector<std::string> NameIsDNSSubdomain(std::string_view name, bool prefix) {
  if (prefix) return IsDNS1123Subdomain(MaskTrailingDash(name));
  return IsDNS1123Subdomain(name);
}

std::vector<std::string> NameIsDNSLabel(std::string_view name, bool prefix) {
  if (prefix) return IsDNS1123Label(MaskTrailingDash(name));
  return IsDNS1123Label(name);
}

std::vector<std::string> ValidateNamespaceName(std::string_view name, bool prefix) {
  return NameIsDNSLabel(name, prefix);
}

ErrorList ValidateLabels(const std::map<std::string, std::string>& labels, const Path& path) {
  ErrorList errs;
  for (const auto& [k, v] : labels) {
    for (auto& m : IsQualifiedName(k)) errs.push_back(InvalidValue(path, k, m));
    for (auto& m : IsValidLabelValue(v)) errs.push_back(InvalidValue(path, v, m));
  }
  return errs;
}

ErrorList ValidateAnnotations(const std::map<std::string, std::string>& annotations,
                              const Path& path) {
  ErrorList errs;
  size_t total = 0;
  for (const auto& [k, v] : annotations) {
    std::string lower = k;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    for (auto& m : IsQualifiedName(lower)) errs.push_back(InvalidValue(path, k, m));
    total += k.size() + v.size();
  }
  if (total > kTotalAnnotationSizeLimitB) {
    errs.push_back(TooLong(path, "", kTotalAnnotationSizeLimitB));
  }
  return errs;
}

ErrorList ValidateOwnerReferences(const std::vector<OwnerReference>& refs, const Path& path) {
  ErrorList errs;
  std::string firstController;
  for (const auto& ref : refs) {
    // schema.FromAPIVersionAndKind: "group/version" or "version"; more slashes -> no version.
    std::string version;
    size_t slash = ref.apiVersion.find('/');
    if (slash == std::string::npos) {
      version = ref.apiVersion;
    } else if (ref.apiVersion.find('/', slash + 1) == std::string::npos) {
      version = ref.apiVersion.substr(slash + 1);
    }
    if (version.empty()) {
      errs.push_back(
          InvalidValue(path.Child("apiVersion"), ref.apiVersion, "version must not be empty"));
    }
    if (ref.kind.empty()) {
      errs.push_back(InvalidValue(path.Child("kind"), ref.kind, "kind must not be empty"));
    }
    if (ref.name.empty()) {
      errs.push_back(InvalidValue(path.Child("name"), ref.name, "name must not be empty"));
    }
    if (ref.uid.empty()) {
      errs.push_back(InvalidValue(path.Child("uid"), ref.uid, "uid must not be empty"));
    }
    if (ref.controller.value_or(false)) {
      std::string cur = ref.kind + "/" + ref.name;
      if (!firstController.empty()) {
        errs.push_back(InvalidValue(
            path, ToJson(refs),
            "Only one reference can have Controller set to true. Found \"true\" in references "
            "for " +
                firstController + " and " + cur));
      } else {
        firstController = cur;
      }
    }
  }
  return errs;
}

ErrorList ValidateFinalizers(const std::vector<std::string>& finalizers, const Path& path) {
  ErrorList errs;
  bool orphan = false, foreground = false;
  for (const auto& f : finalizers) {
    for (auto& m : IsQualifiedName(f)) errs.push_back(InvalidValue(path, f, m));
    if (f == "orphan") orphan = true;
    if (f == "foregroundDeletion") foreground = true;
  }
  if (orphan && foreground) {
    errs.push_back(InvalidValue(path, finalizers,
                                "finalizer orphan and foregroundDeletion cannot be both set"));
  }
  return errs;
}

ErrorList ValidateObjectMeta(const ObjectMeta& meta, bool namespaced, const NameValidator& nameFn,
                             const Path& path) {
  ErrorList errs;
  if (!meta.generateName.empty() && nameFn) {
    for (auto& m : nameFn(meta.generateName, true)) {
      errs.push_back(InvalidValue(path.Child("generateName"), meta.generateName, m));
    }
  }
  if (meta.name.empty()) {
    if (meta.generateName.empty()) {
      errs.push_back(Required(path.Child("name"), "name or generateName is required"));
    }
  } else if (nameFn) {
    for (auto& m : nameFn(meta.name, false)) {
      errs.push_back(InvalidValue(path.Child("name"), meta.name, m));
    }
  }
  if (namespaced) {
    if (meta.namespace_.empty()) {
      errs.push_back(Required(path.Child("namespace")));
    } else {
      for (auto& m : ValidateNamespaceName(meta.namespace_, false)) {
        errs.push_back(InvalidValue(path.Child("namespace"), meta.namespace_, m));
      }
    }
  } else if (!meta.namespace_.empty()) {
    errs.push_back(Forbidden(path.Child("namespace"), "not allowed on this type"));
  }
  Append(errs, ValidateNonNegativeField(meta.generation, path.Child("generation")));
  Append(errs, ValidateLabels(meta.labels, path.Child("labels")));
  Append(errs, ValidateAnnotations(meta.annotations, path.Child("annotations")));
  Append(errs, ValidateOwnerReferences(meta.ownerReferences, path.Child("ownerReferences")));
  Append(errs, ValidateFinalizers(meta.finalizers, path.Child("finalizers")));
  return errs;
}

ErrorList ValidateObjectMetaUpdate(const ObjectMeta& newMeta, const ObjectMeta& oldMeta,
                                   const Path& path) {
  ErrorList errs;
  if (oldMeta.deletionTimestamp.has_value()) {
    std::set<std::string> old(oldMeta.finalizers.begin(), oldMeta.finalizers.end());
    std::set<std::string> extra;
    for (const auto& f : newMeta.finalizers) {
      if (!old.count(f)) extra.insert(f);
    }
    if (!extra.empty()) {
      std::string list = "[]string{";
      bool first = true;
      for (const auto& f : extra) {
        if (!first) list += ", ";
        first = false;
        list += json(f).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      }
      list += "}";
      errs.push_back(Forbidden(path.Child("finalizers"),
                               "no new finalizers can be added if the object is being deleted, "
                               "found new finalizers " +
                                   list));
    }
  }
  if (newMeta.resourceVersion.empty()) {
    errs.push_back(InvalidValue(path.Child("resourceVersion"), newMeta.resourceVersion,
                                "must be specified for an update"));
  }
  if (newMeta.generation < oldMeta.generation) {
    errs.push_back(
        InvalidValue(path.Child("generation"), newMeta.generation, "must not be decremented"));
  }
  Append(errs, ValidateImmutableField(newMeta.name, oldMeta.name, path.Child("name")));
  Append(errs,
         ValidateImmutableField(newMeta.namespace_, oldMeta.namespace_, path.Child("namespace")));
  Append(errs, ValidateImmutableField(newMeta.uid, oldMeta.uid, path.Child("uid")));
  Append(errs, ValidateImmutableField(newMeta.creationTimestamp, oldMeta.creationTimestamp,
                                      path.Child("creationTimestamp")));
  Append(errs, ValidateImmutableField(ToJson(newMeta.deletionTimestamp),
                                      ToJson(oldMeta.deletionTimestamp),
                                      path.Child("deletionTimestamp")));
  Append(errs, ValidateImmutableField(ToJson(newMeta.deletionGracePeriodSeconds),
                                      ToJson(oldMeta.deletionGracePeriodSeconds),
                                      path.Child("deletionGracePeriodSeconds")));
  Append(errs, ValidateImmutableField(newMeta.selfLink, oldMeta.selfLink, path.Child("selfLink")));
  Append(errs, ValidateLabels(newMeta.labels, path.Child("labels")));
  Append(errs, ValidateAnnotations(newMeta.annotations, path.Child("annotations")));
  Append(errs, ValidateOwnerReferences(newMeta.ownerReferences, path.Child("ownerReferences")));
  return errs;
}

ErrorList ValidateLabelSelector(const LabelSelector& selector, const Path& path) {
  ErrorList errs = ValidateLabels(selector.matchLabels, path.Child("matchLabels"));
  for (size_t i = 0; i < selector.matchExpressions.size(); ++i) {
    const auto& r = selector.matchExpressions[i];
    Path p = path.Child("matchExpressions").Index(i);
    if (r.operator_ == "In" || r.operator_ == "NotIn") {
      if (r.values.empty()) {
        errs.push_back(
            Required(p.Child("values"), "must be specified when `operator` is 'In' or 'NotIn'"));
      }
    } else if (r.operator_ == "Exists" || r.operator_ == "DoesNotExist") {
      if (!r.values.empty()) {
        errs.push_back(Forbidden(p.Child("values"),
                                 "may not be specified when `operator` is 'Exists' or "
                                 "'DoesNotExist'"));
      }
    } else {
      errs.push_back(
          InvalidValue(p.Child("operator"), r.operator_, "not a valid selector operator"));
    }
    for (auto& m : IsQualifiedName(r.key)) errs.push_back(InvalidValue(p.Child("key"), r.key, m));
    for (size_t j = 0; j < r.values.size(); ++j) {
      for (auto& m : IsValidLabelValue(r.values[j])) {
        errs.push_back(InvalidValue(p.Child("values").Index(j), r.values[j], m));
      }
    }
  }
  return errs;
}

ErrorList ValidateNonNegativeQuantity(const Quantity& q, const Path& path) {
  if (q.Sign() < 0) return {InvalidValue(path, q.ToString(), kIsNegativeErrorMsg)};
  return {};
}

ErrorList ValidatePositiveQuantity(const Quantity& q, const Path& path) {
  if (q.Sign() <= 0) return {InvalidValue(path, q.ToString(), "must be greater than zero")};
  return {};
}

ErrorList ValidateNonNegativeField(int64_t value, const Path& path) {
  if (value < 0) return {InvalidValue(path, value, kIsNegativeErrorMsg)};
  return {};
}

ErrorList ValidateImmutableField(const json& newValue, const json& oldValue, const Path& path) {
  if (newValue != oldValue) return {InvalidValue(path, newValue, kFieldImmutableErrorMsg)};
  return {};
}

}  // namespace kvol::api
