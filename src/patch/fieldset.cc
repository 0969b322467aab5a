// fieldpath.Set as a tree of fieldsV1 keys, and its fieldsV1 codec.
#include "fieldset.h"

#include <charconv>

namespace kvol::patch {
namespace {

constexpr int kMaxDepth = 256;

std::string Dump(const json& v) { return v.dump(-1, ' ', false, json::error_handler_t::replace); }

// value.ToString of structured-merge-diff: strings quoted, numbers and bools as is.
std::string ValueText(const json& v) {
  if (v.is_array()) {
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + ValueText(v[i]);
    return s + "]";
  }
  if (v.is_object()) {
    std::string s = "{";
    bool first = true;
    for (auto it = v.begin(); it != v.end(); ++it) {
      s += (first ? "" : ", ") + Dump(it.key()) + ":" + ValueText(it.value());
      first = false;
    }
    return s + "}";
  }
  return Dump(v);
}

std::string ElementText(const std::string& e) {
  std::string_view rest = std::string_view(e).substr(e.size() >= 2 ? 2 : e.size());
  if (e.rfind("f:", 0) == 0) return "." + std::string(rest);
  if (e.rfind("i:", 0) == 0) return "[" + std::string(rest) + "]";
  json v = json::parse(rest, nullptr, false);
  if (e.rfind("v:", 0) == 0 && !v.is_discarded()) return "[=" + ValueText(v) + "]";
  if (e.rfind("k:", 0) == 0 && v.is_object()) {
    std::string s = "[";
    bool first = true;
    for (auto it = v.begin(); it != v.end(); ++it) {
      s += (first ? "" : ",") + it.key() + "=" + ValueText(it.value());
      first = false;
    }
    return s + "]";
  }
  return "{{invalid path element}}";
}

// The canonical spelling of a fieldsV1 key; "" for an unknown element type (skipped, as
// structured-merge-diff does); an error for a malformed known one.
Result<std::string> CanonicalElement(const std::string& key) {
  if (key.size() < 2 || key[1] != ':') return std::string();
  std::string_view rest = std::string_view(key).substr(2);
  switch (key[0]) {
    case 'f':
      return key;
    case 'k': {
      json v = json::parse(rest, nullptr, false);
      if (v.is_discarded() || !v.is_object() || v.empty()) {
        return BadRequest("fieldsV1: invalid key path element " + Dump(key));
      }
      return KeyElement(v);
    }
    case 'v': {
      json v = json::parse(rest, nullptr, false);
      if (v.is_discarded()) {
        return BadRequest("fieldsV1: invalid value path element " + Dump(key));
      }
      return ValueElement(v);
    }
    case 'i': {
      int64_t n = 0;
      auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), n);
      if (ec != std::errc() || end != rest.data() + rest.size() || n < 0) {
        return BadRequest("fieldsV1: invalid index path element " + Dump(key));
      }
      return "i:" + std::to_string(n);
    }
    default:
      return std::string();
  }
}

}  // namespace

std::string FieldElement(std::string_view name) { return "f:" + std::string(name); }
std::string KeyElement(const json& keyFields) { return "k:" + Dump(keyFields); }
std::string ValueElement(const json& value) { return "v:" + Dump(value); }

std::string PathString(const FieldPath& path) {
  std::string s;
  for (const auto& e : path) s += ElementText(e);
  return s;
}

void FieldSet::Insert(const FieldPath& path) {
  if (path.empty()) return;
  Node* n = &root_;
  for (const auto& e : path) n = &n->children[e];
  n->member = true;
}

bool FieldSet::Has(const FieldPath& path) const {
  if (path.empty()) return false;
  const Node* n = &root_;
  for (const auto& e : path) {
    auto it = n->children.find(e);
    if (it == n->children.end()) return false;
    n = &it->second;
  }
  return n->member;
}

bool FieldSet::HasAtOrBelow(const FieldPath& path) const {
  const Node* n = &root_;
  for (const auto& e : path) {
    auto it = n->children.find(e);
    if (it == n->children.end()) return false;
    n = &it->second;
  }
  return n->member || !n->children.empty();  // pruned trees: every leaf node is a member
}

bool FieldSet::HasBelow(const FieldPath& path) const {
  const Node* n = &root_;
  for (const auto& e : path) {
    auto it = n->children.find(e);
    if (it == n->children.end()) return false;
    n = &it->second;
  }
  return !n->children.empty();
}

void FieldSet::Prune(Node& n) {
  for (auto it = n.children.begin(); it != n.children.end();) {
    Prune(it->second);
    if (!it->second.member && it->second.children.empty()) {
      it = n.children.erase(it);
    } else {
      ++it;
    }
  }
}

FieldSet FieldSet::Union(const FieldSet& o) const {
  std::function<void(Node&, const Node&)> add = [&](Node& into, const Node& from) {
    into.member = into.member || from.member;
    for (const auto& [k, c] : from.children) add(into.children[k], c);
  };
  FieldSet out = *this;
  add(out.root_, o.root_);
  return out;
}

FieldSet FieldSet::Difference(const FieldSet& o) const {
  std::function<void(Node&, const Node*)> sub = [&](Node& n, const Node* other) {
    if (!other) return;
    if (other->member) n.member = false;
    for (auto& [k, c] : n.children) {
      auto it = other->children.find(k);
      sub(c, it == other->children.end() ? nullptr : &it->second);
    }
  };
  FieldSet out = *this;
  sub(out.root_, &o.root_);
  Prune(out.root_);
  return out;
}

FieldSet FieldSet::Intersection(const FieldSet& o) const {
  std::function<void(Node&, const Node*)> keep = [&](Node& n, const Node* other) {
    if (!other) {
      n.member = false;
      n.children.clear();
      return;
    }
    n.member = n.member && other->member;
    for (auto& [k, c] : n.children) {
      auto it = other->children.find(k);
      keep(c, it == other->children.end() ? nullptr : &it->second);
    }
  };
  FieldSet out = *this;
  keep(out.root_, &o.root_);
  Prune(out.root_);
  return out;
}

FieldSet FieldSet::RecursiveDifference(const FieldSet& o) const {
  std::function<void(Node&, const Node*)> sub = [&](Node& n, const Node* other) {
    if (!other) return;
    for (auto it = n.children.begin(); it != n.children.end();) {
      auto oc = other->children.find(it->first);
      if (oc != other->children.end() && oc->second.member) {
        it = n.children.erase(it);  // the whole subtree goes
        continue;
      }
      sub(it->second, oc == other->children.end() ? nullptr : &oc->second);
      ++it;
    }
  };
  FieldSet out = *this;
  sub(out.root_, &o.root_);
  Prune(out.root_);
  return out;
}

void FieldSet::ForEach(const std::function<void(const FieldPath&)>& fn) const {
  FieldPath path;
  std::function<void(const Node&)> walk = [&](const Node& n) {
    for (const auto& [k, c] : n.children) {
      if (!c.member) continue;
      path.push_back(k);
      fn(path);
      path.pop_back();
    }
    for (const auto& [k, c] : n.children) {
      if (c.children.empty()) continue;
      path.push_back(k);
      walk(c);
      path.pop_back();
    }
  };
  walk(root_);
}

std::vector<FieldPath> FieldSet::Members() const {
  std::vector<FieldPath> out;
  ForEach([&](const FieldPath& p) { out.push_back(p); });
  return out;
}

json FieldSet::ToFieldsV1() const {
  std::function<json(const Node&, bool)> enc = [&](const Node& n, bool self) {
    json o = json::object();
    if (self && n.member && !n.children.empty()) o["."] = json::object();
    for (const auto& [k, c] : n.children) o[k] = enc(c, true);
    return o;
  };
  return enc(root_, false);
}

Result<FieldSet> FieldSet::FromFieldsV1(const json& fieldsV1) {
  if (fieldsV1.is_null()) return FieldSet();
  if (!fieldsV1.is_object()) return BadRequest("fieldsV1: expected an object");
  // Returns whether the node is a member (a "." key, or no known children).
  std::function<Result<bool>(const json&, Node&, int)> dec = [&](const json& obj, Node& n,
                                                                 int depth) -> Result<bool> {
    if (depth > kMaxDepth) return BadRequest("fieldsV1: nested too deeply");
    bool member = false;
    for (auto it = obj.begin(); it != obj.end(); ++it) {
      if (it.key() == ".") {
        member = true;
        continue;
      }
      Result<std::string> e = CanonicalElement(it.key());
      if (!e.ok()) return e.status();
      if (e->empty()) continue;  // an element type of a later version: dropped
      if (!it.value().is_object()) {
        return BadRequest("fieldsV1: the value of " + Dump(it.key()) + " is not an object");
      }
      Node child;
      Result<bool> m = dec(it.value(), child, depth + 1);
      if (!m.ok()) return m.status();
      Node& into = n.children[*e];
      into.member = into.member || *m;
      for (auto& [k, c] : child.children) into.children[k] = std::move(c);
    }
    return member || n.children.empty();
  };
  FieldSet s;
  Result<bool> top = dec(fieldsV1, s.root_, 0);
  if (!top.ok()) return top.status();
  s.root_.member = false;
  Prune(s.root_);
  return s;
}

}  // namespace kvol::patch
