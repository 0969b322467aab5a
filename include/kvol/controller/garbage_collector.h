// GarbageCollector: Kubernetes' garbage collector of ownerReferences, in process over the Store.
//
// It watches every object under "/registry/" (but Events, which Kubernetes' collector ignores)
// through a metadata-only view (apiVersion, kind, metadata without managedFields: Secret data is
// never cached) and keeps a graph owner uid -> dependent uids. Work-queue keys are object uids;
// Sync(uid) is idempotent and reads the live object from the Store before every write:
// - An owner that no longer exists (by uid: a recreated object of the same name is another
//   owner) has its dependents queued. A dependent whose ownerReferences are all dangling (the
//   owner, looked up in the dependent's namespace, or cluster-wide for a cluster-scoped owner
//   kind, is missing or has another uid) is deleted with the propagation its own finalizers ask
//   for (orphan -> Orphan, foregroundDeletion -> Foreground, else Background); with at least
//   one live owner the dangling references are removed instead.
// - Foreground (owner marked for deletion with finalizer "foregroundDeletion", set by the API
//   server on DELETE with propagationPolicy=Foreground): every dependent is deleted (a dependent
//   that has dependents itself is deleted in the foreground too; one that also has another,
//   live owner only loses the reference); once no dependent whose reference to the owner has
//   blockOwnerDeletion=true is left, the finalizer is removed and the Store deletes the owner.
// - Orphan (finalizer "orphan"): the reference to the owner is removed from every dependent,
//   then the finalizer.
// - The collector deletes like the API server: a deletion only marks an object that has
//   finalizers, and a pod bound to a node is marked with its grace period (the node removes it).
// - A reference to a kind the Scheme does not know, or from a cluster-scoped dependent to a
//   namespaced owner kind (invalid in Kubernetes), is treated as a live owner: never collected.
//
// Thread safety: RegisterHandlers() then Start() from one thread; Sync may run on one worker
// (Run) while the informer's watch thread feeds the graph. The Store must outlive the collector.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "kvol/api/meta.h"
#include "kvol/api/scheme.h"
#include "kvol/controller/informer.h"
#include "kvol/controller/workqueue.h"
#include "kvol/store/store.h"

namespace kvol::controller {

inline constexpr const char* kFinalizerOrphanDependents = "orphan";
inline constexpr const char* kFinalizerDeleteDependents = "foregroundDeletion";

// What the collector reads of every object.
struct PartialObject {
  std::string apiVersion;
  std::string kind;
  api::ObjectMeta metadata;
  KVOL_REFLECT(PartialObject, apiVersion, kind, metadata)
};
using MetadataInformer = Informer<PartialObject>;

struct GarbageCollectorOptions {
  // RFC 3339 "now" for deletionTimestamp; api::Now() when empty.
  std::function<std::string()> now;
  // Kinds of owner references; Scheme::Default() when null.
  const api::Scheme* scheme = nullptr;
};

class GarbageCollector {
 public:
  enum class Propagation { kBackground, kForeground, kOrphan };

  GarbageCollector(store::Store& s, GarbageCollectorOptions o = {});
  ~GarbageCollector();
  GarbageCollector(const GarbageCollector&) = delete;
  GarbageCollector& operator=(const GarbageCollector&) = delete;

  void RegisterHandlers();
  Status Start() { return informer_.Start(); }  // lists (filling the graph), then watches
  void Stop() { informer_.Stop(); }
  MetadataInformer& informer() { return informer_; }
  WorkQueue& queue() { return queue_; }

  Status Sync(const std::string& uid);
  void Run();  // worker loop until queue().ShutDown()
  // Resync: queues owners that are gone but still have dependents and owners waiting on a
  // garbage-collector finalizer; re-establishes an ended watch.
  void EnqueueAll();

  // Graph inspection (tests): dependent uids of `uid`, sorted.
  std::vector<std::string> DependentsOf(const std::string& uid) const;

  // Deletes the object at `key` if its uid is still `uid`, as a DELETE with that
  // propagationPolicy would (finalizers added, pods marked gracefully). OK when already gone.
  Status DeleteObject(const std::string& key, const std::string& uid, Propagation p);

 private:
  struct Node {
    std::string key;  // empty for an owner only known from references
    bool observed = false;
    bool deleting = false;            // deletionTimestamp set
    bool deletingDependents = false;  // deleting with foregroundDeletion
    bool orphaning = false;           // deleting with orphan
    std::vector<api::OwnerReference> owners;
    std::set<std::string> dependents;
  };
  enum class RefState { kSolid, kDangling, kWaiting };

  void Observe(const MetadataInformer::ItemPtr& item);
  void Forget(const MetadataInformer::ItemPtr& item);
  RefState Classify(const std::string& depKey, const api::OwnerReference& ref);
  Status SyncDependent(const std::string& uid, const store::Object& live);
  Status ProcessForeground(const std::string& uid, const Node& n);
  Status ProcessOrphan(const std::string& uid, const Node& n, const store::Object& live);
  // Rewrites the object at `key` (if its uid is `uid`) with `fn`; retries on conflict.
  Status UpdateIfUid(const std::string& key, const std::string& uid,
                     const std::function<bool(store::json&)>& fn);
  std::string Now() const;

  store::Store& store_;
  GarbageCollectorOptions opts_;
  std::unique_ptr<store::Store> metaView_;
  MetadataInformer informer_;
  WorkQueue queue_{WorkQueue::Options{.name = "garbage_collector_attempt_to_delete"}};
  mutable std::mutex mu_;
  std::map<std::string, Node> nodes_;  // by uid
};

}  // namespace kvol::controller
