// VolumeIndex under updates: volumes re-upserted with other phases, claimRefs, capacities, modes,
// classes and volume modes (the in-place update path and the remove + insert path), reserved and
// restored, removed; every query must still equal Kubernetes' linear rule over the current state.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>

#include "kvol/controller/volume_index.h"
#include "src/controller/controller_test_util.h"

namespace kvol::controller {
namespace {

using namespace testutil;  // NOLINT

TEST(VolumeIndex, UpdatesReservationsAndRemovalsAgreeWithLinearRule) {
  std::mt19937_64 rng(11);
  const std::vector<std::string> classes = {"", "a", "b"};
  const std::vector<std::vector<std::string>> modeSets = {
      {"ReadWriteOnce"},
      {"ReadWriteOnce", "ReadOnlyMany"},
      {"ReadOnlyMany", "ReadWriteOnce"},  // same bucket as the one above, other order
      {"ReadWriteMany"},
      {"ReadOnlyMany"},
      {"ReadWriteOnce", "ReadWriteMany", "ReadOnlyMany"}};
  const std::vector<std::string> phases = {"Available", "Available", "Available",
                                           "Bound",     "Released",  ""};
  int64_t rev = 0;
  auto makeVolume = [&](int i) {
    json pv = PV("pv-" + std::to_string(i), std::to_string(1 + rng() % 8) + "Gi",
                 modeSets[rng() % modeSets.size()], classes[rng() % classes.size()],
                 phases[rng() % phases.size()]);
    if (rng() % 7 == 0) pv["spec"]["volumeMode"] = "Block";
    if (rng() % 5 == 0) pv["metadata"]["labels"] = {{"tier", rng() % 2 ? "gold" : "silver"}};
    if (rng() % 6 == 0) {
      pv["spec"]["claimRef"] = {{"namespace", "default"},
                                {"name", "c" + std::to_string(rng() % 10)}};
    }
    if (rng() % 15 == 0) pv["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z";
    store::Object o;
    o.key = store::KeyFor("persistentvolumes", "", pv["metadata"]["name"]);
    o.value = pv;
    o.modRevision = ++rev;
    return PVInformer::MakeItem(o);
  };
  // A small edit of an existing volume (often one that keeps its place in the index).
  auto editVolume = [&](const PVInformer::ItemPtr& cur) {
    json pv = cur->raw;
    switch (rng() % 6) {
      case 0:
        pv["status"] = {{"phase", phases[rng() % phases.size()]}};
        break;
      case 1:
        // Pre-bound by a user (no uid: the claim's sync binds it), or bound to another claim.
        pv["spec"]["claimRef"] = {{"namespace", "default"},
                                  {"name", "c" + std::to_string(rng() % 10)}};
        if (rng() % 3 == 0) pv["spec"]["claimRef"]["uid"] = "u";
        break;
      case 2:
        pv["spec"].erase("claimRef");
        break;
      case 3:
        pv["spec"]["capacity"]["storage"] = std::to_string(1 + rng() % 8) + "Gi";
        break;
      case 4:
        pv["spec"]["accessModes"] = modeSets[rng() % modeSets.size()];
        break;
      default:
        pv["metadata"]["annotations"] = {{"x", std::to_string(rng())}};
        break;
    }
    store::Object o;
    o.key = cur->key;
    o.value = pv;
    o.modRevision = ++rev;
    return PVInformer::MakeItem(o);
  };

  for (int round = 0; round < 20; ++round) {
    VolumeIndex idx;
    std::map<std::string, PVInformer::ItemPtr> live;  // name -> current item
    std::set<std::string> reserved;
    for (int i = 0; i < 50; ++i) {
      auto it = makeVolume(i);
      live[it->obj.metadata.name] = it;
      idx.Upsert(it);
    }
    for (int step = 0; step < 200; ++step) {
      auto pick = live.begin();
      std::advance(pick, rng() % live.size());
      const std::string name = pick->first;
      switch (rng() % 10) {
        case 0:
          idx.Reserve(name);
          reserved.insert(name);
          break;
        case 1:
          idx.Remove(name);
          live.erase(pick);
          reserved.erase(name);
          break;
        default: {
          auto next = editVolume(pick->second);
          pick->second = next;
          idx.Upsert(next);
          reserved.erase(name);
          break;
        }
      }
      if (live.empty()) break;
      ASSERT_EQ(idx.Size(), live.size());
      std::vector<const api::PersistentVolume*> all;
      for (auto& [n, it] : live) {
        if (!reserved.count(n)) all.push_back(&it->obj);
      }
      for (int k = 0; k < 5; ++k) {
        const ClaimQuery q = RandomClaimQuery(rng, modeSets, 5, classes);
        ASSERT_TRUE(q.selector.ok());
        const MatchInput in = q.Input();
        const api::PersistentVolume* want = FindMatchingVolumeLinear(in, all);
        auto got = idx.Find(in, [&](const std::string& n) { return reserved.count(n) > 0; });
        SCOPED_TRACE(q.raw.dump());
        ASSERT_EQ(got ? got->obj.metadata.name : "", want ? want->metadata.name : "")
            << "round " << round << " step " << step;
        if (got) {
          ASSERT_EQ(got, live.at(got->obj.metadata.name));  // the current item, not a stale one
        }
      }
    }
  }
}

}  // namespace
}  // namespace kvol::controller
