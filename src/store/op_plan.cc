#include "kvol/store/op_plan.h"

namespace kvol::store {
namespace {

std::string Quoted(const std::string& key) { return "key \"" + key + "\""; }

bool IsObjectValue(const json& v) { return v.is_object(); }

}  // namespace

json StripResourceVersion(json v) {
  if (v.is_object()) {
    auto m = v.find("metadata");
    if (m != v.end() && m->is_object()) m->erase("resourceVersion");
  }
  return v;
}

void SetResourceVersion(json& v, Revision rev) {
  if (!v.is_object()) return;
  json& m = v["metadata"];
  if (!m.is_object()) m = json::object();
  m["resourceVersion"] = std::to_string(rev);
}

bool HasFinalizers(const json& v) {
  if (!v.is_object()) return false;
  auto m = v.find("metadata");
  if (m == v.end() || !m->is_object()) return false;
  auto f = m->find("finalizers");
  return f != m->end() && f->is_array() && !f->empty();
}

bool HasDeletionTimestamp(const json& v) {
  if (!v.is_object()) return false;
  auto m = v.find("metadata");
  if (m == v.end() || !m->is_object()) return false;
  auto d = m->find("deletionTimestamp");
  return d != m->end() && d->is_string() && !d->get_ref<const std::string&>().empty();
}

bool GracePeriodIsZero(const json& v) {
  auto m = v.find("metadata");
  if (m == v.end() || !m->is_object()) return true;
  auto g = m->find("deletionGracePeriodSeconds");
  return g == m->end() || !g->is_number_integer() || g->get<int64_t>() == 0;
}

std::string PrefixEnd(const std::string& prefix) {
  std::string end = prefix;
  while (!end.empty()) {
    if (uint8_t(end.back()) != 0xff) {
      end.back() = char(uint8_t(end.back()) + 1);
      return end;
    }
    end.pop_back();
  }
  return "\xff";
}

namespace {

// `take`: when set, op.value's storage, moved into the plan instead of copied.
Result<PlannedWrite> Plan(const Op& op, const Object* current, const std::string& now, json* take) {
  PlannedWrite w;
  if (op.key.empty()) return BadRequest("empty key");
  auto checkRevision = [&]() -> Status {
    if (op.expectedRevision != kAnyRevision && op.expectedRevision != current->modRevision) {
      return Conflict(Quoted(op.key) + ": the object has been modified (expected resourceVersion " +
                      std::to_string(op.expectedRevision) + ", current " +
                      std::to_string(current->modRevision) + ")");
    }
    return Status::Ok();
  };
  switch (op.type) {
    case Op::Type::kCreate:
      if (!IsObjectValue(op.value))
        return BadRequest(Quoted(op.key) + ": value must be a JSON object");
      if (current) return AlreadyExists(Quoted(op.key) + " already exists");
      w.kind = PlannedWrite::Kind::kPut;
      w.created = true;
      w.value = StripResourceVersion(take ? std::move(*take) : op.value);
      return w;
    case Op::Type::kUpdate:
      if (!IsObjectValue(op.value))
        return BadRequest(Quoted(op.key) + ": value must be a JSON object");
      if (!current) return NotFound(Quoted(op.key) + " not found");
      KVOL_RETURN_IF_ERROR(checkRevision());
      w.value = StripResourceVersion(take ? std::move(*take) : op.value);
      // Kubernetes' shouldDeleteDuringUpdate: an update that removes the last finalizer of an
      // object marked for deletion with no grace period left deletes it. A graceful deletion
      // (a pod with deletionGracePeriodSeconds > 0 and no finalizers) stays until deleted again.
      w.kind = (HasDeletionTimestamp(w.value) && !HasFinalizers(w.value) &&
                HasFinalizers(current->value) && GracePeriodIsZero(w.value))
                   ? PlannedWrite::Kind::kDelete
                   : PlannedWrite::Kind::kPut;
      return w;
    case Op::Type::kDelete:
      if (!current) return NotFound(Quoted(op.key) + " not found");
      KVOL_RETURN_IF_ERROR(checkRevision());
      w.value = StripResourceVersion(current->value);
      if (op.force || !HasFinalizers(w.value)) {
        w.kind = PlannedWrite::Kind::kDelete;
        return w;
      }
      if (HasDeletionTimestamp(w.value)) {
        w.kind = PlannedWrite::Kind::kNone;  // already marked: waiting for its finalizers
        return w;
      }
      {
        json& m = w.value["metadata"];
        m["deletionTimestamp"] = now;
        m["deletionGracePeriodSeconds"] = 0;
        auto g = m.find("generation");
        if (g != m.end() && g->is_number_integer() && g->get<int64_t>() > 0)
          *g = g->get<int64_t>() + 1;
      }
      w.kind = PlannedWrite::Kind::kPut;
      return w;
  }
  return Internal("unknown op type");
}

}  // namespace

Result<PlannedWrite> PlanOp(const Op& op, const Object* current, const std::string& now) {
  return Plan(op, current, now, nullptr);
}

Result<PlannedWrite> PlanOp(Op&& op, const Object* current, const std::string& now) {
  return Plan(op, current, now, &op.value);
}

}  // namespace kvol::store
