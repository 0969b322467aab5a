// Binder benchmark: 10,000 PVs + 10,000 PVCs of mixed classes, sizes, access modes and volume
// modes are created in a durable SQLite store first; then the binder starts (informers list +
// watch, worker passes with batched Txns) and the time until every claim is Bound in the store is
// measured (manual time: controller time only, store set-up excluded). Afterwards every claim's
// volume is checked against a brute-force oracle that applies Kubernetes' rule
// (FindMatchingVolumeLinear) claim by claim in creation order. Target: < 1 s.
#include <benchmark/benchmark.h>

#include <fcntl.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>

#include "kvol/controller/binder.h"
#include "kvol/store/sqlite_store.h"

namespace {

using kvol::store::json;
namespace ctl = kvol::controller;

const std::vector<std::string> kClasses = {"", "fast", "slow"};
const std::vector<std::vector<std::string>> kModeSets = {{"ReadWriteOnce"},
                                                         {"ReadWriteOnce", "ReadOnlyMany"},
                                                         {"ReadWriteMany"},
                                                         {"ReadWriteOnce", "ReadWriteMany"},
                                                         {"ReadOnlyMany"}};

struct Fixture {
  std::string dir;
  std::unique_ptr<kvol::store::Store> store;
};

Fixture Populate(int n, uint64_t seed) {
  Fixture f;
  std::string t = (std::filesystem::temp_directory_path() / "kvol-binder-bench-XXXXXX").string();
  f.dir = ::mkdtemp(t.data());
  auto s = kvol::store::OpenSqliteStore(f.dir + "/store.db");
  if (!s.ok()) {
    std::fprintf(stderr, "open store: %s\n", s.status().ToString().c_str());
    std::abort();
  }
  f.store = std::move(s).value();
  std::mt19937_64 rng(seed);
  std::vector<std::vector<kvol::store::Op>> txns;
  auto flush = [&] {
    for (auto& r : f.store->TxnBatch(std::move(txns))) {
      if (!r.ok()) std::abort();
    }
    txns.clear();
  };
  // Claims first drawn, then volumes made to fit them (each claim has a volume of its class,
  // modes that include its mode, its volumeMode, and 0-20Gi more room), plus 5% large spares,
  // created in shuffled order; then the claims. Greedy smallest-fit may still leave a few claims
  // Pending; the oracle says exactly which.
  struct ClaimSpec {
    std::string cls;
    std::string mode;
    int gi;
    bool block;
  };
  std::vector<ClaimSpec> specs;
  for (int i = 0; i < n; ++i) {
    specs.push_back({kClasses[rng() % kClasses.size()],
                     rng() % 4 == 0 ? "ReadOnlyMany" : "ReadWriteOnce", 1 + int(rng() % 40),
                     rng() % 10 == 0});
  }
  std::vector<json> pvs;
  auto makePV = [&](int i, const ClaimSpec& c, int gi) {
    std::vector<std::vector<std::string>> fits;
    for (const auto& m : kModeSets) {
      if (std::find(m.begin(), m.end(), c.mode) != m.end()) fits.push_back(m);
    }
    json pv = {
        {"apiVersion", "v1"},
        {"kind", "PersistentVolume"},
        {"metadata", {{"name", "pv-" + std::to_string(i)}, {"uid", "pv-uid-" + std::to_string(i)}}},
        {"spec",
         {{"capacity", {{"storage", std::to_string(gi) + "Gi"}}},
          {"accessModes", fits[rng() % fits.size()]},
          {"persistentVolumeReclaimPolicy", "Retain"},
          {"storageClassName", c.cls},
          {"hostPath", {{"path", "/srv/pv-" + std::to_string(i)}}}}}};
    if (c.block) pv["spec"]["volumeMode"] = "Block";
    pvs.push_back(std::move(pv));
  };
  for (int i = 0; i < n; ++i) makePV(i, specs[i], specs[i].gi + int(rng() % 21));
  for (int i = n; i < n + n / 20; ++i) makePV(i, specs[rng() % n], 100);
  std::shuffle(pvs.begin(), pvs.end(), rng);
  for (auto& pv : pvs) {
    std::string key = kvol::store::KeyFor("persistentvolumes", "", pv["metadata"]["name"]);
    txns.push_back({kvol::store::Op::Create(key, std::move(pv))});
    if (txns.size() >= 1000) flush();
  }
  flush();
  for (int i = 0; i < n; ++i) {
    const ClaimSpec& cs = specs[i];
    json c = {{"apiVersion", "v1"},
              {"kind", "PersistentVolumeClaim"},
              {"metadata",
               {{"name", "claim-" + std::to_string(i)},
                {"namespace", "ns-" + std::to_string(i % 10)},
                {"uid", "claim-uid-" + std::to_string(i)}}},
              {"spec",
               {{"accessModes", {cs.mode}},
                {"resources", {{"requests", {{"storage", std::to_string(cs.gi) + "Gi"}}}}},
                {"storageClassName", cs.cls}}}};
    if (cs.block) c["spec"]["volumeMode"] = "Block";
    txns.push_back({kvol::store::Op::Create(
        kvol::store::KeyFor("persistentvolumeclaims", c["metadata"]["namespace"],
                            c["metadata"]["name"]),
        c)});
    if (txns.size() >= 1000) flush();
  }
  flush();
  return f;
}

// With KVOL_PERF_CTL=<fifo> (perf record -D -1 --control=fifo:<fifo>), the profile covers only
// the controller phase, not the store set-up or the oracle.
void PerfControl(const char* cmd) {
  const char* fifo = std::getenv("KVOL_PERF_CTL");
  if (!fifo) return;
  int fd = ::open(fifo, O_WRONLY);
  if (fd < 0) return;
  (void)!::write(fd, cmd, std::strlen(cmd));
  ::close(fd);
}

// CPU time of the whole process (every thread), user + system, in ms: a figure less sensitive to
// other load on the machine than the wall time.
double CpuMs() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  auto ms = [](const timeval& t) { return double(t.tv_sec) * 1e3 + double(t.tv_usec) / 1e3; };
  return ms(ru.ru_utime) + ms(ru.ru_stime);
}

// Kubernetes' rule, claim by claim in creation order, over plain vectors.
std::map<std::string, std::string> Oracle(kvol::store::Store& s) {
  kvol::store::ListOptions lo;
  lo.prefix = kvol::store::PrefixFor("persistentvolumes");
  auto pvs = s.List(lo);
  lo.prefix = kvol::store::PrefixFor("persistentvolumeclaims");
  auto pvcs = s.List(lo);
  std::vector<kvol::api::PersistentVolume> vols;
  for (auto& o : pvs->items) {
    vols.push_back(kvol::api::FromJsonLoose<kvol::api::PersistentVolume>(o.value));
    vols.back().status.phase = "Available";  // what the controller makes of a new unbound PV
    vols.back().spec.claimRef.reset();
  }
  std::vector<std::pair<kvol::store::Revision, kvol::api::PersistentVolumeClaim>> claims;
  for (auto& o : pvcs->items) {
    auto c = kvol::api::FromJsonLoose<kvol::api::PersistentVolumeClaim>(o.value);
    c.spec.volumeName.clear();
    claims.emplace_back(o.createRevision, std::move(c));
  }
  std::sort(claims.begin(), claims.end(), [](auto& a, auto& b) { return a.first < b.first; });
  std::map<std::string, std::vector<const kvol::api::PersistentVolume*>> byClass;
  for (auto& v : vols) byClass[v.spec.storageClassName].push_back(&v);
  std::map<std::string, std::string> out;
  for (auto& [rev, c] : claims) {
    auto& pool = byClass[ctl::ClaimClass(c)];  // class mismatches never match (nothing pre-bound)
    ctl::MatchInput in;
    in.claim = &c;
    const kvol::api::PersistentVolume* v = ctl::FindMatchingVolumeLinear(in, pool);
    std::string key = ctl::ClaimKeyOf(c);
    if (!v) {
      out[key] = "";
      continue;
    }
    out[key] = v->metadata.name;
    pool.erase(std::find(pool.begin(), pool.end(), v));
  }
  return out;
}

void BM_Bind10k(benchmark::State& state) {
  const int n = int(state.range(0));
  for (auto _ : state) {
    Fixture f = Populate(n, 42);
    PerfControl("enable\n");
    const double cpuStart = CpuMs();
    auto start = std::chrono::steady_clock::now();
    ctl::PVInformer pvs(*f.store, kvol::store::PrefixFor("persistentvolumes"));
    ctl::PVCInformer pvcs(*f.store, kvol::store::PrefixFor("persistentvolumeclaims"));
    ctl::ClassInformer classes(*f.store, kvol::store::PrefixFor("storageclasses"));
    ctl::NodeInformer nodes(*f.store, kvol::store::PrefixFor("nodes"));
    ctl::EventRecorder events(*f.store, "persistentvolume-controller", "", /*buffered=*/true);
    ctl::Binder binder(*f.store, pvs, pvcs, classes, nodes, events, {}, ctl::BinderOptions{});
    binder.RegisterHandlers();
    if (!classes.Start().ok() || !nodes.Start().ok() || !pvs.Start().ok() || !pvcs.Start().ok()) {
      state.SkipWithError("informer start failed");
      return;
    }
    auto ms = [&] {
      return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
          .count();
    };
    std::fprintf(stderr, "informers synced: %.0f ms\n", ms());
    for (;;) {
      auto keys = binder.queue().TryGetBatch(1000000);
      if (keys.empty()) break;
      size_t nkeys = keys.size();
      binder.ProcessKeys(std::move(keys));
      std::fprintf(stderr, "pass over %zu keys: done at %.0f ms\n", nkeys, ms());
    }
    auto end = std::chrono::steady_clock::now();
    const double cpuMs = CpuMs() - cpuStart;
    PerfControl("disable\n");
    std::fprintf(stderr, "controller phase: %.0f ms wall, %.0f ms CPU (all threads)\n",
                 std::chrono::duration<double, std::milli>(end - start).count(), cpuMs);
    state.SetIterationTime(std::chrono::duration<double>(end - start).count());

    // Check: every claim is Bound to the oracle's volume (read back from the durable store).
    std::map<std::string, std::string> want = Oracle(*f.store);
    kvol::store::ListOptions lo;
    lo.prefix = kvol::store::PrefixFor("persistentvolumeclaims");
    auto got = f.store->List(lo);
    int bound = 0;
    int mismatches = 0;
    for (auto& o : got->items) {
      std::string phase = o.value["status"].value("phase", "");
      std::string vol = o.value["spec"].value("volumeName", "");
      if (phase == "Bound") ++bound;
      if (vol != want[o.key]) {
        if (mismatches++ < 5) {
          std::fprintf(stderr, "%s: bound to %s, oracle says %s\n", o.key.c_str(), vol.c_str(),
                       want[o.key].c_str());
        }
      }
    }
    int expectedBound = 0;
    for (auto& [k, v] : want) expectedBound += v.empty() ? 0 : 1;
    state.counters["claims"] = double(got->items.size());
    state.counters["bound"] = bound;
    state.counters["oracle_bound"] = expectedBound;
    state.counters["mismatches"] = mismatches;
    state.counters["cpu_ms"] = cpuMs;
    if (mismatches != 0 || bound != expectedBound)
      state.SkipWithError("binder disagrees with oracle");
    f.store.reset();
    std::filesystem::remove_all(f.dir);
  }
}
BENCHMARK(BM_Bind10k)->Arg(10000)->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
