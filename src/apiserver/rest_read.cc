// get and list, and the helpers every request path shares.
#include <set>

#include "kvol/api/fields.h"
#include "kvol/api/labels.h"
#include "kvol/apiserver/errors.h"
#include "rest.h"

namespace kvol::apiserver {

namespace {

Reply R(Response r) {
  Reply out;
  out.response = std::move(r);
  return out;
}

std::map<std::string, std::string> LabelsOf(const json& obj) {
  std::map<std::string, std::string> out;
  auto m = obj.find("metadata");
  if (m == obj.end() || !m->is_object()) return out;
  auto l = m->find("labels");
  if (l == m->end() || !l->is_object()) return out;
  for (auto it = l->begin(); it != l->end(); ++it)
    if (it->is_string()) out[it.key()] = it->get<std::string>();
  return out;
}

}  // namespace

bool WantsTable(const Request& req) {
  return req.Header("accept").find("as=Table") != std::string::npos;
}

IncludeObject IncludeOf(const Request& req) {
  auto v = ParseIncludeObject(req.Query("includeObject"));
  return v ? *v : IncludeObject::kMetadata;
}

void SetTypeMeta(const api::ResourceInfo& info, json& obj) {
  if (!obj.is_object()) return;
  // kind and apiVersion from the Scheme (nlohmann::json keeps keys sorted).
  json out = {{"kind", info.kind}, {"apiVersion", info.ApiVersion()}};
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    if (it.key() == "kind" || it.key() == "apiVersion") continue;
    out[it.key()] = it.value();
  }
  obj = std::move(out);
}

json Present(const api::ResourceInfo& info, const store::Object& o) {
  json v = o.value;
  SetTypeMeta(info, v);
  v["metadata"]["resourceVersion"] = std::to_string(o.modRevision);
  return v;
}

Result<std::function<bool(const json&)>> SelectorFilter(const RestContext& c) {
  std::string ls = c.req.Query("labelSelector");
  std::string fs = c.req.Query("fieldSelector");
  std::function<bool(const json&)> f;
  std::optional<api::LabelSelectorExpr> lsel;
  std::optional<api::FieldSelector> fsel;
  if (!ls.empty()) {
    auto l = api::LabelSelectorExpr::Parse(ls);
    if (!l.ok()) return Status(Code::kBadRequest, l.status().message());
    if (!l->Empty()) lsel = std::move(l).value();
  }
  if (!fs.empty()) {
    auto fsr = api::FieldSelector::Parse(fs);
    if (!fsr.ok()) return Status(Code::kBadRequest, fsr.status().message());
    std::set<std::string> allowed = {"metadata.name", "metadata.namespace"};
    for (const auto& x : c.info().selectableFields) allowed.insert(x);
    for (const auto& field : fsr->Fields()) {
      if (!allowed.count(field))
        return Status(Code::kBadRequest, "field label not supported: " + field);
    }
    if (!fsr->Empty()) fsel = std::move(fsr).value();
  }
  if (!lsel && !fsel) return f;
  f = [lsel, fsel](const json& obj) {
    if (lsel && !lsel->Matches(LabelsOf(obj))) return false;
    if (fsel && !fsel->Matches(obj)) return false;
    return true;
  };
  return f;
}

Reply HandleGet(const RestContext& c) {
  auto o = c.store().Get(c.Key());
  if (!o.ok()) {
    if (o.status().IsNotFound()) return R(NotFoundResponse(c.info(), c.rr.name));
    return R(ErrorResponse(o.status()));
  }
  json obj = Present(c.info(), *o);
  if (WantsTable(c.req)) {
    json t = BuildTable(c.info(), {obj}, IncludeOf(c.req), c.Now());
    t["metadata"] = {{"resourceVersion", obj["metadata"]["resourceVersion"]}};
    return R(JsonResponse(t));
  }
  return R(JsonResponse(obj));
}

Reply HandleList(const RestContext& c) {
  auto filter = SelectorFilter(c);
  if (!filter.ok()) return R(ErrorResponse(filter.status()));
  if (auto cached = ListFromCache(c, *filter)) return std::move(*cached);
  store::ListOptions lo;
  lo.prefix = store::PrefixFor(c.info().resource, c.rr.ns);
  lo.filter = *filter;
  std::string limit = c.req.Query("limit");
  if (!limit.empty()) {
    try {
      lo.limit = std::stoll(limit);
    } catch (...) {
      return R(StatusResponse(400, "BadRequest", "invalid limit: " + limit));
    }
    if (lo.limit < 0) lo.limit = 0;
  }
  lo.continueToken = c.req.Query("continue");
  auto l = c.store().List(lo);
  if (!l.ok()) {
    if (l.status().code() == Code::kExpired) {
      return R(StatusResponse(410, "Expired", l.status().message()));
    }
    return R(ErrorResponse(l.status()));
  }
  std::vector<json> items;
  items.reserve(l->items.size());
  for (const auto& o : l->items) items.push_back(Present(c.info(), o));
  json meta = {{"resourceVersion", std::to_string(l->revision)}};
  if (!l->continueToken.empty()) {
    meta["continue"] = l->continueToken;
    if (l->remainingItemCount >= 0) meta["remainingItemCount"] = l->remainingItemCount;
  }
  if (WantsTable(c.req)) {
    json t = BuildTable(c.info(), items, IncludeOf(c.req), c.Now());
    t["metadata"] = meta;
    return R(JsonResponse(t));
  }
  json out = {{"kind", c.info().ListKind()},
              {"apiVersion", c.info().ApiVersion()},
              {"metadata", meta},
              {"items", std::move(items)}};
  return R(JsonResponse(out));
}

}  // namespace kvol::apiserver
