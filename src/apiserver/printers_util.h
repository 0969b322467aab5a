// Private to the table printers (table.cc, printers_*.cc): the printer registry and JSON helpers.
//
// A Printer is one kind's column definitions plus a function computing one row's cells (all of
// them, wide ones included, as the API server always prints wide). Each printers_<group>.cc adds
// its kinds to the map in one explicit function; table.cc calls them all once.
//
// Thread safety: the map is built once (function-local static in table.cc) and read-only after.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <string>
#include <vector>

#include "kvol/api/reflect.h"

namespace kvol::apiserver::printers {

using json = api::json;

struct Column {
  std::string name;
  std::string type = "string";
  std::string format;
  std::string description;
  int priority = 0;
};

struct Printer {
  std::vector<Column> columns;
  std::function<json(const json& obj, int64_t now)> cells;  // a JSON array, one per column
  std::function<json(const json& obj)> conditions;          // optional row conditions
};

// Key: "<group>/<Kind>" ("/Pod", "storage.k8s.io/StorageClass").
using PrinterMap = std::map<std::string, Printer>;

void AddCorePrinters(PrinterMap& m);
void AddStoragePrinters(PrinterMap& m);
void AddAppsPrinters(PrinterMap& m);
void AddSnapshotPrinters(PrinterMap& m);

// The value at `path` (object keys), or a null json when any step is missing.
const json& At(const json& o, std::initializer_list<const char*> path);
// The string at `path`, or "" when missing or not a string.
std::string Str(const json& o, std::initializer_list<const char*> path);
// The integer at `path`, or `def`.
int64_t Int(const json& o, std::initializer_list<const char*> path, int64_t def = 0);
// The boolean at `path`, or `def`.
bool Bool(const json& o, std::initializer_list<const char*> path, bool def = false);

// The Name column (format "name") and the Age column, with ObjectMeta's descriptions.
Column NameColumn();
Column AgeColumn();
// Column names of a pod template's containers and images ("a,b"), for wide printers.
std::string ContainerNames(const json& podSpec);
std::string ContainerImages(const json& podSpec);

}  // namespace kvol::apiserver::printers
