#include "kvol/api/scheme.h"

#include <algorithm>
#include <cctype>

namespace kvol::api {

namespace {

std::string Lower(std::string_view s) {
  std::string o(s);
  std::transform(o.begin(), o.end(), o.begin(), [](unsigned char c) { return std::tolower(c); });
  return o;
}

}  // namespace

Status Scheme::Register(std::unique_ptr<KindOps> ops) {
  const ResourceInfo& n = ops->info();
  for (const auto& k : kinds_) {
    const ResourceInfo& o = k->info();
    if (o.group == n.group && o.version == n.version &&
        (o.kind == n.kind || o.resource == n.resource)) {
      return AlreadyExists("kind " + n.kind + " registered twice in " + n.ApiVersion());
    }
  }
  kinds_.push_back(std::move(ops));
  return Status::Ok();
}

const KindOps* Scheme::ByResource(std::string_view group, std::string_view version,
                                  std::string_view resource) const {
  for (const auto& k : kinds_) {
    const ResourceInfo& i = k->info();
    if (i.group == group && i.version == version && i.resource == resource) return k.get();
  }
  return nullptr;
}

const KindOps* Scheme::ByKind(std::string_view apiVersion, std::string_view kind) const {
  for (const auto& k : kinds_) {
    const ResourceInfo& i = k->info();
    if (i.kind == kind && i.ApiVersion() == apiVersion) return k.get();
  }
  return nullptr;
}

const KindOps* Scheme::ByName(std::string_view name) const {
  std::string n = Lower(name);
  std::string group;
  // "volumesnapshots.snapshot.storage.k8s.io" or "pvc.v1." style qualified names.
  if (auto dot = n.find('.'); dot != std::string::npos) {
    group = n.substr(dot + 1);
    n = n.substr(0, dot);
    if (!group.empty() && group.back() == '.') group.pop_back();
    if (auto d2 = group.find('.');
        d2 != std::string::npos && group.substr(0, d2).size() <= 3 && group[0] == 'v') {
      group = group.substr(d2 + 1);  // "v1.storage.k8s.io" -> group after the version
    } else if (group.size() <= 3 && !group.empty() && group[0] == 'v') {
      group.clear();  // "pvc.v1" -> core
    }
  }
  for (const auto& k : kinds_) {
    const ResourceInfo& i = k->info();
    if (!group.empty() && i.group != group) continue;
    if (i.resource == n || i.singular == n || Lower(i.kind) == n) return k.get();
    for (const auto& s : i.shortNames)
      if (s == n) return k.get();
  }
  return nullptr;
}

const Scheme& Scheme::Default() {
  static const Scheme* s = [] {
    auto* sc = new Scheme();
    RegisterCoreV1(*sc);
    RegisterStorageV1(*sc);
    RegisterAppsV1(*sc);
    RegisterSnapshotV1(*sc);
    return sc;
  }();
  return *s;
}

}  // namespace kvol::api
