#include "kvol/controller/volume_index.h"

#include <algorithm>

namespace kvol::controller {

void VolumeIndex::Remove(const std::string& name) {
  auto it = byName_.find(name);
  if (it == byName_.end()) return;
  Entry& e = it->second;
  auto b = buckets_.find(e.bucket);
  if (b != buckets_.end()) {
    if (e.available) {
      auto s = b->second.avail.find({e.cls, e.vmode});
      if (s != b->second.avail.end()) {
        s->second.erase({e.cap, name});
        if (s->second.empty()) b->second.avail.erase(s);
      }
    }
    if (--b->second.members == 0) buckets_.erase(b);
  }
  if (!e.preboundKey.empty()) {
    auto p = prebound_.find(e.preboundKey);
    if (p != prebound_.end()) {
      p->second.erase(name);
      if (p->second.empty()) prebound_.erase(p);
    }
  }
  auto c = byClass_.find(e.cls);
  if (c != byClass_.end()) {
    c->second.erase(name);
    if (c->second.empty()) byClass_.erase(c);
  }
  byName_.erase(it);
}

void VolumeIndex::Reserve(const std::string& name) {
  auto it = byName_.find(name);
  if (it == byName_.end() || !it->second.available) return;
  Entry& e = it->second;
  auto b = buckets_.find(e.bucket);
  if (b != buckets_.end()) {
    auto s = b->second.avail.find({e.cls, e.vmode});
    if (s != b->second.avail.end()) {
      s->second.erase({e.cap, name});
      if (s->second.empty()) b->second.avail.erase(s);
    }
  }
  e.available = false;
}

void VolumeIndex::Upsert(const PVItem& item) {
  const api::PersistentVolume& pv = item->obj;
  const std::string& name = pv.metadata.name;
  Entry e;
  e.item = item;
  e.bucket = AccessModesKey(pv.spec.accessModes);
  e.cls = VolumeClass(pv);
  e.vmode = pv.spec.volumeMode && !pv.spec.volumeMode->empty() ? *pv.spec.volumeMode : "Filesystem";
  e.cap = VolumeCapacity(pv);
  e.available =
      !pv.spec.claimRef && pv.status.phase == "Available" && !pv.metadata.deletionTimestamp;
  if (pv.spec.claimRef) e.preboundKey = ClaimRefKey(pv);
  if (auto it = byName_.find(name); it != byName_.end()) {
    Entry& cur = it->second;
    if (cur.bucket == e.bucket && cur.cls == e.cls && cur.vmode == e.vmode && cur.cap == e.cap) {
      // Same bucket, class, mode and size (the common case: a phase change, or the bind of a
      // reserved volume): only the claimable set, the pre-bound index and the item change. Same
      // result as Remove + insert below, without re-building the entry.
      if (cur.preboundKey != e.preboundKey) {
        if (!cur.preboundKey.empty()) {
          auto p = prebound_.find(cur.preboundKey);
          if (p != prebound_.end()) {
            p->second.erase(name);
            if (p->second.empty()) prebound_.erase(p);
          }
        }
        if (!e.preboundKey.empty()) prebound_[e.preboundKey].insert(name);
        cur.preboundKey = std::move(e.preboundKey);
      }
      Bucket& b = buckets_.at(e.bucket);
      if (b.members == 1) b.modes = pv.spec.accessModes;  // as if the bucket were re-created
      if (cur.available != e.available) {
        auto& set = b.avail[{e.cls, e.vmode}];
        if (e.available) {
          set.insert({e.cap, name});
        } else {
          set.erase({cur.cap, name});
          if (set.empty()) b.avail.erase({e.cls, e.vmode});
        }
      }  // else: claimable before and after, at the same capacity (set keys compare by value)
      cur.item = item;
      cur.cap = e.cap;
      cur.available = e.available;
      return;
    }
    Remove(name);
  }
  Bucket& b = buckets_[e.bucket];
  if (b.members++ == 0) {
    b.modes = pv.spec.accessModes;
    b.n = e.bucket.empty() ? 0 : std::count(e.bucket.begin(), e.bucket.end(), ',') + 1;
  }
  if (e.available) b.avail[{e.cls, e.vmode}].insert({e.cap, name});
  if (!e.preboundKey.empty()) prebound_[e.preboundKey].insert(name);
  byClass_[e.cls].insert(name);
  byName_.emplace(name, std::move(e));
}

VolumeIndex::PVItem VolumeIndex::Get(const std::string& name) const {
  auto it = byName_.find(name);
  return it == byName_.end() ? nullptr : it->second.item;
}

VolumeIndex::PVItem VolumeIndex::Find(
    const MatchInput& in, const std::function<bool(const std::string&)>& excluded) const {
  const api::PersistentVolumeClaim& c = *in.claim;
  std::vector<std::pair<size_t, const std::string*>> order;
  for (const auto& [k, b] : buckets_) {
    if (ContainsAllModes(b.modes, c.spec.accessModes)) order.emplace_back(b.n, &k);
  }
  std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first < b.first : *a.second < *b.second;
  });
  const api::Quantity req = ClaimRequest(c);
  const std::string cls = ClaimClass(c);
  const std::string vmode =
      c.spec.volumeMode && !c.spec.volumeMode->empty() ? *c.spec.volumeMode : "Filesystem";
  const std::set<std::string>* pre = nullptr;
  if (auto p = prebound_.find(ClaimKeyOf(c)); p != prebound_.end()) pre = &p->second;

  for (const auto& [n, key] : order) {
    // Volumes pre-bound to this claim in this bucket (name order).
    bool bucketDone = false;
    if (pre) {
      for (const std::string& name : *pre) {
        const Entry& e = byName_.at(name);
        if (e.bucket != *key) continue;
        const api::PersistentVolume& v = e.item->obj;
        if (excluded && excluded(name)) continue;
        if (!IsVolumeBoundToClaim(v, c)) continue;
        if (e.cap < req || e.vmode != vmode || v.metadata.deletionTimestamp) continue;
        if (in.node && !VolumeNodeAffinityMatches(v, *in.node)) {
          bucketDone = true;  // Kubernetes: no match from this bucket
          break;
        }
        return e.item;
      }
    }
    if (bucketDone) continue;
    if (!in.node && in.delayBinding) continue;
    const Bucket& b = buckets_.at(*key);
    auto s = b.avail.find({cls, vmode});
    if (s == b.avail.end()) continue;
    for (auto it = s->second.lower_bound({req, std::string()}); it != s->second.end(); ++it) {
      if (excluded && excluded(it->second)) continue;
      const Entry& e = byName_.at(it->second);
      const api::PersistentVolume& v = e.item->obj;
      if (in.selector && !in.selector->Matches(v.metadata.labels)) continue;
      if (in.node && !VolumeNodeAffinityMatches(v, *in.node)) continue;
      return e.item;
    }
  }
  return nullptr;
}

std::vector<VolumeIndex::PVItem> VolumeIndex::Candidates(const std::string& cls,
                                                         size_t scanLimit) const {
  std::vector<PVItem> out;
  auto c = byClass_.find(cls);
  if (c != byClass_.end()) {
    for (const auto& name : c->second) {
      if (out.size() >= scanLimit) break;
      out.push_back(byName_.at(name).item);
    }
  }
  // A few from other classes, so "no volume of this class" still names what exists.
  size_t others = 0;
  for (const auto& [k, names] : byClass_) {
    if (k == cls) continue;
    for (const auto& name : names) {
      if (others >= 8 || out.size() >= scanLimit + 8) break;
      out.push_back(byName_.at(name).item);
      ++others;
    }
  }
  return out;
}

std::vector<VolumeIndex::PVItem> VolumeIndex::PreboundTo(const std::string& claimKey) const {
  std::vector<PVItem> out;
  auto p = prebound_.find(claimKey);
  if (p == prebound_.end()) return out;
  for (const auto& n : p->second) out.push_back(byName_.at(n).item);
  return out;
}

}  // namespace kvol::controller
