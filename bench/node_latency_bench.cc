// Node benchmarks against a real `kvol serve` (API server + controllers + node agent + crun), as
// DESIGN.md's targets define them:
// - PodStart: from the API create returning to every container Running, seen on a watch, for
//   DESIGN.md's pod (two busybox containers; emptyDir + configMap + secret + hostPath + a claim
//   already bound to a `local` volume; image imported). Target: < 30 ms median.
// - ConfigMapPropagation: from a configMap update returning to the new content in the mounted
//   file of a running pod (read on the host through the volume the container bind-mounts).
//   Target: p99 < 100 ms.
// Each reports p50/p99 (ms) as counters over its iterations (manual time = the measured span).
// Needs root, crun and busybox-static; KVOL_BIN names the kvol binary (default: the release
// build beside this one).
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "bench/serve_process.h"
#include "kvol/client/client.h"

namespace {

using kvol::client::ApiClient;
using kvol::client::json;
using Clock = std::chrono::steady_clock;

std::string Sh(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  ::pclose(p);
  return out;
}

// One `kvol serve` for the whole process, with the busybox image imported.
kvol::bench::ServeProcess& TheServer() {
  static kvol::bench::ServeProcess s(
      "kvol-nodebench", [](const std::string& kvol, const std::string& dataDir) {
        const std::string img = dataDir + ".busybox.tar";
        Sh("bash " KVOL_SOURCE_DIR "/scripts/make-busybox-image.sh " + img + " >/dev/null 2>&1");
        Sh(kvol + " image import --data-dir " + dataDir + " " + img + " >/dev/null 2>&1");
      });
  return s;
}

int Post(ApiClient& api, const std::string& path, const json& obj) {
  auto r = api.Do("POST", path, obj.dump(), "application/json");
  return r.ok() ? r->status : 0;
}

json PodSpec(const std::string& name, const std::string& hostDir) {
  auto mounts = [](bool all) {
    json m = json::array({{{"name", "scratch"}, {"mountPath", "/scratch"}}});
    if (all) {
      m.push_back({{"name", "cfg"}, {"mountPath", "/etc/cfg"}});
      m.push_back({{"name", "creds"}, {"mountPath", "/etc/creds"}});
      m.push_back({{"name", "host"}, {"mountPath", "/host"}});
      m.push_back({{"name", "data"}, {"mountPath", "/data"}});
    }
    return m;
  };
  auto container = [&](const std::string& n, bool all) {
    return json{{"name", n},
                {"image", "busybox"},
                {"imagePullPolicy", "Never"},
                {"command", {"sh", "-c", "sleep 3600"}},
                {"volumeMounts", mounts(all)}};
  };
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata", {{"name", name}}},
          {"spec",
           {{"terminationGracePeriodSeconds", 1},
            {"containers", {container("app", true), container("sidecar", false)}},
            {"volumes",
             {{{"name", "scratch"}, {"emptyDir", json::object()}},
              {{"name", "cfg"}, {"configMap", {{"name", "bench-config"}}}},
              {{"name", "creds"}, {"secret", {{"secretName", "bench-secret"}}}},
              {{"name", "host"}, {"hostPath", {{"path", hostDir}, {"type", "DirectoryOrCreate"}}}},
              {{"name", "data"}, {"persistentVolumeClaim", {{"claimName", "bench-data"}}}}}}}}};
}

bool AllRunning(const json& pod) {
  const json& st = pod.value("status", json::object());
  auto cs = st.find("containerStatuses");
  if (cs == st.end() || !cs->is_array() || cs->size() != 2) return false;
  for (const auto& c : *cs) {
    if (!c.value("state", json::object()).contains("running")) return false;
  }
  return true;
}

// Creates `name` and returns ms from the create's reply to all containers Running on a watch
// (-1 on failure).
double CreateAndWaitRunning(ApiClient& api, const std::string& name, const std::string& hostDir) {
  auto list = api.Do("GET", "/api/v1/namespaces/default/pods?limit=1");
  if (!list.ok()) return -1;
  std::string rv = json::parse(list->body)["metadata"].value("resourceVersion", "0");
  Clock::time_point created{}, running{};
  std::thread watcher([&] {
    ApiClient w(api.config());
    (void)w.Watch(
        "/api/v1/namespaces/default/pods?watch=true&fieldSelector=metadata.name%3D" + name +
            "&resourceVersion=" + rv,
        [&](const json& ev) {
          if (ev.value("type", "") == "MODIFIED" && AllRunning(ev["object"])) {
            running = Clock::now();
            return false;
          }
          return true;
        },
        Clock::now() + std::chrono::seconds(30));
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the watch is open
  int code = Post(api, "/api/v1/namespaces/default/pods", PodSpec(name, hostDir));
  created = Clock::now();
  watcher.join();
  if (code != 201 || running == Clock::time_point{}) return -1;
  return std::chrono::duration<double, std::milli>(running - created).count();
}

// Deletes the pod, waits for the API to forget it, then for the node agent to finish tearing it
// down (its directory under DIR/pods gone), so the next pod's start is not measured while the
// previous pod's containers are killed and its mounts undone on the same 2 cores.
void DeleteAndWaitGone(ApiClient& api, const std::string& dataDir, const std::string& ns,
                       const std::string& name) {
  const std::string path = "/api/v1/namespaces/" + ns + "/pods/" + name;
  std::string uid;
  if (auto r = api.Do("GET", path); r.ok() && r->status == 200) {
    uid = json::parse(r->body)["metadata"].value("uid", "");
  }
  (void)api.Do("DELETE", path + "?gracePeriodSeconds=0");
  for (int i = 0; i < 3000; ++i) {
    auto r = api.Do("GET", path);
    if (r.ok() && r->status == 404) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  for (int i = 0; !uid.empty() && i < 2000; ++i) {
    if (!std::filesystem::exists(dataDir + "/pods/" + uid)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

void Percentiles(benchmark::State& state, std::vector<double> ms) {
  if (ms.empty()) return;
  std::sort(ms.begin(), ms.end());
  auto at = [&](double q) {
    return ms[std::min(ms.size() - 1, static_cast<size_t>(q * ms.size()))];
  };
  state.counters["p50_ms"] = at(0.5);
  state.counters["p99_ms"] = at(0.99);
  state.counters["max_ms"] = ms.back();
}

void Setup(ApiClient& api) {
  static bool done = false;
  if (done) return;
  done = true;
  Post(api, "/api/v1/namespaces/default/configmaps",
       {{"apiVersion", "v1"},
        {"kind", "ConfigMap"},
        {"metadata", {{"name", "bench-config"}}},
        {"data", {{"app.conf", "v0"}}}});
  Post(api, "/api/v1/namespaces/default/secrets",
       {{"apiVersion", "v1"},
        {"kind", "Secret"},
        {"metadata", {{"name", "bench-secret"}}},
        {"stringData", {{"token", "s3cr3t"}}}});
  Post(api, "/api/v1/namespaces/default/persistentvolumeclaims",
       {{"apiVersion", "v1"},
        {"kind", "PersistentVolumeClaim"},
        {"metadata", {{"name", "bench-data"}}},
        {"spec",
         {{"accessModes", {"ReadWriteOnce"}},
          {"storageClassName", "local"},
          {"resources", {{"requests", {{"storage", "1Gi"}}}}}}}});
}

void BM_PodStart(benchmark::State& state) {
  kvol::bench::ServeProcess& s = TheServer();
  if (!s.error.empty() || !s.api) {
    state.SkipWithError(s.error.c_str());
    return;
  }
  ApiClient& api = *s.api;
  Setup(api);
  const std::string hostDir = s.dir + "/host";
  // Warm-up: binds the claim (WaitForFirstConsumer) so measured pods find it Bound.
  if (CreateAndWaitRunning(api, "warm", hostDir) < 0) {
    state.SkipWithError(("warm-up pod did not run; see " + s.dir + "/serve.log").c_str());
    return;
  }
  DeleteAndWaitGone(api, s.dataDir, "default", "warm");
  std::vector<double> samples;
  int i = 0;
  for (auto _ : state) {
    std::string name = "bench-" + std::to_string(i++);
    double ms = CreateAndWaitRunning(api, name, hostDir);
    if (ms < 0) {
      state.SkipWithError("a pod did not reach Running");
      return;
    }
    state.SetIterationTime(ms / 1000);
    samples.push_back(ms);
    state.PauseTiming();
    DeleteAndWaitGone(api, s.dataDir, "default", name);
    state.ResumeTiming();
  }
  Percentiles(state, samples);
}
BENCHMARK(BM_PodStart)->UseManualTime()->Iterations(50)->Unit(benchmark::kMillisecond);

void BM_ConfigMapPropagation(benchmark::State& state) {
  kvol::bench::ServeProcess& s = TheServer();
  if (!s.error.empty() || !s.api) {
    state.SkipWithError(s.error.c_str());
    return;
  }
  ApiClient& api = *s.api;
  Setup(api);
  const std::string hostDir = s.dir + "/host";
  if (CreateAndWaitRunning(api, "reader", hostDir) < 0) {
    state.SkipWithError("the reader pod did not run");
    return;
  }
  auto pod = api.Do("GET", "/api/v1/namespaces/default/pods/reader");
  std::string uid = json::parse(pod->body)["metadata"].value("uid", "");
  const std::string file =
      s.dataDir + "/pods/" + uid + "/volumes/kubernetes.io~configmap/cfg/app.conf";
  std::vector<double> samples;
  int i = 0;
  for (auto _ : state) {
    std::string want = "v" + std::to_string(++i);
    json patch = {{"data", {{"app.conf", want}}}};
    auto r = api.Do("PATCH", "/api/v1/namespaces/default/configmaps/bench-config", patch.dump(),
                    "application/merge-patch+json");
    auto t0 = Clock::now();
    if (!r.ok() || r->status != 200) {
      state.SkipWithError(
          ("configmap update failed: " +
           (r.ok() ? std::to_string(r->status) + " " + r->body : r.status().message()))
              .c_str());
      return;
    }
    while (true) {
      std::ifstream in(file);
      std::stringstream ss;
      ss << in.rdbuf();
      if (ss.str() == want) break;
      if (Clock::now() - t0 > std::chrono::seconds(10)) {
        state.SkipWithError("the new content never reached the file");
        return;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    state.SetIterationTime(ms / 1000);
    samples.push_back(ms);
  }
  Percentiles(state, samples);
  DeleteAndWaitGone(api, s.dataDir, "default", "reader");
}
BENCHMARK(BM_ConfigMapPropagation)->UseManualTime()->Iterations(200)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
