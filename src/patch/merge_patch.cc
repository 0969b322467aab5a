// RFC 7386 JSON merge patch: apply and create.
#include <exception>

#include "kvol/patch/patch.h"

namespace kvol::patch {
namespace {

constexpr int kMaxDepth = 256;

bool Merge(json& target, const json& patch, int depth) {
  if (depth > kMaxDepth) return false;
  if (!patch.is_object()) {
    target = patch;
    return true;
  }
  if (!target.is_object()) target = json::object();
  for (auto it = patch.begin(); it != patch.end(); ++it) {
    if (it->is_null()) {
      target.erase(it.key());
    } else if (!Merge(target[it.key()], *it, depth + 1)) {
      return false;
    }
  }
  return true;
}

json Diff(const json& from, const json& to) {
  if (!from.is_object() || !to.is_object()) return to;
  json patch = json::object();
  for (auto it = from.begin(); it != from.end(); ++it)
    if (!to.contains(it.key())) patch[it.key()] = nullptr;
  for (auto it = to.begin(); it != to.end(); ++it) {
    auto old = from.find(it.key());
    if (old == from.end()) {
      patch[it.key()] = *it;
    } else if (*old != *it) {
      if (old->is_object() && it->is_object()) {
        patch[it.key()] = Diff(*old, *it);
      } else {
        patch[it.key()] = *it;
      }
    }
  }
  return patch;
}

}  // namespace

Result<json> ApplyMergePatch(const json& target, const json& patch) {
  try {
    json out = target;
    if (!Merge(out, patch, 0)) return BadRequest("merge patch is nested too deeply");
    return out;
  } catch (const std::exception& e) {
    return BadRequest(std::string("invalid merge patch: ") + e.what());
  }
}

json CreateMergePatch(const json& from, const json& to) {
  if (from == to && from.is_object()) return json::object();
  return Diff(from, to);
}

}  // namespace kvol::patch
