// A `kvol serve` child process for whole-process benchmarks (bench/*_bench.cc): a fresh data dir
// under /tmp, the server started on 127.0.0.1:0, its `kvol ready <url>` line read, and an
// ApiClient on its kubeconfig. The destructor stops it with SIGTERM, waits, and removes the
// directory unless something is still mounted below it (then it is left for inspection).
// KVOL_BIN names the kvol binary (default: the one of this build, KVOL_DEFAULT_BIN).
//
// Thread safety: construct and destroy on one thread; `api` is for one thread at a time.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "kvol/client/client.h"
#include "kvol/os/mount.h"

extern char** environ;

namespace kvol::bench {

class ServeProcess {
 public:
  using BeforeStart = std::function<void(const std::string& kvol, const std::string& dataDir)>;
  // `beforeStart(kvol, dataDir)` runs after the data dir is chosen and before the server starts
  // (e.g. an image import). On failure `error` says why and `api` is null.
  explicit ServeProcess(const char* tmpPrefix, const BeforeStart& beforeStart = {}) {
    const char* bin = std::getenv("KVOL_BIN");
    kvol = bin != nullptr ? bin : KVOL_DEFAULT_BIN;
    std::string tmpl = std::string("/tmp/") + tmpPrefix + ".XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) {
      error = "mkdtemp failed";
      return;
    }
    dir = tmpl;
    dataDir = dir + "/d";
    if (beforeStart) beforeStart(kvol, dataDir);
    int fds[2];
    if (::pipe(fds) != 0) {
      error = "pipe failed";
      return;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    const std::string log = dir + "/serve.log";
    posix_spawn_file_actions_addopen(&fa, 2, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<std::string> args = {kvol,    "serve",    "--data-dir",
                                     dataDir, "--listen", "127.0.0.1:0"};
    // KVOL_BENCH_SERVE_ARGS: more serve flags, space-separated (A/B runs of one flag).
    if (const char* extra = std::getenv("KVOL_BENCH_SERVE_ARGS")) {
      std::istringstream in(extra);
      for (std::string a; in >> a;) args.push_back(a);
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    int rc = posix_spawn(&pid, kvol.c_str(), &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    ::close(fds[1]);
    if (rc != 0) {
      pid = -1;
      ::close(fds[0]);
      error = "cannot start " + kvol;
      return;
    }
    std::string line;
    char c;
    while (::read(fds[0], &c, 1) == 1 && c != '\n') line += c;
    ::close(fds[0]);
    if (line.rfind("kvol ready ", 0) != 0) {
      error = "kvol serve did not become ready (see " + log + ")";
      return;
    }
    url = line.substr(11);
    auto cfg = client::LoadKubeconfig(dataDir + "/kubeconfig");
    if (!cfg.ok()) {
      error = cfg.status().message();
      return;
    }
    api = std::make_unique<client::ApiClient>(*cfg);
  }

  ~ServeProcess() {
    api.reset();
    if (pid > 0) {
      ::kill(pid, SIGTERM);
      int st;
      ::waitpid(pid, &st, 0);
    }
    if (dir.empty()) return;
    auto mounts = os::MountsUnder(dir);
    if (mounts.ok() && mounts->empty()) std::filesystem::remove_all(dir);
  }
  ServeProcess(const ServeProcess&) = delete;
  ServeProcess& operator=(const ServeProcess&) = delete;

  // The port of `url` ("http://127.0.0.1:41234" -> 41234).
  int port() const { return std::atoi(url.substr(url.rfind(':') + 1).c_str()); }

  std::string dir, dataDir, kvol, url, error;
  pid_t pid = -1;
  std::unique_ptr<client::ApiClient> api;
};

}  // namespace kvol::bench
