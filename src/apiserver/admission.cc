#include "kvol/apiserver/admission.h"

#include <algorithm>

namespace kvol::apiserver {

using api::json;

namespace {

bool IsDefaultClass(const json& sc) {
  const json* ann = nullptr;
  if (auto m = sc.find("metadata"); m != sc.end()) {
    if (auto a = m->find("annotations"); a != m->end() && a->is_object()) ann = &*a;
  }
  if (!ann) return false;
  for (const char* key : {kDefaultClassAnnotation, kBetaDefaultClassAnnotation}) {
    auto it = ann->find(key);
    if (it != ann->end() && it->is_string() && it->get<std::string>() == "true") return true;
  }
  return false;
}

void AddFinalizer(json& obj, const std::string& f) {
  json& meta = obj["metadata"];
  json& fins = meta["finalizers"];
  if (!fins.is_array()) fins = json::array();
  for (const auto& x : fins)
    if (x == f) return;
  fins.push_back(f);
}

}  // namespace

Result<std::optional<std::string>> DefaultStorageClass(store::Store& s) {
  store::ListOptions lo;
  lo.prefix = store::PrefixFor("storageclasses");
  auto list = s.List(lo);
  if (!list.ok()) return list.status();
  std::optional<std::string> best;
  std::string bestTime;
  for (const auto& o : list->items) {
    if (!IsDefaultClass(o.value)) continue;
    std::string name = o.value["metadata"].value("name", "");
    std::string t = o.value["metadata"].value("creationTimestamp", "");
    // Newest wins; on a tie the name decides, so the choice is stable.
    if (!best || t > bestTime || (t == bestTime && name < *best)) {
      best = name;
      bestTime = t;
    }
  }
  return best;
}

Status AdmitCreate(store::Store& s, const api::ResourceInfo& info, json& obj) {
  if (!info.group.empty()) return Status::Ok();
  if (info.kind == "PersistentVolumeClaim") {
    json& spec = obj["spec"];
    if (!spec.is_object()) spec = json::object();
    auto it = spec.find("storageClassName");
    if (it == spec.end() || it->is_null()) {
      auto def = DefaultStorageClass(s);
      if (!def.ok()) return def.status();
      if (*def) spec["storageClassName"] = **def;
    }
    AddFinalizer(obj, kPvcProtectionFinalizer);
  } else if (info.kind == "PersistentVolume") {
    AddFinalizer(obj, kPvProtectionFinalizer);
  }
  return Status::Ok();
}

}  // namespace kvol::apiserver
