// Helpers shared by the strategic-merge-patch merge and diff: kube-apiserver's error values,
// merge-key comparisons and the list-ordering rules of strategicpatch (normalizeElementOrder).
// Stateless; thread-safe.
#pragma once

#include <initializer_list>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kvol/common/status.h"

namespace kvol::patch::internal {

using json = nlohmann::json;

// mergepatch's errors, with kube-apiserver's status codes.
Status ErrBadPatchFormatForPrimitiveList();                      // 400
Status ErrBadPatchFormatForRetainKeys();                         // 400
Status ErrBadPatchFormatForSetElementOrderList();                // 400
Status ErrNoListOfLists();                                       // 422
Status ErrNoMergeKey(const json& m, const std::string& key);     // 500
Status ErrBadArgType(const char* expected, const json& actual);  // 500
Status ErrBadPatchType(const json& type, const json& m);         // 500

// Compact JSON text for messages (truncated).
std::string Short(const json& v);
// "%v"-like text of a scalar used to sort merge keys and scalars (strings unquoted).
std::string ScalarText(const json& v);

bool IsDeleteDirective(const json& v);  // an object with "$patch": "delete"

// Whether two list items have the same merge key value (items compared whole when mergeKey is
// empty). Errors when an item is not an object or lacks the key.
Result<bool> MergeKeyValueEqual(const json& a, const json& b, const std::string& mergeKey);

// The common element type of the given arrays: an error for lists of lists (422), mixed types
// (500) or no elements at all (500).
Result<json::value_t> ElementKind(std::initializer_list<const json*> lists);

// Splits `items` into those present in `by` (by merge key when maps) and the others.
Status Partition(const json& items, const json& by, const std::string& mergeKey, bool maps,
                 std::vector<json>* present, std::vector<json>* absent);

// Sorts `toSort` by the positions of its items in `order` (stable; unknown items last);
// for maps, items carrying "$patch": "delete" go to the end.
Result<std::vector<json>> NormalizeSliceOrder(std::vector<json> toSort, const json& order,
                                              const std::string& mergeKey, bool maps);

// Orders patch items by patchOrder and server-only items by serverOrder, then interleaves them
// keeping server-only items before a patch item that follows them in serverOrder.
Result<json> NormalizeElementOrder(std::vector<json> patchItems, std::vector<json> serverOnly,
                                   const json& patchOrder, const json& serverOrder,
                                   const std::string& mergeKey, bool maps);

}  // namespace kvol::patch::internal
