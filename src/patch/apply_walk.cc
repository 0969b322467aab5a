// ToFieldSet / Merge / Compare / RemoveItems over JSON with the SMP schema.
#include "apply_walk.h"

#include <algorithm>
#include <map>
#include <set>

#include "smp_schema.h"

namespace kvol::patch::internal {
namespace {

constexpr int kMaxDepth = 256;

Status TooDeep() { return BadRequest("the applied configuration is nested too deeply"); }

bool IsAtomicStruct(std::string_view field) {
  return field == "selector" || field == "labelSelector" || field == "claimRef" ||
         field == "dataSource" || field == "dataSourceRef";
}

// Fields Go's zero value of their parent struct always has (non-pointer structs, slices
// without omitempty): absent in a JSON object, they still "exist" for Compare.
bool IsZeroValueField(std::string_view field) {
  static const std::set<std::string_view> kFields = {
      "metadata", "spec", "status", "template", "resources", "containers", "strategy"};
  return kFields.count(field) > 0;
}

Shape ShapeOf(const TypeSchema* parent, std::string_view field) {
  const FieldMeta& fm = (parent ? *parent : EmptySchema()).Field(field);
  Shape s;
  s.type = fm.type;
  s.atomic = IsAtomicStruct(field);
  if (fm.merge) {
    if (fm.mergeKey.empty()) {
      s.list = ListType::kSet;
    } else {
      s.list = ListType::kMap;
      s.keys.push_back({fm.mergeKey, nullptr});
      if (fm.mergeKey == "containerPort") s.keys.push_back({"protocol", "TCP"});
    }
  }
  return s;
}

// The shape of an item of a non-atomic list.
Shape ItemShape(const Shape& list) {
  Shape s;
  if (list.list == ListType::kMap) {
    s.type = list.type;
  } else {
    s.atomic = true;  // set items are leaves
  }
  return s;
}

std::string ListError(const FieldPath& path, size_t i, const std::string& why) {
  return PathString(path) + ": element " + std::to_string(i) + ": " + why;
}

// The path element of a list item, or the reason there is none.
Result<std::string> ItemElement(const json& item, const Shape& list) {
  if (list.list == ListType::kSet) return ValueElement(item);
  if (!item.is_object()) return BadRequest("expected a map, got " + std::string(item.type_name()));
  json key = json::object();
  for (const auto& k : list.keys) {
    auto it = item.find(k.name);
    if (it != item.end() && !it->is_null()) {
      key[k.name] = *it;
    } else if (!k.dflt.is_null()) {
      key[k.name] = k.dflt;
    } else {
      return BadRequest("associative list with keys has an element that omits key field \"" +
                        k.name + "\" (and doesn't have default value)");
    }
  }
  return KeyElement(key);
}

// Items of a list by path element, first occurrence wins; items without an element are keyed
// by position ("i:<n>") so they still compare.
std::vector<std::pair<std::string, const json*>> IndexItems(const json& list, const Shape& shape) {
  std::vector<std::pair<std::string, const json*>> out;
  std::set<std::string> seen;
  for (size_t i = 0; i < list.size(); ++i) {
    Result<std::string> e = ItemElement(list[i], shape);
    std::string k = e.ok() ? *e : "i:" + std::to_string(i);
    if (!seen.insert(k).second) continue;
    out.emplace_back(k, &list[i]);
  }
  return out;
}

// ---- ToFieldSet ----

Status VisitSet(const json& v, const Shape& shape, FieldPath& path, FieldSet& set, int depth);

Status FieldsSet(const json& obj, const TypeSchema* type, FieldPath& path, FieldSet& set,
                 int depth) {
  if (depth > kMaxDepth) return TooDeep();
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    path.push_back(FieldElement(it.key()));
    Status s = VisitSet(it.value(), ShapeOf(type, it.key()), path, set, depth + 1);
    path.pop_back();
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

Status VisitSet(const json& v, const Shape& shape, FieldPath& path, FieldSet& set, int depth) {
  if (v.is_object() && !shape.atomic) return FieldsSet(v, shape.type, path, set, depth);
  if (!v.is_array() || shape.list == ListType::kAtomic || shape.atomic) {
    set.Insert(path);
    return Status::Ok();
  }
  std::set<std::string> seen;
  for (size_t i = 0; i < v.size(); ++i) {
    Result<std::string> e = ItemElement(v[i], shape);
    if (!e.ok()) return BadRequest(ListError(path, i, e.status().message()));
    path.push_back(*e);
    if (!seen.insert(*e).second) {
      Status dup = BadRequest(PathString(path) + ": duplicate entries for key " +
                              PathString({*e}));  // e.g. [name="a"]
      path.pop_back();
      return dup;
    }
    Status s = Status::Ok();
    if (shape.list == ListType::kMap) s = FieldsSet(v[i], shape.type, path, set, depth + 1);
    if (s.ok()) set.Insert(path);
    path.pop_back();
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

// ---- Merge ----

Result<json> MergeValue(const json& live, const json& config, const Shape& shape, int depth);

Result<json> MergeFields(const json& live, const json& config, const TypeSchema* type, int depth) {
  if (depth > kMaxDepth) return TooDeep();
  json out = live;
  for (auto it = config.begin(); it != config.end(); ++it) {
    auto l = live.find(it.key());
    if (l == live.end()) {
      out[it.key()] = it.value();
      continue;
    }
    Result<json> m = MergeValue(*l, it.value(), ShapeOf(type, it.key()), depth + 1);
    if (!m.ok()) return m.status();
    out[it.key()] = std::move(*m);
  }
  return out;
}

Result<json> MergeValue(const json& live, const json& config, const Shape& shape, int depth) {
  if (config.is_object() && live.is_object() && !shape.atomic) {
    return MergeFields(live, config, shape.type, depth);
  }
  if (!config.is_array() || !live.is_array() || shape.atomic || shape.list == ListType::kAtomic) {
    return config;
  }
  json out = live;
  std::map<std::string, size_t> at;  // element -> index in out
  for (size_t i = 0; i < live.size(); ++i) {
    Result<std::string> e = ItemElement(live[i], shape);
    if (e.ok()) at.emplace(*e, i);
  }
  for (const auto& item : config) {
    Result<std::string> e = ItemElement(item, shape);
    if (!e.ok()) return e.status();
    auto found = at.find(*e);
    if (found == at.end()) {
      at.emplace(*e, out.size());
      out.push_back(item);
    } else if (shape.list == ListType::kMap) {
      Result<json> m = MergeValue(out[found->second], item, ItemShape(shape), depth + 1);
      if (!m.ok()) return m.status();
      out[found->second] = std::move(*m);
    }
  }
  return out;
}

// ---- Compare ----

void AddAll(const json& v, const Shape& shape, FieldPath& path, FieldSet& set, int depth) {
  set.Insert(path);
  if (depth > kMaxDepth) return;
  if (v.is_object() && !shape.atomic) {
    for (auto it = v.begin(); it != v.end(); ++it) {
      path.push_back(FieldElement(it.key()));
      AddAll(it.value(), ShapeOf(shape.type, it.key()), path, set, depth + 1);
      path.pop_back();
    }
  } else if (v.is_array() && !shape.atomic && shape.list != ListType::kAtomic) {
    for (const auto& [e, item] : IndexItems(v, shape)) {
      path.push_back(e);
      AddAll(*item, ItemShape(shape), path, set, depth + 1);
      path.pop_back();
    }
  }
}

void CompareValue(const json* l, const json* r, const Shape& shape, std::string_view field,
                  FieldPath& path, Comparison& c, int depth);

void CompareFields(const json& l, const json& r, const TypeSchema* type, FieldPath& path,
                   Comparison& c, int depth) {
  std::set<std::string> keys;
  for (auto it = l.begin(); it != l.end(); ++it) keys.insert(it.key());
  for (auto it = r.begin(); it != r.end(); ++it) keys.insert(it.key());
  for (const auto& k : keys) {
    auto li = l.find(k);
    auto ri = r.find(k);
    path.push_back(FieldElement(k));
    CompareValue(li == l.end() ? nullptr : &*li, ri == r.end() ? nullptr : &*ri, ShapeOf(type, k),
                 k, path, c, depth + 1);
    path.pop_back();
  }
}

void CompareValue(const json* l, const json* r, const Shape& shape, std::string_view field,
                  FieldPath& path, Comparison& c, int depth) {
  if (depth > kMaxDepth) return;
  static const json kEmptyObject = json::object();
  static const json kEmptyArray = json::array();
  if (!l || !r) {
    const json& present = l ? *l : *r;
    if (IsZeroValueField(field) && (present.is_object() || present.is_array())) {
      const json& zero = present.is_object() ? kEmptyObject : kEmptyArray;
      CompareValue(l ? l : &zero, r ? r : &zero, shape, "", path, c, depth);
      return;
    }
    AddAll(present, shape, path, l ? c.removed : c.added, depth);
    return;
  }
  if (l->is_object() && r->is_object() && !shape.atomic) {
    if (l->empty() && r->empty()) return;
    CompareFields(*l, *r, shape.type, path, c, depth);
    return;
  }
  if (l->is_array() && r->is_array() && !shape.atomic && shape.list != ListType::kAtomic &&
      !(l->empty() && r->empty())) {
    auto li = IndexItems(*l, shape);
    auto ri = IndexItems(*r, shape);
    std::map<std::string, const json*> lm(li.begin(), li.end()), rm(ri.begin(), ri.end());
    std::set<std::string> keys;
    for (const auto& [k, v] : li) keys.insert(k);
    for (const auto& [k, v] : ri) keys.insert(k);
    for (const auto& k : keys) {
      auto a = lm.find(k);
      auto b = rm.find(k);
      path.push_back(k);
      CompareValue(a == lm.end() ? nullptr : a->second, b == rm.end() ? nullptr : b->second,
                   ItemShape(shape), "", path, c, depth + 1);
      path.pop_back();
    }
    return;
  }
  if (*l != *r) c.modified.Insert(path);
}

// ---- RemoveItems ----

void RemoveIn(json& v, const Shape& shape, const FieldSet& set, const FieldSet* owned,
              FieldPath& path, int depth) {
  if (depth > kMaxDepth) return;
  if (v.is_object() && !shape.atomic) {
    for (auto it = v.begin(); it != v.end();) {
      path.push_back(FieldElement(it.key()));
      bool drop = set.Has(path);
      if (!drop && set.HasBelow(path)) {
        json& child = it.value();
        bool wasEmpty = child.empty();
        RemoveIn(child, ShapeOf(shape.type, it.key()), set, owned, path, depth + 1);
        drop = owned && !wasEmpty && (child.is_object() || child.is_array()) && child.empty() &&
               !owned->HasAtOrBelow(path);
      }
      path.pop_back();
      if (drop) {
        it = v.erase(it);
      } else {
        ++it;
      }
    }
  } else if (v.is_array() && !shape.atomic && shape.list != ListType::kAtomic) {
    json out = json::array();
    for (auto& item : v) {
      Result<std::string> e = ItemElement(item, shape);
      if (!e.ok()) {
        out.push_back(std::move(item));
        continue;
      }
      path.push_back(*e);
      bool drop = set.Has(path);
      if (!drop && set.HasBelow(path))
        RemoveIn(item, ItemShape(shape), set, owned, path, depth + 1);
      path.pop_back();
      if (!drop) out.push_back(std::move(item));
    }
    v = std::move(out);
  }
}

}  // namespace

Shape RootShape(std::string_view apiVersion, std::string_view kind) {
  Shape s;
  s.type = &SchemaFor(apiVersion, kind);
  return s;
}

Result<FieldSet> ToFieldSet(const json& config, const Shape& shape) {
  FieldSet set;
  FieldPath path;
  if (!config.is_object()) return set;
  Status s = FieldsSet(config, shape.type, path, set, 0);
  if (!s.ok()) return s;
  return set;
}

Result<json> Merge(const json& live, const json& config, const Shape& shape) {
  if (!config.is_object()) return BadRequest("the applied configuration is not an object");
  return MergeValue(live.is_object() ? live : json::object(), config, shape, 0);
}

Comparison Compare(const json& lhs, const json& rhs, const Shape& shape) {
  Comparison c;
  FieldPath path;
  static const json kEmpty = json::object();
  CompareFields(lhs.is_object() ? lhs : kEmpty, rhs.is_object() ? rhs : kEmpty, shape.type, path, c,
                0);
  return c;
}

json RemoveItems(const json& obj, const FieldSet& set, const Shape& shape, const FieldSet* owned) {
  json out = obj;
  FieldPath path;
  RemoveIn(out, shape, set, owned, path, 0);
  return out;
}

void DropNulls(json& v) {
  if (v.is_object()) {
    for (auto it = v.begin(); it != v.end();) {
      if (it.value().is_null()) {
        it = v.erase(it);
      } else {
        DropNulls(it.value());
        ++it;
      }
    }
  } else if (v.is_array()) {
    for (auto& item : v) DropNulls(item);
  }
}

}  // namespace kvol::patch::internal
