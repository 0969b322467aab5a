// RFC 6902 JSON patch with RFC 6901 pointers, all-or-nothing.
#include <algorithm>
#include <exception>
#include <string>
#include <vector>

#include "kvol/patch/patch.h"

namespace kvol::patch {
namespace {

// A parsed pointer: its reference tokens, unescaped.
struct Pointer {
  std::string text;
  std::vector<std::string> tokens;
};

bool ParsePointer(const std::string& text, Pointer* out, std::string* err) {
  out->text = text;
  out->tokens.clear();
  if (text.empty()) return true;
  if (text[0] != '/') {
    *err = "JSON pointer must be empty or start with '/': \"" + text + "\"";
    return false;
  }
  std::string cur;
  for (size_t i = 1; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == '/') {
      out->tokens.push_back(cur);
      cur.clear();
    } else if (text[i] == '~') {
      if (i + 1 < text.size() && text[i + 1] == '0') {
        cur += '~';
      } else if (i + 1 < text.size() && text[i + 1] == '1') {
        cur += '/';
      } else {
        *err = "invalid escape in JSON pointer: \"" + text + "\"";
        return false;
      }
      ++i;
    } else {
      cur += text[i];
    }
  }
  return true;
}

// Array index per RFC 6901: "0" or digits without a leading zero. -1 when not an index.
long ArrayIndex(const std::string& tok) {
  if (tok.empty() || tok.size() > 9) return -1;
  if (tok.size() > 1 && tok[0] == '0') return -1;
  long v = 0;
  for (char c : tok) {
    if (c < '0' || c > '9') return -1;
    v = v * 10 + (c - '0');
  }
  return v;
}

class Applier {
 public:
  explicit Applier(json doc) : doc_(std::move(doc)) {}
  json& doc() { return doc_; }

  // The value at p, or nullptr.
  json* Find(const Pointer& p) {
    json* cur = &doc_;
    for (const std::string& tok : p.tokens) {
      if (cur->is_object()) {
        auto it = cur->find(tok);
        if (it == cur->end()) return nullptr;
        cur = &*it;
      } else if (cur->is_array()) {
        long i = ArrayIndex(tok);
        if (i < 0 || static_cast<size_t>(i) >= cur->size()) return nullptr;
        cur = &(*cur)[static_cast<size_t>(i)];
      } else {
        return nullptr;
      }
    }
    return cur;
  }

  // The container holding p's last token (nullptr when missing).
  json* Parent(const Pointer& p) {
    Pointer parent;
    parent.tokens.assign(p.tokens.begin(), p.tokens.end() - 1);
    return Find(parent);
  }

  bool Add(const Pointer& p, json value, std::string* err) {
    if (p.tokens.empty()) {
      doc_ = std::move(value);
      return true;
    }
    json* parent = Parent(p);
    const std::string& last = p.tokens.back();
    if (parent && parent->is_object()) {
      (*parent)[last] = std::move(value);
      return true;
    }
    if (parent && parent->is_array()) {
      if (last == "-") {
        parent->push_back(std::move(value));
        return true;
      }
      long i = ArrayIndex(last);
      if (i >= 0 && static_cast<size_t>(i) <= parent->size()) {
        parent->insert(parent->begin() + i, std::move(value));
        return true;
      }
      *err = "add operation does not apply: index out of range: \"" + p.text + "\"";
      return false;
    }
    *err = "add operation does not apply: doc is missing path: \"" + p.text + "\"";
    return false;
  }

  bool Remove(const Pointer& p, const char* op, std::string* err) {
    json* parent = p.tokens.empty() ? nullptr : Parent(p);
    const std::string last = p.tokens.empty() ? std::string() : p.tokens.back();
    if (parent && parent->is_object() && parent->contains(last)) {
      parent->erase(last);
      return true;
    }
    if (parent && parent->is_array()) {
      long i = ArrayIndex(last);
      if (i >= 0 && static_cast<size_t>(i) < parent->size()) {
        parent->erase(parent->begin() + i);
        return true;
      }
    }
    *err = std::string(op) + " operation does not apply: doc is missing path: \"" + p.text + "\"";
    return false;
  }

 private:
  json doc_;
};

Status OpError(size_t index, const json& op, const std::string& msg) {
  std::string name = op.contains("op") && op["op"].is_string() ? op["op"].get<std::string>() : "?";
  std::string path =
      op.contains("path") && op["path"].is_string() ? op["path"].get<std::string>() : "";
  return Invalid("json patch operation " + std::to_string(index) + " (" + name + " " + path +
                 "): " + msg);
}

Result<json> Apply(const json& target, const json& patch) {
  if (!patch.is_array())
    return BadRequest(std::string("json: cannot unmarshal ") + patch.type_name() +
                      " into Go value of type jsonpatch.Patch");
  for (const json& op : patch)
    if (!op.is_object())
      return BadRequest(std::string("json: cannot unmarshal ") + op.type_name() +
                        " into Go value of type jsonpatch.Operation");
  Applier a(target);
  for (size_t i = 0; i < patch.size(); ++i) {
    const json& op = patch[i];
    auto opIt = op.find("op");
    if (opIt == op.end() || !opIt->is_string()) return OpError(i, op, "missing \"op\"");
    const std::string kind = opIt->get<std::string>();
    auto pathIt = op.find("path");
    if (pathIt == op.end() || !pathIt->is_string())
      return OpError(i, op, kind + " operation failed to decode path");
    std::string err;
    Pointer path;
    if (!ParsePointer(pathIt->get<std::string>(), &path, &err)) return OpError(i, op, err);
    auto valueIt = op.find("value");
    Pointer from;
    if (kind == "move" || kind == "copy") {
      auto fromIt = op.find("from");
      if (fromIt == op.end() || !fromIt->is_string())
        return OpError(i, op, kind + " operation failed to decode from");
      if (!ParsePointer(fromIt->get<std::string>(), &from, &err)) return OpError(i, op, err);
    }
    if (kind == "add") {
      if (valueIt == op.end()) return OpError(i, op, "add operation, missing value");
      if (!a.Add(path, *valueIt, &err)) return OpError(i, op, err);
    } else if (kind == "remove") {
      if (!a.Remove(path, "remove", &err)) return OpError(i, op, err);
    } else if (kind == "replace") {
      if (valueIt == op.end()) return OpError(i, op, "replace operation, missing value");
      json* cur = a.Find(path);
      if (!cur)
        return OpError(i, op, "replace operation does not apply: doc is missing key: " + path.text);
      *cur = *valueIt;
    } else if (kind == "test") {
      if (valueIt == op.end()) return OpError(i, op, "test operation, missing value");
      json* cur = a.Find(path);
      if (!cur) return OpError(i, op, "testing value " + path.text + " failed: missing value");
      if (*cur != *valueIt) return OpError(i, op, "testing value " + path.text + " failed");
    } else if (kind == "move" || kind == "copy") {
      json* src = a.Find(from);
      if (!src)
        return OpError(
            i, op,
            kind + " operation does not apply: doc is missing from path: \"" + from.text + "\"");
      if (kind == "move") {
        bool intoItself = path.tokens.size() > from.tokens.size() &&
                          std::equal(from.tokens.begin(), from.tokens.end(), path.tokens.begin());
        if (intoItself)
          return OpError(i, op, "move operation does not apply: \"from\" is a prefix of \"path\"");
        json value = *src;
        if (!a.Remove(from, "move", &err)) return OpError(i, op, err);
        if (!a.Add(path, std::move(value), &err)) return OpError(i, op, err);
      } else {
        json value = *src;
        if (!a.Add(path, std::move(value), &err)) return OpError(i, op, err);
      }
    } else {
      return OpError(i, op, "Unexpected kind: " + kind);
    }
  }
  return std::move(a.doc());
}

}  // namespace

Result<json> ApplyJsonPatch(const json& target, const json& patch) {
  try {
    return Apply(target, patch);
  } catch (const std::exception& e) {
    return BadRequest(std::string("invalid json patch: ") + e.what());
  }
}

}  // namespace kvol::patch
