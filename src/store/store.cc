#include "kvol/store/store.h"

#include "kvol/store/op_plan.h"

namespace kvol::store {

std::string KeyFor(const std::string& resource, const std::string& ns, const std::string& name) {
  return PrefixFor(resource, ns) + name;
}

std::string PrefixFor(const std::string& resource, const std::string& ns) {
  std::string p = "/registry/" + resource + "/";
  if (!ns.empty()) p += ns + "/";
  return p;
}

Op Op::Create(std::string key, json value) {
  Op op;
  op.type = Type::kCreate;
  op.key = std::move(key);
  op.value = std::move(value);
  op.expectedRevision = kMustNotExist;
  return op;
}

Op Op::Update(std::string key, json value, Revision expected) {
  Op op;
  op.type = Type::kUpdate;
  op.key = std::move(key);
  op.value = std::move(value);
  op.expectedRevision = expected;
  return op;
}

Op Op::Delete(std::string key, Revision expected) {
  Op op;
  op.type = Type::kDelete;
  op.key = std::move(key);
  op.expectedRevision = expected;
  return op;
}

Result<Object> Store::Create(const std::string& key, json value) {
  KVOL_ASSIGN_OR_RETURN(TxnResult r, Txn({Op::Create(key, std::move(value))}));
  return std::move(r.objects[0]);
}

Result<Object> Store::Update(const std::string& key, json value, Revision expected) {
  KVOL_ASSIGN_OR_RETURN(TxnResult r, Txn({Op::Update(key, std::move(value), expected)}));
  return std::move(r.objects[0]);
}

Result<Object> Store::Delete(const std::string& key, Revision expected, bool* deleted) {
  KVOL_ASSIGN_OR_RETURN(TxnResult r, Txn({Op::Delete(key, expected)}));
  if (deleted) *deleted = r.deleted[0];
  return std::move(r.objects[0]);
}

Result<Object> Store::GuaranteedUpdate(const std::string& key,
                                       const std::function<Status(json&)>& fn) {
  for (int attempt = 0;; ++attempt) {
    KVOL_ASSIGN_OR_RETURN(Object cur, Get(key));
    json edited = cur.value;
    KVOL_RETURN_IF_ERROR(fn(edited));
    if (StripResourceVersion(edited) == StripResourceVersion(cur.value)) return cur;
    Result<TxnResult> r = Txn({Op::Update(key, std::move(edited), cur.modRevision)});
    if (r.ok()) return std::move(r->objects[0]);
    if (!r.status().IsConflict() || attempt >= 1000) return r.status();
  }
}

std::vector<Result<TxnResult>> Store::TxnBatchShared(std::vector<std::vector<Op>> txns) {
  std::vector<Result<TxnResult>> results = TxnBatch(std::move(txns));
  for (auto& r : results) {
    if (!r.ok()) continue;
    r->shared.reserve(r->objects.size());
    for (auto& o : r->objects) r->shared.push_back(std::make_shared<const Object>(std::move(o)));
    r->objects.clear();
  }
  return results;
}

Result<SharedList> Store::ListShared(const std::string& prefix) {
  ListOptions lo;
  lo.prefix = prefix;
  KVOL_ASSIGN_OR_RETURN(ListResult lr, List(lo));
  SharedList out;
  out.revision = lr.revision;
  out.items.reserve(lr.items.size());
  for (auto& o : lr.items) out.items.push_back(std::make_shared<const Object>(std::move(o)));
  return out;
}

Status Store::CompactKeepingLast(Revision keep) {
  if (keep < 0) return BadRequest("CompactKeepingLast: keep must be >= 0");
  Revision target = CurrentRevision() - keep;
  if (target <= CompactedRevision()) return Status::Ok();
  return Compact(target);
}

}  // namespace kvol::store
