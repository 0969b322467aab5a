// Tests of kvol::node::VolumeManager with fake plugins defined here (they record calls, make real
// directories under a scratch DIR, fail on demand), plus one test with the real built-in plugins.
#include "kvol/node/volume_manager.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "kvol/api/attachment.h"
#include "kvol/driver/node_driver.h"
#include "kvol/os/fs.h"
#include "kvol/os/mount.h"
#include "src/volume/volumes_in_use.h"
#include "volume_manager_state.h"

namespace kvol::node {
namespace {

namespace fs = std::filesystem;
using api::json;
using std::chrono::milliseconds;
using std::chrono::steady_clock;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

constexpr const char* kEmptyDir = "kubernetes.io~empty-dir";
constexpr const char* kConfigMap = "kubernetes.io~configmap";
constexpr const char* kDownward = "kubernetes.io~downward-api";

// What every fake plugin records; shared by the plugins of one test.
struct Recorder {
  std::mutex mu;
  std::vector<std::string> calls;           // "SetUp <uid>/<volume>", "TearDown <uid>/<dir>"
  std::map<std::string, int> failuresLeft;  // volume name -> SetUp failures still to make
  std::map<std::string, Status> failWith;   // volume name -> the failure
  std::vector<steady_clock::time_point> setUpTimes;  // of every SetUp call
  bool forgetTearDown = false;                       // TearDown returns OK and does nothing
  bool holdSetUp = false;                            // SetUp waits until released
  bool setUpWaiting = false;                         // a SetUp is waiting now
  std::condition_variable cv;

  void Release() {
    {
      std::lock_guard<std::mutex> l(mu);
      holdSetUp = false;
    }
    cv.notify_all();
  }

  int Count(const std::string& call) {
    std::lock_guard<std::mutex> l(mu);
    return static_cast<int>(std::count(calls.begin(), calls.end(), call));
  }
  std::vector<std::string> Calls(const std::string& prefix) {
    std::lock_guard<std::mutex> l(mu);
    std::vector<std::string> out;
    for (const auto& c : calls) {
      if (c.rfind(prefix, 0) == 0) out.push_back(c);
    }
    return out;
  }
};

std::string Uid(const std::string& podDir) { return fs::path(podDir).filename().string(); }

// A directory-backed plugin: SetUp makes DIR/pods/<uid>/volumes/<pluginDir>/<volume> (keeping what
// is there) and bumps a "setups" file in it; TearDown removes it with os::RemoveTreeOneFs.
class FakePlugin : public volume::Plugin {
 public:
  FakePlugin(std::string dir, std::function<bool(const api::Volume&)> handles, Recorder* rec)
      : dir_(std::move(dir)), handles_(std::move(handles)), rec_(rec) {}

  std::string PluginDir() const override { return dir_; }
  bool CanHandle(const api::Volume& v) const override { return handles_(v); }

  Result<volume::MountedVolume> SetUp(const volume::VolumeRequest& req) override {
    const std::string name = req.volume->name;
    {
      std::unique_lock<std::mutex> l(rec_->mu);
      rec_->calls.push_back("SetUp " + Uid(req.podDir) + "/" + name);
      rec_->setUpTimes.push_back(steady_clock::now());
      rec_->setUpWaiting = rec_->holdSetUp;
      rec_->cv.wait(l, [&] { return !rec_->holdSetUp; });
      rec_->setUpWaiting = false;
      auto f = rec_->failuresLeft.find(name);
      if (f != rec_->failuresLeft.end() && f->second > 0) {
        --f->second;
        return rec_->failWith[name];
      }
    }
    const std::string path = req.podDir + "/volumes/" + dir_ + "/" + name;
    std::error_code ec;
    fs::create_directories(path, ec);
    if (ec) return Internal("mkdir " + path + ": " + ec.message());
    int n = 0;
    {
      std::ifstream in(path + "/setups");
      in >> n;
    }
    std::ofstream(path + "/setups") << n + 1;
    volume::MountedVolume mv;
    mv.pluginDir = dir_;
    mv.dirName = name;
    mv.hostPath = path;
    return mv;
  }

  Status TearDown(const volume::NodeContext& node, const std::string& podDir,
                  const std::string& dirName) override {
    bool forget;
    {
      std::lock_guard<std::mutex> l(rec_->mu);
      rec_->calls.push_back("TearDown " + Uid(podDir) + "/" + dirName);
      forget = rec_->forgetTearDown;
    }
    if (forget) return Status::Ok();
    return os::RemoveTreeOneFs(podDir + "/volumes/" + dir_ + "/" + dirName);
  }

  std::vector<volume::ObjectRef> References(const api::Pod& pod,
                                            const api::Volume& v) const override {
    if (v.configMap) return {{"configmaps", pod.metadata.namespace_, v.configMap->name}};
    if (v.downwardAPI) return {{"pods", pod.metadata.namespace_, pod.metadata.name}};
    return {};
  }

 private:
  std::string dir_;
  std::function<bool(const api::Volume&)> handles_;
  Recorder* rec_;
};

// hostPath-like: nothing on disk, the MountedVolume names the host path.
class FakeHostPath : public volume::Plugin {
 public:
  explicit FakeHostPath(Recorder* rec) : rec_(rec) {}
  std::string PluginDir() const override { return ""; }
  bool CanHandle(const api::Volume& v) const override { return v.hostPath.has_value(); }
  Result<volume::MountedVolume> SetUp(const volume::VolumeRequest& req) override {
    {
      std::lock_guard<std::mutex> l(rec_->mu);
      rec_->calls.push_back("SetUp " + Uid(req.podDir) + "/" + req.volume->name);
    }
    volume::MountedVolume mv;
    mv.dirName = req.volume->name;
    mv.hostPath = req.volume->hostPath->path;
    return mv;
  }
  Status TearDown(const volume::NodeContext&, const std::string& podDir,
                  const std::string& dirName) override {
    std::lock_guard<std::mutex> l(rec_->mu);
    rec_->calls.push_back("TearDown " + Uid(podDir) + "/" + dirName);
    return Status::Ok();
  }

 private:
  Recorder* rec_;
};

std::vector<std::unique_ptr<volume::Plugin>> FakePlugins(Recorder* rec) {
  std::vector<std::unique_ptr<volume::Plugin>> out;
  out.push_back(std::make_unique<FakePlugin>(
      kEmptyDir, [](const api::Volume& v) { return v.emptyDir.has_value(); }, rec));
  out.push_back(std::make_unique<FakeHostPath>(rec));
  out.push_back(std::make_unique<FakePlugin>(
      kConfigMap, [](const api::Volume& v) { return v.configMap.has_value(); }, rec));
  out.push_back(std::make_unique<FakePlugin>(
      kDownward, [](const api::Volume& v) { return v.downwardAPI.has_value(); }, rec));
  return out;
}

api::Volume EmptyDirVol(const std::string& name) {
  api::Volume v;
  v.name = name;
  v.emptyDir = api::EmptyDirVolumeSource{};
  return v;
}
api::Volume ConfigMapVol(const std::string& name, const std::string& cm) {
  api::Volume v;
  v.name = name;
  v.configMap = api::ConfigMapVolumeSource{};
  v.configMap->name = cm;
  return v;
}
api::Volume HostPathVol(const std::string& name, const std::string& path) {
  api::Volume v;
  v.name = name;
  v.hostPath = api::HostPathVolumeSource{};
  v.hostPath->path = path;
  return v;
}

api::Pod MakePod(const std::string& uid, std::vector<api::Volume> vols) {
  api::Pod p;
  p.apiVersion = "v1";
  p.kind = "Pod";
  p.metadata.name = "pod-" + uid;
  p.metadata.namespace_ = "ns";
  p.metadata.uid = uid;
  p.spec.volumes = std::move(vols);
  return p;
}

struct Event {
  std::string uid, reason, message;
};

// Polls `pred` every 10 ms until it holds or `timeout` passes.
bool Eventually(const std::function<bool()>& pred, milliseconds timeout = milliseconds(5000)) {
  const auto end = steady_clock::now() + timeout;
  while (steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(milliseconds(10));
  }
  return pred();
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Unmounts (lazily) every mount under `dir`, read from /proc/self/mountinfo, deepest first: the
// scratch DIR's safety net in every outcome, independent of the code under test.
void UnmountEverythingUnder(const std::string& dir) {
  std::vector<std::string> points;
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string id, parent, dev, root, point;
    ls >> id >> parent >> dev >> root >> point;
    if (point == dir || point.rfind(dir + "/", 0) == 0) points.push_back(point);
  }
  std::sort(points.begin(), points.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  for (const auto& p : points) umount2(p.c_str(), MNT_DETACH);
}

// ConfigMaps served from a map, as the agent's watch cache serves them.
class MapObjects : public volume::ObjectSource {
 public:
  Result<json> Get(const std::string& resource, const std::string& ns,
                   const std::string& name) override {
    std::lock_guard<std::mutex> l(mu_);
    auto it = objects_.find(resource + "/" + ns + "/" + name);
    if (it == objects_.end()) return NotFound(resource + " \"" + name + "\" not found");
    return it->second;
  }
  void Put(const std::string& resource, const std::string& ns, const std::string& name, json obj) {
    std::lock_guard<std::mutex> l(mu_);
    objects_[resource + "/" + ns + "/" + name] = std::move(obj);
  }

 private:
  std::mutex mu_;
  std::map<std::string, json> objects_;
};

class VolumeManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/kvol-vm-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    vms_.clear();  // stops the reconcilers
    UnmountEverythingUnder(dir_);
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  VolumeManager& NewManager(std::vector<std::unique_ptr<volume::Plugin>> plugins) {
    VolumeManagerOptions o;
    o.node.dataDir = dir_;
    o.node.nodeName = "node-1";
    o.node.mounter = &os::RealMounter();
    o.plugins = std::move(plugins);
    o.onEvent = [this](const api::Pod& pod, const std::string& reason, const std::string& msg) {
      std::lock_guard<std::mutex> l(mu_);
      events_.push_back({pod.metadata.uid, reason, msg});
    };
    o.onPodVolumesReady = [this](const std::string& uid) {
      std::lock_guard<std::mutex> l(mu_);
      ready_.push_back(uid);
    };
    vms_.push_back(std::make_unique<VolumeManager>(std::move(o)));
    return *vms_.back();
  }
  VolumeManager& StartManager(Recorder* rec) {
    VolumeManager& vm = NewManager(FakePlugins(rec));
    EXPECT_TRUE(vm.Start().ok());
    return vm;
  }

  std::vector<Event> Events() {
    std::lock_guard<std::mutex> l(mu_);
    return events_;
  }
  std::vector<std::string> EventMessages(const std::string& reason) {
    std::vector<std::string> out;
    for (const auto& e : Events()) {
      if (e.reason == reason) out.push_back(e.message);
    }
    return out;
  }
  int ReadyCount(const std::string& uid) {
    std::lock_guard<std::mutex> l(mu_);
    return static_cast<int>(std::count(ready_.begin(), ready_.end(), uid));
  }
  std::string VolDir(const std::string& uid, const std::string& plugin, const std::string& name) {
    return dir_ + "/pods/" + uid + "/volumes/" + plugin + "/" + name;
  }
  static auto Soon() { return steady_clock::now() + milliseconds(5000); }

  std::string dir_;
  std::mutex mu_;
  std::vector<Event> events_;
  std::vector<std::string> ready_;
  MapObjects objects_;  // outlives the managers
  std::vector<std::unique_ptr<VolumeManager>> vms_;
};

TEST(VolumeManagerStateTest, BackoffDoublesFromHalfASecondToThirtySeconds) {
  vmstate::Backoff b;
  const auto t0 = steady_clock::now();
  EXPECT_TRUE(b.Ready(t0));
  std::vector<long> delays;
  for (int i = 0; i < 9; ++i) {
    b.Failed(t0);
    delays.push_back(std::chrono::duration_cast<milliseconds>(b.delay()).count());
  }
  EXPECT_THAT(delays, ElementsAre(500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000));
  EXPECT_FALSE(b.Ready(t0 + milliseconds(29999)));
  EXPECT_TRUE(b.Ready(t0 + milliseconds(30000)));
  b.Reset();
  EXPECT_TRUE(b.Ready(t0));
  b.Failed(t0);
  EXPECT_EQ(b.delay(), milliseconds(500));
}

TEST(VolumeManagerStateTest, SameEventNotRepeatedFasterThanTheBackoff) {
  vmstate::EventThrottle t;
  const auto t0 = steady_clock::now();
  EXPECT_TRUE(t.ShouldEmit("a", t0));
  EXPECT_FALSE(t.ShouldEmit("a", t0 + milliseconds(100)));
  EXPECT_TRUE(t.ShouldEmit("a", t0 + milliseconds(500)));
  EXPECT_FALSE(t.ShouldEmit("a", t0 + milliseconds(1400)));  // gap is 1 s now
  EXPECT_TRUE(t.ShouldEmit("b", t0 + milliseconds(1400)));   // a new message goes out at once
}

TEST_F(VolumeManagerTest, SetsUpEveryVolumeAndWaitForVolumesReturnsThem) {
  Recorder rec;
  VolumeManager& vm = StartManager(&rec);
  const std::string hostDir = dir_ + "/host-data";
  fs::create_directories(hostDir);
  vm.AddPod(MakePod("u1", {EmptyDirVol("data"), HostPathVol("host", hostDir)}));

  auto r = vm.WaitForVolumes("u1", Soon());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 2u);
  const volume::MountedVolume& data = r->at("data");
  EXPECT_EQ(data.pluginDir, kEmptyDir);
  EXPECT_EQ(data.dirName, "data");
  EXPECT_EQ(data.hostPath, VolDir("u1", kEmptyDir, "data"));
  EXPECT_TRUE(fs::is_directory(data.hostPath));
  EXPECT_EQ(r->at("host").hostPath, hostDir);
  EXPECT_TRUE(Eventually([&] { return ReadyCount("u1") == 1; }));
  EXPECT_THAT(Events(), IsEmpty());
  EXPECT_EQ(rec.Count("SetUp u1/data"), 1);
  EXPECT_EQ(rec.Count("SetUp u1/host"), 1);
  EXPECT_FALSE(vm.PodCleanedUp("u1"));
  EXPECT_TRUE(vm.MountedVolumes("nope").status().IsNotFound());
}

TEST_F(VolumeManagerTest, PodWithoutVolumesIsReadyAtOnce) {
  Recorder rec;
  VolumeManager& vm = StartManager(&rec);
  vm.AddPod(MakePod("u0", {}));
  auto r = vm.WaitForVolumes("u0", Soon());
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(*r, IsEmpty());
  EXPECT_TRUE(Eventually([&] { return ReadyCount("u0") == 1; }));
}

TEST_F(VolumeManagerTest, VolumeNoPluginHandlesStaysPendingWithAnEvent) {
  Recorder rec;
  VolumeManager& vm = StartManager(&rec);
  api::Volume nfs;
  nfs.name = "x";
  nfs.nfs = api::NFSVolumeSource{"server", "/export", false};
  vm.AddPod(MakePod("u1", {EmptyDirVol("data"), nfs}));

  auto r = vm.WaitForVolumes("u1", steady_clock::now() + milliseconds(300));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
  EXPECT_EQ(r.status().message(), "volume \"x\": no volume plugin matched");
  EXPECT_THAT(EventMessages("FailedMount"), ElementsAre("volume \"x\": no volume plugin matched"));
  EXPECT_EQ(rec.Count("SetUp u1/data"), 1);
  EXPECT_EQ(ReadyCount("u1"), 0);
}

TEST_F(VolumeManagerTest, FailedSetUpEmitsFailedMountAndIsRetriedWithBackoff) {
  Recorder rec;
  rec.failuresLeft["cfg"] = 2;
  rec.failWith["cfg"] = Unavailable("configmap \"app\" not found");
  VolumeManager& vm = StartManager(&rec);
  vm.AddPod(MakePod("u1", {ConfigMapVol("cfg", "app"), EmptyDirVol("data")}));

  ASSERT_TRUE(Eventually([&] { return rec.Count("SetUp u1/cfg") >= 1; }));
  ASSERT_TRUE(Eventually([&] { return !EventMessages("FailedMount").empty(); }));
  auto pending = vm.MountedVolumes("u1");
  ASSERT_FALSE(pending.ok());
  EXPECT_EQ(pending.status().code(), Code::kUnavailable);
  EXPECT_EQ(pending.status().message(),
            "MountVolume.SetUp failed for volume \"cfg\" : configmap \"app\" not found");

  auto r = vm.WaitForVolumes("u1", Soon());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->size(), 2u);
  EXPECT_EQ(rec.Count("SetUp u1/cfg"), 3);
  EXPECT_EQ(rec.Count("SetUp u1/data"), 1);  // the failing volume did not hold the other back
  const std::string msg =
      "MountVolume.SetUp failed for volume \"cfg\" : configmap \"app\" not found";
  EXPECT_THAT(EventMessages("FailedMount"), ElementsAre(msg, msg));

  // The retries waited 0.5 s, then 1 s.
  std::vector<steady_clock::time_point> cfgTimes;
  {
    std::lock_guard<std::mutex> l(rec.mu);
    for (size_t i = 0; i < rec.calls.size(); ++i) {
      if (rec.calls[i] == "SetUp u1/cfg") cfgTimes.push_back(rec.setUpTimes[i]);
    }
  }
  ASSERT_EQ(cfgTimes.size(), 3u);
  EXPECT_GE(cfgTimes[1] - cfgTimes[0], milliseconds(500));
  EXPECT_LT(cfgTimes[1] - cfgTimes[0], milliseconds(1000));
  EXPECT_GE(cfgTimes[2] - cfgTimes[1], milliseconds(1000));
  EXPECT_LT(cfgTimes[2] - cfgTimes[1], milliseconds(2000));
}

TEST_F(VolumeManagerTest, ObjectChangedRerunsSetUpOfTheReferencingVolumeOnly) {
  Recorder rec;
  VolumeManager& vm = StartManager(&rec);
  vm.AddPod(MakePod("u1", {ConfigMapVol("cfg", "app"), EmptyDirVol("data")}));
  vm.AddPod(MakePod("u2", {ConfigMapVol("cfg", "other")}));
  ASSERT_TRUE(vm.WaitForVolumes("u1", Soon()).ok());
  ASSERT_TRUE(vm.WaitForVolumes("u2", Soon()).ok());
  ASSERT_TRUE(Eventually([&] { return ReadyCount("u1") == 1; }));

  vm.ObjectChanged({"configmaps", "ns", "unrelated"});
  vm.ObjectChanged({"configmaps", "other-ns", "app"});
  vm.ObjectChanged({"configmaps", "ns", "app"});
  ASSERT_TRUE(Eventually([&] { return rec.Count("SetUp u1/cfg") == 2; }));
  EXPECT_EQ(ReadAll(VolDir("u1", kConfigMap, "cfg") + "/setups"), "2");
  // The worker hears that the content changed.
  EXPECT_TRUE(Eventually([&] { return ReadyCount("u1") == 2; }));
  std::this_thread::sleep_for(milliseconds(200));
  EXPECT_EQ(rec.Count("SetUp u1/cfg"), 2);
  EXPECT_EQ(rec.Count("SetUp u1/data"), 1);
  EXPECT_EQ(rec.Count("SetUp u2/cfg"), 1);
  EXPECT_EQ(ReadyCount("u2"), 1);
}

// The configMap changes while its volume's SetUp runs (it may have read the old content): the
// SetUp runs again afterwards, so the change is never lost.
TEST_F(VolumeManagerTest, ObjectChangedDuringSetUpRunsItAgain) {
  Recorder rec;
  rec.holdSetUp = true;
  VolumeManager& vm = StartManager(&rec);
  vm.AddPod(MakePod("u1", {ConfigMapVol("cfg", "app")}));
  ASSERT_TRUE(Eventually([&] {
    std::lock_guard<std::mutex> l(rec.mu);
    return rec.setUpWaiting;
  }));
  vm.ObjectChanged({"configmaps", "ns", "app"});
  rec.Release();
  ASSERT_TRUE(Eventually([&] { return rec.Count("SetUp u1/cfg") == 2; }));
  std::this_thread::sleep_for(milliseconds(200));
  EXPECT_EQ(rec.Count("SetUp u1/cfg"), 2);  // and then it rests
}

TEST_F(VolumeManagerTest, ObjectChangedRetriesAFailingVolumeAtOnce) {
  Recorder rec;
  rec.failuresLeft["cfg"] = 3;
  rec.failWith["cfg"] = Unavailable("configmap \"app\" not found");
  VolumeManager& vm = StartManager(&rec);
  vm.AddPod(MakePod("u1", {ConfigMapVol("cfg", "app")}));
  // Three failures: the next retry is 2 s away.
  ASSERT_TRUE(Eventually([&] { return rec.Count("SetUp u1/cfg") == 3; }));
  std::this_thread::sleep_for(milliseconds(50));
  const auto changedAt = steady_clock::now();
  vm.ObjectChanged({"configmaps", "ns", "app"});  // the configMap was created
  auto r = vm.WaitForVolumes("u1", Soon());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_LT(steady_clock::now() - changedAt, milliseconds(1500));  // the backoff said 2 s
}

// The object a waiting volume needs appears while its SetUp runs (a VolumeAttachment turns
// attached after SetUp read it): the failed SetUp is retried at once, not after a backoff.
TEST_F(VolumeManagerTest, ObjectChangedDuringAFailingSetUpRetriesWithoutBackoff) {
  Recorder rec;
  rec.holdSetUp = true;
  rec.failuresLeft["cfg"] = 2;
  rec.failWith["cfg"] = Unavailable("volume \"pv\" is not attached to node \"n1\" yet");
  VolumeManager& vm = StartManager(&rec);
  vm.AddPod(MakePod("u1", {ConfigMapVol("cfg", "app")}));
  ASSERT_TRUE(Eventually([&] {
    std::lock_guard<std::mutex> l(rec.mu);
    return rec.setUpWaiting;
  }));
  vm.ObjectChanged({"configmaps", "ns", "app"});
  const auto releasedAt = steady_clock::now();
  rec.Release();
  ASSERT_TRUE(Eventually([&] { return rec.Count("SetUp u1/cfg") >= 2; }));
  std::vector<steady_clock::time_point> t;
  {
    std::lock_guard<std::mutex> l(rec.mu);
    t = rec.setUpTimes;
  }
  EXPECT_LT(t[1] - releasedAt, milliseconds(300));  // a backoff would have waited 500 ms
  // The second failure saw no change: it backs off as usual, then succeeds.
  auto r = vm.WaitForVolumes("u1", Soon());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  {
    std::lock_guard<std::mutex> l(rec.mu);
    ASSERT_EQ(rec.setUpTimes.size(), 3u);
    EXPECT_GE(rec.setUpTimes[2] - rec.setUpTimes[1], milliseconds(450));
  }
}

TEST_F(VolumeManagerTest, ChangedLabelsRerunDownwardAPISetUpOnly) {
  Recorder rec;
  VolumeManager& vm = StartManager(&rec);
  api::Volume info;
  info.name = "info";
  info.downwardAPI = api::DownwardAPIVolumeSource{};
  api::Pod pod = MakePod("u1", {info, EmptyDirVol("data"), ConfigMapVol("cfg", "app")});
  vm.AddPod(pod);
  ASSERT_TRUE(vm.WaitForVolumes("u1", Soon()).ok());

  vm.AddPod(pod);  // unchanged: nothing re-runs
  pod.metadata.labels["tier"] = "web";
  vm.AddPod(pod);
  ASSERT_TRUE(Eventually([&] { return rec.Count("SetUp u1/info") == 2; }));
  std::this_thread::sleep_for(milliseconds(200));
  EXPECT_EQ(rec.Count("SetUp u1/info"), 2);
  EXPECT_EQ(rec.Count("SetUp u1/data"), 1);
  EXPECT_EQ(rec.Count("SetUp u1/cfg"), 1);
  pod.metadata.annotations["a"] = "b";
  vm.AddPod(pod);
  EXPECT_TRUE(Eventually([&] { return rec.Count("SetUp u1/info") == 3; }));
}

TEST_F(VolumeManagerTest, RemovePodTearsDownAndRemovesOnlyVolumeDirs) {
  Recorder rec;
  VolumeManager& vm = StartManager(&rec);
  const std::string hostDir = dir_ + "/host-data";
  fs::create_directories(hostDir);
  std::ofstream(hostDir + "/keep") << "host data";
  vm.AddPod(MakePod("u1", {EmptyDirVol("data"), HostPathVol("host", hostDir)}));
  ASSERT_TRUE(vm.WaitForVolumes("u1", Soon()).ok());
  const std::string podDir = dir_ + "/pods/u1";
  fs::create_directories(podDir + "/volume-subpaths/data/c/0");
  fs::create_directories(podDir + "/containers/c");
  std::ofstream(podDir + "/containers/c/0.log") << "log line\n";

  vm.RemovePod("u1");
  ASSERT_TRUE(Eventually([&] { return vm.PodCleanedUp("u1"); }));
  EXPECT_THAT(rec.Calls("TearDown"), ElementsAre("TearDown u1/data"));  // not hostPath
  EXPECT_FALSE(fs::exists(podDir + "/volumes"));
  EXPECT_FALSE(fs::exists(podDir + "/volume-subpaths"));
  EXPECT_EQ(ReadAll(podDir + "/containers/c/0.log"), "log line\n");  // the runtime's, kept
  EXPECT_EQ(ReadAll(hostDir + "/keep"), "host data");
  EXPECT_TRUE(vm.MountedVolumes("u1").status().IsNotFound());
  EXPECT_THAT(Events(), IsEmpty());
}

TEST_F(VolumeManagerTest, RemovePodNeverCrossesIntoAMountAndRetries) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to mount tmpfs";
  Recorder rec;
  VolumeManager& vm = StartManager(&rec);
  vm.AddPod(MakePod("u1", {EmptyDirVol("data")}));
  ASSERT_TRUE(vm.WaitForVolumes("u1", Soon()).ok());
  const std::string mnt = VolDir("u1", kEmptyDir, "data") + "/mnt";
  fs::create_directories(mnt);
  ASSERT_EQ(mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=1m"), 0) << strerror(errno);
  std::ofstream(mnt + "/precious") << "do not delete";
  {
    std::lock_guard<std::mutex> l(rec.mu);
    rec.forgetTearDown = true;  // the plugin "forgets" to unmount
  }

  vm.RemovePod("u1");
  ASSERT_TRUE(Eventually([&] { return !EventMessages("FailedUnmount").empty(); }));
  EXPECT_THAT(EventMessages("FailedUnmount")[0], HasSubstr("removing the volumes of pod u1: "));
  std::this_thread::sleep_for(milliseconds(800));  // at least one retry
  // The plugin's TearDown said OK, so only the directory removal is retried.
  EXPECT_EQ(rec.Count("TearDown u1/data"), 1);
  EXPECT_FALSE(vm.PodCleanedUp("u1"));
  EXPECT_EQ(ReadAll(mnt + "/precious"), "do not delete");
  EXPECT_LE(EventMessages("FailedUnmount").size(), 2u);  // not one per retry

  // Once the mount is gone, the next retry finishes the job.
  ASSERT_EQ(umount2(mnt.c_str(), 0), 0) << strerror(errno);
  EXPECT_TRUE(Eventually([&] { return vm.PodCleanedUp("u1"); }, milliseconds(8000)));
  EXPECT_FALSE(fs::exists(dir_ + "/pods/u1/volumes"));
}

TEST_F(VolumeManagerTest, ReconstructionAdoptsDesiredPodsAndTearsDownOrphansAfterSync) {
  {
    Recorder rec;
    VolumeManager& vm = StartManager(&rec);
    vm.AddPod(MakePod("keep", {EmptyDirVol("data"), ConfigMapVol("cfg", "app")}));
    vm.AddPod(MakePod("gone", {EmptyDirVol("data")}));
    ASSERT_TRUE(vm.WaitForVolumes("keep", Soon()).ok());
    ASSERT_TRUE(vm.WaitForVolumes("gone", Soon()).ok());
    vms_.clear();  // the agent dies: nothing is unmounted
  }
  std::ofstream(VolDir("keep", kEmptyDir, "data") + "/state") << "written by the app";
  std::ofstream(VolDir("gone", kEmptyDir, "data") + "/state") << "old";
  // A hidden entry (as emptyDir's image files) is not a volume.
  std::ofstream(dir_ + "/pods/keep/volumes/" + kEmptyDir + "/.data.img") << "image";

  Recorder rec;
  VolumeManager& vm = StartManager(&rec);
  vm.AddPod(MakePod("keep", {EmptyDirVol("data"), ConfigMapVol("cfg", "app")}));
  auto r = vm.WaitForVolumes("keep", Soon());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(rec.Count("SetUp keep/data"), 1);  // adopted through an idempotent SetUp
  EXPECT_EQ(ReadAll(VolDir("keep", kEmptyDir, "data") + "/state"), "written by the app");
  EXPECT_EQ(ReadAll(VolDir("keep", kEmptyDir, "data") + "/setups"), "2");

  std::this_thread::sleep_for(milliseconds(300));
  EXPECT_THAT(rec.Calls("TearDown"), IsEmpty());  // not synced yet: the orphan waits
  EXPECT_EQ(ReadAll(VolDir("gone", kEmptyDir, "data") + "/state"), "old");
  EXPECT_FALSE(vm.PodCleanedUp("gone"));

  vm.MarkDesiredSynced();
  ASSERT_TRUE(Eventually([&] { return vm.PodCleanedUp("gone"); }));
  EXPECT_THAT(rec.Calls("TearDown"), ElementsAre("TearDown gone/data"));
  EXPECT_FALSE(fs::exists(dir_ + "/pods/gone/volumes"));
  EXPECT_EQ(ReadAll(VolDir("keep", kEmptyDir, "data") + "/state"), "written by the app");
  EXPECT_TRUE(fs::exists(dir_ + "/pods/keep/volumes/" + kEmptyDir + "/.data.img"));
  EXPECT_TRUE(vm.MountedVolumes("keep").ok());

  // Adopted volumes are torn down once, like any other.
  vm.RemovePod("keep");
  ASSERT_TRUE(Eventually([&] { return vm.PodCleanedUp("keep"); }));
  EXPECT_THAT(rec.Calls("TearDown"),
              ElementsAre("TearDown gone/data", "TearDown keep/cfg", "TearDown keep/data"));
}

TEST_F(VolumeManagerTest, RemovePodOfAReconstructedPodGoesBeforeSync) {
  {
    Recorder rec;
    VolumeManager& vm = StartManager(&rec);
    vm.AddPod(MakePod("old", {EmptyDirVol("data")}));
    ASSERT_TRUE(vm.WaitForVolumes("old", Soon()).ok());
    vms_.clear();
  }
  Recorder rec;
  VolumeManager& vm = StartManager(&rec);
  vm.RemovePod("old");  // the agent knows this pod is gone
  ASSERT_TRUE(Eventually([&] { return vm.PodCleanedUp("old"); }));
  EXPECT_THAT(rec.Calls("TearDown"), ElementsAre("TearDown old/data"));
}

TEST_F(VolumeManagerTest, UnmountAllReleasesEveryPodsVolumesAndMountsNothingAfter) {
  Recorder rec;
  VolumeManager& vm = StartManager(&rec);
  vm.AddPod(MakePod("u1", {EmptyDirVol("data"), ConfigMapVol("cfg", "app")}));
  vm.AddPod(MakePod("u2", {EmptyDirVol("data")}));
  ASSERT_TRUE(vm.WaitForVolumes("u1", Soon()).ok());
  ASSERT_TRUE(vm.WaitForVolumes("u2", Soon()).ok());

  ASSERT_TRUE(vm.UnmountAll().ok());
  // The fakes have no Unmount of their own: Plugin::Unmount's default is their TearDown.
  EXPECT_THAT(rec.Calls("TearDown"),
              UnorderedElementsAre("TearDown u1/data", "TearDown u1/cfg", "TearDown u2/data"));
  EXPECT_FALSE(fs::exists(VolDir("u1", kEmptyDir, "data")));
  EXPECT_FALSE(fs::exists(VolDir("u2", kEmptyDir, "data")));
  EXPECT_EQ(vm.MountedVolumes("u1").status().code(), Code::kUnavailable);
  std::this_thread::sleep_for(milliseconds(200));
  EXPECT_EQ(rec.Count("SetUp u1/data"), 1);  // shutting down: nothing is set up again
}

TEST_F(VolumeManagerTest, RemovePodDuringSetUpTearsDownWhatThatSetUpMade) {
  Recorder rec;
  rec.holdSetUp = true;
  VolumeManager& vm = StartManager(&rec);
  vm.AddPod(MakePod("u1", {EmptyDirVol("data")}));
  ASSERT_TRUE(Eventually([&] {
    std::lock_guard<std::mutex> l(rec.mu);
    return rec.setUpWaiting;
  }));
  vm.RemovePod("u1");
  std::this_thread::sleep_for(milliseconds(50));
  EXPECT_FALSE(vm.PodCleanedUp("u1"));
  rec.Release();  // the SetUp finishes after the pod went away: its directory must not leak
  ASSERT_TRUE(Eventually([&] { return vm.PodCleanedUp("u1"); }));
  EXPECT_THAT(rec.Calls("TearDown"), ElementsAre("TearDown u1/data"));
  EXPECT_FALSE(fs::exists(dir_ + "/pods/u1/volumes"));
  EXPECT_EQ(ReadyCount("u1"), 0);
}

TEST_F(VolumeManagerTest, UnmountAllWaitsForTheRunningSetUp) {
  Recorder rec;
  rec.holdSetUp = true;
  VolumeManager& vm = StartManager(&rec);
  vm.AddPod(MakePod("u1", {EmptyDirVol("data")}));
  ASSERT_TRUE(Eventually([&] {
    std::lock_guard<std::mutex> l(rec.mu);
    return rec.setUpWaiting;
  }));
  std::thread releaser([&] {
    std::this_thread::sleep_for(milliseconds(100));
    rec.Release();
  });
  Status st = vm.UnmountAll();
  releaser.join();
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_THAT(rec.Calls("TearDown"), ElementsAre("TearDown u1/data"));
  EXPECT_FALSE(fs::exists(VolDir("u1", kEmptyDir, "data")));
}

// The real emptyDir and hostPath plugins (volume::BuiltinPlugins) under the manager.
TEST_F(VolumeManagerTest, RealBuiltinEmptyDirAndHostPath) {
  if (geteuid() != 0) GTEST_SKIP() << "the built-in plugins may mount: needs root";
  VolumeManager& vm = NewManager(volume::BuiltinPlugins());
  ASSERT_TRUE(vm.Start().ok());
  const std::string hostDir = dir_ + "/host-data";
  fs::create_directories(hostDir);
  std::ofstream(hostDir + "/keep") << "host data";
  vm.AddPod(MakePod("u1", {EmptyDirVol("scratch"), HostPathVol("host", hostDir)}));
  auto r = vm.WaitForVolumes("u1", Soon());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->at("scratch").pluginDir, kEmptyDir);
  EXPECT_EQ(r->at("scratch").hostPath, VolDir("u1", kEmptyDir, "scratch"));
  EXPECT_TRUE(fs::is_directory(r->at("scratch").hostPath));
  EXPECT_EQ(r->at("host").hostPath, hostDir);
  std::ofstream(r->at("scratch").hostPath + "/f") << "x";

  vm.RemovePod("u1");
  ASSERT_TRUE(Eventually([&] { return vm.PodCleanedUp("u1"); }));
  EXPECT_FALSE(fs::exists(dir_ + "/pods/u1/volumes"));
  EXPECT_EQ(ReadAll(hostDir + "/keep"), "host data");
  EXPECT_THAT(Events(), IsEmpty());
}

// A clean node stop is a reboot, not a pod deletion: a disk emptyDir (plain, and sized: a
// loop-backed ext4) keeps its files, nothing stays mounted, and the next manager on DIR adopts the
// data.
TEST_F(VolumeManagerTest, RealUnmountAllKeepsEmptyDirDataForTheNextStart) {
  if (geteuid() != 0) GTEST_SKIP() << "the built-in plugins mount: needs root";
  api::Volume sized = EmptyDirVol("sized");
  sized.emptyDir->sizeLimit = api::Quantity::MustParse("8Mi");
  auto pod = MakePod("u1", {EmptyDirVol("plain"), sized});
  {
    VolumeManager& vm = NewManager(volume::BuiltinPlugins());
    ASSERT_TRUE(vm.Start().ok());
    vm.AddPod(pod);
    auto r = vm.WaitForVolumes("u1", Soon());
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    std::ofstream(r->at("plain").hostPath + "/f") << "plain data";
    std::ofstream(r->at("sized").hostPath + "/f") << "sized data";
    ASSERT_TRUE(vm.UnmountAll().ok());
    auto mounts = os::MountsUnder(dir_ + "/pods");
    ASSERT_TRUE(mounts.ok());
    EXPECT_THAT(*mounts, IsEmpty());
  }
  VolumeManager& vm2 = NewManager(volume::BuiltinPlugins());
  ASSERT_TRUE(vm2.Start().ok());
  vm2.AddPod(pod);
  vm2.MarkDesiredSynced();
  auto r = vm2.WaitForVolumes("u1", Soon());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(ReadAll(r->at("plain").hostPath + "/f"), "plain data");
  EXPECT_EQ(ReadAll(r->at("sized").hostPath + "/f"), "sized data");
  vm2.RemovePod("u1");
  ASSERT_TRUE(Eventually([&] { return vm2.PodCleanedUp("u1"); }));
}

// The real configMap plugin: a missing configMap is a FailedMount; its creation and each change
// reach the volume through ObjectChanged, without waiting for a backoff.
TEST_F(VolumeManagerTest, RealBuiltinConfigMapFollowsObjectChanged) {
  MapObjects& objects = objects_;
  VolumeManagerOptions o;
  o.node.dataDir = dir_;
  o.node.nodeName = "node-1";
  o.node.mounter = &os::RealMounter();
  o.objects = &objects;
  o.onEvent = [this](const api::Pod& pod, const std::string& reason, const std::string& msg) {
    std::lock_guard<std::mutex> l(mu_);
    events_.push_back({pod.metadata.uid, reason, msg});
  };
  vms_.push_back(std::make_unique<VolumeManager>(std::move(o)));  // default: BuiltinPlugins()
  VolumeManager& vm = *vms_.back();
  ASSERT_TRUE(vm.Start().ok());
  vm.AddPod(MakePod("u1", {ConfigMapVol("cfg", "app")}));
  ASSERT_TRUE(Eventually([&] { return !EventMessages("FailedMount").empty(); }));
  EXPECT_THAT(EventMessages("FailedMount")[0],
              HasSubstr("MountVolume.SetUp failed for volume \"cfg\" : "));
  EXPECT_THAT(EventMessages("FailedMount")[0], HasSubstr("\"app\" not found"));

  objects.Put("configmaps", "ns", "app", json{{"data", {{"key", "v1"}}}});
  vm.ObjectChanged({"configmaps", "ns", "app"});
  auto r = vm.WaitForVolumes("u1", Soon());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const std::string file = r->at("cfg").hostPath + "/key";
  EXPECT_EQ(ReadAll(file), "v1");

  objects.Put("configmaps", "ns", "app", json{{"data", {{"key", "v2"}}}});
  vm.ObjectChanged({"configmaps", "ns", "app"});
  EXPECT_TRUE(Eventually([&] { return ReadAll(file) == "v2"; }, milliseconds(1000)));
}

// An attach-required CSI driver: NodeStage writes a marker into the staging dir, NodePublish
// bind-mounts the staging dir at the target.
class StagingDriver : public driver::NodeDriver {
 public:
  std::string Name() const override { return "test.kvol.io/disk"; }
  bool NeedsStaging() const override { return true; }
  Status NodeStageVolume(const driver::NodeStageRequest& r) override {
    ++stages;
    return os::WriteFileAtomic(r.stagingPath + "/staged", r.volumeId);
  }
  Status NodeUnstageVolume(const std::string&, const std::string& stagingPath) override {
    ++unstages;
    ::unlink((stagingPath + "/staged").c_str());
    return Status::Ok();
  }
  Status NodePublishVolume(const driver::NodePublishRequest& r) override {
    KVOL_RETURN_IF_ERROR(os::MakeDirs(r.targetPath));
    auto mounted = os::IsMountPoint(r.targetPath);
    if (mounted.ok() && *mounted) return Status::Ok();
    return os::RealMounter().BindMount(r.stagingPath, r.targetPath, r.readOnly);
  }
  Status NodeUnpublishVolume(const std::string&, const std::string& target) override {
    auto mounted = os::IsMountPoint(target);
    if (mounted.ok() && *mounted) KVOL_RETURN_IF_ERROR(os::RealMounter().Unmount(target));
    ::rmdir(target.c_str());
    return Status::Ok();
  }
  std::atomic<int> stages{0}, unstages{0};
};

// Issue 8 on one node: a claim of an attach-required driver waits for its VolumeAttachment (the
// FailedMount says why) while the volume is already in use on disk; the attachment wakes it at
// once. Then the agent dies (nothing unmounted), the pod is force-deleted from the API (the node
// was out of service), and the next agent on the same DIR tears the claim down from disk alone
// once it has listed its pods: unpublished, unstaged, and no longer in volumesInUse.
TEST_F(VolumeManagerTest, RealClaimWaitsForAttachAndIsReleasedAtRestartWhenItsPodIsGone) {
  if (geteuid() != 0) GTEST_SKIP() << "the claim is bind-mounted: needs root";
  const std::string unique = api::UniqueVolumeName("test.kvol.io/disk", "vol-1");
  const std::string vaName = api::VolumeAttachmentName("vol-1", "test.kvol.io/disk", "node-1");
  objects_.Put("persistentvolumeclaims", "ns", "db",
               json{{"metadata", {{"name", "db"}, {"namespace", "ns"}, {"uid", "c1"}}},
                    {"spec", {{"accessModes", {"ReadWriteOnce"}}, {"volumeName", "pv-1"}}},
                    {"status", {{"phase", "Bound"}}}});
  objects_.Put("persistentvolumes", "", "pv-1",
               json{{"metadata", {{"name", "pv-1"}}},
                    {"spec",
                     {{"accessModes", {"ReadWriteOnce"}},
                      {"csi", {{"driver", "test.kvol.io/disk"}, {"volumeHandle", "vol-1"}}},
                      {"claimRef", {{"namespace", "ns"}, {"name", "db"}, {"uid", "c1"}}}}}});
  objects_.Put("nodes", "", "node-1",
               json{{"metadata", {{"name", "node-1"}}}, {"status", {{"volumesInUse", {unique}}}}});
  StagingDriver drv;
  auto newManager = [&] {
    VolumeManagerOptions o;
    o.node.dataDir = dir_;
    o.node.nodeName = "node-1";
    o.node.mounter = &os::RealMounter();
    o.node.drivers["test.kvol.io/disk"] = &drv;
    o.objects = &objects_;
    o.onEvent = [this](const api::Pod& pod, const std::string& reason, const std::string& msg) {
      std::lock_guard<std::mutex> l(mu_);
      events_.push_back({pod.metadata.uid, reason, msg});
    };
    vms_.push_back(std::make_unique<VolumeManager>(std::move(o)));
    return vms_.size() - 1;
  };
  api::Volume claim;
  claim.name = "data";
  claim.persistentVolumeClaim.emplace();
  claim.persistentVolumeClaim->claimName = "db";

  const size_t first = newManager();
  VolumeManager& vm = *vms_[first];
  ASSERT_TRUE(vm.Start().ok());
  vm.AddPod(MakePod("u1", {claim}));
  ASSERT_TRUE(Eventually([&] { return !EventMessages("FailedMount").empty(); }));
  EXPECT_EQ(EventMessages("FailedMount")[0],
            "MountVolume.SetUp failed for volume \"data\" : volume \"pv-1\" is not attached to "
            "node \"node-1\" yet (VolumeAttachment " +
                vaName + " does not exist)");
  EXPECT_EQ(drv.stages.load(), 0);
  EXPECT_EQ(volume::CsiVolumesInUse(dir_), std::vector<std::string>{unique});

  objects_.Put("volumeattachments", "", vaName,
               json{{"metadata", {{"name", vaName}}},
                    {"spec",
                     {{"attacher", "test.kvol.io/disk"},
                      {"nodeName", "node-1"},
                      {"source", {{"persistentVolumeName", "pv-1"}}}}},
                    {"status", {{"attached", true}}}});
  const auto attachedAt = steady_clock::now();
  vm.ObjectChanged({"persistentvolumeclaims", "ns", "db"});  // what the agent does on the VA event
  auto r = vm.WaitForVolumes("u1", Soon());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_LT(steady_clock::now() - attachedAt, milliseconds(400));  // not after a backoff
  EXPECT_EQ(drv.stages.load(), 1);
  EXPECT_EQ(ReadAll(r->at("data").hostPath + "/staged"), "vol-1");

  // The agent is killed: its reconciler stops, the mounts stay.
  vms_[first].reset();
  EXPECT_TRUE(*os::IsMountPoint(dir_ + "/pods/u1/volumes/kubernetes.io~csi/pv-1/mount"));

  // The next agent: u1 was force-deleted from the API meanwhile, so it is not in the pod list.
  const size_t second = newManager();
  VolumeManager& vm2 = *vms_[second];
  ASSERT_TRUE(vm2.Start().ok());
  EXPECT_EQ(volume::CsiVolumesInUse(dir_), std::vector<std::string>{unique});  // until synced
  vm2.MarkDesiredSynced();
  ASSERT_TRUE(Eventually([&] { return vm2.PodCleanedUp("u1"); }));
  EXPECT_EQ(drv.unstages.load(), 1);
  EXPECT_TRUE(volume::CsiVolumesInUse(dir_).empty());
  EXPECT_FALSE(fs::exists(dir_ + "/plugins/kubernetes.io~csi/pv-1"));
  EXPECT_THAT(EventMessages("FailedUnmount"), IsEmpty());
}

}  // namespace
}  // namespace kvol::node
