// Test-only: a small Scheme of JSON-level kinds for the API server's unit tests, so they do not
// depend on the typed kinds. Normalize reports unknown top-level and spec fields with their
// paths; PersistentVolumeClaim validation requires spec.accessModes; Default sets a PVC's
// spec.volumeMode to Filesystem.
#pragma once

#include <set>

#include "kvol/api/scheme.h"

namespace kvol::apiserver::testing {

using api::json;

class JsonKindOps : public api::KindOps {
 public:
  JsonKindOps(api::ResourceInfo info, std::set<std::string> top, std::set<std::string> spec)
      : info_(std::move(info)), top_(std::move(top)), spec_(std::move(spec)) {}
  const api::ResourceInfo& info() const override { return info_; }
  api::Decoded Normalize(const json& in) const override {
    api::Decoded d;
    d.object = json::object();
    for (auto it = in.begin(); it != in.end(); ++it) {
      if (!top_.count(it.key())) {
        d.unknownFields.push_back(it.key());
        continue;
      }
      d.object[it.key()] = it.value();
    }
    if (d.object.contains("spec") && d.object["spec"].is_object()) {
      json spec = json::object();
      for (auto it = d.object["spec"].begin(); it != d.object["spec"].end(); ++it) {
        if (!spec_.empty() && !spec_.count(it.key())) {
          d.unknownFields.push_back("spec." + it.key());
          continue;
        }
        spec[it.key()] = it.value();
      }
      d.object["spec"] = spec;
    }
    if (d.object.contains("metadata") && !d.object["metadata"].is_object()) {
      d.errors.push_back(
          api::TypeInvalid(api::Path("metadata"), d.object["metadata"], "must be an object"));
    }
    return d;
  }
  json Default(const json& obj) const override {
    json o = obj;
    if (info_.kind == "PersistentVolumeClaim" && o.contains("spec") &&
        !o["spec"].contains("volumeMode"))
      o["spec"]["volumeMode"] = "Filesystem";
    return o;
  }
  api::ErrorList ValidateCreate(const json& obj) const override {
    api::ErrorList errs;
    if (info_.kind == "PersistentVolumeClaim") {
      if (!obj.contains("spec") || !obj["spec"].contains("accessModes"))
        errs.push_back(api::Required(api::Path("spec").Child("accessModes")));
      if (!obj.contains("spec") || !obj["spec"].contains("resources"))
        errs.push_back(
            api::Required(api::Path("spec").Child("resources").Child("requests").Key("storage")));
    }
    return errs;
  }
  api::ErrorList ValidateUpdate(const json& obj, const json& old) const override {
    api::ErrorList errs = ValidateCreate(obj);
    if (info_.kind == "PersistentVolumeClaim" &&
        obj["spec"].value("storageClassName", "") != old["spec"].value("storageClassName", "")) {
      errs.push_back(api::Forbidden(api::Path("spec"), "spec is immutable after creation"));
    }
    return errs;
  }

 private:
  api::ResourceInfo info_;
  std::set<std::string> top_, spec_;
};

inline api::ResourceInfo Info(std::string group, std::string kind, std::string resource,
                              bool namespaced, bool status, std::vector<std::string> shortNames,
                              std::vector<std::string> fields = {}) {
  api::ResourceInfo i;
  i.group = std::move(group);
  i.version = "v1";
  i.kind = std::move(kind);
  i.resource = std::move(resource);
  i.singular = i.resource.substr(0, i.resource.size() - 1);
  i.namespaced = namespaced;
  i.hasStatus = status;
  i.shortNames = std::move(shortNames);
  i.selectableFields = std::move(fields);
  return i;
}

inline const api::Scheme& TestScheme() {
  static const api::Scheme* s = [] {
    auto* sc = new api::Scheme();
    std::set<std::string> common = {"apiVersion", "kind", "metadata", "spec", "status"};
    (void)sc->Register(std::make_unique<JsonKindOps>(
        Info("", "Namespace", "namespaces", false, true, {"ns"}), common, std::set<std::string>{}));
    (void)sc->Register(std::make_unique<JsonKindOps>(
        Info("", "PersistentVolumeClaim", "persistentvolumeclaims", true, true, {"pvc"}), common,
        std::set<std::string>{"accessModes", "resources", "storageClassName", "volumeName",
                              "volumeMode", "selector"}));
    (void)sc->Register(std::make_unique<JsonKindOps>(
        Info("", "PersistentVolume", "persistentvolumes", false, true, {"pv"}), common,
        std::set<std::string>{}));
    (void)sc->Register(std::make_unique<JsonKindOps>(Info("", "Node", "nodes", false, true, {"no"}),
                                                     common, std::set<std::string>{}));
    (void)sc->Register(std::make_unique<JsonKindOps>(
        Info("", "Pod", "pods", true, true, {"po"}, {"spec.nodeName", "status.phase"}), common,
        std::set<std::string>{}));
    std::set<std::string> sct = {"apiVersion",           "kind",          "metadata",
                                 "provisioner",          "reclaimPolicy", "volumeBindingMode",
                                 "allowVolumeExpansion", "parameters"};
    (void)sc->Register(std::make_unique<JsonKindOps>(
        Info("storage.k8s.io", "StorageClass", "storageclasses", false, false, {"sc"}), sct,
        std::set<std::string>{}));
    return sc;
  }();
  return *s;
}

}  // namespace kvol::apiserver::testing
