#include "attachment_wake.h"

#include <algorithm>

#include "kvol/api/attachment.h"

namespace kvol::node {

using api::json;

namespace {

std::string Str(const json& obj, const char* a, const char* b) {
  auto x = obj.find(a);
  if (x == obj.end() || !x->is_object()) return "";
  auto y = x->find(b);
  return y != x->end() && y->is_string() ? y->get<std::string>() : "";
}

std::vector<volume::ObjectRef> ClaimOfPv(const json& pv) {
  auto spec = pv.find("spec");
  if (spec == pv.end() || !spec->is_object()) return {};
  auto ref = spec->find("claimRef");
  if (ref == spec->end() || !ref->is_object()) return {};
  std::string name = ref->value("name", ""), ns = ref->value("namespace", "");
  if (name.empty()) return {};
  return {{"persistentvolumeclaims", ns, name}};
}

}  // namespace

std::vector<volume::ObjectRef> ClaimsOfAttachment(const json& va, const std::string& nodeName,
                                                  volume::ObjectSource& objects) {
  if (!va.is_object() || Str(va, "spec", "nodeName") != nodeName) return {};
  auto spec = va.find("spec");
  auto src = spec->find("source");
  if (src == spec->end() || !src->is_object()) return {};
  auto pvName = src->find("persistentVolumeName");
  if (pvName == src->end() || !pvName->is_string()) return {};
  auto pv = objects.Get("persistentvolumes", "", pvName->get<std::string>());
  if (!pv.ok()) return {};
  return ClaimOfPv(*pv);
}

std::vector<volume::ObjectRef> ClaimsOfVolumes(const std::vector<std::string>& names,
                                               const std::vector<json>& pvs) {
  std::vector<volume::ObjectRef> out;
  if (names.empty()) return out;
  for (const json& pv : pvs) {
    auto spec = pv.find("spec");
    if (spec == pv.end() || !spec->is_object()) continue;
    auto csi = spec->find("csi");
    if (csi == spec->end() || !csi->is_object()) continue;
    const std::string unique =
        api::UniqueVolumeName(csi->value("driver", ""), csi->value("volumeHandle", ""));
    if (std::find(names.begin(), names.end(), unique) == names.end()) continue;
    for (auto& r : ClaimOfPv(pv)) out.push_back(std::move(r));
  }
  return out;
}

std::vector<std::string> VolumesInUseOf(const json& node) {
  std::vector<std::string> out;
  auto st = node.find("status");
  if (st == node.end() || !st->is_object()) return out;
  auto in = st->find("volumesInUse");
  if (in == st->end() || !in->is_array()) return out;
  for (const auto& v : *in) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

}  // namespace kvol::node
