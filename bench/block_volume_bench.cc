// kvol.io/block benchmarks on a real XFS pool (a loop-mounted sparse image in a scratch dir under
// /tmp, as `kvol serve` makes it), with the driver halves called directly:
// - ProvisionAndFirstMount: CreateVolume (64Mi sparse image) + NodeStageVolume (loop device,
//   mkfs.ext4 at first use, mount) + NodePublishVolume (bind into a pod dir); the volume is torn
//   down and deleted outside the timed span. Reports p50/p90 ms over 50 iterations.
// - Snapshot1GiB/<method>: a snapshot of a mounted 1 GiB ext4 volume holding ~900 MiB of data
//   (filesystem frozen during the copy): method reflink (FICLONE) or sparse (the driver's
//   fallback: SEEK_DATA/SEEK_HOLE read/write); PlainCopy1GiB: `cp --reflink=never` of the same
//   image (the copy a pool without reflink would need). Reports p50 ms.
// Needs root (loop devices, mounts). Every loop device and mount is released at the end.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "kvol/os/exec.h"
#include "kvol/os/loop.h"
#include "kvol/os/mount.h"
#include "src/driver/block/block_driver.h"
#include "src/driver/block/block_node_driver.h"

namespace {

using Clock = std::chrono::steady_clock;
using kvol::driver::BlockDriver;
using kvol::driver::BlockNodeDriver;
constexpr int64_t kMi = int64_t{1} << 20;

// A scratch data dir; at the end every mount under it is unmounted and every loop device backed
// by a file in it detached, then it is removed.
class Scratch {
 public:
  Scratch() {
    std::string t = "/tmp/kvol-bench-block-XXXXXX";
    if (::mkdtemp(t.data()) != nullptr) path_ = t;
  }
  ~Scratch() {
    if (path_.empty()) return;
    for (int round = 0; round < 3; ++round) {
      auto m = kvol::os::MountsUnder(path_);
      if (m.ok()) {
        for (const auto& i : *m) (void)kvol::os::RealMounter().Unmount(i.mountPoint, true);
      }
      auto loops = kvol::os::ListLoopDevices();
      if (loops.ok()) {
        for (const auto& l : *loops) {
          if (l.backingFile.rfind(path_ + "/", 0) == 0) (void)kvol::os::DetachLoop(l.device);
        }
      }
    }
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

void Report(benchmark::State& state, std::vector<double> ms) {
  if (ms.empty()) return;
  std::sort(ms.begin(), ms.end());
  state.counters["p50_ms"] = ms[ms.size() / 2];
  state.counters["p90_ms"] = ms[std::min(ms.size() - 1, ms.size() * 9 / 10)];
}

bool Must(benchmark::State& state, const kvol::Status& s, const char* what) {
  if (s.ok()) return true;
  state.SkipWithError((std::string(what) + ": " + s.message()).c_str());
  return false;
}

void BM_ProvisionAndFirstMount(benchmark::State& state) {
  Scratch dir;
  BlockDriver ctl(dir.path(), "", "bench", "");
  BlockNodeDriver node(dir.path(), "");
  if (!Must(state, ctl.pool().Ensure(true), "pool")) return;
  std::vector<double> ms;
  int i = 0;
  for (auto _ : state) {
    const std::string id = "pvc-" + std::to_string(i++);
    kvol::driver::CreateVolumeRequest cr;
    cr.name = id;
    cr.capacity.requiredBytes = 64 * kMi;
    cr.accessModes = {"ReadWriteOnce"};
    kvol::driver::NodeStageRequest sr;
    sr.volumeId = id;
    sr.stagingPath = dir.path() + "/plugins/kubernetes.io~csi/" + id + "/globalmount";
    kvol::driver::NodePublishRequest pr;
    pr.volumeId = id;
    pr.stagingPath = sr.stagingPath;
    pr.targetPath = dir.path() + "/pods/p/volumes/kubernetes.io~csi/" + id + "/mount";
    const auto t0 = Clock::now();
    auto v = ctl.CreateVolume(cr);
    if (!Must(state, v.status(), "create")) break;
    if (!Must(state, node.NodeStageVolume(sr), "stage")) break;
    if (!Must(state, node.NodePublishVolume(pr), "publish")) break;
    const auto d = Clock::now() - t0;
    state.SetIterationTime(std::chrono::duration<double>(d).count());
    ms.push_back(Ms(d));
    if (!Must(state, node.NodeUnpublishVolume(id, pr.targetPath), "unpublish")) break;
    if (!Must(state, node.NodeUnstageVolume(id, sr.stagingPath), "unstage")) break;
    if (!Must(state, kvol::driver::WaitLoopsGone(ctl.pool().ImagePath(id)), "loop")) break;
    if (!Must(state, ctl.DeleteVolume(id), "delete")) break;
  }
  Report(state, ms);
  (void)node.ReleasePool();
}
BENCHMARK(BM_ProvisionAndFirstMount)
    ->Iterations(50)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

// A mounted 1 GiB ext4 volume "pvc-big" holding ~900 MiB of (incompressible-looking) data.
struct BigVolume {
  Scratch dir;
  BlockDriver ctl{dir.path(), "", "bench", ""};
  BlockNodeDriver node{dir.path(), ""};
  std::string staging = dir.path() + "/plugins/kubernetes.io~csi/pvc-big/globalmount";

  kvol::Status Make() {
    kvol::driver::CreateVolumeRequest cr;
    cr.name = "pvc-big";
    cr.capacity.requiredBytes = 1024 * kMi;
    cr.accessModes = {"ReadWriteOnce"};
    KVOL_RETURN_IF_ERROR(ctl.CreateVolume(cr).status());
    kvol::driver::NodeStageRequest sr;
    sr.volumeId = "pvc-big";
    sr.stagingPath = staging;
    KVOL_RETURN_IF_ERROR(node.NodeStageVolume(sr));
    int fd = ::open((staging + "/data").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return kvol::Internal("open data");
    std::string chunk(kMi, '\0');
    uint64_t x = 88172645463325252ull;
    for (int i = 0; i < 900; ++i) {
      for (size_t k = 0; k + 8 <= chunk.size(); k += 8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        std::memcpy(&chunk[k], &x, 8);
      }
      if (::write(fd, chunk.data(), chunk.size()) != static_cast<ssize_t>(chunk.size())) {
        ::close(fd);
        return kvol::Internal("write data");
      }
    }
    ::fsync(fd);
    ::close(fd);
    return kvol::Status::Ok();
  }
  ~BigVolume() {
    (void)node.NodeUnstageVolume("pvc-big", staging);
    (void)node.ReleasePool();
  }
};

void BM_Snapshot1GiB(benchmark::State& state) {
  const bool reflink = state.range(0) == 1;
  state.SetLabel(reflink ? "reflink" : "sparse copy");
  BigVolume v;
  if (!Must(state, v.Make(), "volume")) return;
  v.ctl.set_allow_reflink(reflink);
  std::vector<double> ms;
  int i = 0;
  for (auto _ : state) {
    kvol::driver::CreateSnapshotRequest r;
    r.name = "snap-" + std::to_string(i++);
    r.sourceVolumeId = "pvc-big";
    const auto t0 = Clock::now();
    auto s = v.ctl.CreateSnapshot(r);
    const auto d = Clock::now() - t0;
    if (!Must(state, s.status(), "snapshot")) break;
    state.SetIterationTime(std::chrono::duration<double>(d).count());
    ms.push_back(Ms(d));
    if (!Must(state, v.ctl.DeleteSnapshot(r.name), "delete")) break;
  }
  Report(state, ms);
}
BENCHMARK(BM_Snapshot1GiB)->Arg(1)->Iterations(20)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Snapshot1GiB)->Arg(0)->Iterations(3)->UseManualTime()->Unit(benchmark::kMillisecond);

void BM_PlainCopy1GiB(benchmark::State& state) {
  BigVolume v;
  if (!Must(state, v.Make(), "volume")) return;
  const std::string src = v.ctl.pool().ImagePath("pvc-big");
  const std::string dst = v.ctl.pool().path() + "/plain-copy.img";
  std::vector<double> ms;
  for (auto _ : state) {
    const auto t0 = Clock::now();
    auto r = kvol::os::ExecOk({"cp", "--reflink=never", "--sparse=never", src, dst});
    const auto d = Clock::now() - t0;
    if (!Must(state, r.status(), "cp")) break;
    state.SetIterationTime(std::chrono::duration<double>(d).count());
    ms.push_back(Ms(d));
    ::unlink(dst.c_str());
  }
  Report(state, ms);
}
BENCHMARK(BM_PlainCopy1GiB)->Iterations(3)->UseManualTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
