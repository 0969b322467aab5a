#include "bootstrap.h"

#include "kvol/api/meta.h"
#include "kvol/apiserver/admission.h"

namespace kvol::server {

using api::json;
using apiserver::Request;

namespace {

// Runs one request through the handler as the daemon itself.
apiserver::Response Call(const apiserver::ApiHandler& h, const std::string& method,
                         const std::string& target, const json& body = nullptr,
                         const std::string& contentType = "application/json") {
  std::map<std::string, std::string> headers = {{"content-type", contentType}};
  if (!h.options().token.empty()) headers["authorization"] = "Bearer " + h.options().token;
  Request req =
      Request::Make(method, target, body.is_null() ? "" : body.dump(), std::move(headers));
  return h.Handle(req).response;
}

Status Failed(const std::string& what, const apiserver::Response& r) {
  return Internal(what + ": HTTP " + std::to_string(r.status) + ": " + r.body);
}

}  // namespace

Status EnsureNamespaces(const apiserver::ApiHandler& h) {
  for (const char* ns : {"default", "kube-system", "kube-public", "kube-node-lease"}) {
    auto r = Call(h, "POST", "/api/v1/namespaces",
                  {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns}}}});
    if (r.status != 201 && r.status != 409) return Failed(std::string("namespace ") + ns, r);
  }
  return Status::Ok();
}

namespace {

// Creates the class `name` when missing, marked default when `makeDefault`.
Status EnsureClass(const apiserver::ApiHandler& h, const std::string& name, json spec,
                   bool makeDefault) {
  auto get = Call(h, "GET", "/apis/storage.k8s.io/v1/storageclasses/" + name);
  if (get.status == 200) return Status::Ok();
  if (get.status != 404) return Failed("storageclass " + name, get);
  json meta = {{"name", name}};
  if (makeDefault) meta["annotations"] = {{apiserver::kDefaultClassAnnotation, "true"}};
  json sc = {{"apiVersion", "storage.k8s.io/v1"}, {"kind", "StorageClass"}, {"metadata", meta}};
  sc.update(spec);
  auto r = Call(h, "POST", "/apis/storage.k8s.io/v1/storageclasses", sc);
  if (r.status != 201 && r.status != 409) return Failed("storageclass " + name, r);
  return Status::Ok();
}

// The VolumeSnapshotClass `standard-snapshot` (kvol.io/block, deletionPolicy Delete) when missing;
// the default for kvol.io/block unless another class of that driver is default already.
Status EnsureSnapshotClass(const apiserver::ApiHandler& h) {
  const std::string base = "/apis/snapshot.storage.k8s.io/v1/volumesnapshotclasses";
  auto list = Call(h, "GET", base);
  if (list.status != 200) return Failed("volumesnapshotclasses", list);
  bool hasDefault = false;
  for (const json& c : json::parse(list.body, nullptr, false).value("items", json::array())) {
    if (c.value("metadata", json::object())["name"] == "standard-snapshot") return Status::Ok();
    const json ann = c.value("metadata", json::object()).value("annotations", json::object());
    if (c.value("driver", "") == "kvol.io/block" &&
        ann.value("snapshot.storage.kubernetes.io/is-default-class", "") == "true") {
      hasDefault = true;
    }
  }
  json meta = {{"name", "standard-snapshot"}};
  if (!hasDefault) {
    meta["annotations"] = {{"snapshot.storage.kubernetes.io/is-default-class", "true"}};
  }
  json vsc = {{"apiVersion", "snapshot.storage.k8s.io/v1"},
              {"kind", "VolumeSnapshotClass"},
              {"metadata", meta},
              {"driver", "kvol.io/block"},
              {"deletionPolicy", "Delete"}};
  auto r = Call(h, "POST", base, vsc);
  if (r.status != 201 && r.status != 409) return Failed("volumesnapshotclass standard-snapshot", r);
  return Status::Ok();
}

}  // namespace

Status EnsureBuiltinClasses(const apiserver::ApiHandler& h) {
  // `standard` first: it becomes the default when no class is default yet.
  auto def = apiserver::DefaultStorageClass(*h.options().store);
  if (!def.ok()) return def.status();
  KVOL_RETURN_IF_ERROR(EnsureClass(h, "standard",
                                   {{"provisioner", "kvol.io/block"},
                                    {"parameters", {{"csi.storage.k8s.io/fstype", "ext4"}}},
                                    {"reclaimPolicy", "Delete"},
                                    {"volumeBindingMode", "WaitForFirstConsumer"},
                                    {"allowVolumeExpansion", true}},
                                   /*makeDefault=*/!def->has_value()));
  // `standard` exists now, so `local` is never made the default here.
  KVOL_RETURN_IF_ERROR(EnsureClass(h, "local",
                                   {{"provisioner", "kvol.io/local"},
                                    {"reclaimPolicy", "Delete"},
                                    {"volumeBindingMode", "WaitForFirstConsumer"},
                                    {"allowVolumeExpansion", false}},
                                   /*makeDefault=*/false));
  return EnsureSnapshotClass(h);
}

}  // namespace kvol::server
