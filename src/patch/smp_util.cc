#include "smp_util.h"

#include <algorithm>
#include <climits>

#include "smp_merge.h"

namespace kvol::patch::internal {

Status ErrBadPatchFormatForPrimitiveList() {
  return BadRequest("invalid patch format of primitive list");
}
Status ErrBadPatchFormatForRetainKeys() { return BadRequest("invalid patch format of retainKeys"); }
Status ErrBadPatchFormatForSetElementOrderList() {
  return BadRequest("invalid patch format of setElementOrder list");
}
Status ErrNoListOfLists() { return Invalid("lists of lists are not supported"); }
Status ErrNoMergeKey(const json& m, const std::string& key) {
  return Internal("map: " + Short(m) + " does not contain declared merge key: " + key);
}
Status ErrBadArgType(const char* expected, const json& actual) {
  return Internal(std::string("expected a ") + expected + ", but received a " + actual.type_name());
}
Status ErrBadPatchType(const json& type, const json& m) {
  return Internal("unknown patch type: " + ScalarText(type) + " in map: " + Short(m));
}

std::string Short(const json& v) {
  std::string s = v.dump(-1, ' ', false, json::error_handler_t::replace);
  if (s.size() > 256) s = s.substr(0, 253) + "...";
  return s;
}

std::string ScalarText(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "<nil>";
  return v.dump(-1, ' ', false, json::error_handler_t::replace);
}

bool IsDeleteDirective(const json& v) {
  if (!v.is_object()) return false;
  auto d = v.find(kDirectiveMarker);
  return d != v.end() && *d == "delete";
}

Result<bool> MergeKeyValueEqual(const json& a, const json& b, const std::string& mergeKey) {
  if (mergeKey.empty()) return a == b;
  if (!a.is_object()) return ErrBadArgType("map[string]interface {}", a);
  if (!b.is_object()) return ErrBadArgType("map[string]interface {}", b);
  auto ka = a.find(mergeKey);
  if (ka == a.end()) return ErrNoMergeKey(a, mergeKey);
  auto kb = b.find(mergeKey);
  if (kb == b.end()) return ErrNoMergeKey(b, mergeKey);
  return *ka == *kb;
}

namespace {
json::value_t Norm(json::value_t t) {
  if (t == json::value_t::number_unsigned || t == json::value_t::number_float)
    return json::value_t::number_integer;
  return t;
}
}  // namespace

Result<json::value_t> ElementKind(std::initializer_list<const json*> lists) {
  bool any = false;
  json::value_t kind = json::value_t::null;
  for (const json* l : lists) {
    if (!l->is_array()) continue;
    for (const json& v : *l) {
      json::value_t t = Norm(v.type());
      if (!any) {
        if (t == json::value_t::array) return ErrNoListOfLists();
        kind = t;
        any = true;
      } else if (t != kind) {
        return Internal("list element types are not identical");
      }
    }
  }
  if (!any) return Internal("no elements in any of the given slices");
  return kind;
}

namespace {
// The value an item is located by: its merge key value for maps, itself otherwise.
const json* LookupValue(const json& item, const std::string& mergeKey, bool maps) {
  static const json kNull;
  if (!maps) return &item;
  if (!item.is_object()) return &kNull;
  auto it = item.find(mergeKey);
  return it == item.end() ? &kNull : &*it;
}

int IndexIn(const json& list, const json& item, const std::string& mergeKey, bool maps) {
  const json* want = LookupValue(item, mergeKey, maps);
  for (size_t i = 0; i < list.size(); ++i)
    if (*LookupValue(list[i], mergeKey, maps) == *want) return static_cast<int>(i);
  return -1;
}
}  // namespace

Status Partition(const json& items, const json& by, const std::string& mergeKey, bool maps,
                 std::vector<json>* present, std::vector<json>* absent) {
  for (const json& v : items) {
    if (maps) {
      if (!v.is_object()) return ErrBadArgType("map[string]interface {}", v);
      auto key = v.find(mergeKey);
      if (key == v.end()) return ErrNoMergeKey(v, mergeKey);
      bool found = false;
      for (const json& b : by) {
        if (!b.is_object()) return Internal("value for key is not a map.");
        auto bk = b.find(mergeKey);
        if (bk != b.end() && *bk == *key) {
          found = true;
          break;
        }
      }
      (found ? present : absent)->push_back(v);
    } else {
      bool found = std::find(by.begin(), by.end(), v) != by.end();
      (found ? present : absent)->push_back(v);
    }
  }
  return Status::Ok();
}

Result<std::vector<json>> NormalizeSliceOrder(std::vector<json> toSort, const json& order,
                                              const std::string& mergeKey, bool maps) {
  std::vector<json> toDelete;
  if (maps) {
    for (const json& v : toSort) {
      if (!v.is_object()) return ErrBadArgType("map[string]interface {}", v);
      if (!v.contains(mergeKey)) return ErrNoMergeKey(v, mergeKey);
    }
    for (const json& v : order) {
      if (!v.is_object()) return ErrBadArgType("map[string]interface {}", v);
      if (!v.contains(mergeKey)) return ErrNoMergeKey(v, mergeKey);
    }
    std::vector<json> keep;
    for (json& v : toSort) (IsDeleteDirective(v) ? toDelete : keep).push_back(std::move(v));
    toSort = std::move(keep);
  }
  std::vector<std::pair<int, size_t>> idx;  // (position in order, original position)
  for (size_t i = 0; i < toSort.size(); ++i) {
    int p = IndexIn(order, toSort[i], mergeKey, maps);
    idx.emplace_back(p < 0 ? INT_MAX : p, i);
  }
  std::stable_sort(idx.begin(), idx.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<json> out;
  out.reserve(toSort.size() + toDelete.size());
  for (const auto& [p, i] : idx) out.push_back(std::move(toSort[i]));
  for (json& v : toDelete) out.push_back(std::move(v));
  return out;
}

Result<json> NormalizeElementOrder(std::vector<json> patchItems, std::vector<json> serverOnly,
                                   const json& patchOrder, const json& serverOrder,
                                   const std::string& mergeKey, bool maps) {
  KVOL_ASSIGN_OR_RETURN(auto right,
                        NormalizeSliceOrder(std::move(patchItems), patchOrder, mergeKey, maps));
  KVOL_ASSIGN_OR_RETURN(auto left,
                        NormalizeSliceOrder(std::move(serverOnly), serverOrder, mergeKey, maps));
  // Insert the server-only items (left) among the patch items (right): a server-only item goes
  // first only when both are known to the live list and it comes earlier there.
  json out = json::array();
  size_t i = 0, j = 0;
  while (i < left.size() || j < right.size()) {
    if (i >= left.size()) {
      out.push_back(std::move(right[j++]));
    } else if (j >= right.size()) {
      out.push_back(std::move(left[i++]));
    } else {
      int li = IndexIn(serverOrder, left[i], mergeKey, maps);
      int ri = IndexIn(serverOrder, right[j], mergeKey, maps);
      if (li >= 0 && ri >= 0 && li < ri) {
        out.push_back(std::move(left[i++]));
      } else {
        out.push_back(std::move(right[j++]));
      }
    }
  }
  return out;
}

}  // namespace kvol::patch::internal
