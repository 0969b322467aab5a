#include "kvol/controller/manager.h"

#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "kvol/controller/binder.h"
#include "kvol/controller/expander.h"
#include "kvol/controller/garbage_collector.h"
#include "kvol/controller/protection.h"
#include "kvol/controller/scheduler.h"
#include "src/driver/block/block_driver.h"
#include "src/driver/local/local_driver.h"

namespace kvol::controller {

struct ControllerManager::Impl {
  Impl(store::Store& s, ControllerManagerOptions o)
      : st(s),
        opts(std::move(o)),
        pvs(s, store::PrefixFor("persistentvolumes")),
        pvcs(s, store::PrefixFor("persistentvolumeclaims")),
        classes(s, store::PrefixFor("storageclasses")),
        nodes(s, store::PrefixFor("nodes")),
        pods(s, store::PrefixFor("pods")),
        binderEvents(s, "persistentvolume-controller", opts.nodeName, /*buffered=*/true),
        schedulerEvents(s, "default-scheduler"),
        resizerEvents(s, "external-resizer") {}

  store::Store& st;
  ControllerManagerOptions opts;
  PVInformer pvs;
  PVCInformer pvcs;
  ClassInformer classes;
  NodeInformer nodes;
  PodInformer pods;
  EventRecorder binderEvents;
  EventRecorder schedulerEvents;
  EventRecorder resizerEvents;
  std::unique_ptr<driver::LocalDriver> local;
  std::unique_ptr<driver::BlockDriver> block;  // kvol.io/block: images in the block pool
  std::unique_ptr<Binder> binder;
  std::unique_ptr<ProtectionController> protection;
  std::unique_ptr<ExpandController> expander;
  std::unique_ptr<Scheduler> scheduler;
  std::unique_ptr<GarbageCollector> gc;  // over every resource, with its own informer
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
  // Classes and nodes first, so the first claim syncs see them.
  KVOL_RETURN_IF_ERROR(m.classes.Start());
  KVOL_RETURN_IF_ERROR(m.nodes.Start());
  KVOL_RETURN_IF_ERROR(m.pvs.Start());
  KVOL_RETURN_IF_ERROR(m.pvcs.Start());
  KVOL_RETURN_IF_ERROR(m.pods.Start());
  m.gc = std::make_unique<GarbageCollector>(m.st);
  m.gc->RegisterHandlers();
  KVOL_RETURN_IF_ERROR(m.gc->Start());
  m.started = true;

  m.threads.emplace_back([&m] { m.binder->Run(); });
  m.threads.emplace_back([&m] { m.protection->Run(); });
  m.threads.emplace_back([&m] { m.expander->Run(); });
  if (m.scheduler) m.threads.emplace_back([&m] { m.scheduler->Run(); });
  m.threads.emplace_back([&m] { m.gc->Run(); });
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
      m.binder->EnqueueAll();
      m.protection->EnqueueAll();
      m.expander->EnqueueAll();
      if (m.scheduler) m.scheduler->EnqueueAll();
      m.gc->EnqueueAll();
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
  for (auto& t : m.threads) t.join();
  m.threads.clear();
  m.gc->Stop();
  m.pods.Stop();
  m.pvcs.Stop();
  m.pvs.Stop();
  m.nodes.Stop();
  m.classes.Stop();
}

}  // namespace kvol::controller
