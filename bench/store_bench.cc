// Benchmarks of the SQLite store (WAL + synchronous=FULL, a real file under $TMPDIR), beside a
// plain SQLite insert loop as the floor (one row per transaction, same pragmas).
//
//   build/release/bench/store_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only
//
// Figures go to bench/RESULTS.md (medians).
#include <benchmark/benchmark.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <string>

#include "kvol/store/sqlite_store.h"

namespace {

using namespace kvol;
using namespace kvol::store;

// A fresh directory per benchmark run, removed afterwards.
class Dir {
 public:
  Dir() {
    std::string t = (std::filesystem::temp_directory_path() / "kvol-bench-XXXXXX").string();
    path_ = mkdtemp(t.data()) ? t : "/tmp";
  }
  ~Dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string File(const char* n) const { return path_ + "/" + n; }

 private:
  std::string path_;
};

// A PersistentVolumeClaim-sized object (~600 bytes).
json Pvc(const std::string& name, int64_t n = 0) {
  return {{"apiVersion", "v1"},
          {"kind", "PersistentVolumeClaim"},
          {"metadata",
           {{"name", name},
            {"namespace", "default"},
            {"uid", "5b0f5b4e-2f9e-4a58-9d51-5ab1cfa3b3f1"},
            {"creationTimestamp", "2026-01-02T03:04:05Z"},
            {"labels", {{"app", "bench"}, {"tier", "storage"}}},
            {"finalizers", {"kubernetes.io/pvc-protection"}}}},
          {"spec",
           {{"accessModes", {"ReadWriteOnce"}},
            {"resources", {{"requests", {{"storage", "10Gi"}}}}},
            {"storageClassName", "local-path"},
            {"volumeMode", "Filesystem"}}},
          {"status", {{"phase", "Pending"}, {"n", n}}}};
}

std::unique_ptr<Store> Open(const Dir& d) {
  auto s = OpenSqliteStore(d.File("bench.db"));
  if (!s.ok()) std::abort();
  return std::move(*s);
}

std::string Key(int64_t i) {
  return KeyFor("persistentvolumeclaims", "default", "c" + std::to_string(i));
}

// The floor: what SQLite alone does with one fsynced transaction per row.
void BM_SqlitePlainInsertFloor(benchmark::State& state) {
  Dir d;
  sqlite3* db = nullptr;
  sqlite3_open(d.File("plain.db").c_str(), &db);
  sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", nullptr, nullptr, nullptr);
  sqlite3_exec(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, k TEXT NOT NULL, v TEXT NOT NULL)",
               nullptr, nullptr, nullptr);
  sqlite3_stmt* ins = nullptr;
  sqlite3_prepare_v2(db, "INSERT INTO t(k, v) VALUES (?1, ?2)", -1, &ins, nullptr);
  const std::string value = Pvc("x").dump();
  int64_t i = 0;
  for (auto _ : state) {
    std::string k = Key(i++);
    sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
    sqlite3_bind_text(ins, 1, k.data(), int(k.size()), SQLITE_TRANSIENT);
    sqlite3_bind_text(ins, 2, value.data(), int(value.size()), SQLITE_STATIC);
    sqlite3_step(ins);
    sqlite3_reset(ins);
    sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
  }
  sqlite3_finalize(ins);
  sqlite3_close(db);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SqlitePlainInsertFloor)->Unit(benchmark::kMicrosecond)->UseRealTime();

void BM_Create(benchmark::State& state) {
  Dir d;
  auto store = Open(d);
  int64_t i = 0;
  for (auto _ : state) {
    auto r = store->Create(Key(i), Pvc("c" + std::to_string(i)));
    if (!r.ok()) state.SkipWithError(r.status().message().c_str());
    ++i;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Create)->Unit(benchmark::kMicrosecond)->UseRealTime();

void BM_ConditionalUpdate(benchmark::State& state) {
  Dir d;
  auto store = Open(d);
  Revision rev = store->Create(Key(0), Pvc("c0"))->modRevision;
  int64_t n = 0;
  for (auto _ : state) {
    auto r = store->Update(Key(0), Pvc("c0", ++n), rev);
    if (!r.ok()) state.SkipWithError(r.status().message().c_str());
    rev = r->modRevision;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ConditionalUpdate)->Unit(benchmark::kMicrosecond)->UseRealTime();

// A PV/PVC bind: two objects updated together, each with its own precondition.
void BM_Txn2Objects(benchmark::State& state) {
  Dir d;
  auto store = Open(d);
  Revision a = store->Create(Key(0), Pvc("c0"))->modRevision;
  Revision b = store->Create(Key(1), Pvc("c1"))->modRevision;
  int64_t n = 0;
  for (auto _ : state) {
    ++n;
    auto r = store->Txn({Op::Update(Key(0), Pvc("c0", n), a), Op::Update(Key(1), Pvc("c1", n), b)});
    if (!r.ok()) state.SkipWithError(r.status().message().c_str());
    a = b = r->revision;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Txn2Objects)->Unit(benchmark::kMicrosecond)->UseRealTime();

// Time from Create() being called until a watcher's callback has the event (includes the fsync).
// counters: the time from the write returning to the callback, in microseconds.
void BM_WatchDeliveryLatency(benchmark::State& state) {
  Dir d;
  auto store = Open(d);
  std::mutex mu;
  std::condition_variable cv;
  Revision seen = 0;
  std::chrono::steady_clock::time_point seenAt;
  WatchOptions wo;
  wo.prefix = PrefixFor("persistentvolumeclaims");
  auto w = store->Watch(wo, [&](const WatchEvent& e) {
    std::lock_guard<std::mutex> lk(mu);
    seen = e.revision;
    seenAt = std::chrono::steady_clock::now();
    cv.notify_all();
  });
  int64_t i = 0;
  double afterWriteUs = 0;
  for (auto _ : state) {
    auto r = store->Create(Key(i), Pvc("c" + std::to_string(i)));
    auto returned = std::chrono::steady_clock::now();
    ++i;
    std::unique_lock<std::mutex> lk(mu);
    cv.wait(lk, [&] { return seen >= r->modRevision; });
    afterWriteUs +=
        std::max(0.0, std::chrono::duration<double, std::micro>(seenAt - returned).count());
  }
  state.counters["after_write_us"] = afterWriteUs / double(std::max<int64_t>(1, i));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_WatchDeliveryLatency)->Unit(benchmark::kMicrosecond)->UseRealTime();

// Group commit: N threads each create keys; their Txns share SQLite commits (fsyncs).
// counters: txns_per_commit.
std::unique_ptr<Dir> gDir;
std::unique_ptr<Store> gStore;
std::atomic<int64_t> gNext{0};
SqliteStats gBefore;

void BM_GroupCommitThreads(benchmark::State& state) {
  if (state.thread_index() == 0) {
    gDir = std::make_unique<Dir>();
    gStore = Open(*gDir);
    gNext = 0;
    gBefore = GetSqliteStats(*gStore);
  }
  for (auto _ : state) {
    int64_t i = gNext.fetch_add(1);
    auto r = gStore->Create(Key(i), Pvc("c" + std::to_string(i)));
    if (!r.ok()) state.SkipWithError(r.status().message().c_str());
  }
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) {
    SqliteStats s = GetSqliteStats(*gStore);
    state.counters["txns_per_commit"] =
        double(s.txns - gBefore.txns) / double(std::max<int64_t>(1, s.commits - gBefore.commits));
    gStore.reset();
    gDir.reset();
  }
}
BENCHMARK(BM_GroupCommitThreads)
    ->Threads(1)
    ->Threads(4)
    ->Threads(16)
    ->Threads(64)
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

// TxnBatch: 100 independent creates per call, one fsync.
void BM_TxnBatch100(benchmark::State& state) {
  Dir d;
  auto store = Open(d);
  int64_t i = 0;
  for (auto _ : state) {
    std::vector<std::vector<Op>> txns;
    for (int k = 0; k < 100; ++k, ++i) txns.push_back({Op::Create(Key(i), Pvc("c"))});
    auto rs = store->TxnBatch(std::move(txns));
    if (!rs[0].ok()) state.SkipWithError(rs[0].status().message().c_str());
  }
  state.SetItemsProcessed(state.iterations() * 100);
}
BENCHMARK(BM_TxnBatch100)->Unit(benchmark::kMicrosecond)->UseRealTime();

void BM_GetLatest(benchmark::State& state) {
  Dir d;
  auto store = Open(d);
  for (int i = 0; i < 1000; ++i) (void)store->Create(Key(i), Pvc("c"));
  int64_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(store->Get(Key(i++ % 1000)));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_GetLatest)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
