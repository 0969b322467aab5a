// Checks the acknowledgements printed by the crash writer against a reopened store. Shared by
// the ctest crash test and the long crash script (crash_writer verify). Header-only.
//
// Ack lines: "C <key> <revision>" (a create that returned OK) and
// "U <key> <revision> <n>" (an update of <key> setting field n, returned OK).
#pragma once

#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "kvol/store/store.h"

namespace kvol::store::crash {

// Returns OK when every acknowledged write is in `store` and the revision is at least every
// acknowledged revision; `*maxAcked` gets the highest acknowledged revision.
inline Status CheckAcks(Store& store, const std::vector<std::string>& lines, Revision* maxAcked) {
  Revision maxRev = 0;
  std::map<std::string, int64_t> lastUpdate;
  for (const std::string& line : lines) {
    std::istringstream in(line);
    std::string kind, key;
    Revision rev = 0;
    in >> kind >> key >> rev;
    if (!in) return Internal("bad ack line: " + line);
    maxRev = std::max(maxRev, rev);
    if (kind == "C") {
      auto o = store.Get(key);
      if (!o.ok())
        return Internal("acknowledged create lost: " + line + ": " + o.status().ToString());
      if (o->createRevision != rev)
        return Internal("create revision differs: " + line + " vs " +
                        std::to_string(o->createRevision));
    } else if (kind == "U") {
      int64_t n = 0;
      in >> n;
      auto& last = lastUpdate[key];
      last = std::max(last, n);
    } else {
      return Internal("bad ack kind: " + line);
    }
  }
  for (auto& [key, n] : lastUpdate) {
    auto o = store.Get(key);
    if (!o.ok()) return Internal("acknowledged update lost: " + key);
    if (o->value.value("n", int64_t(-1)) < n)
      return Internal("acknowledged update lost: " + key + " n=" + std::to_string(n) +
                      " but store has " + o->value.value("n", json(-1)).dump());
  }
  if (store.CurrentRevision() < maxRev) {
    return Internal("revision went back: store at " + std::to_string(store.CurrentRevision()) +
                    ", acknowledged " + std::to_string(maxRev));
  }
  if (maxAcked) *maxAcked = maxRev;
  return Status::Ok();
}

}  // namespace kvol::store::crash
