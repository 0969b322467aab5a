// Store: the durable, watchable object store every kvol component meets at.
//
// Shaped after etcd v3 as kube-apiserver uses it, so an etcd backend can follow the SQLite one:
// - One monotonically increasing revision for the whole store. Every committed write gets a
//   revision greater than every earlier one; an object's resourceVersion is the revision of its
//   last write (its modRevision), written into metadata.resourceVersion of every object returned
//   (it is not part of the stored bytes).
// - Keys are strings: KeyFor("persistentvolumeclaims", "default", "data") ==
//   "/registry/persistentvolumeclaims/default/data"; cluster-scoped objects have no namespace part.
//   List and Watch take a key prefix.
// - Values are JSON objects (the canonical API object).
// - Txn: several operations, each with its own precondition, committed all or nothing at one
//   instant. A failed precondition fails the whole Txn and changes nothing.
// - Durability: when a write returns OK it survives kill -9 and power loss. Concurrent writers
//   share fsyncs (group commit); TxnBatch commits many independent Txns with one fsync.
// - Watch delivers every change after a revision, in revision order, exactly once, gap-free from
//   history into live events. A revision older than the oldest kept (after compaction) is
//   answered with Code::kExpired ("too old"), like etcd's ErrCompacted and the API's 410.
// - Finalizers (Kubernetes' semantics, implemented once for every backend): Delete of an object
//   whose metadata.finalizers is non-empty only sets metadata.deletionTimestamp (and
//   deletionGracePeriodSeconds 0); an Update that removes the last finalizer of an object marked
//   for deletion with no grace period left (deletionGracePeriodSeconds absent or 0) removes it
//   (watchers see DELETED), as kube-apiserver's shouldDeleteDuringUpdate does.
//
// Thread safety: every method may be called from any thread concurrently.
// Watch callbacks run on a store-owned thread, one event at a time per watcher, in order; they
// must not block and must not call back into the Store (post work elsewhere instead).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "kvol/api/reflect.h"
#include "kvol/common/status.h"

namespace kvol::store {

using json = api::json;
using Revision = int64_t;

// "/registry/<resource>/<namespace>/<name>", or "/registry/<resource>/<name>" when namespace is "".
std::string KeyFor(const std::string& resource, const std::string& ns, const std::string& name);
// The list/watch prefix for a resource, optionally within one namespace (ends with '/').
std::string PrefixFor(const std::string& resource, const std::string& ns = "");

struct Object {
  std::string key;
  json value;  // metadata.resourceVersion == std::to_string(modRevision)
  Revision createRevision = 0;
  Revision modRevision = 0;
};

// Precondition on an object's modRevision.
inline constexpr Revision kAnyRevision = -1;  // no precondition
inline constexpr Revision kMustNotExist = 0;  // create

struct Op {
  enum class Type { kCreate, kUpdate, kDelete };
  Type type = Type::kUpdate;
  std::string key;
  json value;  // kCreate / kUpdate
  // kUpdate / kDelete: the object's modRevision must equal this.
  Revision expectedRevision = kAnyRevision;
  // kDelete only: when false, Kubernetes' finalizer rule applies (an object with finalizers only
  // gets deletionTimestamp set); when true the key is removed whatever its finalizers say.
  bool force = false;

  static Op Create(std::string key, json value);
  static Op Update(std::string key, json value, Revision expected = kAnyRevision);
  static Op Delete(std::string key, Revision expected = kAnyRevision);
};

// An immutable object shared with the store (TxnBatchShared / ListShared): never modified.
using SharedObject = std::shared_ptr<const Object>;

struct TxnResult {
  Revision revision = 0;        // the store revision after this Txn
  std::vector<Object> objects;  // per Op: the object as written (for a delete: the last state,
                                // with deletionTimestamp set if finalizers kept it)
  std::vector<bool> deleted;    // per Op: true when the key is gone after the Op
  // TxnBatchShared only (then `objects` is empty): the same objects, shared, not copied.
  std::vector<SharedObject> shared;
};

struct ListOptions {
  std::string prefix;
  Revision revision = 0;  // 0: the latest; otherwise a consistent snapshot at that revision
  int64_t limit = 0;      // 0: no limit; counts matching objects
  std::string continueToken;
  // Only objects for which this returns true are returned (label/field selectors). May be empty.
  std::function<bool(const json&)> filter;
};

// ListShared: every object under a prefix at the latest revision, shared, not copied.
struct SharedList {
  std::vector<SharedObject> items;  // in key order
  Revision revision = 0;
};

struct ListResult {
  std::vector<Object> items;
  Revision revision = 0;            // the snapshot revision (the list's resourceVersion)
  std::string continueToken;        // empty when this was the last page
  int64_t remainingItemCount = -1;  // -1 when unknown (a filter was used)
};

struct WatchEvent {
  enum class Type { kAdded, kModified, kDeleted };
  Type type = Type::kAdded;
  Object object;  // for kDeleted: the last state, with modRevision = the delete's revision
  Revision revision = 0;
};

// Cancels its watch when destroyed; after the destructor returns, no callback runs.
class WatchHandle {
 public:
  virtual ~WatchHandle() = default;
};

struct WatchOptions {
  std::string prefix;
  Revision afterRevision = 0;               // deliver events with revision > this; 0 = from now on
  std::function<bool(const json&)> filter;  // applied to the object (for deletes: its last state)
};

class Store {
 public:
  virtual ~Store() = default;

  virtual Result<Object> Get(const std::string& key) = 0;
  virtual Result<ListResult> List(const ListOptions& opts) = 0;
  // All or nothing. Errors: kAlreadyExists (create of an existing key), kNotFound (update or
  // delete of a missing key), kConflict (expectedRevision did not match); the message names the
  // key.
  virtual Result<TxnResult> Txn(std::vector<Op> ops) = 0;
  // Independent Txns committed together with one fsync; each succeeds or fails on its own.
  virtual std::vector<Result<TxnResult>> TxnBatch(std::vector<std::vector<Op>> txns) = 0;
  // TxnBatch whose results carry the written objects in `shared` instead of `objects`: a backend
  // that keeps its latest state in memory hands out that state instead of a copy (the default
  // moves TxnBatch's copies into shared pointers). For callers that cache what they wrote.
  virtual std::vector<Result<TxnResult>> TxnBatchShared(std::vector<std::vector<Op>> txns);
  // List of every object under `prefix` at the latest revision, shared the same way (the default
  // wraps List's copies).
  virtual Result<SharedList> ListShared(const std::string& prefix);

  // `onEvent` gets every change in order; `onClose` once if the watch ends on its own (store
  // closed, or an error), never after the handle is destroyed.
  virtual Result<std::unique_ptr<WatchHandle>> Watch(
      const WatchOptions& opts, std::function<void(const WatchEvent&)> onEvent,
      std::function<void(const Status&)> onClose = nullptr) = 0;

  virtual Revision CurrentRevision() = 0;
  // Drops history at and below `rev`; watches and snapshot lists at or below it get kExpired.
  virtual Status Compact(Revision rev) = 0;
  virtual Revision CompactedRevision() = 0;
  // Automatic compaction policy (what the server calls periodically, like kube-apiserver's
  // 5-minute compaction loop): keeps the last `keep` revisions of history, i.e. compacts at
  // CurrentRevision() - keep when that is above CompactedRevision(); otherwise does nothing.
  Status CompactKeepingLast(Revision keep);

  // Convenience wrappers over Txn.
  Result<Object> Create(const std::string& key, json value);
  Result<Object> Update(const std::string& key, json value, Revision expected = kAnyRevision);
  // Returns the object's last state; `deleted` tells whether the key is gone or only marked.
  Result<Object> Delete(const std::string& key, Revision expected = kAnyRevision,
                        bool* deleted = nullptr);
  // Read-modify-write with retry on conflict: `fn` gets the current object and edits it; returning
  // a non-OK Status aborts. A no-op (value unchanged) writes nothing.
  Result<Object> GuaranteedUpdate(const std::string& key, const std::function<Status(json&)>& fn);
};

}  // namespace kvol::store
