// kvol apply: kubectl's client-side apply (last-applied annotation; POST when missing, else a
// three-way strategic merge patch), and --wait for claims and pods.
#include <ostream>

#include "kvol/patch/patch.h"
#include "src/cli/verbs_common.h"

namespace kvol::cli {

using namespace internal;

namespace {

constexpr const char* kLastApplied = "kubectl.kubernetes.io/last-applied-configuration";
constexpr const char* kApplyQuery =
    "?fieldManager=kubectl-client-side-apply&fieldValidation=Strict";

struct Applied {
  const api::ResourceInfo* info;
  std::string ns, name;
  json obj;  // as the server returned it (or found it unchanged): --wait starts from it
};

// The annotation value kubectl stores: the manifest (namespace filled in) without the annotation
// itself, compact JSON with sorted keys, plus "\n".
std::string LastAppliedOf(json obj) {
  if (obj.contains("metadata") && obj["metadata"].contains("annotations") &&
      obj["metadata"]["annotations"].is_object()) {
    obj["metadata"]["annotations"].erase(kLastApplied);
  } else {
    obj["metadata"]["annotations"] = json::object();
  }
  return obj.dump() + "\n";
}

// Applies one object; prints "<kind>/<name> created|configured|unchanged" or an error.
bool ApplyOne(ApiClient& c, const std::string& file, json obj, const std::string& defaultNs,
              std::vector<Applied>& applied, std::ostream& out, std::ostream& err) {
  const std::string apiVersion = obj.value("apiVersion", "");
  const std::string kind = obj.value("kind", "");
  std::string name;
  if (obj.contains("metadata") && obj["metadata"].is_object())
    name = obj["metadata"].value("name", "");
  const api::ResourceInfo* info = ResolveKind(apiVersion, kind);
  if (!info) {
    std::string ns = obj.contains("metadata") ? obj["metadata"].value("namespace", "") : "";
    err << "error: resource mapping not found for name: \"" << name << "\" namespace: \"" << ns
        << "\" from \"" << file << "\": no matches for kind \"" << kind << "\" in version \""
        << apiVersion << "\"\nensure CRDs are installed first\n";
    return false;
  }
  if (name.empty()) {
    err << "error: error when retrieving current configuration of:\nResource: \"" << info->resource
        << "\", GroupVersionKind: \"" << info->ApiVersion() << ", Kind=" << kind
        << "\"\nName: \"\", Namespace: \"" << defaultNs << "\"\nfrom server for: \"" << file
        << "\": resource name may not be empty\n";
    return false;
  }
  std::string ns;
  if (info->namespaced) {
    ns = obj["metadata"].value("namespace", "");
    if (ns.empty()) ns = defaultNs;
    obj["metadata"]["namespace"] = ns;
  } else if (obj["metadata"].contains("namespace")) {
    obj["metadata"].erase("namespace");
  }
  json modified = obj;
  modified["metadata"]["annotations"][kLastApplied] = LastAppliedOf(obj);
  const std::string label = KindGroup(*info) + "/" + name;

  // Create first: a new object then costs one round trip, not a GET and a POST as in kubectl.
  // AlreadyExists (409) falls through to kubectl's path: GET the live object, three-way patch.
  auto r =
      c.Do("POST", CollectionPath(*info, ns) + kApplyQuery, modified.dump(), "application/json");
  if (!r.ok()) {
    err << FormatTransportError(c.config(), r.status()) << "\n";
    return false;
  }
  if (r->status == 200 || r->status == 201) {
    out << label << " created\n";
    applied.push_back({info, ns, name, json::parse(r->body, nullptr, false)});
    return true;
  }
  if (r->status != 409) {
    err << FormatServerError(*r, "creating", file) << "\n";
    return false;
  }
  auto cur = c.Do("GET", ObjectPath(*info, ns, name));
  if (!cur.ok()) {
    err << FormatTransportError(c.config(), cur.status()) << "\n";
    return false;
  }
  if (cur->status != 200) {
    err << FormatServerError(*cur, "retrieving current configuration of", file) << "\n";
    return false;
  }
  json current = json::parse(cur->body, nullptr, false);
  json original = json::object();
  if (current.is_object() && current.contains("metadata") &&
      current["metadata"].contains("annotations") &&
      current["metadata"]["annotations"].contains(kLastApplied)) {
    const json& a = current["metadata"]["annotations"][kLastApplied];
    if (a.is_string()) {
      original = json::parse(a.get<std::string>(), nullptr, false);
      if (original.is_discarded() || !original.is_object()) original = json::object();
    }
  }
  const bool smp = patch::HasStrategicMergeSchema(apiVersion, kind);
  auto p = patch::CreateThreeWayStrategicPatch(original, modified, current, apiVersion, kind);
  if (!p.ok()) {
    err << "error: " << p.status().message() << "\n";
    return false;
  }
  if (p->is_null() || (p->is_object() && p->empty())) {
    out << label << " unchanged\n";
    applied.push_back({info, ns, name, std::move(current)});
    return true;
  }
  r = c.Do("PATCH", ObjectPath(*info, ns, name) + kApplyQuery, p->dump(),
           smp ? "application/strategic-merge-patch+json" : "application/merge-patch+json");
  if (!r.ok()) {
    err << FormatTransportError(c.config(), r.status()) << "\n";
    return false;
  }
  if (r->status != 200) {
    err << FormatServerError(*r, "patching", file) << "\n";
    return false;
  }
  out << label << " configured\n";
  applied.push_back({info, ns, name, json::parse(r->body, nullptr, false)});
  return true;
}

bool Ready(const api::ResourceInfo& info, const json* obj) {
  if (!obj || !obj->is_object()) return false;
  std::string phase;
  if (obj->contains("status") && (*obj)["status"].is_object())
    phase = (*obj)["status"].value("phase", "");
  if (info.kind == "PersistentVolumeClaim") return phase == "Bound";
  if (info.kind == "Pod") return phase == "Running" || phase == "Succeeded" || phase == "Failed";
  return true;
}

}  // namespace

int RunApply(const ClientOptions& opts, const std::vector<std::string>& files, bool wait,
             double timeoutSec, std::ostream& out, std::ostream& err) {
  if (files.empty()) {
    err << "error: must specify one of -f and -k\n";
    return 1;
  }
  auto session = OpenSession(opts, err);
  if (!session) return 1;
  ApiClient& c = *session->client;
  auto start = std::chrono::steady_clock::now();
  int rc = 0;
  std::vector<Applied> applied;
  for (const auto& file : files) {
    auto text = ReadFileText(file);
    if (!text.ok()) {
      err << "error: " << text.status().message() << "\n";
      rc = 1;
      continue;
    }
    auto docs = ParseManifests(*text);
    if (!docs.ok()) {
      err << "error: error parsing " << file << ": " << docs.status().message() << "\n";
      rc = 1;
      continue;
    }
    for (auto& obj : *docs) {
      if (!ApplyOne(c, file, std::move(obj), session->ns, applied, out, err)) rc = 1;
      out.flush();
    }
  }
  if (!wait || rc != 0) return rc;
  auto deadline = start + std::chrono::milliseconds(static_cast<int64_t>(timeoutSec * 1000));
  for (const auto& a : applied) {
    if (a.info->kind != "PersistentVolumeClaim" && a.info->kind != "Pod") continue;
    Status s = WaitFor(
        c, *a.info, a.ns, a.name, [&](const json* o) { return Ready(*a.info, o); }, deadline,
        &a.obj);
    if (s.code() == Code::kTimeout) {
      err << "error: timed out waiting for the condition on " << a.info->resource << "/" << a.name
          << " (" << (a.info->kind == "Pod" ? "Running, Succeeded or Failed" : "Bound")
          << " within " << timeoutSec << "s)\n";
      return 1;
    }
    if (!s.ok()) {
      err << (s.code() == Code::kInternal ? s.message() : FormatTransportError(c.config(), s))
          << "\n";
      return 1;
    }
  }
  return 0;
}

}  // namespace kvol::cli
