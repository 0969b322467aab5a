#include "volume_resizer.h"

#include <cstdio>

#include "kvol/api/quantity.h"
#include "kvol/os/fs.h"

namespace kvol::node {
namespace {

constexpr const char* kResizePending = "FileSystemResizePending";

void Log(const std::string& m) { std::fprintf(stderr, "kvol node: %s\n", m.c_str()); }

bool ResizePending(const api::json& claim) {
  auto st = claim.find("status");
  if (st == claim.end() || !st->is_object()) return false;
  auto conds = st->find("conditions");
  if (conds == st->end() || !conds->is_array()) return false;
  for (const auto& c : *conds) {
    if (c.is_object() && c.value("type", "") == kResizePending) return true;
  }
  return false;
}

std::string Storage(const api::json& obj, const char* a, const char* b) {
  auto x = obj.find(a);
  if (x == obj.end() || !x->is_object()) return "";
  auto y = x->find(b);
  if (y == x->end() || !y->is_object()) return "";
  auto s = y->find("storage");
  return s != y->end() && s->is_string() ? s->get<std::string>() : "";
}

}  // namespace

VolumeResizer::VolumeResizer(std::string dataDir, volume::ObjectSource& objects, ApiQueue& queue,
                             std::map<std::string, driver::NodeDriver*> drivers)
    : dataDir_(std::move(dataDir)),
      objects_(objects),
      queue_(queue),
      drivers_(std::move(drivers)) {}

void VolumeResizer::ClaimChanged(const api::json& claim) {
  auto m = claim.find("metadata");
  if (m == claim.end() || !m->is_object()) return;
  std::pair<std::string, std::string> key{m->value("namespace", ""), m->value("name", "")};
  const bool pending = ResizePending(claim);
  {
    std::lock_guard<std::mutex> l(mu_);
    if (pending) {
      pending_.insert(key);
    } else {
      pending_.erase(key);
    }
  }
  if (pending) Post(key.first, key.second);
}

void VolumeResizer::Resync() {
  std::set<std::pair<std::string, std::string>> all;
  {
    std::lock_guard<std::mutex> l(mu_);
    all = pending_;
  }
  for (const auto& [ns, name] : all) Post(ns, name);
}

void VolumeResizer::Post(const std::string& ns, const std::string& name) {
  queue_.Post("resize/" + ns + "/" + name,
              [this, ns, name](client::ApiClient& c) { Expand(c, ns, name); });
}

void VolumeResizer::Expand(client::ApiClient& c, const std::string& ns, const std::string& name) {
  auto claim = objects_.Get("persistentvolumeclaims", ns, name);
  if (!claim.ok() || !ResizePending(*claim)) return;
  const std::string pvName = claim->value("/spec/volumeName"_json_pointer, "");
  if (pvName.empty()) return;
  auto pv = objects_.Get("persistentvolumes", "", pvName);
  if (!pv.ok()) return;
  const std::string driverName = pv->value("/spec/csi/driver"_json_pointer, "");
  auto d = drivers_.find(driverName);
  if (d == drivers_.end() || d->second == nullptr) return;
  auto* expander = dynamic_cast<driver::NodeExpander*>(d->second);
  if (expander == nullptr) return;
  const std::string staging = dataDir_ + "/plugins/kubernetes.io~csi/" + pvName + "/globalmount";
  if (!os::Exists(staging)) return;  // not staged here: expanded after its next stage

  std::string want = Storage(*claim, "status", "allocatedResources");
  if (want.empty()) want = Storage(*pv, "spec", "capacity");
  auto q = api::Quantity::Parse(want);
  driver::NodeExpandRequest req;
  req.volumeId = pv->value("/spec/csi/volumeHandle"_json_pointer, "");
  req.stagingPath = staging;
  req.requiredBytes = q.ok() ? q->Value() : 0;
  req.block = claim->value("/spec/volumeMode"_json_pointer, "") == "Block";
  auto got = expander->NodeExpandVolume(req);
  if (!got.ok()) {
    Log("persistentvolumeclaim " + ns + "/" + name + ": " + got.status().message());
    return;
  }

  api::json conds = api::json::array();
  for (const auto& cond : claim->value("/status/conditions"_json_pointer, api::json::array())) {
    if (!(cond.is_object() && cond.value("type", "") == kResizePending)) conds.push_back(cond);
  }
  api::json patch = {
      {"metadata",
       {{"resourceVersion", claim->value("/metadata/resourceVersion"_json_pointer, "")}}},
      {"status",
       {{"capacity", {{"storage", want}}},
        {"conditions", conds.empty() ? api::json(nullptr) : conds}}}};
  auto r = c.Do("PATCH", "/api/v1/namespaces/" + ns + "/persistentvolumeclaims/" + name + "/status",
                patch.dump(), "application/merge-patch+json");
  if (!r.ok() || (r->status != 200 && r->status != 404 && r->status != 409)) {
    Log("persistentvolumeclaim " + ns + "/" + name + " status: " +
        (r.ok() ? "HTTP " + std::to_string(r->status) + ": " + r->body : r.status().message()));
    return;
  }
  if (r->status == 200) {
    std::lock_guard<std::mutex> l(mu_);
    pending_.erase({ns, name});
  }
}

}  // namespace kvol::node
