// create, update (PUT), patch and delete, with Kubernetes' admission and update strategies.
#include <set>
#include <variant>

#include "kvol/api/meta.h"
#include "kvol/api/yaml.h"
#include "kvol/apiserver/admission.h"
#include "kvol/apiserver/errors.h"
#include "kvol/apiserver/protobuf_body.h"
#include "kvol/common/trace.h"
#include "kvol/patch/apply.h"
#include "kvol/patch/patch.h"
#include "object_meta.h"
#include "rest.h"

namespace kvol::apiserver {

namespace {

constexpr int kMaxRetries = 8;

// Server-side apply and field management, defined with HandleApplyPatch below.
void RecordUpdate(const RestContext& c, const json& live, json& obj);
Reply HandleApplyPatch(const RestContext& c);

Reply R(Response r) {
  Reply out;
  out.response = std::move(r);
  return out;
}

Response BadRequest(const std::string& m) { return StatusResponse(400, "BadRequest", m); }

std::string MediaType(const std::string& contentType) {
  std::string t = contentType.substr(0, contentType.find(';'));
  while (!t.empty() && t.back() == ' ') t.pop_back();
  return t;
}

// The body of a POST or PUT as JSON, or the error to answer.
std::variant<json, Response> ParseBody(const RestContext& c) {
  std::string mt = MediaType(c.req.Header("content-type"));
  if (mt == kProtobufMediaType) {  // kubectl >= 1.32's typed clients (create ns|cm|secret)
    Result<json> obj = DecodeProtobufBody(c.req.body, c.info().kind);
    if (!obj.ok()) return ErrorResponse(obj.status());
    return std::move(obj).value();
  }
  if (!mt.empty() && mt != "application/json" && mt != "*/*") {
    return StatusResponse(415, "UnsupportedMediaType",
                          "the body of the request was in an unknown format - accepted media "
                          "types include: application/json");
  }
  json body = json::parse(c.req.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    return BadRequest(
        "couldn't get version/kind; json parse error: the request body is not a "
        "JSON object");
  }
  return body;
}

std::string Meta(const json& obj, const char* field) {
  auto m = obj.find("metadata");
  if (m == obj.end() || !m->is_object()) return "";
  auto f = m->find(field);
  return f != m->end() && f->is_string() ? f->get<std::string>() : "";
}

// apiVersion/kind in the body must name this resource's kind when present.
std::optional<Response> CheckTypeMeta(const api::ResourceInfo& info, const json& obj) {
  auto av = obj.find("apiVersion");
  if (av != obj.end() && av->is_string() && !av->get<std::string>().empty() &&
      *av != info.ApiVersion()) {
    return BadRequest("the API version in the data (" + av->get<std::string>() +
                      ") does not match the expected API version (" + info.ApiVersion() + ")");
  }
  auto k = obj.find("kind");
  if (k != obj.end() && k->is_string() && !k->get<std::string>().empty() && *k != info.kind) {
    return BadRequest("the kind in the data (" + k->get<std::string>() +
                      ") does not match the expected kind (" + info.kind + ")");
  }
  return std::nullopt;
}

// Typed decode; unknown fields are answered per ?fieldValidation= (Strict: 400, Warn or absent:
// Warning headers, Ignore: dropped).
std::variant<json, Response> Decode(const RestContext& c, const json& in,
                                    std::vector<std::pair<std::string, std::string>>* warnings) {
  const auto& info = c.info();
  api::Decoded d = c.rr.ops->Normalize(in);
  std::string prefix =
      info.kind + " in version \"" + info.version + "\" cannot be handled as a " + info.kind + ": ";
  if (!d.errors.empty()) return BadRequest(prefix + api::Join(d.errors, ", "));
  std::string fv = c.req.Query("fieldValidation");
  if (!d.unknownFields.empty()) {
    if (fv == "Strict") {
      std::string m = prefix + "strict decoding error: ";
      for (size_t i = 0; i < d.unknownFields.size(); ++i) {
        if (i) m += ", ";
        m += "unknown field \"" + d.unknownFields[i] + "\"";
      }
      return BadRequest(m);
    }
    if (fv != "Ignore") {
      for (const auto& f : d.unknownFields) {
        warnings->push_back({"Warning", "299 - \"unknown field \\\"" + f + "\\\"\""});
      }
    }
  }
  SetTypeMeta(info, d.object);
  return std::move(d.object);
}

json WithoutVolatile(json o) {
  if (o.contains("metadata") && o["metadata"].is_object()) {
    o["metadata"].erase("resourceVersion");  // managedFields count: ownership changes are writes
  }
  return o;
}

// Everything but metadata and status: what bumps metadata.generation.
json SpecPart(const json& o) {
  json s = o;
  if (s.is_object()) {
    s.erase("metadata");
    s.erase("status");
  }
  return s;
}

bool KeepsStatusOnCreate(const api::ResourceInfo& info) {
  return info.group.empty() && info.kind == "Node";
}

void DefaultPhase(const api::ResourceInfo& info, json& obj) {
  if (!info.group.empty()) return;
  if (info.kind != "PersistentVolumeClaim" && info.kind != "PersistentVolume" && info.kind != "Pod")
    return;
  json& st = obj["status"];
  if (!st.is_object()) st = json::object();
  if (!st.contains("phase")) st["phase"] = "Pending";
}

Response WithWarnings(Response r, const std::vector<std::pair<std::string, std::string>>& w) {
  for (const auto& h : w) r.headers.push_back(h);
  return r;
}

bool DryRun(const Request& req) { return req.Query("dryRun") == "All"; }

// Update strategy: from the decoded new object and the live one, the object to write (or the
// error to answer).
std::variant<json, Response> PrepareUpdate(const RestContext& c, json in, const json& old) {
  const auto& info = c.info();
  json& meta = in["metadata"];
  if (!meta.is_object()) meta = json::object();
  std::string name = meta.value("name", "");
  if (name.empty()) {
    meta["name"] = c.rr.name;
  } else if (name != c.rr.name) {
    return BadRequest("the name of the object (" + name + ") does not match the name on the URL (" +
                      c.rr.name + ")");
  }
  if (info.namespaced) {
    std::string ns = meta.value("namespace", "");
    if (ns.empty()) {
      meta["namespace"] = c.rr.ns;
    } else if (ns != c.rr.ns) {
      return BadRequest(
          "the namespace of the provided object does not match the namespace sent on the request");
    }
  }
  json out;
  if (c.rr.subresource == "status") {
    out = old;
    if (in.contains("status")) {
      out["status"] = in["status"];
    } else {
      out.erase("status");
    }
  } else {
    out = std::move(in);
    json& m = out["metadata"];
    const json& om = old["metadata"];
    for (const char* f : {"uid", "creationTimestamp", "deletionTimestamp",
                          "deletionGracePeriodSeconds", "generation"}) {
      if (om.contains(f)) {
        m[f] = om[f];
      } else {
        m.erase(f);
      }
    }
    if (info.hasStatus) {
      if (old.contains("status")) {
        out["status"] = old["status"];
      } else {
        out.erase("status");
      }
    }
  }
  out = c.rr.ops->Default(out);
  SetTypeMeta(info, out);
  if (SpecPart(out) != SpecPart(old)) {
    out["metadata"]["generation"] = old["metadata"].value("generation", int64_t{0}) + 1;
  }
  api::ErrorList errs = c.rr.ops->ValidateUpdate(out, old);
  if (!errs.empty()) return InvalidResponse(info, c.rr.name, errs);
  return out;
}

// Writes `obj` over `old` (expected revision `expected`); answers the object as stored. A write
// that changes nothing is skipped and answers the live object (same resourceVersion).
std::variant<json, Response, Status> Commit(const RestContext& c, json obj, const json& old,
                                            store::Revision expected) {
  if (WithoutVolatile(obj) == WithoutVolatile(old)) return old;
  obj["metadata"].erase("resourceVersion");
  if (DryRun(c.req)) return obj;
  auto r = c.store().Txn({store::Op::Update(c.Key(), obj, expected)});
  if (!r.ok()) {
    if (r.status().IsConflict()) return r.status();
    if (r.status().IsNotFound()) return NotFoundResponse(c.info(), c.rr.name);
    return ErrorResponse(r.status());
  }
  return Present(c.info(), r->objects.at(0));
}

int64_t ParseRv(const std::string& rv) {
  try {
    size_t pos = 0;
    int64_t v = std::stoll(rv, &pos);
    return pos == rv.size() ? v : -1;
  } catch (...) {
    return -1;
  }
}

}  // namespace

Reply HandleCreate(const RestContext& c) {
  const auto& info = c.info();
  if (!c.rr.subresource.empty()) return R(MethodNotAllowed());
  auto body = ParseBody(c);
  if (auto* e = std::get_if<Response>(&body)) return R(*e);
  json& in = std::get<json>(body);
  if (auto e = CheckTypeMeta(info, in)) return R(*e);
  std::vector<std::pair<std::string, std::string>> warnings;
  auto dec = Decode(c, in, &warnings);
  if (auto* e = std::get_if<Response>(&dec)) return R(*e);
  json obj = std::move(std::get<json>(dec));
  json& meta = obj["metadata"];
  if (!meta.is_object()) meta = json::object();
  if (info.namespaced) {
    std::string ns = meta.value("namespace", "");
    if (ns.empty()) {
      meta["namespace"] = c.rr.ns;
    } else if (ns != c.rr.ns) {
      return R(BadRequest(
          "the namespace of the provided object does not match the namespace sent on the request"));
    }
  } else {
    meta.erase("namespace");
  }
  std::string generateName = meta.value("generateName", "");
  if (meta.value("name", "").empty() && generateName.empty()) {
    return R(InvalidResponse(
        info, "",
        {api::Required(api::Path("metadata").Child("name"), "name or generateName is required")}));
  }
  if (info.hasStatus && !KeepsStatusOnCreate(info)) obj.erase("status");
  meta.erase("resourceVersion");
  meta.erase("deletionTimestamp");
  meta.erase("deletionGracePeriodSeconds");
  meta["uid"] = NewUid();
  meta["creationTimestamp"] = api::FormatTime(c.Now());
  meta["generation"] = 1;
  RecordUpdate(c, nullptr, obj);
  if (Status s = AdmitCreate(c.store(), info, obj); !s.ok()) return R(ErrorResponse(s));
  obj = c.rr.ops->Default(obj);
  SetTypeMeta(info, obj);
  DefaultPhase(info, obj);

  if (info.namespaced) {
    auto ns = c.store().Get(store::KeyFor("namespaces", "", c.rr.ns));
    if (!ns.ok()) {
      if (ns.status().IsNotFound()) {
        api::ResourceInfo nsInfo;
        nsInfo.resource = "namespaces";
        return R(NotFoundResponse(nsInfo, c.rr.ns));
      }
      return R(ErrorResponse(ns.status()));
    }
  }
  for (int attempt = 0; attempt < kMaxRetries; ++attempt) {
    if (!generateName.empty() && obj["metadata"].value("name", "").empty()) {
      obj["metadata"]["name"] = generateName + RandomSuffix();
    }
    std::string name = obj["metadata"].value("name", "");
    api::ErrorList errs = c.rr.ops->ValidateCreate(obj);
    if (!errs.empty()) return R(InvalidResponse(info, name, errs));
    if (DryRun(c.req)) return R(WithWarnings(JsonResponse(obj, 201), warnings));
    auto r = c.store().Txn({store::Op::Create(store::KeyFor(info.resource, c.rr.ns, name), obj)});
    if (r.ok()) {
      if (NodeTraceOn()) NodeTrace(Meta(obj, "uid"), "api created");
      return R(WithWarnings(JsonResponse(Present(info, r->objects.at(0)), 201), warnings));
    }
    if (r.status().IsAlreadyExists()) {
      if (!generateName.empty() && Meta(in, "name").empty()) {
        obj["metadata"].erase("name");  // another random suffix
        continue;
      }
      return R(AlreadyExistsResponse(info, name));
    }
    return R(ErrorResponse(r.status()));
  }
  return R(StatusResponse(500, "InternalError", "could not find a free name for " + generateName));
}

Reply HandleUpdate(const RestContext& c) {
  const auto& info = c.info();
  auto body = ParseBody(c);
  if (auto* e = std::get_if<Response>(&body)) return R(*e);
  json& in = std::get<json>(body);
  if (auto e = CheckTypeMeta(info, in)) return R(*e);
  std::vector<std::pair<std::string, std::string>> warnings;
  auto dec = Decode(c, in, &warnings);
  if (auto* e = std::get_if<Response>(&dec)) return R(*e);
  std::string rv = Meta(in, "resourceVersion");
  int64_t want = rv.empty() ? -1 : ParseRv(rv);
  if (!rv.empty() && want < 0) {
    return R(BadRequest("invalid resourceVersion: " + rv));
  }
  for (int attempt = 0; attempt < kMaxRetries; ++attempt) {
    auto old = c.store().Get(c.Key());
    if (!old.ok()) {
      if (old.status().IsNotFound()) return R(NotFoundResponse(info, c.rr.name));
      return R(ErrorResponse(old.status()));
    }
    if (want >= 0 && want != old->modRevision) {
      return R(ConflictResponse(info, c.rr.name, kObjectModified));
    }
    json oldObj = Present(info, *old);
    json next = std::get<json>(dec);
    // An update without metadata.resourceVersion is unconditional, as kube-apiserver allows for
    // the built-in kinds (AllowUnconditionalUpdate): it applies to the current version.
    if (want < 0 && next.contains("metadata") && next["metadata"].is_object()) {
      next["metadata"]["resourceVersion"] = std::to_string(old->modRevision);
    }
    auto prepared = PrepareUpdate(c, std::move(next), oldObj);
    if (auto* e = std::get_if<Response>(&prepared)) return R(*e);
    RecordUpdate(c, oldObj, std::get<json>(prepared));
    auto done = Commit(c, std::move(std::get<json>(prepared)), oldObj, old->modRevision);
    if (auto* e = std::get_if<Response>(&done)) return R(*e);
    if (auto* s = std::get_if<Status>(&done)) {
      if (want >= 0) return R(ConflictResponse(info, c.rr.name, kObjectModified));
      (void)s;
      continue;
    }
    return R(WithWarnings(JsonResponse(std::get<json>(done)), warnings));
  }
  return R(ConflictResponse(info, c.rr.name, kObjectModified));
}

// ---- Field management (metadata.managedFields) and server-side apply ----------------------
// application/apply-patch+yaml goes to HandleApplyPatch; every other write records its Update
// entry through RecordUpdate. The merge and ownership rules live in kvol/patch/apply.h.
namespace {

patch::FieldManagerOptions FieldManagerOf(const RestContext& c, const std::string& manager) {
  patch::FieldManagerOptions o;
  o.apiVersion = c.info().ApiVersion();
  o.kind = c.info().kind;
  o.manager = manager;
  o.subresource = c.rr.subresource;
  o.now = api::FormatTime(c.Now());
  o.ignoreStatus = c.info().hasStatus && c.rr.subresource.empty();
  return o;
}

// The Update entry of a create (live null), update or non-apply patch, written into `obj`.
// A new object's fields are attributed as decoded and defaulted, before admission adds any.
void RecordUpdate(const RestContext& c, const json& live, json& obj) {
  auto o =
      FieldManagerOf(c, patch::ManagerFor(c.req.Query("fieldManager"), c.req.Header("user-agent")));
  json tracked = patch::TrackUpdate(live, live.is_null() ? c.rr.ops->Default(obj) : obj, o);
  json& meta = obj["metadata"];
  auto mf = tracked["metadata"].find("managedFields");
  if (mf != tracked["metadata"].end()) {
    meta["managedFields"] = std::move(*mf);
  } else {
    meta.erase("managedFields");
  }
}

// `normalized` restricted to the fields `raw` sets: the applied configuration without the
// unknown fields Normalize dropped and without fields it filled in.
json Mask(const json& normalized, const json& raw) {
  if (normalized.is_object() && raw.is_object()) {
    json out = json::object();
    for (auto it = normalized.begin(); it != normalized.end(); ++it) {
      auto r = raw.find(it.key());
      if (r != raw.end()) out[it.key()] = Mask(it.value(), *r);
    }
    return out;
  }
  if (normalized.is_array() && raw.is_array() && normalized.size() == raw.size()) {
    json out = json::array();
    for (size_t i = 0; i < raw.size(); ++i) out.push_back(Mask(normalized[i], raw[i]));
    return out;
  }
  return normalized;
}

// 409 with kube-apiserver's apply conflict Status (reason Conflict, FieldManagerConflict causes).
Response ApplyConflictResponse(const std::vector<patch::ApplyConflict>& conflicts) {
  json causes = json::array();
  for (const auto& x : conflicts) {
    causes.push_back({{"type", "FieldManagerConflict"},
                      {"message", "conflict with " + x.manager},
                      {"field", x.field}});
  }
  return StatusResponse(409, "Conflict", patch::ConflictMessage(conflicts), {{"causes", causes}});
}

// Creates the object an apply patch made from nothing, with create's admission; a Status
// (AlreadyExists) when another writer created it first.
std::variant<json, Response, Status> CreateApplied(const RestContext& c, json obj) {
  const auto& info = c.info();
  json& meta = obj["metadata"];
  if (!meta.is_object()) meta = json::object();
  meta["name"] = c.rr.name;
  if (info.namespaced) {
    std::string ns = meta.value("namespace", "");
    if (!ns.empty() && ns != c.rr.ns) {
      return BadRequest(
          "the namespace of the provided object does not match the namespace sent on the request");
    }
    meta["namespace"] = c.rr.ns;
  } else {
    meta.erase("namespace");
  }
  if (info.hasStatus && !KeepsStatusOnCreate(info)) obj.erase("status");
  for (const char* f :
       {"resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds", "generateName"}) {
    meta.erase(f);
  }
  meta["uid"] = NewUid();
  meta["creationTimestamp"] = api::FormatTime(c.Now());
  meta["generation"] = 1;
  if (Status s = AdmitCreate(c.store(), info, obj); !s.ok()) return ErrorResponse(s);
  obj = c.rr.ops->Default(obj);
  SetTypeMeta(info, obj);
  DefaultPhase(info, obj);
  if (info.namespaced) {
    auto ns = c.store().Get(store::KeyFor("namespaces", "", c.rr.ns));
    if (!ns.ok()) {
      if (!ns.status().IsNotFound()) return ErrorResponse(ns.status());
      api::ResourceInfo nsInfo;
      nsInfo.resource = "namespaces";
      return NotFoundResponse(nsInfo, c.rr.ns);
    }
  }
  api::ErrorList errs = c.rr.ops->ValidateCreate(obj);
  if (!errs.empty()) return InvalidResponse(info, c.rr.name, errs);
  if (DryRun(c.req)) return obj;
  auto r = c.store().Txn({store::Op::Create(c.Key(), obj)});
  if (r.ok()) return Present(info, r->objects.at(0));
  if (r.status().IsAlreadyExists()) return r.status();
  return ErrorResponse(r.status());
}

// PATCH with application/apply-patch+yaml: create-or-update through server-side apply.
Reply HandleApplyPatch(const RestContext& c) {
  const auto& info = c.info();
  std::string manager = c.req.Query("fieldManager");
  if (manager.empty()) {
    return R(StatusResponse(
        422, "Invalid",
        "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for "
        "apply patch",
        {{"group", "meta.k8s.io"},
         {"kind", "PatchOptions"},
         {"causes",
          {{{"reason", "FieldValueRequired"},
            {"message", "Required value: is required for apply patch"},
            {"field", "fieldManager"}}}}}));
  }
  Result<json> parsed = api::ParseJsonOrYaml(c.req.body);
  if (!parsed.ok()) return R(BadRequest("error decoding YAML: " + parsed.status().message()));
  if (!parsed->is_object()) {
    return R(BadRequest("error decoding YAML: the applied configuration is not an object"));
  }
  json raw = std::move(*parsed);
  if (auto e = CheckTypeMeta(info, raw)) return R(*e);
  if (std::string n = Meta(raw, "name"); !n.empty() && n != c.rr.name) {
    return R(BadRequest("the name of the object (" + n + ") does not match the name on the URL (" +
                        c.rr.name + ")"));
  }
  std::vector<std::pair<std::string, std::string>> warnings;
  auto dec = Decode(c, raw, &warnings);  // unknown fields as ?fieldValidation= asks
  if (auto* e = std::get_if<Response>(&dec)) return R(*e);
  json config = Mask(std::get<json>(dec), raw);
  bool force = c.req.Query("force") == "true";
  patch::FieldManagerOptions o = FieldManagerOf(c, manager);
  for (int attempt = 0; attempt < kMaxRetries; ++attempt) {
    auto old = c.store().Get(c.Key());
    if (!old.ok() && (!old.status().IsNotFound() || !c.rr.subresource.empty())) {
      if (old.status().IsNotFound()) return R(NotFoundResponse(info, c.rr.name));
      return R(ErrorResponse(old.status()));
    }
    json live = old.ok() ? Present(info, *old) : json();
    Result<patch::ApplyResult> applied = patch::Apply(live, config, o, force);
    if (!applied.ok()) return R(ErrorResponse(applied.status()));
    if (!applied->conflicts.empty()) return R(ApplyConflictResponse(applied->conflicts));
    if (!old.ok()) {
      auto made = CreateApplied(c, std::move(applied->object));
      if (auto* e = std::get_if<Response>(&made)) return R(*e);
      if (std::holds_alternative<Status>(made)) continue;  // created meanwhile: apply to it
      return R(WithWarnings(JsonResponse(std::get<json>(made), 201), warnings));
    }
    std::string rv = Meta(raw, "resourceVersion");
    if (!rv.empty() && rv != std::to_string(old->modRevision)) {
      return R(ConflictResponse(info, c.rr.name, kObjectModified));
    }
    std::vector<std::pair<std::string, std::string>> again;
    auto merged = Decode(c, applied->object, &again);
    if (auto* e = std::get_if<Response>(&merged)) return R(*e);
    auto prepared = PrepareUpdate(c, std::move(std::get<json>(merged)), live);
    if (auto* e = std::get_if<Response>(&prepared)) return R(*e);
    auto done = Commit(c, std::move(std::get<json>(prepared)), live, old->modRevision);
    if (auto* e = std::get_if<Response>(&done)) return R(*e);
    if (std::holds_alternative<Status>(done)) continue;  // raced with another writer: reapply
    return R(WithWarnings(JsonResponse(std::get<json>(done)), warnings));
  }
  return R(ConflictResponse(info, c.rr.name, kObjectModified));
}

}  // namespace

Reply HandlePatch(const RestContext& c) {
  const auto& info = c.info();
  std::string mt = MediaType(c.req.Header("content-type"));
  if (mt == "application/apply-patch+yaml") return HandleApplyPatch(c);  // server-side apply
  enum { kMerge, kJson, kStrategic } type;
  if (mt == "application/merge-patch+json") {
    type = kMerge;
  } else if (mt == "application/json-patch+json") {
    type = kJson;
  } else if (mt == "application/strategic-merge-patch+json") {
    type = kStrategic;
  } else {
    return R(StatusResponse(415, "UnsupportedMediaType",
                            "the body of the request was in an unknown format - accepted media "
                            "types include: application/json-patch+json, "
                            "application/merge-patch+json, "
                            "application/strategic-merge-patch+json"));
  }
  json p = json::parse(c.req.body, nullptr, false);
  if (p.is_discarded()) return R(BadRequest("error decoding patch: invalid JSON"));
  for (int attempt = 0; attempt < kMaxRetries; ++attempt) {
    auto old = c.store().Get(c.Key());
    if (!old.ok()) {
      if (old.status().IsNotFound()) return R(NotFoundResponse(info, c.rr.name));
      return R(ErrorResponse(old.status()));
    }
    json oldObj = Present(info, *old);
    Result<json> patched =
        type == kMerge  ? patch::ApplyMergePatch(oldObj, p)
        : type == kJson ? patch::ApplyJsonPatch(oldObj, p)
                        : patch::ApplyStrategicMergePatch(oldObj, p, info.ApiVersion(), info.kind);
    if (!patched.ok()) {
      const Status& s = patched.status();
      if (s.code() == Code::kInvalid) return R(StatusResponse(422, "Invalid", s.message()));
      return R(ErrorResponse(s));
    }
    if (!patched->is_object()) return R(BadRequest("the patch did not produce an object"));
    if (auto e = CheckTypeMeta(info, *patched)) return R(*e);
    std::string rv = Meta(*patched, "resourceVersion");
    if (!rv.empty() && rv != std::to_string(old->modRevision)) {
      return R(ConflictResponse(info, c.rr.name, kObjectModified));
    }
    std::vector<std::pair<std::string, std::string>> warnings;
    auto dec = Decode(c, *patched, &warnings);
    if (auto* e = std::get_if<Response>(&dec)) return R(*e);
    auto prepared = PrepareUpdate(c, std::move(std::get<json>(dec)), oldObj);
    if (auto* e = std::get_if<Response>(&prepared)) return R(*e);
    RecordUpdate(c, oldObj, std::get<json>(prepared));
    auto done = Commit(c, std::move(std::get<json>(prepared)), oldObj, old->modRevision);
    if (auto* e = std::get_if<Response>(&done)) return R(*e);
    if (std::holds_alternative<Status>(done)) continue;  // raced with another writer: reapply
    return R(WithWarnings(JsonResponse(std::get<json>(done)), warnings));
  }
  return R(ConflictResponse(info, c.rr.name, kObjectModified));
}

namespace {

// What a DELETE of a pod does (Kubernetes' podStrategy.CheckGracefulDelete and
// rest.BeforeDelete): delete now, leave an already shorter pending deletion alone, or mark the
// pod with deletionTimestamp = now + grace and deletionGracePeriodSeconds = grace.
struct GracefulStep {
  enum Kind { kDeleteNow, kPending, kMark } kind = kDeleteNow;
  json object;  // kMark: the pod to store
};

GracefulStep GracefulPodDelete(const json& pod, std::optional<int64_t> asked, int64_t now) {
  GracefulStep step;
  const json& m = pod["metadata"];
  if (m.contains("deletionTimestamp") && m["deletionTimestamp"].is_string()) {
    int64_t current = m.value("deletionGracePeriodSeconds", int64_t{0});
    if (current <= 0) return step;  // marked with grace 0 earlier: finish the deletion
    if (!asked || *asked >= current) {
      step.kind = GracefulStep::kPending;  // only a shorter grace period may be given
      return step;
    }
    int64_t period = std::max<int64_t>(*asked, 0);
    // Grace 0 deletes now; with finalizers the pod stays marked with grace 0 until they go.
    bool held = m.contains("finalizers") && m["finalizers"].is_array() && !m["finalizers"].empty();
    if (period == 0 && !held) return step;
    step.kind = GracefulStep::kMark;
    step.object = pod;
    step.object["metadata"]["deletionTimestamp"] = api::FormatTime(
        api::ParseTime(m["deletionTimestamp"].get<std::string>()) - current + period);
    step.object["metadata"]["deletionGracePeriodSeconds"] = period;
    step.object["metadata"].erase("resourceVersion");
    return step;
  }
  const json spec = pod.value("spec", json::object());
  int64_t period = asked ? *asked : spec.value("terminationGracePeriodSeconds", int64_t{30});
  std::string phase = pod.value("status", json::object()).value("phase", "");
  if (spec.value("nodeName", "").empty()) period = 0;         // not scheduled
  if (phase == "Succeeded" || phase == "Failed") period = 0;  // already terminated
  if (period < 0) period = 1;
  if (period == 0) return step;
  step.kind = GracefulStep::kMark;
  step.object = pod;
  step.object["metadata"]["deletionTimestamp"] = api::FormatTime(now + period);
  step.object["metadata"]["deletionGracePeriodSeconds"] = period;
  step.object["metadata"].erase("resourceVersion");
  return step;
}

// Kubernetes' garbage-collector finalizers on DELETE (the generic registry's
// shouldOrphanDependents / shouldDeleteDependents / deletionFinalizersForGarbageCollection):
// Orphan adds `orphan`, Foreground adds `foregroundDeletion`, Background removes both; without a
// policy the finalizers already on the object decide (every kind kvol serves defaults to
// Background; Events do not support garbage collection and keep their finalizers).
constexpr const char* kFinalizerOrphan = "orphan";
constexpr const char* kFinalizerForeground = "foregroundDeletion";

struct GcOptions {
  std::optional<bool> orphanDependents;  // the legacy option
  std::string propagationPolicy;         // "", Orphan, Background, Foreground
};

// The finalizers the object must carry after this DELETE, or nullopt when they stay as they are.
std::optional<json> GcFinalizers(const api::ResourceInfo& info, const json& obj,
                                 const GcOptions& o) {
  if (info.kind == "Event") return std::nullopt;
  json current = json::array();
  if (auto m = obj.find("metadata"); m != obj.end() && m->is_object()) {
    auto f = m->find("finalizers");
    if (f != m->end() && f->is_array()) current = *f;
  }
  bool orphan = false;
  bool foreground = false;
  if (o.orphanDependents) {
    orphan = *o.orphanDependents;
  } else if (!o.propagationPolicy.empty()) {
    orphan = o.propagationPolicy == "Orphan";
    foreground = o.propagationPolicy == "Foreground";
  } else {
    for (const auto& f : current) {  // the first of the two decides about orphaning
      if (f == kFinalizerOrphan || f == kFinalizerForeground) {
        orphan = f == kFinalizerOrphan;
        break;
      }
    }
    for (const auto& f : current) foreground = foreground || f == kFinalizerForeground;
  }
  json next = json::array();
  for (const auto& f : current) {
    if (f != kFinalizerOrphan && f != kFinalizerForeground) next.push_back(f);
  }
  if (orphan) next.push_back(kFinalizerOrphan);
  if (foreground) next.push_back(kFinalizerForeground);
  std::set<json> a(current.begin(), current.end());
  std::set<json> b(next.begin(), next.end());
  if (a == b) return std::nullopt;
  return next;
}

// Kubernetes' markAsDeleting: grace period 0, deletionTimestamp now unless an earlier one is set.
void MarkAsDeleting(json& obj, int64_t now) {
  json& m = obj["metadata"];
  auto d = m.find("deletionTimestamp");
  if (d == m.end() || !d->is_string() || api::ParseTime(d->get<std::string>()) > now) {
    m["deletionTimestamp"] = api::FormatTime(now);
  }
  m["deletionGracePeriodSeconds"] = 0;
}

}  // namespace

Reply HandleDelete(const RestContext& c) {
  const auto& info = c.info();
  json opts = json::object();
  if (!c.req.body.empty()) {
    opts = json::parse(c.req.body, nullptr, false);
    if (opts.is_discarded() || !opts.is_object()) {
      return R(BadRequest("the body of the request is not a valid DeleteOptions object"));
    }
  }
  std::optional<int64_t> grace;
  if (opts.contains("gracePeriodSeconds") && opts["gracePeriodSeconds"].is_number_integer()) {
    grace = opts["gracePeriodSeconds"].get<int64_t>();
  }
  if (std::string g = c.req.Query("gracePeriodSeconds"); !g.empty()) {
    bool neg = g[0] == '-';
    int64_t v = ParseRv(neg ? g.substr(1) : g);
    if (v < 0 || (neg && g.size() == 1)) {
      return R(BadRequest("strconv.ParseInt: parsing " + json(g).dump() + ": invalid syntax"));
    }
    grace = neg ? -v : v;
  }
  std::string pp = opts.value("propagationPolicy", c.req.Query("propagationPolicy"));
  if (!pp.empty() && pp != "Orphan" && pp != "Background" && pp != "Foreground") {
    return R(InvalidResponse(info, c.rr.name,
                             {api::NotSupported(api::Path("propagationPolicy"), pp,
                                                {"Foreground", "Background", "Orphan"})}));
  }
  GcOptions gc;
  gc.propagationPolicy = pp;
  if (auto od = opts.find("orphanDependents"); od != opts.end() && od->is_boolean()) {
    gc.orphanDependents = od->get<bool>();
  } else if (std::string q = c.req.Query("orphanDependents"); q == "true" || q == "false") {
    gc.orphanDependents = q == "true";
  }
  if (gc.orphanDependents && !pp.empty()) {
    return R(InvalidResponse(info, c.rr.name,
                             {api::InvalidValue(api::Path("propagationPolicy"), pp,
                                                "orphanDependents and deletionPropagation cannot "
                                                "be both set")}));
  }
  bool dryRun = DryRun(c.req) ||
                (opts.contains("dryRun") && opts["dryRun"].is_array() && !opts["dryRun"].empty());
  for (int attempt = 0; attempt < kMaxRetries; ++attempt) {
    auto old = c.store().Get(c.Key());
    if (!old.ok()) {
      if (old.status().IsNotFound()) return R(NotFoundResponse(info, c.rr.name));
      return R(ErrorResponse(old.status()));
    }
    json oldObj = Present(info, *old);
    if (auto pre = opts.find("preconditions"); pre != opts.end() && pre->is_object()) {
      std::string uid = pre->value("uid", "");
      std::string have = oldObj["metadata"].value("uid", "");
      if (!uid.empty() && uid != have) {
        return R(ConflictResponse(
            info, c.rr.name,
            "Precondition failed: UID in precondition: " + uid + ", UID in object meta: " + have));
      }
      std::string rv = pre->value("resourceVersion", "");
      std::string haveRv = std::to_string(old->modRevision);
      if (!rv.empty() && rv != haveRv) {
        return R(ConflictResponse(info, c.rr.name,
                                  "Precondition failed: ResourceVersion in precondition: " + rv +
                                      ", ResourceVersion in object meta: " + haveRv));
      }
    }
    if (dryRun) return R(JsonResponse(oldObj));
    // Pods on a node are deleted gracefully: marked, and removed by their node once stopped
    // (which deletes again with gracePeriodSeconds=0), as the kubelet does. A pending graceful
    // deletion keeps its finalizers (Kubernetes' errAlreadyDeleting).
    std::optional<json> marked;  // the object to store instead of deleting it
    if (info.group.empty() && info.kind == "Pod") {
      auto step = GracefulPodDelete(oldObj, grace, c.Now());
      if (step.kind == GracefulStep::kPending) return R(JsonResponse(oldObj));
      if (step.kind == GracefulStep::kMark) marked = std::move(step.object);
    }
    // Garbage-collector finalizers (propagationPolicy): the object stays, marked, while they are
    // on it; the garbage collector removes them.
    std::optional<json> finalizers = GcFinalizers(info, oldObj, gc);
    // 202 when the legacy orphanDependents=false asked for a cascade and the object stays.
    auto accepted = [&gc](const store::TxnResult& r) {
      return gc.orphanDependents && !*gc.orphanDependents && !r.deleted.at(0) ? 202 : 200;
    };
    bool forceDelete = false;
    if (finalizers) {
      if (!marked) {
        marked = oldObj;
        MarkAsDeleting(*marked, c.Now());
      }
      (*marked)["metadata"]["finalizers"] = *finalizers;
      if (finalizers->empty()) {
        (*marked)["metadata"].erase("finalizers");
        // Only garbage-collector finalizers were left: delete now unless gracefully marked.
        forceDelete = marked->at("metadata").value("deletionGracePeriodSeconds", int64_t{0}) <= 0;
      }
      marked->at("metadata").erase("resourceVersion");
    }
    if (marked && !forceDelete) {
      auto r = c.store().Txn({store::Op::Update(c.Key(), *marked, old->modRevision)});
      if (!r.ok()) {
        if (r.status().IsConflict()) continue;
        if (r.status().IsNotFound()) return R(NotFoundResponse(info, c.rr.name));
        return R(ErrorResponse(r.status()));
      }
      return R(JsonResponse(Present(info, r->objects.at(0)), accepted(*r)));
    }
    store::Op del = store::Op::Delete(c.Key(), old->modRevision);
    del.force = forceDelete;
    auto r = c.store().Txn({std::move(del)});
    if (!r.ok()) {
      if (r.status().IsConflict()) continue;
      if (r.status().IsNotFound()) return R(NotFoundResponse(info, c.rr.name));
      return R(ErrorResponse(r.status()));
    }
    return R(JsonResponse(Present(info, r->objects.at(0)), accepted(*r)));
  }
  return R(ConflictResponse(info, c.rr.name, kObjectModified));
}

}  // namespace kvol::apiserver
