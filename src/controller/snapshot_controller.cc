#include "kvol/controller/snapshot_controller.h"

#include <ctime>

#include "kvol/driver/snapshotter.h"

namespace kvol::controller {
namespace {

constexpr const char* kSnapshotPrefix = "/registry/volumesnapshots/";
constexpr const char* kContentPrefix = "/registry/volumesnapshotcontents/";
constexpr const char* kGroupVersion = "snapshot.storage.k8s.io/v1";

bool StartsWith(const std::string& s, const char* p) { return s.rfind(p, 0) == 0; }

// Go's %q of a string (what external-snapshotter's messages quote errors with).
std::string GoQuote(const std::string& s) {
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"' || ch == '\\') out += '\\';
    out += ch;
  }
  return out + "\"";
}

std::string SnapshotKey(const std::string& ns, const std::string& name) {
  return store::KeyFor("volumesnapshots", ns, name);
}
std::string ContentKey(const std::string& name) {
  return store::KeyFor("volumesnapshotcontents", "", name);
}

api::Time NanosToTime(int64_t nanos) {
  const time_t secs = static_cast<time_t>(nanos / 1000000000);
  struct tm tm;
  gmtime_r(&secs, &tm);
  char buf[32];
  strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

store::json ErrorJson(const api::Time& now, const std::string& message) {
  return {{"time", now}, {"message", message}};
}

}  // namespace

SnapshotController::SnapshotController(store::Store& s, PVInformer& pvs, PVCInformer& pvcs,
                                       SnapshotInformer& snapshots,
                                       SnapshotContentInformer& contents,
                                       SnapshotClassInformer& classes, EventRecorder& events,
                                       std::map<std::string, driver::ControllerDriver*> drivers,
                                       SnapshotControllerOptions opts)
    : store_(s),
      pvs_(pvs),
      pvcs_(pvcs),
      snapshots_(snapshots),
      contents_(contents),
      classes_(classes),
      events_(events),
      drivers_(std::move(drivers)),
      opts_(std::move(opts)) {
  if (!opts_.now) opts_.now = [] { return api::Now(); };
  if (!opts_.newUID) opts_.newUID = [] { return jsonutil::NewUID(); };
}

void SnapshotController::RegisterHandlers() {
  SnapshotInformer::Handlers sh;
  sh.onAdd = [this](const SnapItem& s) { queue_.Add(s->key); };
  sh.onUpdate = [this](const SnapItem&, const SnapItem& s) { queue_.Add(s->key); };
  sh.onDelete = [this](const SnapItem& s) {
    // Its content may now be an orphan to delete.
    queue_.Add(ContentKey(s->obj.status && s->obj.status->boundVolumeSnapshotContentName
                              ? *s->obj.status->boundVolumeSnapshotContentName
                              : "snapcontent-" + s->obj.metadata.uid));
  };
  snapshots_.AddHandlers(std::move(sh));
  auto contentChanged = [this](const ContentItem& c) {
    queue_.Add(c->key);
    const auto& ref = c->obj.spec.volumeSnapshotRef;
    if (!ref.name.empty()) queue_.Add(SnapshotKey(ref.namespace_, ref.name));
  };
  SnapshotContentInformer::Handlers ch;
  ch.onAdd = contentChanged;
  ch.onUpdate = [contentChanged](const ContentItem&, const ContentItem& c) { contentChanged(c); };
  ch.onDelete = [this](const ContentItem& c) {
    const auto& ref = c->obj.spec.volumeSnapshotRef;
    if (!ref.name.empty()) queue_.Add(SnapshotKey(ref.namespace_, ref.name));
  };
  contents_.AddHandlers(std::move(ch));
  // A claim that becomes Bound lets the snapshots waiting for it go on.
  PVCInformer::Handlers pc;
  pc.onUpdate = [this](const PVCInformer::ItemPtr&, const PVCInformer::ItemPtr& c) {
    for (const auto& s : snapshots_.List()) {
      if (s->obj.metadata.namespace_ == c->obj.metadata.namespace_ &&
          s->obj.spec.source.persistentVolumeClaimName.value_or("") == c->obj.metadata.name) {
        queue_.Add(s->key);
      }
    }
  };
  pc.onAdd = [pcu = pc.onUpdate](const PVCInformer::ItemPtr& c) { pcu(c, c); };
  pvcs_.AddHandlers(std::move(pc));
}

void SnapshotController::EnqueueAll() {
  for (const auto& k : snapshots_.Keys()) queue_.Add(k);
  for (const auto& k : contents_.Keys()) queue_.Add(k);
}

driver::Snapshotter* SnapshotController::SnapshotterFor(const std::string& driverName) {
  auto d = drivers_.find(driverName);
  if (d == drivers_.end() || d->second == nullptr) return nullptr;
  return dynamic_cast<driver::Snapshotter*>(d->second);
}

Status SnapshotController::Sync(const std::string& key) {
  if (StartsWith(key, kSnapshotPrefix)) {
    auto s = snapshots_.Get(key);
    return s ? SyncSnapshot(s) : Status::Ok();
  }
  if (StartsWith(key, kContentPrefix)) {
    auto c = contents_.Get(key);
    return c ? SyncContent(c) : Status::Ok();
  }
  return Status::Ok();
}

// ---- VolumeSnapshot ---------------------------------------------------------------------------

Status SnapshotController::SnapshotError(const SnapItem& s, const std::string& reason,
                                         const std::string& message) {
  events_.Event(s->raw, kEventWarning, reason, message);
  const auto& st = s->obj.status;
  if (st && st->error && st->error->message.value_or("") == message &&
      !st->readyToUse.value_or(false)) {
    return Status::Ok();  // already says so
  }
  store::json obj = s->raw;
  store::json& status = obj["status"];
  if (!status.is_object()) status = store::json::object();
  status["error"] = ErrorJson(opts_.now(), message);
  status["readyToUse"] = false;
  auto r = store_.Txn({store::Op::Update(s->key, std::move(obj), s->modRevision)});
  if (!r.ok()) return r.status();
  snapshots_.Assume(r->objects[0]);
  return Status::Ok();
}

Status SnapshotController::SyncSnapshot(const SnapItem& s) {
  const api::VolumeSnapshot& snap = s->obj;
  if (snap.metadata.deletionTimestamp) return DeleteSnapshot(s);
  if (snap.spec.source.volumeSnapshotContentName) return BindPreProvisioned(s);
  if (!snap.spec.source.persistentVolumeClaimName) return Status::Ok();  // validation refuses
  const std::string contentName = "snapcontent-" + snap.metadata.uid;
  if (auto c = contents_.Get(ContentKey(contentName))) return UpdateSnapshotStatus(s, c);
  // A content made earlier but not yet seen by the informer: read it.
  if (auto got = store_.Get(ContentKey(contentName)); got.ok()) {
    contents_.Assume(*got);
    return UpdateSnapshotStatus(s, contents_.Get(ContentKey(contentName)));
  }
  return CreateContent(s);
}

Status SnapshotController::CreateContent(const SnapItem& s) {
  const api::VolumeSnapshot& snap = s->obj;
  const std::string& ns = snap.metadata.namespace_;
  const std::string& claimName = *snap.spec.source.persistentVolumeClaimName;
  auto inputError = [&](const std::string& why) {
    return SnapshotError(s, "SnapshotContentCreationFailed",
                         "Failed to create snapshot content with error failed to get input "
                         "parameters to create snapshot " +
                             snap.metadata.name + ": " + GoQuote(why));
  };
  auto claim = pvcs_.Get(store::KeyFor("persistentvolumeclaims", ns, claimName));
  if (!claim) {
    return inputError("failed to retrieve PVC " + claimName + " from the lister: " +
                      GoQuote("persistentvolumeclaim \"" + claimName + "\" not found"));
  }
  if (claim->obj.status.phase != "Bound" || claim->obj.spec.volumeName.empty()) {
    return inputError("the PVC " + claimName +
                      " is not yet bound to a PV, will not attempt to take a snapshot");
  }
  const std::string pvName = claim->obj.spec.volumeName;
  auto pv = pvs_.Get(store::KeyFor("persistentvolumes", "", pvName));
  if (!pv) {
    return inputError("failed to retrieve PV " + pvName + " from the API server: " +
                      GoQuote("persistentvolume \"" + pvName + "\" not found"));
  }
  if (!pv->obj.spec.csi) {
    return inputError("the PV " + pvName +
                      " is not a CSI volume: only CSI volumes can be "
                      "snapshotted");
  }
  const std::string driverName = pv->obj.spec.csi->driver;

  // The class: named, or the driver's default.
  store::json snapObj = s->raw;
  bool setClass = false;
  SnapshotClassInformer::ItemPtr cls;
  if (snap.spec.volumeSnapshotClassName && !snap.spec.volumeSnapshotClassName->empty()) {
    const std::string& cn = *snap.spec.volumeSnapshotClassName;
    cls = classes_.Get(store::KeyFor("volumesnapshotclasses", "", cn));
    if (!cls) {
      return inputError(
          "failed to retrieve snapshot class " + cn + " from the informer: " +
          GoQuote("volumesnapshotclass.snapshot.storage.k8s.io \"" + cn + "\" not found"));
    }
  } else {
    std::vector<SnapshotClassInformer::ItemPtr> defaults;
    for (const auto& c : classes_.List()) {
      auto a = c->obj.metadata.annotations.find(kAnnDefaultSnapshotClass);
      if (c->obj.driver == driverName && a != c->obj.metadata.annotations.end() &&
          a->second == "true") {
        defaults.push_back(c);
      }
    }
    if (defaults.size() != 1) {
      const std::string why = defaults.empty() ? "cannot find default snapshot class"
                                               : std::to_string(defaults.size()) +
                                                     " default snapshot classes were found";
      return SnapshotError(
          s, "SnapshotContentCreationFailed",
          "Failed to set default snapshot class with error " + why + " for driver " + driverName);
    }
    cls = defaults.front();
    snapObj["spec"]["volumeSnapshotClassName"] = cls->obj.metadata.name;
    setClass = true;
  }
  if (cls->obj.driver != driverName) {
    return inputError("the VolumeSnapshotClass " + cls->obj.metadata.name + " is for driver " +
                      cls->obj.driver + ", but the PV " + pvName + " uses driver " + driverName);
  }
  if (drivers_.count(driverName) && SnapshotterFor(driverName) == nullptr) {
    return SnapshotError(s, "SnapshotContentCreationFailed",
                         "Failed to create snapshot: the driver " + driverName + " of PV " +
                             pvName + " cannot take snapshots");
  }

  const std::string contentName = "snapcontent-" + snap.metadata.uid;
  const std::string policy = cls->obj.deletionPolicy.empty() ? "Delete" : cls->obj.deletionPolicy;
  store::json content = {
      {"apiVersion", kGroupVersion},
      {"kind", "VolumeSnapshotContent"},
      {"metadata",
       {{"name", contentName}, {"uid", opts_.newUID()}, {"creationTimestamp", opts_.now()}}},
      {"spec",
       {{"volumeSnapshotRef",
         {{"kind", "VolumeSnapshot"},
          {"namespace", snap.metadata.namespace_},
          {"name", snap.metadata.name},
          {"uid", snap.metadata.uid},
          {"apiVersion", kGroupVersion},
          {"resourceVersion", snap.metadata.resourceVersion}}},
        {"deletionPolicy", policy},
        {"driver", driverName},
        {"volumeSnapshotClassName", cls->obj.metadata.name},
        {"source", {{"volumeHandle", pv->obj.spec.csi->volumeHandle}}},
        {"sourceVolumeMode", pv->obj.spec.volumeMode.value_or("Filesystem")}}},
  };
  if (policy == "Delete") content["metadata"]["finalizers"] = {kFinalizerContentBound};
  std::vector<store::Op> ops;
  ops.push_back(store::Op::Create(ContentKey(contentName), std::move(content)));
  if (setClass) {
    if (snapObj.contains("status") && snapObj["status"].is_object()) {
      snapObj["status"].erase("error");
    }
    ops.push_back(store::Op::Update(s->key, std::move(snapObj), s->modRevision));
  }
  auto r = store_.Txn(std::move(ops));
  if (!r.ok()) return r.status();
  contents_.Assume(r->objects[0]);
  if (setClass) snapshots_.Assume(r->objects[1]);
  events_.Event(s->raw, kEventNormal, "CreatingSnapshot",
                "Waiting for a snapshot " + snap.metadata.namespace_ + "/" + snap.metadata.name +
                    " to be created by the CSI driver.");
  return Status::Ok();
}

Status SnapshotController::BindPreProvisioned(const SnapItem& s) {
  const api::VolumeSnapshot& snap = s->obj;
  const std::string& name = *snap.spec.source.volumeSnapshotContentName;
  auto c = contents_.Get(ContentKey(name));
  if (!c) {
    return SnapshotError(s, "SnapshotContentMissing",
                         "VolumeSnapshotContent " + name + " is missing");
  }
  const auto& ref = c->obj.spec.volumeSnapshotRef;
  if (ref.name != snap.metadata.name || ref.namespace_ != snap.metadata.namespace_ ||
      (!ref.uid.empty() && ref.uid != snap.metadata.uid)) {
    return SnapshotError(s, "SnapshotBindFailed",
                         "Snapshot failed to bind VolumeSnapshotContent " + name +
                             ": it is bound to another snapshot (" + ref.namespace_ + "/" +
                             ref.name + ")");
  }
  if (ref.uid.empty()) {
    store::json obj = c->raw;
    obj["spec"]["volumeSnapshotRef"]["uid"] = snap.metadata.uid;
    obj["spec"]["volumeSnapshotRef"]["resourceVersion"] = snap.metadata.resourceVersion;
    auto r = store_.Txn({store::Op::Update(c->key, std::move(obj), c->modRevision)});
    if (!r.ok()) return r.status();
    contents_.Assume(r->objects[0]);
    c = contents_.Get(c->key);
  }
  return UpdateSnapshotStatus(s, c);
}

Status SnapshotController::UpdateSnapshotStatus(const SnapItem& s, const ContentItem& c) {
  const api::VolumeSnapshot& snap = s->obj;
  store::json obj = s->raw;
  bool changed = jsonutil::EnsureFinalizer(obj, kFinalizerSnapshotBound);
  store::json& status = obj["status"];
  if (!status.is_object()) status = store::json::object();
  store::json want = status;
  want["boundVolumeSnapshotContentName"] = c->obj.metadata.name;
  bool ready = false;
  if (const auto& cs = c->obj.status) {
    ready = cs->readyToUse.value_or(false);
    want["readyToUse"] = ready;
    if (cs->creationTime) want["creationTime"] = NanosToTime(*cs->creationTime);
    if (cs->restoreSize) {
      want["restoreSize"] = api::ToJson(api::Quantity::FromInt(*cs->restoreSize));
    }
    if (cs->error && cs->error->message) {
      want["error"] = ErrorJson(cs->error->time.value_or(opts_.now()), *cs->error->message);
    } else {
      want.erase("error");
    }
  } else {
    want["readyToUse"] = false;
  }
  if (want != status) {
    status = std::move(want);
    changed = true;
  }
  if (!changed) return Status::Ok();
  const bool wasReady = snap.status && snap.status->readyToUse.value_or(false);
  auto r = store_.Txn({store::Op::Update(s->key, std::move(obj), s->modRevision)});
  if (!r.ok()) return r.status();
  snapshots_.Assume(r->objects[0]);
  if (ready && !wasReady) {
    const std::string id = snap.metadata.namespace_ + "/" + snap.metadata.name;
    if (snap.spec.source.persistentVolumeClaimName) {
      events_.Event(r->objects[0].value, kEventNormal, "SnapshotCreated",
                    "Snapshot " + id + " was successfully created by the CSI driver.");
    }
    events_.Event(r->objects[0].value, kEventNormal, "SnapshotReady",
                  "Snapshot " + id + " is ready to use.");
  }
  return Status::Ok();
}

Status SnapshotController::DeleteSnapshot(const SnapItem& s) {
  if (!jsonutil::HasFinalizer(s->raw, kFinalizerSnapshotBound)) return Status::Ok();
  const api::VolumeSnapshot& snap = s->obj;
  std::string contentName;
  if (snap.status && snap.status->boundVolumeSnapshotContentName) {
    contentName = *snap.status->boundVolumeSnapshotContentName;
  } else if (snap.spec.source.volumeSnapshotContentName) {
    contentName = *snap.spec.source.volumeSnapshotContentName;
  } else {
    contentName = "snapcontent-" + snap.metadata.uid;
  }
  if (auto c = contents_.Get(ContentKey(contentName))) {
    const auto& ref = c->obj.spec.volumeSnapshotRef;
    const bool ours = ref.name == snap.metadata.name &&
                      ref.namespace_ == snap.metadata.namespace_ &&
                      (ref.uid.empty() || ref.uid == snap.metadata.uid);
    if (ours && c->obj.spec.deletionPolicy == "Delete") {
      KVOL_RETURN_IF_ERROR(DeleteContent(c));
    }
  }
  store::json obj = s->raw;
  jsonutil::RemoveFinalizer(obj, kFinalizerSnapshotBound);
  auto r = store_.Txn({store::Op::Update(s->key, std::move(obj), s->modRevision)});
  if (!r.ok()) return r.status();
  r->deleted[0] ? snapshots_.AssumeDeleted(r->objects[0]) : snapshots_.Assume(r->objects[0]);
  return Status::Ok();
}

// ---- VolumeSnapshotContent --------------------------------------------------------------------

Status SnapshotController::DeleteContent(const ContentItem& c) {
  const api::VolumeSnapshotContent& content = c->obj;
  driver::Snapshotter* snapper = SnapshotterFor(content.spec.driver);
  if (snapper == nullptr && drivers_.count(content.spec.driver) == 0) {
    return Status::Ok();  // an external driver's: its sidecar deletes it
  }
  std::string handle;
  if (content.status && content.status->snapshotHandle) {
    handle = *content.status->snapshotHandle;
  } else if (content.spec.source.snapshotHandle) {
    handle = *content.spec.source.snapshotHandle;
  }
  if (snapper != nullptr && !handle.empty()) {
    Status d = snapper->DeleteSnapshot(handle);
    if (!d.ok()) {
      events_.Event(c->raw, kEventWarning, "SnapshotDeleteError",
                    "Failed to delete snapshot: " + d.message());
      return d;
    }
  }
  // The driver's snapshot is gone: so goes the content, finalizer and all.
  store::Op del = store::Op::Delete(c->key, c->modRevision);
  del.force = true;
  auto r = store_.Txn({std::move(del)});
  if (!r.ok()) return r.status();
  contents_.AssumeDeleted(r->objects[0]);
  return Status::Ok();
}

Status SnapshotController::SyncContent(const ContentItem& c) {
  const api::VolumeSnapshotContent& content = c->obj;
  const auto& ref = content.spec.volumeSnapshotRef;
  const bool deleting = content.metadata.deletionTimestamp.has_value();
  if (content.spec.deletionPolicy == "Delete") {
    // Orphaned (its snapshot is gone) or being deleted: delete the driver's snapshot, then it.
    bool orphan = false;
    if (!ref.uid.empty()) {
      auto s = snapshots_.Get(SnapshotKey(ref.namespace_, ref.name));
      orphan = !s || s->obj.metadata.uid != ref.uid;
      if (orphan && !s) {
        // The informer may lag behind a snapshot just created: ask the store.
        auto got = store_.Get(SnapshotKey(ref.namespace_, ref.name));
        if (got.ok() && got->value["metadata"].value("uid", "") == ref.uid) orphan = false;
      }
    }
    if (orphan || deleting) return DeleteContent(c);
  } else if (deleting) {
    if (jsonutil::HasFinalizer(c->raw, kFinalizerContentBound)) {
      store::json obj = c->raw;
      jsonutil::RemoveFinalizer(obj, kFinalizerContentBound);
      auto r = store_.Txn({store::Op::Update(c->key, std::move(obj), c->modRevision)});
      if (!r.ok()) return r.status();
      r->deleted[0] ? contents_.AssumeDeleted(r->objects[0]) : contents_.Assume(r->objects[0]);
    }
    return Status::Ok();
  }
  if (deleting) return Status::Ok();
  if (content.status && content.status->snapshotHandle &&
      content.status->readyToUse.value_or(false)) {
    return Status::Ok();  // done
  }
  if (drivers_.count(content.spec.driver) == 0) return Status::Ok();  // external
  driver::Snapshotter* snapper = SnapshotterFor(content.spec.driver);
  auto fail = [&](const std::string& message, const Status& cause) -> Status {
    events_.Event(c->raw, kEventWarning, "SnapshotCreationFailed", message);
    store::json obj = c->raw;
    store::json& st = obj["status"];
    if (!st.is_object()) st = store::json::object();
    if (st.contains("error") && st["error"].value("message", "") == message) return cause;
    st["error"] = ErrorJson(opts_.now(), message);
    st["readyToUse"] = false;
    auto r = store_.Txn({store::Op::Update(c->key, std::move(obj), c->modRevision)});
    if (r.ok()) contents_.Assume(r->objects[0]);
    return cause;
  };
  if (snapper == nullptr) {
    const std::string m = "the driver " + content.spec.driver + " cannot take snapshots";
    return fail(m, Status::Ok());
  }
  Result<driver::SnapshotInfo> info = Internal("unset");
  if (content.spec.source.volumeHandle) {
    driver::CreateSnapshotRequest req;
    req.name = content.metadata.name;
    req.sourceVolumeId = *content.spec.source.volumeHandle;
    if (content.spec.volumeSnapshotClassName) {
      if (auto cls = classes_.Get(
              store::KeyFor("volumesnapshotclasses", "", *content.spec.volumeSnapshotClassName))) {
        req.parameters = cls->obj.parameters;
      }
    }
    info = snapper->CreateSnapshot(req);
    if (!info.ok()) {
      return fail(
          "Failed to check and update snapshot content: failed to take snapshot of the "
          "volume " +
              req.sourceVolumeId + ": " + GoQuote(info.status().message()),
          info.status());
    }
  } else if (content.spec.source.snapshotHandle) {
    info = snapper->GetSnapshot(*content.spec.source.snapshotHandle);
    if (!info.ok()) {
      return fail(
          "Failed to check and update snapshot content: failed to list snapshot for "
          "content " +
              content.metadata.name + ": " + GoQuote(info.status().message()),
          info.status().IsNotFound() ? Status::Ok() : info.status());
    }
  } else {
    return Status::Ok();
  }
  store::json obj = c->raw;
  store::json& st = obj["status"];
  if (!st.is_object()) st = store::json::object();
  st.erase("error");
  st["snapshotHandle"] = info->snapshotId;
  st["creationTime"] = info->creationTimeNanos;
  st["restoreSize"] = info->sizeBytes;
  st["readyToUse"] = info->readyToUse;
  if (content.spec.deletionPolicy == "Delete")
    jsonutil::EnsureFinalizer(obj, kFinalizerContentBound);
  auto r = store_.Txn({store::Op::Update(c->key, std::move(obj), c->modRevision)});
  if (!r.ok()) return r.status();
  contents_.Assume(r->objects[0]);
  return Status::Ok();
}

void SnapshotController::ProcessKey(const std::string& key) {
  ProcessWorkKey(queue_, key, [this](const std::string& k) { return Sync(k); });
}

void SnapshotController::Run() {
  RunWorker(queue_, [this](const std::string& k) { return Sync(k); });
}

}  // namespace kvol::controller
