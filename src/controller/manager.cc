#include "kvol/controller/manager.h"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "kvol/controller/attach_detach.h"
#include "kvol/controller/binder.h"
#include "kvol/controller/expander.h"
#include "kvol/controller/garbage_collector.h"
#include "kvol/controller/node_lifecycle.h"
#include "kvol/controller/protection.h"
#include "kvol/controller/scheduler.h"
#include "kvol/controller/snapshot_controller.h"
#include "src/driver/block/block_driver.h"
#include "src/driver/local/local_driver.h"

namespace kvol::controller {

// ---- Snapshots (snapshot_controller.h): their informers, recorder and controller together. ----
struct SnapshotPart {
  explicit SnapshotPart(store::Store& s)
      : snapshots(s, store::PrefixFor("volumesnapshots")),
        contents(s, store::PrefixFor("volumesnapshotcontents")),
        classes(s, store::PrefixFor("volumesnapshotclasses")),
        events(s, "snapshot-controller") {}
  Status StartInformers() {
    KVOL_RETURN_IF_ERROR(classes.Start());
    KVOL_RETURN_IF_ERROR(contents.Start());
    return snapshots.Start();
  }
  void StopInformers() {
    snapshots.Stop();
    contents.Stop();
    classes.Stop();
  }
  void RecoverWatches() {
    classes.RecoverWatchIfNeeded();
    contents.RecoverWatchIfNeeded();
    snapshots.RecoverWatchIfNeeded();
  }
  SnapshotInformer snapshots;
  SnapshotContentInformer contents;
  SnapshotClassInformer classes;
  EventRecorder events;
  std::unique_ptr<SnapshotController> controller;
};
// ---- end snapshots ----

struct ControllerManager::Impl {
  Impl(store::Store& s, ControllerManagerOptions o)
      : st(s),
        opts(std::move(o)),
        pvs(s, store::PrefixFor("persistentvolumes")),
        pvcs(s, store::PrefixFor("persistentvolumeclaims")),
        classes(s, store::PrefixFor("storageclasses")),
        nodes(s, store::PrefixFor("nodes")),
        pods(s, store::PrefixFor("pods")),
        attachments(s, store::PrefixFor("volumeattachments")),
        csiDrivers(s, store::PrefixFor("csidrivers")),
        binderEvents(s, "persistentvolume-controller", opts.nodeName, /*buffered=*/true),
        schedulerEvents(s, "default-scheduler"),
        resizerEvents(s, "external-resizer"),
        attachEvents(s, "attachdetach-controller", "", /*buffered=*/true),
        nodeEvents(s, "node-controller", "", /*buffered=*/true) {}

  store::Store& st;
  ControllerManagerOptions opts;
  PVInformer pvs;
  PVCInformer pvcs;
  ClassInformer classes;
  NodeInformer nodes;
  PodInformer pods;
  VolumeAttachmentInformer attachments;
  CSIDriverInformer csiDrivers;
  EventRecorder binderEvents;
  EventRecorder schedulerEvents;
  EventRecorder resizerEvents;
  EventRecorder attachEvents;
  EventRecorder nodeEvents;
  std::unique_ptr<driver::LocalDriver> local;
  std::unique_ptr<driver::BlockDriver> block;  // kvol.io/block: images in the block pool
  std::unique_ptr<Binder> binder;
  std::unique_ptr<ProtectionController> protection;
  std::unique_ptr<ExpandController> expander;
  std::unique_ptr<Scheduler> scheduler;
  std::unique_ptr<AttachDetachController> attacher;
  std::unique_ptr<NodeLifecycleController> nodeLifecycle;
  std::unique_ptr<GarbageCollector> gc;  // over every resource, with its own informer
  std::unique_ptr<SnapshotPart> snap;    // snapshots (SnapshotPart above)
  std::vector<std::thread> threads;
  std::mutex mu;
  std::condition_variable cv;
  bool started = false;
  bool stopping = false;
};

ControllerManager::ControllerManager(store::Store& s, ControllerManagerOptions opts)
    : impl_(std::make_unique<Impl>(s, std::move(opts))) {}

ControllerManager::~ControllerManager() { Stop(); }

Status ControllerManager::Start() {
  Impl& m = *impl_;
  if (m.started) return Status::Ok();
  std::map<std::string, driver::ControllerDriver*> drivers = m.opts.drivers;
  if (!m.opts.dataDir.empty()) {
    m.local = std::make_unique<driver::LocalDriver>(m.opts.dataDir, m.opts.nodeName);
    drivers.emplace(m.local->Name(), m.local.get());
  }
  if (!m.opts.dataDir.empty()) {
    m.block = std::make_unique<driver::BlockDriver>(m.opts.dataDir, m.opts.blockPool,
                                                    m.opts.nodeName, m.opts.zone);
    drivers.emplace(m.block->Name(), m.block.get());
  }
  BinderOptions bo;
  bo.nodeName = m.opts.nodeName;
  m.binder = std::make_unique<Binder>(m.st, m.pvs, m.pvcs, m.classes, m.nodes, m.binderEvents,
                                      drivers, bo);
  m.binder->RegisterHandlers();
  m.protection = std::make_unique<ProtectionController>(m.st, m.pvs, m.pvcs, m.pods);
  m.protection->RegisterHandlers();
  m.expander =
      std::make_unique<ExpandController>(m.st, m.pvs, m.pvcs, m.classes, m.resizerEvents, drivers);
  m.expander->RegisterHandlers();
  if (m.opts.enableScheduler) {
    m.scheduler = std::make_unique<Scheduler>(m.st, m.pods, m.nodes, m.pvcs, m.pvs, m.classes,
                                              m.schedulerEvents);
    m.scheduler->RegisterHandlers();
  }
  m.attacher = std::make_unique<AttachDetachController>(
      m.st, m.pods, m.nodes, m.pvcs, m.pvs, m.attachments, m.csiDrivers, m.attachEvents);
  m.attacher->RegisterHandlers();
  NodeLifecycleOptions lo;
  lo.gracePeriod = m.opts.nodeMonitorGracePeriod;
  m.nodeLifecycle =
      std::make_unique<NodeLifecycleController>(m.st, m.nodes, m.pods, m.nodeEvents, lo);
  m.nodeLifecycle->RegisterHandlers();
  // ---- Snapshots: handlers before the PVC informer starts; a snapshot that becomes ready
  // re-queues the claims restoring from it (the binder has no snapshot informer). ----
  m.snap = std::make_unique<SnapshotPart>(m.st);
  m.snap->controller =
      std::make_unique<SnapshotController>(m.st, m.pvs, m.pvcs, m.snap->snapshots, m.snap->contents,
                                           m.snap->classes, m.snap->events, drivers);
  m.snap->controller->RegisterHandlers();
  SnapshotInformer::Handlers restoreHandlers;
  restoreHandlers.onUpdate = [&m](const SnapshotInformer::ItemPtr&,
                                  const SnapshotInformer::ItemPtr& s) {
    if (!s->obj.status || !s->obj.status->readyToUse.value_or(false)) return;
    for (const auto& c : m.pvcs.List()) {
      const auto& ds = c->obj.spec.dataSource;
      const auto& ref = c->obj.spec.dataSourceRef;
      const bool names =
          (ref && ref->kind == "VolumeSnapshot" && ref->name == s->obj.metadata.name) ||
          (!ref && ds && ds->kind == "VolumeSnapshot" && ds->name == s->obj.metadata.name);
      if (names && c->obj.metadata.namespace_ == s->obj.metadata.namespace_ &&
          c->obj.status.phase != "Bound") {
        m.binder->queue().Add(c->key);
      }
    }
  };
  m.snap->snapshots.AddHandlers(std::move(restoreHandlers));
  KVOL_RETURN_IF_ERROR(m.snap->StartInformers());
  // ---- end snapshots ----
  // Classes and nodes first, so the first claim syncs see them.
  KVOL_RETURN_IF_ERROR(m.classes.Start());
  KVOL_RETURN_IF_ERROR(m.nodes.Start());
  KVOL_RETURN_IF_ERROR(m.pvs.Start());
  KVOL_RETURN_IF_ERROR(m.pvcs.Start());
  KVOL_RETURN_IF_ERROR(m.pods.Start());
  KVOL_RETURN_IF_ERROR(m.csiDrivers.Start());
  KVOL_RETURN_IF_ERROR(m.attachments.Start());
  m.gc = std::make_unique<GarbageCollector>(m.st);
  m.gc->RegisterHandlers();
  KVOL_RETURN_IF_ERROR(m.gc->Start());
  m.started = true;

  m.threads.emplace_back([&m] { m.binder->Run(); });
  m.threads.emplace_back([&m] { m.protection->Run(); });
  m.threads.emplace_back([&m] { m.expander->Run(); });
  if (m.scheduler) m.threads.emplace_back([&m] { m.scheduler->Run(); });
  m.threads.emplace_back([&m] { m.gc->Run(); });
  m.threads.emplace_back([&m] { m.snap->controller->Run(); });  // snapshots
  m.threads.emplace_back([&m] { m.attacher->Run(); });
  m.threads.emplace_back([&m] { m.nodeLifecycle->Run(); });
  // Heartbeats are judged a few times per grace period (--node-monitor-period in Kubernetes).
  m.threads.emplace_back([&m] {
    const auto period = std::clamp(m.opts.nodeMonitorGracePeriod / 4,
                                   std::chrono::milliseconds(200), std::chrono::milliseconds(5000));
    std::unique_lock<std::mutex> lk(m.mu);
    while (!m.cv.wait_for(lk, period, [&m] { return m.stopping; })) {
      lk.unlock();
      m.nodeLifecycle->EnqueueAll();
      lk.lock();
    }
  });
  m.threads.emplace_back([&m] {
    std::unique_lock<std::mutex> lk(m.mu);
    while (!m.stopping) {
      if (m.cv.wait_for(lk, m.opts.resyncPeriod, [&m] { return m.stopping; })) break;
      lk.unlock();
      m.classes.RecoverWatchIfNeeded();
      m.nodes.RecoverWatchIfNeeded();
      m.pvs.RecoverWatchIfNeeded();
      m.pvcs.RecoverWatchIfNeeded();
      m.pods.RecoverWatchIfNeeded();
      m.attachments.RecoverWatchIfNeeded();
      m.csiDrivers.RecoverWatchIfNeeded();
      m.binder->EnqueueAll();
      m.protection->EnqueueAll();
      m.expander->EnqueueAll();
      if (m.scheduler) m.scheduler->EnqueueAll();
      m.gc->EnqueueAll();
      m.snap->RecoverWatches();  // snapshots
      m.snap->controller->EnqueueAll();
      m.attacher->EnqueueAll();
      lk.lock();
    }
  });
  return Status::Ok();
}

void ControllerManager::Stop() {
  Impl& m = *impl_;
  if (!m.started) {
    // A failed Start may have left watches running: end them before the controllers go.
    if (m.gc) m.gc->Stop();
    if (m.snap) m.snap->StopInformers();  // snapshots
    m.attachments.Stop();
    m.csiDrivers.Stop();
    m.pods.Stop();
    m.pvcs.Stop();
    m.pvs.Stop();
    m.nodes.Stop();
    m.classes.Stop();
    return;
  }
  {
    std::lock_guard<std::mutex> lk(m.mu);
    if (m.stopping) return;
    m.stopping = true;
  }
  m.cv.notify_all();
  m.binder->queue().ShutDown();
  m.protection->queue().ShutDown();
  m.expander->queue().ShutDown();
  if (m.scheduler) m.scheduler->queue().ShutDown();
  m.gc->queue().ShutDown();
  m.snap->controller->queue().ShutDown();  // snapshots
  m.attacher->queue().ShutDown();
  m.nodeLifecycle->queue().ShutDown();
  for (auto& t : m.threads) t.join();
  m.threads.clear();
  m.gc->Stop();
  m.snap->StopInformers();  // snapshots
  m.attachments.Stop();
  m.csiDrivers.Stop();
  m.pods.Stop();
  m.pvcs.Stop();
  m.pvs.Stop();
  m.nodes.Stop();
  m.classes.Stop();
}

}  // namespace kvol::controller
