// Three-way strategic merge patch computation, as kubectl's client-side apply does it
// (strategicpatch.CreateThreeWayMergePatch with overwrite): the changes from current to
// modified (no deletions) merged onto the deletions from original (last-applied) to modified.
#include <algorithm>
#include <exception>
#include <string>
#include <vector>

#include "kvol/patch/patch.h"
#include "smp_merge.h"
#include "smp_schema.h"
#include "smp_util.h"

namespace kvol::patch {
namespace {

using internal::FieldMeta;
using internal::TypeSchema;

constexpr int kMaxDepth = 256;

struct DiffOptions {
  bool setElementOrder = true;
  bool ignoreChangesAndAdditions = false;
  bool ignoreDeletions = false;
  bool buildRetainKeys = false;
};

json::value_t Norm(json::value_t t) {
  if (t == json::value_t::number_unsigned || t == json::value_t::number_float)
    return json::value_t::number_integer;
  return t;
}

const TypeSchema& Sub(const FieldMeta& f) { return f.type ? *f.type : internal::EmptySchema(); }

Result<json> DiffMaps(const json& original, const json& modified, const TypeSchema& t,
                      DiffOptions o, int depth);

// Sorted copy of a list of maps by the text of their merge key.
Result<std::vector<json>> SortByKey(const json& list, const std::string& mergeKey) {
  std::vector<json> out;
  for (const json& v : list) {
    if (!v.is_object()) return internal::ErrBadArgType("map[string]interface {}", v);
    if (!v.contains(mergeKey)) return internal::ErrNoMergeKey(v, mergeKey);
    out.push_back(v);
  }
  std::stable_sort(out.begin(), out.end(), [&](const json& a, const json& b) {
    return internal::ScalarText(a[mergeKey]) < internal::ScalarText(b[mergeKey]);
  });
  return out;
}

Status DiffListsOfMaps(const json& original, const json& modified, const TypeSchema& t,
                       const std::string& mergeKey, const DiffOptions& o, int depth,
                       std::vector<json>* patch, std::vector<json>* deletions) {
  KVOL_ASSIGN_OR_RETURN(auto os, SortByKey(original, mergeKey));
  KVOL_ASSIGN_OR_RETURN(auto ms, SortByKey(modified, mergeKey));
  size_t oi = 0, mi = 0;
  while (oi < os.size() || mi < ms.size()) {
    bool oin = oi < os.size(), min = mi < ms.size();
    std::string ok = oin ? internal::ScalarText(os[oi][mergeKey]) : "";
    std::string mk = min ? internal::ScalarText(ms[mi][mergeKey]) : "";
    if (oin && min && ok == mk) {
      KVOL_ASSIGN_OR_RETURN(json pv, DiffMaps(os[oi], ms[mi], t, o, depth + 1));
      if (!pv.empty()) {
        pv[mergeKey] = ms[mi][mergeKey];
        patch->push_back(std::move(pv));
      }
      ++oi;
      ++mi;
    } else if (!oin || (min && ok > mk)) {
      if (!o.ignoreChangesAndAdditions) patch->push_back(ms[mi]);
      ++mi;
    } else {
      if (!o.ignoreDeletions)
        deletions->push_back(json{{mergeKey, os[oi][mergeKey]}, {"$patch", "delete"}});
      ++oi;
    }
  }
  return Status::Ok();
}

void DiffListsOfScalars(const json& original, const json& modified, const DiffOptions& o,
                        std::vector<json>* add, std::vector<json>* del) {
  auto sorted = [](const json& l) {
    std::vector<json> v(l.begin(), l.end());
    std::stable_sort(v.begin(), v.end(), [](const json& a, const json& b) {
      return internal::ScalarText(a) < internal::ScalarText(b);
    });
    return v;
  };
  std::vector<json> os = sorted(original), ms = sorted(modified);
  size_t oi = 0, mi = 0;
  while (oi < os.size() || mi < ms.size()) {
    bool oin = oi < os.size(), min = mi < ms.size();
    std::string a = oin ? internal::ScalarText(os[oi]) : "";
    std::string b = min ? internal::ScalarText(ms[mi]) : "";
    if (oin && min && a == b) {
      ++oi;
      ++mi;
    } else if (!oin || (min && a > b)) {
      if (!o.ignoreChangesAndAdditions) add->push_back(ms[mi]);
      ++mi;
    } else {
      if (!o.ignoreDeletions && std::find(del->begin(), del->end(), os[oi]) == del->end())
        del->push_back(os[oi]);
      ++oi;
    }
  }
}

Result<bool> IsOrderSame(const json& original, const json& modified, const std::string& key) {
  if (original.size() != modified.size()) return false;
  for (size_t i = 0; i < modified.size(); ++i) {
    KVOL_ASSIGN_OR_RETURN(bool eq, internal::MergeKeyValueEqual(original[i], modified[i], key));
    if (!eq) return false;
  }
  return true;
}

// The merge-strategy diff of one list: additions/changes, primitive deletions, element order.
Status DiffLists(const json& original, const json& modified, const FieldMeta& f,
                 const DiffOptions& o, int depth, json* patchList, json* deleteList,
                 json* setOrder) {
  *patchList = json::array();
  *deleteList = json::array();
  *setOrder = json::array();
  if (original.empty()) {
    if (!modified.empty() && !o.ignoreChangesAndAdditions) *patchList = modified;
    return Status::Ok();
  }
  KVOL_ASSIGN_OR_RETURN(json::value_t kind, internal::ElementKind({&original, &modified}));
  if (kind == json::value_t::object) {
    std::vector<json> patch, dels;
    KVOL_RETURN_IF_ERROR(
        DiffListsOfMaps(original, modified, Sub(f), f.mergeKey, o, depth, &patch, &dels));
    KVOL_ASSIGN_OR_RETURN(
        patch, internal::NormalizeSliceOrder(std::move(patch), modified, f.mergeKey, true));
    KVOL_ASSIGN_OR_RETURN(bool orderSame, IsOrderSame(original, modified, f.mergeKey));
    for (json& d : dels) patch.push_back(std::move(d));
    if (o.setElementOrder && ((!o.ignoreChangesAndAdditions && (!patch.empty() || !orderSame)) ||
                              (!o.ignoreDeletions && !patch.empty()))) {
      for (const json& m : modified) setOrder->push_back(json{{f.mergeKey, m[f.mergeKey]}});
    }
    *patchList = json(patch);
    return Status::Ok();
  }
  std::vector<json> add, del;
  DiffListsOfScalars(original, modified, o, &add, &del);
  KVOL_ASSIGN_OR_RETURN(add, internal::NormalizeSliceOrder(std::move(add), modified, "", false));
  if (o.setElementOrder && ((!o.ignoreDeletions && !del.empty()) ||
                            (!o.ignoreChangesAndAdditions && original != modified)))
    *setOrder = modified;
  *patchList = json(add);
  *deleteList = json(del);
  return Status::Ok();
}

Result<json> DiffMaps(const json& original, const json& modified, const TypeSchema& t,
                      DiffOptions o, int depth) {
  if (depth > kMaxDepth) return BadRequest("object is nested too deeply");
  json patch = json::object();
  std::vector<json> retainKeys;
  for (auto it = modified.begin(); it != modified.end(); ++it) {
    const std::string& key = it.key();
    const json& mv = *it;
    if (o.buildRetainKeys && !mv.is_null()) retainKeys.push_back(key);
    auto oit = original.find(key);
    if (oit == original.end()) {
      if (!o.ignoreChangesAndAdditions) patch[key] = mv;
      continue;
    }
    const json& ov = *oit;
    if (key == internal::kDirectiveMarker) {
      if (!ov.is_string() || !mv.is_string())
        return Internal("invalid value for special key: $patch");
      if (ov != mv) patch[key] = mv;
      continue;
    }
    if (Norm(ov.type()) != Norm(mv.type())) {
      if (!o.ignoreChangesAndAdditions) patch[key] = mv;
      continue;
    }
    const FieldMeta& f = t.Field(key);
    if (ov.is_object()) {
      DiffOptions sub = o;
      sub.buildRetainKeys = f.retainKeys;
      if (f.replace) {
        if (!o.ignoreChangesAndAdditions && ov != mv) patch[key] = mv;
      } else {
        KVOL_ASSIGN_OR_RETURN(json pv, DiffMaps(ov, mv, Sub(f), sub, depth + 1));
        if (!pv.empty()) patch[key] = std::move(pv);
      }
    } else if (ov.is_array() && f.merge) {
      DiffOptions sub = o;
      sub.buildRetainKeys = f.retainKeys;
      json add, del, order;
      KVOL_RETURN_IF_ERROR(DiffLists(ov, mv, f, sub, depth + 1, &add, &del, &order));
      if (!add.empty()) patch[key] = std::move(add);
      if (!del.empty())
        patch[std::string(internal::kDeleteFromPrimitiveListPrefix) + "/" + key] = del;
      if (!order.empty()) patch[std::string(internal::kSetElementOrderPrefix) + "/" + key] = order;
    } else if (!o.ignoreChangesAndAdditions && ov != mv) {
      patch[key] = mv;
    }
  }
  if (!o.ignoreDeletions) {
    for (auto it = original.begin(); it != original.end(); ++it)
      if (!modified.contains(it.key())) patch[it.key()] = nullptr;
  }
  if (!retainKeys.empty()) {
    bool additional = false;
    for (auto it = original.begin(); it != original.end(); ++it)
      if (!it->is_null() && !modified.contains(it.key())) additional = true;
    if (!patch.empty() || additional) {
      std::stable_sort(retainKeys.begin(), retainKeys.end(), [](const json& a, const json& b) {
        return a.get_ref<const std::string&>() < b.get_ref<const std::string&>();
      });
      patch[internal::kRetainKeys] = retainKeys;
    }
  }
  return patch;
}

}  // namespace

Result<json> CreateThreeWayStrategicPatch(const json& original, const json& modified,
                                          const json& current, std::string_view apiVersion,
                                          std::string_view kind) {
  try {
    json orig = original.is_null() ? json::object() : original;
    json cur = current.is_null() ? json::object() : current;
    if (!orig.is_object() || !modified.is_object() || !cur.is_object())
      return BadRequest("invalid JSON document");
    const TypeSchema& schema = internal::SchemaFor(apiVersion, kind);
    DiffOptions deltaOpts;
    deltaOpts.ignoreDeletions = true;
    KVOL_ASSIGN_OR_RETURN(json delta, DiffMaps(cur, modified, schema, deltaOpts, 0));
    DiffOptions delOpts;
    delOpts.ignoreChangesAndAdditions = true;
    KVOL_ASSIGN_OR_RETURN(json deletions, DiffMaps(orig, modified, schema, delOpts, 0));
    internal::MergeOptions mo;
    mo.server = false;
    return internal::MergeMap(std::move(deletions), std::move(delta), schema, mo);
  } catch (const std::exception& e) {
    return Internal(std::string("computing strategic merge patch: ") + e.what());
  }
}

}  // namespace kvol::patch
