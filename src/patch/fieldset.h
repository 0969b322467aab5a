// Field sets: the set of field paths one field manager owns (sigs.k8s.io/structured-merge-diff
// fieldpath.Set) and their fieldsV1 encoding, as metadata.managedFields[].fieldsV1 carries it.
//
// A path is a sequence of path elements, each spelled as a key of fieldsV1:
//   "f:<name>"         a field of an object                  (.spec)
//   "k:<json object>"  an item of an associative list by its key fields, compact JSON with keys
//                      sorted: k:{"containerPort":80,"protocol":"TCP"}   ([containerPort=80,...])
//   "v:<json value>"   an item of a set list: v:"kubernetes.io/pvc-protection"  ([="..."])
//   "i:<index>"        an item of a list by position (accepted, never produced by kvol)
// fieldsV1 is a JSON object per node: a member without children is {}, a member with children
// carries ".": {} next to them, e.g. {"f:data":{".":{},"f:key":{}}} holds .data and .data.key.
// Decoding follows structured-merge-diff: keys of an unknown element type are skipped, a node
// whose object has no (known) children is a member; anything else malformed is a kBadRequest.
//
// Value type without shared state: thread-compatible (const methods may run concurrently).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "kvol/common/status.h"

namespace kvol::patch {

using json = nlohmann::json;
using FieldPath = std::vector<std::string>;  // path elements as fieldsV1 keys

// Path element builders (canonical spelling).
std::string FieldElement(std::string_view name);  // "f:name"
std::string KeyElement(const json& keyFields);    // "k:" + compact JSON, keys sorted
std::string ValueElement(const json& value);      // "v:" + compact JSON
// Kubernetes' text of a path (fieldpath.Path.String): .spec.containers[name="db"].image,
// .metadata.finalizers[="x"], [3].
std::string PathString(const FieldPath& path);

class FieldSet {
 public:
  bool Empty() const { return root_.children.empty(); }
  void Insert(const FieldPath& path);
  bool Has(const FieldPath& path) const;
  // Whether `path` itself or any path below it is a member.
  bool HasAtOrBelow(const FieldPath& path) const;
  // Whether a node at `path` exists with members below it (not counting `path` itself).
  bool HasBelow(const FieldPath& path) const;

  FieldSet Union(const FieldSet& o) const;
  FieldSet Difference(const FieldSet& o) const;    // members of this not members of o
  FieldSet Intersection(const FieldSet& o) const;  // members of both
  // Members of this that are not members of o and lie below no member of o.
  FieldSet RecursiveDifference(const FieldSet& o) const;

  // Every member, in structured-merge-diff's iteration order: at each node its member children
  // first, then the subtrees of children with children, each group ordered by element.
  void ForEach(const std::function<void(const FieldPath&)>& fn) const;
  std::vector<FieldPath> Members() const;

  json ToFieldsV1() const;
  static Result<FieldSet> FromFieldsV1(const json& fieldsV1);

  bool operator==(const FieldSet& o) const { return root_ == o.root_; }

 private:
  struct Node {
    bool member = false;
    std::map<std::string, Node> children;
    bool operator==(const Node& o) const = default;
  };
  static void Prune(Node& n);
  Node root_;
};

}  // namespace kvol::patch
