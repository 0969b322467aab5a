// The pod workers' life cycle: creation, wake-ups, reconstruction, termination, log lookup.
#include <dirent.h>

#include <algorithm>
#include <cstdio>

#include "kvol/api/meta.h"
#include "kvol/common/trace.h"
#include "kvol/os/fs.h"
#include "kvol/volume/subpath.h"
#include "pod_worker_pool.h"
#include "pod_worker_state.h"

namespace kvol::node {

using Clock = std::chrono::steady_clock;

namespace {
void Log(const std::string& m) { std::fprintf(stderr, "kvol node: %s\n", m.c_str()); }
std::string Key(const api::Pod& p) { return p.metadata.namespace_ + "/" + p.metadata.name; }
}  // namespace

PodWorkers::PodWorkers(PodWorkerDeps deps) : d_(std::move(deps)) {}

PodWorkers::~PodWorkers() { Shutdown(false); }

std::string PodWorkers::PodDir(const std::string& uid) const { return d_.dataDir + "/pods/" + uid; }

std::shared_ptr<PodWorkers::Worker> PodWorkers::NewWorker(const api::Pod& pod) {
  auto w = std::make_shared<Worker>();
  w->uid = pod.metadata.uid;
  w->pod = pod;
  for (const auto& c : pod.spec.initContainers) {
    ContainerRecord r;
    r.name = c.name;
    r.init = true;
    r.sidecar = c.restartPolicy.value_or("") == "Always";
    w->init.push_back(std::move(r));
  }
  for (const auto& c : pod.spec.containers) {
    ContainerRecord r;
    r.name = c.name;
    w->regular.push_back(std::move(r));
  }
  return w;
}

void PodWorkers::Reap() {
  std::vector<std::shared_ptr<Worker>> done;
  {
    std::lock_guard<std::mutex> l(mu_);
    done.swap(finished_);
  }
  for (auto& w : done) {
    if (w->thread.joinable()) w->thread.join();
  }
}

void PodWorkers::Reconstruct(const std::vector<api::Pod>& pods) {
  auto ids = d_.runtime->List();
  if (!ids.ok()) Log("listing the runtime's containers: " + ids.status().message());
  // uid -> container name -> [(restartCount, id)]
  std::map<std::string, std::map<std::string, std::vector<std::pair<int, std::string>>>> found;
  if (ids.ok()) {
    for (const auto& id : *ids) {
      std::string uid, name;
      int rc = 0;
      if (ParseContainerId(id, &uid, &name, &rc)) found[uid][name].emplace_back(rc, id);
    }
  }
  std::set<std::string> listed;
  std::vector<std::shared_ptr<Worker>> started;
  for (const auto& pod : pods) {
    listed.insert(pod.metadata.uid);
    auto w = NewWorker(pod);
    auto seed = [&](ContainerRecord& r) {
      const api::ContainerStatus* prev = nullptr;
      for (const auto* list : {&pod.status.initContainerStatuses, &pod.status.containerStatuses}) {
        for (const auto& cs : *list) {
          if (cs.name == r.name) prev = &cs;
        }
      }
      if (prev) {
        r.image = prev->image;
        r.imageID = prev->imageID;
      }
      auto& mine = found[pod.metadata.uid][r.name];
      std::sort(mine.begin(), mine.end());
      if (!mine.empty()) {
        // Adopt the newest; older runs are removed (their logs stay).
        for (size_t i = 0; i + 1 < mine.size(); ++i) {
          Status s = d_.runtime->Stop(mine[i].second, 0);
          s = d_.runtime->Remove(mine[i].second);
          (void)s;
        }
        r.restartCount = mine.back().first;
        r.id = mine.back().second;
        auto st = d_.runtime->Inspect(r.id);
        if (st.ok()) {
          r.rt = *st;
        } else {
          r.rt.id = r.id;
          r.rt.state = runtime::State::kExited;
          r.rt.exitCode = 255;
          r.rt.reason = "Error";
        }
        r.runningSince = Clock::now();
        if (prev && prev->lastState.terminated) r.lastTermination = prev->lastState.terminated;
        if (r.init && r.rt.state == runtime::State::kExited && r.rt.exitCode == 0) r.done = true;
      } else if (prev && !prev->containerID.empty()) {
        // It ran before the node stopped (clean stop removed it): the next run counts on.
        r.restartCount = prev->restartCount + 1;
        if (prev->state.terminated) {
          r.lastTermination = prev->state.terminated;
        } else if (prev->lastState.terminated) {
          r.lastTermination = prev->lastState.terminated;
        }
      }
    };
    for (auto& r : w->init) seed(r);
    for (auto& r : w->regular) seed(r);
    // The image of an adopted container, when the API did not have it yet.
    auto fillImage = [&](ContainerRecord& r, const api::Container& spec) {
      if (r.id.empty() || !r.imageID.empty()) return;
      auto img = d_.images->Get(spec.image);
      if (img.ok()) {
        r.image = img->name;
        r.imageID = img->id;
      }
    };
    for (size_t i = 0; i < w->init.size() && i < pod.spec.initContainers.size(); ++i) {
      fillImage(w->init[i], pod.spec.initContainers[i]);
    }
    for (size_t i = 0; i < w->regular.size() && i < pod.spec.containers.size(); ++i) {
      fillImage(w->regular[i], pod.spec.containers[i]);
    }
    w->Publish();
    d_.volumes->AddPod(pod);
    w->addedRv = api::json(pod.metadata.labels).dump() + api::json(pod.metadata.annotations).dump();
    {
      std::lock_guard<std::mutex> l(mu_);
      workers_[w->uid] = w;
      uidByKey_[Key(pod)] = w->uid;
    }
    started.push_back(w);
  }
  for (auto& w : started) w->thread = std::thread([this, w] { Run(w); });

  // What belongs to pods no longer bound here: stopped and removed, off the start path (a
  // container may take its grace period); the volume manager may tear their volumes down after.
  std::vector<std::string> orphanIds;
  std::set<std::string> orphanDirs;
  for (const auto& [uid, byName] : found) {
    if (listed.count(uid)) continue;
    orphanDirs.insert(uid);
    for (const auto& [name, list] : byName) {
      for (const auto& [rc, id] : list) orphanIds.push_back(id);
    }
  }
  if (DIR* dir = ::opendir((d_.dataDir + "/pods").c_str())) {
    while (dirent* e = ::readdir(dir)) {
      std::string n = e->d_name;
      if (n != "." && n != ".." && !listed.count(n)) orphanDirs.insert(n);
    }
    ::closedir(dir);
  }
  std::lock_guard<std::mutex> l(mu_);
  orphanThread_ = std::thread([this, orphanIds, orphanDirs] {
    std::vector<std::thread> stops;
    for (const auto& id : orphanIds) {
      stops.emplace_back([this, id] {
        Status s = d_.runtime->Stop(id, 2);
        if (s.ok()) s = d_.runtime->Remove(id);
        if (!s.ok()) Log("removing orphaned container " + id + ": " + s.message());
      });
    }
    for (auto& t : stops) t.join();
    for (const auto& uid : orphanDirs) {
      Status s = volume::CleanupSubPaths(*d_.mounter, PodDir(uid));
      if (s.ok()) s = d_.runtime->RemoveSandbox(PodDir(uid));
      if (!s.ok()) Log("cleaning up orphaned pod " + uid + ": " + s.message());
    }
    d_.volumes->MarkDesiredSynced();
  });
}

void PodWorkers::Update(const api::Pod& pod) {
  NodeTrace(pod.metadata.uid, "update");
  Reap();
  std::shared_ptr<Worker> w, replaced;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (shutdown_) return;
    auto k = uidByKey_.find(Key(pod));
    if (k != uidByKey_.end() && k->second != pod.metadata.uid) {
      auto old = workers_.find(k->second);
      if (old != workers_.end()) replaced = old->second;
    }
    uidByKey_[Key(pod)] = pod.metadata.uid;
    auto it = workers_.find(pod.metadata.uid);
    if (it == workers_.end()) {
      w = NewWorker(pod);
      workers_[w->uid] = w;
      w->thread = std::thread([this, w] { Run(w); });
    } else {
      w = it->second;
    }
  }
  if (replaced) {
    std::lock_guard<std::mutex> l(replaced->mu);
    replaced->gone = true;
    replaced->dirty = true;
    replaced->cv.notify_all();
  }
  std::lock_guard<std::mutex> l(w->mu);
  if (w->pod.metadata.resourceVersion != pod.metadata.resourceVersion ||
      w->pod.metadata.resourceVersion.empty()) {
    w->pod = pod;
  }
  w->dirty = true;
  w->cv.notify_all();
}

void PodWorkers::Gone(const std::string& uid) {
  Reap();
  std::shared_ptr<Worker> w;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = workers_.find(uid);
    if (it == workers_.end()) return;
    w = it->second;
  }
  std::lock_guard<std::mutex> l(w->mu);
  w->gone = true;
  w->dirty = true;
  w->cv.notify_all();
}

void PodWorkers::ContainerExited(const std::string& id) {
  std::string uid, name;
  int rc = 0;
  if (!ParseContainerId(id, &uid, &name, &rc)) return;
  std::shared_ptr<Worker> w;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = workers_.find(uid);
    if (it == workers_.end()) return;
    w = it->second;
  }
  std::lock_guard<std::mutex> l(w->mu);
  w->exited.insert(id);
  w->dirty = true;
  w->cv.notify_all();
}

void PodWorkers::VolumesReady(const std::string& uid) {
  std::shared_ptr<Worker> w;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = workers_.find(uid);
    if (it == workers_.end()) return;
    w = it->second;
  }
  std::lock_guard<std::mutex> l(w->mu);
  w->dirty = true;
  w->cv.notify_all();
}

void PodWorkers::Run(const std::shared_ptr<Worker>& wp) {
  Worker& w = *wp;
  api::Pod pod;
  bool terminated = false;
  while (true) {
    bool gone;
    {
      std::unique_lock<std::mutex> l(w.mu);
      w.cv.wait_until(l, w.wakeAt, [&] { return w.dirty || w.shutdown; });
      if (w.shutdown) break;
      w.dirty = false;
      w.wakeAt = Clock::now() + std::chrono::hours(24);
      pod = w.pod;
      gone = w.gone;
    }
    Refresh(w);
    if (gone || pod.metadata.deletionTimestamp || pod.spec.nodeName != d_.nodeName) {
      // Not bound here any more counts as gone: never delete another node's pod.
      Terminate(w, pod, gone || pod.spec.nodeName != d_.nodeName);
      terminated = true;
      break;
    }
    Sync(w, pod);
    w.Publish();
  }
  bool clean;
  {
    std::lock_guard<std::mutex> l(w.mu);
    clean = w.shutdown && w.clean;
    pod = w.pod;
  }
  if (!terminated && clean) CleanStop(w, pod);
  w.Finish();
  std::lock_guard<std::mutex> l(mu_);
  auto it = workers_.find(w.uid);
  if (it != workers_.end() && it->second.get() == &w) {
    if (!shutdown_) finished_.push_back(it->second);
    workers_.erase(it);
    auto k = uidByKey_.find(Key(pod));
    if (k != uidByKey_.end() && k->second == w.uid) uidByKey_.erase(k);
  }
}

void PodWorkers::Shutdown(bool clean) {
  std::vector<std::shared_ptr<Worker>> all;
  std::thread orphans;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (shutdown_ && !clean) {
      // already shut down
    }
    shutdown_ = true;
    for (auto& [uid, w] : workers_) all.push_back(w);
    for (auto& w : finished_) all.push_back(w);
    finished_.clear();
    orphans = std::move(orphanThread_);
  }
  for (auto& w : all) {
    std::lock_guard<std::mutex> l(w->mu);
    w->shutdown = true;
    w->clean = clean;
    w->cv.notify_all();
  }
  for (auto& w : all) {
    if (w->thread.joinable()) w->thread.join();
  }
  if (orphans.joinable()) orphans.join();
  if (clean && d_.volumes) {
    Status s = d_.volumes->UnmountAll();
    if (!s.ok()) Log("unmounting volumes: " + s.message());
  }
}

Result<LogServer::Resolved> PodWorkers::ResolveLog(const LogQuery& q) {
  std::shared_ptr<Worker> w;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto k = uidByKey_.find(q.ns + "/" + q.pod);
    if (k != uidByKey_.end()) {
      auto it = workers_.find(k->second);
      if (it != workers_.end()) w = it->second;
    }
  }
  if (!w) return NotFound("pod \"" + q.pod + "\" not found in namespace \"" + q.ns + "\"");
  std::lock_guard<std::mutex> l(w->mu);
  auto it = w->published.find(q.container);
  if (it == w->published.end()) {
    return NotFound("container \"" + q.container + "\" in pod \"" + q.pod + "\" not found");
  }
  const auto info = it->second;
  int rc = info.restartCount;
  if (q.previous) {
    rc = info.id.empty() ? info.restartCount - 1 : info.restartCount - 1;
    if (rc < 0) {
      return BadRequest("previous terminated container \"" + q.container + "\" in pod \"" + q.pod +
                        "\" not found");
    }
  } else if (info.id.empty()) {
    return BadRequest("container \"" + q.container + "\" in pod \"" + q.pod +
                      "\" is waiting to start: " +
                      (info.waitingReason.empty() ? "ContainerCreating" : info.waitingReason));
  }
  LogServer::Resolved r;
  r.path = PodDir(w->uid) + "/containers/" + q.container + "/" + std::to_string(rc) + ".log";
  if (!os::Exists(r.path)) {
    return BadRequest((q.previous ? "previous terminated container \"" : "container \"") +
                      q.container + "\" in pod \"" + q.pod + "\" has no log");
  }
  std::string id = info.id;
  bool previous = q.previous;
  std::weak_ptr<Worker> weak = w;
  r.isDone = [weak, id, previous, name = q.container]() {
    if (previous) return true;
    auto w = weak.lock();
    if (!w) return true;
    std::lock_guard<std::mutex> l(w->mu);
    if (w->finishedFlag) return true;
    auto it = w->published.find(name);
    return it == w->published.end() || it->second.id != id || !it->second.running;
  };
  return r;
}

}  // namespace kvol::node
