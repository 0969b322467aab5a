// VolumeIndex: the binder's index of PersistentVolumes, answering Kubernetes' FindMatchingVolume
// (see pv_match.h) in logarithmic time instead of a scan.
//
// Layout: bucket per access-mode set (Kubernetes' index key, e.g. "RWO,ROX"); inside a bucket,
// the volumes a fresh claim may take (claimRef unset, phase Available, not being deleted) in
// ordered sets per (storage class, volume mode), keyed by (capacity, name); and, across buckets,
// the volumes pre-bound to a claim (claimRef namespace/name) by claim key. A query walks the
// buckets that contain every requested mode (fewest modes first), checks that claim's pre-bound
// volumes in the bucket, then takes lower_bound(request) in the (class, mode) set and walks
// forward only past volumes rejected by the selector, node affinity or the caller's exclusion.
// The result equals FindMatchingVolumeLinear's (tested).
//
// Thread safety: none; the owner serialises access.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "kvol/api/types_pv.h"
#include "kvol/controller/informer.h"
#include "kvol/controller/pv_match.h"

namespace kvol::controller {

class VolumeIndex {
 public:
  using PVItem = Informer<api::PersistentVolume>::ItemPtr;

  void Upsert(const PVItem& item);
  void Remove(const std::string& name);
  // Takes a volume out of the claimable sets (chosen for a claim in the current pass; the write
  // that binds it updates the entry, a failed write restores it with Upsert of the cached item).
  void Reserve(const std::string& name);
  PVItem Get(const std::string& name) const;
  size_t Size() const { return byName_.size(); }

  // Kubernetes' findByClaim. `excluded(name)` true skips a volume (volumes reserved earlier in
  // the same batch).
  PVItem Find(const MatchInput& in,
              const std::function<bool(const std::string&)>& excluded = nullptr) const;

  // Volumes worth explaining to a Pending claim: those of the claim's class first (up to
  // `scanLimit` looked at), then others; the caller ranks them with ExplainMismatch.
  std::vector<PVItem> Candidates(const std::string& cls, size_t scanLimit) const;
  // Every volume pre-bound to the claim with this store key.
  std::vector<PVItem> PreboundTo(const std::string& claimKey) const;

 private:
  struct Entry {
    PVItem item;
    std::string bucket;
    std::string cls;
    std::string vmode;
    api::Quantity cap;
    bool available = false;
    std::string preboundKey;
  };
  struct Bucket {
    std::vector<std::string> modes;
    size_t n = 0;
    std::map<std::pair<std::string, std::string>, std::set<std::pair<api::Quantity, std::string>>>
        avail;
    size_t members = 0;
  };

  std::unordered_map<std::string, Entry> byName_;
  std::map<std::string, Bucket> buckets_;
  std::unordered_map<std::string, std::set<std::string>> prebound_;
  std::map<std::string, std::set<std::string>> byClass_;
};

}  // namespace kvol::controller
