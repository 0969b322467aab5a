// CrunRuntime against the real crun, as root, with a busybox rootfs and the test shim
// (KVOL_TEST_SHIM). Every test cleans up: containers stopped and removed, overlays and namespace
// files unmounted, the scratch directory removed.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <regex>
#include <sstream>
#include <thread>

#include "kvol/os/exec.h"
#include "kvol/os/fs.h"
#include "kvol/os/mount.h"
#include "kvol/runtime/cri_log.h"
#include "kvol/runtime/runtime.h"

namespace kvol::runtime {
namespace {

using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;
using Clock = std::chrono::steady_clock;

class CrunRuntimeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/kvol-rtimg-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    imageDir_ = tmpl;
    const std::string bin = imageDir_ + "/rootfs/bin";
    for (const char* d : {"bin", "proc", "dev", "sys", "tmp", "etc"}) {
      ASSERT_TRUE(os::MakeDirs(imageDir_ + "/rootfs/" + d).ok());
    }
    std::filesystem::copy_file("/bin/busybox", bin + "/busybox");
    auto list = os::ExecOk({"/bin/busybox", "--list"});
    ASSERT_TRUE(list.ok()) << list.status().ToString();
    std::istringstream names(list->out);
    for (std::string n; std::getline(names, n);) {
      if (!n.empty() && n != "busybox") {
        ASSERT_EQ(symlink("busybox", (bin + "/" + n).c_str()), 0);
      }
    }
  }
  static void TearDownTestSuite() { std::filesystem::remove_all(imageDir_); }

  void SetUp() override {
    char tmpl[] = "/tmp/kvol-rt-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    tmp_ = tmpl;
    dataDir_ = tmp_ + "/data";
    ASSERT_TRUE(os::MakeDirs(dataDir_).ok());
    rt_ = NewCrunRuntime({dataDir_, KVOL_TEST_SHIM, "crun"});
    podDir_ = dataDir_ + "/pods/pod1";
    auto sb = rt_->EnsureSandbox(podDir_, "pod1", "mypod");
    ASSERT_TRUE(sb.ok()) << sb.status().ToString();
    sandbox_ = *sb;
  }

  void TearDown() override {
    if (rt_) {
      auto ids = rt_->List();
      if (ids.ok()) {
        for (const std::string& id : *ids) {
          EXPECT_TRUE(rt_->Stop(id, 0).ok()) << id;
          EXPECT_TRUE(rt_->Remove(id).ok()) << id;
        }
      }
      EXPECT_TRUE(rt_->RemoveSandbox(podDir_).ok());
      rt_.reset();
    }
    auto crun = os::Exec({"crun", "--root", dataDir_ + "/run/crun", "list", "-q"});
    if (crun.ok()) {
      EXPECT_EQ(crun->out, "");
    }
    EXPECT_TRUE(os::RealMounter().UnmountAllUnder(tmp_).ok());
    std::filesystem::remove_all(tmp_);
  }

  ContainerConfig Config(const std::string& name, std::vector<std::string> args, int restart = 0) {
    ContainerConfig c;
    c.podUid = "pod1";
    c.podName = "mypod";
    c.podNamespace = "default";
    c.containerName = name;
    c.restartCount = restart;
    c.id = "pod1_" + name + "_" + std::to_string(restart);
    c.imageRootfs = imageDir_ + "/rootfs";
    c.containerDir = podDir_ + "/containers/" + name;
    c.logPath = c.containerDir + "/" + std::to_string(restart) + ".log";
    c.args = std::move(args);
    c.env = {"PATH=/bin", "HOME=/"};
    c.sandbox = sandbox_;
    c.hostname = "mypod";
    return c;
  }

  ContainerStatus WaitExited(const std::string& id) {
    const auto end = Clock::now() + std::chrono::seconds(10);
    while (true) {
      auto s = rt_->Inspect(id);
      EXPECT_TRUE(s.ok()) << s.status().ToString();
      if (!s.ok() || s->state == State::kExited || Clock::now() > end)
        return s.ok() ? *s : ContainerStatus{};
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  // The log's records without their time stamps (checked).
  static std::vector<std::string> Records(const std::string& path) {
    static const std::regex ts(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z )");
    std::vector<std::string> out;
    std::ifstream f(path);
    for (std::string l; std::getline(f, l);) {
      std::smatch m;
      EXPECT_TRUE(std::regex_search(l, m, ts)) << l;
      out.push_back(m.suffix());
    }
    return out;
  }
  static std::string LogText(const std::string& path) {
    std::string s;
    Status st = ReadCriLog(path, {}, [&](const std::string& t) {
      s += t;
      return true;
    });
    EXPECT_TRUE(st.ok()) << st.ToString();
    return s;
  }
  std::string RunToLog(const ContainerConfig& c) {
    Status st = rt_->Start(c);
    EXPECT_TRUE(st.ok()) << st.ToString();
    ContainerStatus s = WaitExited(c.id);
    EXPECT_EQ(s.state, State::kExited);
    return LogText(c.logPath);
  }

  static std::string imageDir_;
  std::string tmp_, dataDir_, podDir_;
  Sandbox sandbox_;
  std::unique_ptr<Runtime> rt_;
};

std::string CrunRuntimeTest::imageDir_;

const std::regex kRfc3339(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$)");

TEST_F(CrunRuntimeTest, StdoutAndStderrGoToTheCriLogAndExitZeroIsCompleted) {
  ContainerConfig c = Config("hello", {"sh", "-c", "echo out; echo err >&2"});
  ASSERT_TRUE(rt_->Start(c).ok());
  ContainerStatus s = WaitExited(c.id);
  EXPECT_EQ(s.state, State::kExited);
  EXPECT_EQ(s.exitCode, 0);
  EXPECT_EQ(s.reason, "Completed");
  EXPECT_EQ(s.message, "");
  EXPECT_TRUE(std::regex_match(s.startedAt, kRfc3339)) << s.startedAt;
  EXPECT_TRUE(std::regex_match(s.finishedAt, kRfc3339)) << s.finishedAt;
  EXPECT_THAT(Records(c.logPath), UnorderedElementsAre("stdout F out", "stderr F err"));
}

TEST_F(CrunRuntimeTest, NonZeroExitIsError) {
  ContainerConfig c = Config("three", {"sh", "-c", "exit 3"});
  ASSERT_TRUE(rt_->Start(c).ok());
  ContainerStatus s = WaitExited(c.id);
  EXPECT_EQ(s.exitCode, 3);
  EXPECT_EQ(s.reason, "Error");
}

TEST_F(CrunRuntimeTest, ProcessSpecIsApplied) {
  ContainerConfig c = Config(
      "spec", {"sh", "-c", "pwd; id -u; echo $FOO; ulimit -n; cat /proc/1/status | grep CapEff"});
  c.env.push_back("FOO=bar");
  c.workingDir = "/tmp";
  c.uid = 1234;
  c.gid = 1234;
  std::string log = RunToLog(c);
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  // The default docker capability set: 0x00000000a80425fb; a non-root user has none effective.
  EXPECT_EQ(log,
            "/tmp\n1234\nbar\n" + std::to_string(rl.rlim_max) + "\nCapEff:\t0000000000000000\n");
}

TEST_F(CrunRuntimeTest, RootGetsTheDefaultCapabilities) {
  ContainerConfig c = Config("caps", {"sh", "-c", "grep CapBnd /proc/self/status"});
  EXPECT_EQ(RunToLog(c), "CapBnd:\t00000000a80425fb\n");
}

TEST_F(CrunRuntimeTest, BindMountsReadWriteAndReadOnly) {
  const std::string rw = tmp_ + "/rw", ro = tmp_ + "/ro";
  ASSERT_TRUE(os::MakeDirs(rw).ok());
  ASSERT_TRUE(os::MakeDirs(ro).ok());
  ASSERT_TRUE(os::WriteFileAtomic(ro + "/given", "from host\n").ok());
  ContainerConfig c =
      Config("mounts", {"sh", "-c", "echo hi > /data/f && cat /ro/given && touch /ro/x"});
  c.mounts = {{rw, "/data", false, false}, {ro, "/ro", true, false}};
  ASSERT_TRUE(rt_->Start(c).ok());
  ContainerStatus s = WaitExited(c.id);
  EXPECT_EQ(s.exitCode, 1);  // touch on the read-only bind fails
  EXPECT_EQ(s.reason, "Error");
  EXPECT_EQ(*os::ReadFile(rw + "/f"), "hi\n");
  EXPECT_FALSE(os::Exists(ro + "/x"));
  EXPECT_THAT(
      Records(c.logPath),
      UnorderedElementsAre("stdout F from host", "stderr F touch: /ro/x: Read-only file system"));
}

TEST_F(CrunRuntimeTest, DevicesAreBindMountedNodes) {
  ContainerConfig c =
      Config("dev", {"sh", "-c", "echo x > /dev/xvda && test -c /dev/xvda && echo char-device"});
  c.mounts = {{"/dev/null", "/dev/xvda", false, true}};
  EXPECT_EQ(RunToLog(c), "char-device\n");
  EXPECT_EQ(rt_->Inspect(c.id)->exitCode, 0);
}

TEST_F(CrunRuntimeTest, ContainersOfASandboxShareItsNamespaces) {
  struct stat net {
  }, ipc{}, uts{};
  ASSERT_EQ(stat(sandbox_.netns.c_str(), &net), 0);
  ASSERT_EQ(stat(sandbox_.ipcns.c_str(), &ipc), 0);
  ASSERT_EQ(stat(sandbox_.utsns.c_str(), &uts), 0);
  const std::string want = "mypod\nnet:[" + std::to_string(net.st_ino) + "]\nipc:[" +
                           std::to_string(ipc.st_ino) + "]\nuts:[" + std::to_string(uts.st_ino) +
                           "]\n0x9\n";
  const std::string script =
      "hostname; readlink /proc/self/ns/net; readlink /proc/self/ns/ipc; readlink "
      "/proc/self/ns/uts; cat /sys/class/net/lo/flags";
  EXPECT_EQ(RunToLog(Config("a", {"sh", "-c", script})), want);
  EXPECT_EQ(RunToLog(Config("b", {"sh", "-c", script})), want);
  // A second EnsureSandbox keeps the namespaces.
  auto again = rt_->EnsureSandbox(podDir_, "pod1", "mypod");
  ASSERT_TRUE(again.ok());
  struct stat net2 {};
  ASSERT_EQ(stat(again->netns.c_str(), &net2), 0);
  EXPECT_EQ(net2.st_ino, net.st_ino);
}

TEST_F(CrunRuntimeTest, RootLayerIsFreshOnRestartButVolumesKeepTheirFiles) {
  const std::string vol = tmp_ + "/vol";
  ASSERT_TRUE(os::MakeDirs(vol).ok());
  ContainerConfig c0 =
      Config("app", {"sh", "-c", "echo x > /layerfile; echo y > /data/keep; cat /layerfile"});
  c0.mounts = {{vol, "/data", false, false}};
  EXPECT_EQ(RunToLog(c0), "x\n");
  ContainerConfig c1 = Config(
      "app", {"sh", "-c", "test -e /layerfile && echo kept || echo fresh; cat /data/keep"}, 1);
  c1.mounts = c0.mounts;
  EXPECT_EQ(RunToLog(c1), "fresh\ny\n");
  // Each restart has its own log; the image's rootfs is untouched.
  EXPECT_EQ(LogText(c0.logPath), "x\n");
  EXPECT_FALSE(os::Exists(imageDir_ + "/rootfs/layerfile"));
}

TEST_F(CrunRuntimeTest, StopSendsTermThenKillAfterTheGracePeriod) {
  // A process that handles TERM stops at once.
  ContainerConfig t = Config("term", {"sh", "-c", "trap 'exit 143' TERM; sleep 1000 & wait"});
  // One that ignores it, and a plain `sleep` as the container's pid 1 (which the kernel does not
  // let TERM kill without a handler, as in Kubernetes), are killed after the grace period.
  ContainerConfig i = Config("ignore", {"sh", "-c", "trap '' TERM; sleep 1000"});
  ContainerConfig p = Config("pid1", {"sleep", "1000"});
  for (const auto* c : {&t, &i, &p}) ASSERT_TRUE(rt_->Start(*c).ok());
  for (const auto* c : {&t, &i, &p}) EXPECT_EQ(rt_->Inspect(c->id)->state, State::kRunning);

  auto t0 = Clock::now();
  ASSERT_TRUE(rt_->Stop(t.id, 5).ok());
  EXPECT_LT(Clock::now() - t0, std::chrono::seconds(2));
  EXPECT_EQ(rt_->Inspect(t.id)->exitCode, 143);

  t0 = Clock::now();
  Status si, sp;
  std::thread a([&] { si = rt_->Stop(i.id, 1); });
  std::thread b([&] { sp = rt_->Stop(p.id, 1); });
  a.join();
  b.join();
  EXPECT_TRUE(si.ok()) << si.ToString();
  EXPECT_TRUE(sp.ok()) << sp.ToString();
  EXPECT_GE(Clock::now() - t0, std::chrono::seconds(1));
  EXPECT_LT(Clock::now() - t0, std::chrono::seconds(4));
  for (const auto* c : {&i, &p}) {
    auto s = rt_->Inspect(c->id);
    EXPECT_EQ(s->state, State::kExited);
    EXPECT_EQ(s->exitCode, 137) << c->id;
    EXPECT_EQ(s->reason, "Error");
  }
  // Stopping an exited container is fine.
  EXPECT_TRUE(rt_->Stop(t.id, 1).ok());
}

TEST_F(CrunRuntimeTest, RemoveLeavesNoMountNoCrunStateAndKeepsTheLog) {
  ContainerConfig c = Config("gone", {"sh", "-c", "echo bye"});
  EXPECT_EQ(RunToLog(c), "bye\n");
  auto listed = rt_->List();
  ASSERT_TRUE(listed.ok());
  EXPECT_THAT(*listed, ::testing::Contains(c.id));
  auto crunState = os::Exec({"crun", "--root", dataDir_ + "/run/crun", "state", c.id});
  ASSERT_TRUE(crunState.ok());
  EXPECT_EQ(crunState->exitCode, 0);

  ASSERT_TRUE(rt_->Remove(c.id).ok());
  auto mounts = os::MountsUnder(podDir_);
  ASSERT_TRUE(mounts.ok());
  std::vector<std::string> points;
  for (const auto& m : *mounts) points.push_back(m.mountPoint);
  EXPECT_THAT(points, UnorderedElementsAre(sandbox_.netns, sandbox_.ipcns, sandbox_.utsns));
  EXPECT_FALSE(os::Exists(c.containerDir + "/layer-0"));
  EXPECT_FALSE(os::Exists(c.containerDir + "/bundle-0"));
  EXPECT_TRUE(os::Exists(c.logPath));
  crunState = os::Exec({"crun", "--root", dataDir_ + "/run/crun", "state", c.id});
  ASSERT_TRUE(crunState.ok());
  EXPECT_NE(crunState->exitCode, 0);
  EXPECT_TRUE(rt_->Inspect(c.id).status().IsNotFound());
  EXPECT_THAT(*rt_->List(), ::testing::Not(::testing::Contains(c.id)));
  EXPECT_TRUE(rt_->Remove(c.id).ok());  // idempotent

  // The sandbox goes last.
  ASSERT_TRUE(rt_->RemoveSandbox(podDir_).ok());
  EXPECT_TRUE(os::MountsUnder(podDir_)->empty());
  EXPECT_FALSE(os::Exists(podDir_ + "/sandbox"));
}

TEST_F(CrunRuntimeTest, RemoveRefusesARunningContainer) {
  ContainerConfig c = Config("busy", {"sleep", "1000"});
  ASSERT_TRUE(rt_->Start(c).ok());
  Status st = rt_->Remove(c.id);
  EXPECT_EQ(st.code(), Code::kConflict) << st.ToString();
  EXPECT_EQ(rt_->Inspect(c.id)->state, State::kRunning);
}

TEST_F(CrunRuntimeTest, ExitHandlerFires) {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> exited;
  rt_->SetExitHandler([&](const std::string& id) {
    std::lock_guard<std::mutex> l(mu);
    exited.push_back(id);
    cv.notify_all();
  });
  ContainerConfig c = Config("quick", {"true"});
  ASSERT_TRUE(rt_->Start(c).ok());
  std::unique_lock<std::mutex> l(mu);
  ASSERT_TRUE(cv.wait_for(l, std::chrono::seconds(5), [&] { return !exited.empty(); }));
  EXPECT_EQ(exited, std::vector<std::string>{c.id});
  // When the handler runs, Inspect already has the exit status.
  EXPECT_EQ(rt_->Inspect(c.id)->state, State::kExited);
}

TEST_F(CrunRuntimeTest, MissingBinaryIsStartError) {
  ContainerConfig c = Config("nobin", {"/bin/nope", "x"});
  ASSERT_TRUE(rt_->Start(c).ok());
  auto s = rt_->Inspect(c.id);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->state, State::kExited);
  EXPECT_EQ(s->reason, "StartError");
  EXPECT_EQ(s->exitCode, 128);
  EXPECT_THAT(s->message, HasSubstr("executable file `/bin/nope` not found"));
}

TEST_F(CrunRuntimeTest, ARestartedRuntimeFindsItsContainers) {
  ContainerConfig c = Config("long", {"sleep", "1000"});
  ASSERT_TRUE(rt_->Start(c).ok());
  rt_.reset();  // the agent goes away; the shim and the container stay
  rt_ = NewCrunRuntime({dataDir_, KVOL_TEST_SHIM, "crun"});
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> exited;
  rt_->SetExitHandler([&](const std::string& id) {
    std::lock_guard<std::mutex> l(mu);
    exited.push_back(id);
    cv.notify_all();
  });
  EXPECT_THAT(*rt_->List(), ::testing::Contains(c.id));
  auto s = rt_->Inspect(c.id);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->state, State::kRunning);
  EXPECT_GT(s->pid, 0);
  ASSERT_TRUE(rt_->Stop(c.id, 0).ok());
  std::unique_lock<std::mutex> l(mu);
  EXPECT_TRUE(cv.wait_for(l, std::chrono::seconds(5), [&] { return !exited.empty(); }));
  EXPECT_EQ(rt_->Inspect(c.id)->exitCode, 137);
}

TEST_F(CrunRuntimeTest, ContainersSurviveTheAgentBeingKilled) {
  ContainerConfig c = Config("survivor", {"sh", "-c", "echo before; sleep 1000"});
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  pid_t agent = fork();
  ASSERT_GE(agent, 0);
  if (agent == 0) {
    // The "agent": its own runtime starts the container, then it is SIGKILLed.
    close(p[0]);
    auto rt = NewCrunRuntime({dataDir_, KVOL_TEST_SHIM, "crun"});
    char ok = rt->Start(c).ok() ? 'y' : 'n';
    if (write(p[1], &ok, 1) != 1) _exit(1);
    pause();
    _exit(0);
  }
  close(p[1]);
  char ok = 0;
  ASSERT_EQ(read(p[0], &ok, 1), 1);
  close(p[0]);
  kill(agent, SIGKILL);
  ASSERT_EQ(waitpid(agent, nullptr, 0), agent);
  ASSERT_EQ(ok, 'y');
  auto s = rt_->Inspect(c.id);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->state, State::kRunning);
  // The shim still copies the output to the log.
  for (int i = 0; i < 500 && LogText(c.logPath).empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(rt_->Stop(c.id, 0).ok());
  s = rt_->Inspect(c.id);
  EXPECT_EQ(s->state, State::kExited);
  EXPECT_EQ(s->exitCode, 137);
  EXPECT_EQ(LogText(c.logPath), "before\n");
}

// The shims are forked by a zygote process the runtime keeps; when it dies, containers still start
// (the shim is exec'd, and a new zygote is started for the next one).
TEST_F(CrunRuntimeTest, ContainersStartAfterTheShimZygoteDied) {
  auto zygotes = [] {
    std::vector<pid_t> out;
    for (const auto& t : std::filesystem::directory_iterator("/proc/self/task")) {
      std::ifstream f(t.path() / "children");
      for (pid_t p; f >> p;) {
        auto comm = os::ReadFile("/proc/" + std::to_string(p) + "/comm");
        if (comm.ok() && *comm == "kvol-zygote\n") out.push_back(p);
      }
    }
    return out;
  };
  ContainerConfig a = Config("a", {"sleep", "1000"});
  ASSERT_TRUE(rt_->Start(a).ok());
  auto z = zygotes();
  ASSERT_EQ(z.size(), 1u);
  auto shimPid = os::ReadFile(dataDir_ + "/run/containers/" + a.id + "/shim.pid");
  ASSERT_TRUE(shimPid.ok());
  auto comm = os::ReadFile("/proc/" + std::to_string(std::atoi(shimPid->c_str())) + "/comm");
  EXPECT_EQ(comm.ok() ? *comm : "", "kvol-shim\n");
  ASSERT_EQ(kill(z[0], SIGKILL), 0);
  for (const char* name : {"b", "c"}) {
    ContainerConfig c = Config(name, {"sleep", "1000"});
    Status st = rt_->Start(c);
    ASSERT_TRUE(st.ok()) << st.ToString();
    EXPECT_EQ(rt_->Inspect(c.id)->state, State::kRunning) << name;
  }
  EXPECT_EQ(rt_->Inspect(a.id)->state, State::kRunning);
  z = zygotes();
  ASSERT_EQ(z.size(), 1u);  // the dead one reaped, a new one started
}

TEST_F(CrunRuntimeTest, StartCost) {
  std::vector<double> ms;
  for (int i = 0; i < 5; ++i) {
    ContainerConfig c = Config("t" + std::to_string(i), {"sleep", "1000"});
    auto t0 = Clock::now();
    ASSERT_TRUE(rt_->Start(c).ok());
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    EXPECT_EQ(rt_->Inspect(c.id)->state, State::kRunning);
    std::printf("%s", os::ReadFile(dataDir_ + "/run/containers/" + c.id + "/shim.log")->c_str());
  }
  std::sort(ms.begin(), ms.end());
  std::printf(
      "Start (overlay + bundle + shim + crun run --detach): median %.1f ms, min %.1f, max %.1f\n",
      ms[2], ms[0], ms[4]);
}

}  // namespace
}  // namespace kvol::runtime
