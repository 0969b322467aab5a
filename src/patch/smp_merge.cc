// Strategic merge patch: the merge of a patch into an original (strategicpatch.mergeMap and
// friends). Error codes follow kube-apiserver's interpretStrategicMergePatchError: malformed
// directives are 400, lists of lists / retainKeys mismatches 422, everything else 500.
#include "smp_merge.h"

#include <algorithm>
#include <climits>
#include <string>
#include <utility>
#include <vector>

#include "smp_util.h"

namespace kvol::patch::internal {
namespace {

constexpr int kMaxDepth = 256;

bool HasPrefix(const std::string& key, std::string_view prefix) {
  return key.compare(0, prefix.size(), prefix) == 0;
}

// The field name behind "<prefix>/<field>".
Result<std::string> ExtractKey(const std::string& key, std::string_view prefix) {
  auto slash = key.find('/');
  if (slash == std::string::npos || key.compare(0, slash, prefix) != 0) {
    if (prefix == kDeleteFromPrimitiveListPrefix) return ErrBadPatchFormatForPrimitiveList();
    return ErrBadPatchFormatForSetElementOrderList();
  }
  return key.substr(slash + 1);
}

const TypeSchema& Sub(const FieldMeta& f) { return f.type ? *f.type : EmptySchema(); }

class Merger {
 public:
  explicit Merger(const MergeOptions& o) : opts_(o) {}

  Result<json> Map(json original, json patch, const TypeSchema& schema, int depth);

 private:
  Result<json> Fresh(const json& patchV, const FieldMeta& f, int depth);
  Status RetainKeys(json& original, json& patch);
  Status SetElementOrder(json& original, json& patch, const TypeSchema& schema, int depth);
  Result<json> Slice(json original, json patch, const FieldMeta& f, int depth);
  Status SpecialElements(std::vector<json>& original, std::vector<json>& patch,
                         const std::string& mergeKey, const FieldMeta& f, int depth);

  MergeOptions opts_;
};

// A value newly added from the patch: server-side its directives and nulls are processed
// against an empty original, so none is stored.
Result<json> Merger::Fresh(const json& patchV, const FieldMeta& f, int depth) {
  if (!opts_.server) return patchV;
  if (patchV.is_object()) return Map(json::object(), patchV, Sub(f), depth + 1);
  if (patchV.is_array() && f.merge) return Slice(json::array(), patchV, f, depth + 1);
  return patchV;
}

Status Merger::RetainKeys(json& original, json& patch) {
  auto it = patch.find(kRetainKeys);
  if (it == patch.end()) return Status::Ok();
  json retain = *it;
  patch.erase(it);
  if (!opts_.server) {
    auto o = original.find(kRetainKeys);
    if (o == original.end()) {
      original[kRetainKeys] = retain;
    } else if (*o != retain) {
      return Internal(Short(*o) + " and " + Short(retain) +
                      " are not deep equal: this may happen when calculating the 3-way diff patch");
    }
    return Status::Ok();
  }
  if (!retain.is_array()) return ErrBadPatchFormatForRetainKeys();
  auto retained = [&](const std::string& k) {
    return std::any_of(retain.begin(), retain.end(), [&](const json& v) {
      return v.is_string() && v.get_ref<const std::string&>() == k;
    });
  };
  for (auto p = patch.begin(); p != patch.end(); ++p) {
    if (p->is_null() || HasPrefix(p.key(), kDeleteFromPrimitiveListPrefix) ||
        HasPrefix(p.key(), kSetElementOrderPrefix))
      continue;
    if (!retained(p.key())) return ErrBadPatchFormatForRetainKeys();
  }
  std::vector<std::string> drop;
  for (auto o = original.begin(); o != original.end(); ++o)
    if (!retained(o.key())) drop.push_back(o.key());
  for (const auto& k : drop) original.erase(k);
  return Status::Ok();
}

// Checks that the non-deleted items of the patch list appear in the same relative order as
// in the $setElementOrder list.
Status ValidateWithSetOrder(const json& patchList, const json& order, const std::string& mergeKey) {
  if (order.empty() || patchList.empty()) return Status::Ok();
  std::vector<json> nonDelete;
  for (const json& v : patchList) {
    if (!mergeKey.empty()) {
      if (!v.is_object()) return ErrBadArgType("map[string]interface {}", v);
      if (IsDeleteDirective(v)) continue;
    }
    nonDelete.push_back(v);
  }
  size_t pi = 0, si = 0;
  while (pi < nonDelete.size() && si < order.size()) {
    if (nonDelete[pi].is_object() && nonDelete[pi].contains(kDirectiveMarker)) {
      ++pi;
      continue;
    }
    auto eq = MergeKeyValueEqual(nonDelete[pi], order[si], mergeKey);
    if (!eq.ok()) return eq.status();
    if (*eq) ++pi;
    ++si;
  }
  if (pi < nonDelete.size() && si >= order.size())
    return Internal("The order in patch list:\n" + Short(patchList) + "\n doesn't match " +
                    kSetElementOrderPrefix + " list:\n" + Short(order) + "\n");
  return Status::Ok();
}

Status Merger::SetElementOrder(json& original, json& patch, const TypeSchema& schema, int depth) {
  std::vector<std::string> keys;
  for (auto it = patch.begin(); it != patch.end(); ++it)
    if (it.key().rfind(kSetElementOrderPrefix, 0) == 0) keys.push_back(it.key());
  for (const std::string& key : keys) {
    json order = patch[key];
    if (!opts_.server) {
      auto o = original.find(key);
      if (o == original.end()) {
        original[key] = order;
      } else if (*o != order) {
        return ErrBadPatchFormatForSetElementOrderList();
      }
    }
    patch.erase(key);
    if (!order.is_array()) return ErrBadArgType("[]interface {}", order);
    auto name = ExtractKey(key, kSetElementOrderPrefix);
    if (!name.ok()) return name.status();
    auto oIt = original.find(*name);
    auto pIt = patch.find(*name);
    bool foundOriginal = oIt != original.end(), foundPatch = pIt != patch.end();
    json origList = foundOriginal ? *oIt : json::array();
    json patchList = foundPatch ? *pIt : json::array();
    if (!origList.is_array()) return ErrBadArgType("[]interface {}", origList);
    if (!patchList.is_array()) return ErrBadArgType("[]interface {}", patchList);
    const FieldMeta& f = schema.Field(*name);
    KVOL_RETURN_IF_ERROR(ValidateWithSetOrder(patchList, order, f.mergeKey));
    if (!foundOriginal && !foundPatch) continue;
    json merged;
    if (foundOriginal && !foundPatch) {
      merged = origList;
    } else if (!foundOriginal) {
      KVOL_ASSIGN_OR_RETURN(merged, Fresh(patchList, f, depth));
    } else if (f.merge) {
      KVOL_ASSIGN_OR_RETURN(merged, Slice(origList, patchList, f, depth + 1));
    } else {
      merged = patchList;
    }
    if (f.merge && !merged.empty()) {
      auto kind = ElementKind({&origList, &patchList});
      if (!kind.ok()) return kind.status();
      bool maps = !f.mergeKey.empty();
      std::vector<json> patchItems, serverOnly;
      KVOL_RETURN_IF_ERROR(Partition(merged, order, f.mergeKey, maps, &patchItems, &serverOnly));
      KVOL_ASSIGN_OR_RETURN(
          merged, NormalizeElementOrder(std::move(patchItems), std::move(serverOnly), order,
                                        origList, f.mergeKey, maps));
    }
    original[*name] = std::move(merged);
    patch.erase(*name);
  }
  return Status::Ok();
}

Status Merger::SpecialElements(std::vector<json>& original, std::vector<json>& patch,
                               const std::string& mergeKey, const FieldMeta& f, int depth) {
  std::vector<json> rest;
  bool replace = false;
  for (json& v : patch) {
    auto d = v.find(kDirectiveMarker);
    if (d == v.end()) {
      rest.push_back(std::move(v));
      continue;
    }
    if (*d == "delete") {
      auto key = v.find(mergeKey);
      if (key == v.end()) return ErrNoMergeKey(v, mergeKey);
      json keyValue = *key;
      original.erase(std::remove_if(original.begin(), original.end(),
                                    [&](const json& o) {
                                      auto k = o.find(mergeKey);
                                      return k != o.end() && *k == keyValue;
                                    }),
                     original.end());
    } else if (*d == "replace") {
      replace = true;
    } else if (*d == "merge") {
      return Internal("merging lists cannot yet be specified in the patch");
    } else {
      return ErrBadPatchType(*d, v);
    }
  }
  if (replace) {
    original.clear();
    for (json& v : rest) {
      if (opts_.server) {
        KVOL_ASSIGN_OR_RETURN(v, Map(json::object(), std::move(v), Sub(f), depth + 1));
      }
      original.push_back(std::move(v));
    }
    patch.clear();
  } else {
    patch = std::move(rest);
  }
  return Status::Ok();
}

Result<json> Merger::Slice(json original, json patch, const FieldMeta& f, int depth) {
  if (depth > kMaxDepth) return BadRequest("patch is nested too deeply");
  if (original.empty() && patch.empty()) return original;
  auto kind = ElementKind({&original, &patch});
  if (!kind.ok()) return kind.status();
  const std::string& mergeKey = f.mergeKey;
  bool maps = *kind == json::value_t::object;
  std::vector<json> orig(original.begin(), original.end());
  std::vector<json> pat(patch.begin(), patch.end());
  std::vector<json> merged;
  if (!maps) {
    merged = orig;
    for (const json& v : pat)
      if (std::find(merged.begin(), merged.end(), v) == merged.end()) merged.push_back(v);
  } else {
    if (mergeKey.empty()) return Internal("cannot merge lists without merge key for type map");
    KVOL_RETURN_IF_ERROR(SpecialElements(orig, pat, mergeKey, f, depth));
    merged = orig;
    for (json& v : pat) {
      auto key = v.find(mergeKey);
      if (key == v.end()) return ErrNoMergeKey(v, mergeKey);
      auto found = merged.end();
      for (auto m = merged.begin(); m != merged.end(); ++m) {
        if (!m->is_object()) return Internal("value for key is not a map.");
        auto mk = m->find(mergeKey);
        if (mk != m->end() && *mk == *key) {
          found = m;
          break;
        }
      }
      if (found != merged.end()) {
        KVOL_ASSIGN_OR_RETURN(*found, Map(std::move(*found), v, Sub(f), depth + 1));
      } else if (opts_.server) {
        KVOL_ASSIGN_OR_RETURN(json fresh, Map(json::object(), v, Sub(f), depth + 1));
        merged.push_back(std::move(fresh));
      } else {
        merged.push_back(v);
      }
    }
  }
  json patchOrder(pat);
  json serverOrder(orig);
  std::vector<json> patchItems, serverOnly;
  KVOL_RETURN_IF_ERROR(Partition(json(merged), patchOrder, mergeKey, maps && !mergeKey.empty(),
                                 &patchItems, &serverOnly));
  return NormalizeElementOrder(std::move(patchItems), std::move(serverOnly), patchOrder,
                               serverOrder, mergeKey, maps && !mergeKey.empty());
}

Result<json> Merger::Map(json original, json patch, const TypeSchema& schema, int depth) {
  if (depth > kMaxDepth) return BadRequest("patch is nested too deeply");
  if (!patch.is_object()) return ErrBadArgType("map[string]interface {}", patch);
  if (auto d = patch.find(kDirectiveMarker); d != patch.end()) {
    if (*d == "replace") {
      patch.erase(d);
      if (!opts_.server) return patch;
      return Map(json::object(), std::move(patch), schema, depth + 1);
    }
    if (*d == "delete") return json::object();
    return ErrBadPatchType(*d, patch);
  }
  if (!original.is_object()) original = json::object();
  KVOL_RETURN_IF_ERROR(RetainKeys(original, patch));
  KVOL_RETURN_IF_ERROR(SetElementOrder(original, patch, schema, depth));

  for (auto it = patch.begin(); it != patch.end(); ++it) {
    std::string k = it.key();
    const json& patchV = *it;
    bool isDeleteList = false;
    if (HasPrefix(k, kDeleteFromPrimitiveListPrefix)) {
      if (!opts_.server) {
        original[k] = patchV;
        continue;
      }
      KVOL_ASSIGN_OR_RETURN(k, ExtractKey(k, kDeleteFromPrimitiveListPrefix));
      isDeleteList = true;
    }
    if (patchV.is_null()) {
      original.erase(k);
      if (opts_.server) continue;
    }
    const FieldMeta& f = schema.Field(k);
    auto o = original.find(k);
    if (o == original.end()) {
      if (!isDeleteList) {
        KVOL_ASSIGN_OR_RETURN(original[k], Fresh(patchV, f, depth));
      }
      continue;
    }
    if (isDeleteList) {
      if (!o->is_array() || !patchV.is_array()) return ErrBadPatchFormatForPrimitiveList();
      json kept = json::array();
      for (const json& v : *o) {
        if (v.is_object() || v.is_array()) return ErrBadPatchFormatForPrimitiveList();
        if (std::find(patchV.begin(), patchV.end(), v) == patchV.end()) kept.push_back(v);
      }
      *o = std::move(kept);
      continue;
    }
    if (o->is_object() && patchV.is_object()) {
      if (f.replace) {
        KVOL_ASSIGN_OR_RETURN(*o, Fresh(patchV, f, depth));
      } else {
        KVOL_ASSIGN_OR_RETURN(*o, Map(std::move(*o), patchV, Sub(f), depth + 1));
      }
    } else if (o->is_array() && patchV.is_array()) {
      if (f.merge) {
        KVOL_ASSIGN_OR_RETURN(*o, Slice(std::move(*o), patchV, f, depth + 1));
      } else {
        *o = patchV;
      }
    } else {
      KVOL_ASSIGN_OR_RETURN(*o, Fresh(patchV, f, depth));
    }
  }
  return original;
}

}  // namespace

Result<json> MergeMap(json original, json patch, const TypeSchema& schema, const MergeOptions& opts,
                      int depth) {
  return Merger(opts).Map(std::move(original), std::move(patch), schema, depth);
}

}  // namespace kvol::patch::internal
