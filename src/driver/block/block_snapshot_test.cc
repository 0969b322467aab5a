// kvol.io/block snapshots, restores and clones on a real XFS pool with real loop devices and
// filesystems: data kept, clones independent, a snapshot under a running writer fsck-clean, the
// sparse copy when reflink is not available; nothing left behind.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "kvol/os/exec.h"
#include "kvol/os/fs.h"
#include "src/driver/block/block_copy.h"
#include "src/driver/block/block_driver.h"
#include "src/driver/block/block_node_driver.h"
#include "src/driver/block/block_test_util.h"

namespace kvol::driver {
namespace {

constexpr int64_t kMi = int64_t{1} << 20;

int64_t FileSize(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 ? st.st_size : -1;
}
int64_t AllocatedBytes(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 ? int64_t{st.st_blocks} * 512 : -1;
}
int64_t FsBytes(const std::string& p) {
  struct statvfs st;
  return ::statvfs(p.c_str(), &st) == 0 ? int64_t(st.f_blocks) * int64_t(st.f_frsize) : -1;
}
std::string Read(const std::string& p) {
  auto r = os::ReadFile(p);
  return r.ok() ? *r : "<" + r.status().message() + ">";
}
// e2fsck -fn's exit code (0: clean) and output.
std::string Fsck(const std::string& image) {
  auto r = os::Exec({"e2fsck", "-fn", image});
  if (!r.ok()) return r.status().message();
  return "exit " + std::to_string(r->exitCode) + (r->exitCode == 0 ? "" : ": " + r->out + r->err);
}

class BlockSnapshotTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_FALSE(s_.path().empty()); }
  void TearDown() override {
    for (const std::string& id : staged_) {
      EXPECT_TRUE(node_.NodeUnstageVolume(id, Staging(id)).ok()) << id;
    }
    EXPECT_TRUE(node_.ReleasePool().ok());
    EXPECT_EQ(s_.Loops(true), std::vector<std::string>{});
    EXPECT_EQ(s_.Mounts(), std::vector<std::string>{});
  }

  Result<VolumeInfo> Create(const std::string& id, int64_t bytes, const std::string& fs = "",
                            std::optional<CreateVolumeRequest::ContentSource> src = {}) {
    CreateVolumeRequest r;
    r.name = id;
    r.capacity.requiredBytes = bytes;
    if (!fs.empty()) r.parameters["csi.storage.k8s.io/fstype"] = fs;
    r.accessModes = {"ReadWriteOnce"};
    r.contentSource = std::move(src);
    return ctl_.CreateVolume(r);
  }
  static CreateVolumeRequest::ContentSource FromSnapshot(const std::string& id) { return {id, ""}; }
  static CreateVolumeRequest::ContentSource FromVolume(const std::string& id) { return {"", id}; }
  std::string Staging(const std::string& id) {
    return s_.path() + "/plugins/kubernetes.io~csi/" + id + "/globalmount";
  }
  // Stages the volume; returns its mounted directory ("" on failure, reported).
  std::string Stage(const std::string& id, const std::string& fs = "") {
    NodeStageRequest r;
    r.volumeId = id;
    r.stagingPath = Staging(id);
    r.fsType = fs;
    Status st = node_.NodeStageVolume(r);
    EXPECT_TRUE(st.ok()) << st.message();
    if (!st.ok()) return "";
    staged_.push_back(id);
    return r.stagingPath;
  }
  Result<SnapshotInfo> Snapshot(const std::string& name, const std::string& source) {
    CreateSnapshotRequest r;
    r.name = name;
    r.sourceVolumeId = source;
    return ctl_.CreateSnapshot(r);
  }

  testing::BlockScratch s_;
  BlockDriver ctl_{s_.path(), "", "node-1", ""};
  BlockNodeDriver node_{s_.path(), ""};
  std::vector<std::string> staged_;
};

TEST_F(BlockSnapshotTest, SnapshotOfAMountedVolumeRestoresItsDataIntoABiggerVolume) {
  ASSERT_TRUE(Create("pvc-a", 64 * kMi).ok());
  const std::string a = Stage("pvc-a");
  ASSERT_FALSE(a.empty());
  ASSERT_TRUE(os::WriteFileAtomic(a + "/before", "written before the snapshot").ok());

  auto snap = Snapshot("snapcontent-1", "pvc-a");
  ASSERT_TRUE(snap.ok()) << snap.status().message();
  EXPECT_EQ(snap->snapshotId, "snapcontent-1");
  EXPECT_EQ(snap->sourceVolumeId, "pvc-a");
  EXPECT_EQ(snap->sizeBytes, 64 * kMi);
  EXPECT_TRUE(snap->readyToUse);
  EXPECT_GT(snap->creationTimeNanos, int64_t{1'700'000'000} * 1'000'000'000);
  const std::string img = s_.path() + "/block/snapshots/snapcontent-1.img";
  EXPECT_EQ(FileSize(img), 64 * kMi);
  EXPECT_EQ(Fsck(img), "exit 0");  // frozen while copied: clean, no journal to replay

  // Idempotent; the same name for another source is refused; Get finds it.
  auto again = Snapshot("snapcontent-1", "pvc-a");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->creationTimeNanos, snap->creationTimeNanos);
  EXPECT_EQ(Snapshot("snapcontent-1", "pvc-b").status().code(), Code::kAlreadyExists);
  EXPECT_EQ(Snapshot("snapcontent-2", "pvc-missing").status().message(),
            "kvol.io/block: source volume \"pvc-missing\" not found");
  auto got = ctl_.GetSnapshot("snapcontent-1");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->sizeBytes, 64 * kMi);

  ASSERT_TRUE(os::WriteFileAtomic(a + "/after", "written after the snapshot").ok());

  // Restore into a bigger volume: the data as it was, the filesystem grown at stage.
  auto r = Create("pvc-r", 128 * kMi, "", FromSnapshot("snapcontent-1"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->capacityBytes, 128 * kMi);
  EXPECT_EQ(FileSize(s_.path() + "/block/pvc-r.img"), 128 * kMi);
  const std::string rd = Stage("pvc-r");
  ASSERT_FALSE(rd.empty());
  EXPECT_EQ(Read(rd + "/before"), "written before the snapshot");
  EXPECT_FALSE(os::Exists(rd + "/after"));
  EXPECT_GT(FsBytes(rd), 100 * kMi);

  // Smaller than the snapshot: refused.
  auto small = Create("pvc-s", 32 * kMi, "", FromSnapshot("snapcontent-1"));
  EXPECT_EQ(small.status().message(),
            "kvol.io/block: the requested 33554432 bytes are less than the 67108864 bytes of "
            "source snapshot \"snapcontent-1\"");
  EXPECT_EQ(Create("pvc-t", 64 * kMi, "", FromSnapshot("snapcontent-9")).status().message(),
            "kvol.io/block: source snapshot \"snapcontent-9\" not found");

  // Deleting is idempotent; the restored volume does not depend on the snapshot.
  EXPECT_TRUE(ctl_.DeleteSnapshot("snapcontent-1").ok());
  EXPECT_TRUE(ctl_.DeleteSnapshot("snapcontent-1").ok());
  EXPECT_FALSE(os::Exists(img));
  EXPECT_EQ(ctl_.GetSnapshot("snapcontent-1").status().code(), Code::kNotFound);
  EXPECT_EQ(Read(rd + "/before"), "written before the snapshot");
}

TEST_F(BlockSnapshotTest, CloneIsIndependentOfItsSource) {
  ASSERT_TRUE(Create("pvc-src", 64 * kMi).ok());
  const std::string src = Stage("pvc-src");
  ASSERT_FALSE(src.empty());
  ASSERT_TRUE(os::WriteFileAtomic(src + "/shared", "from the source").ok());
  EXPECT_TRUE(ctl_.CanClone("pvc-src"));
  EXPECT_FALSE(ctl_.CanClone("pvc-none"));

  auto c = Create("pvc-clone", 64 * kMi, "", FromVolume("pvc-src"));  // source mounted: frozen
  ASSERT_TRUE(c.ok()) << c.status().message();
  const std::string cl = Stage("pvc-clone");
  ASSERT_FALSE(cl.empty());
  EXPECT_EQ(Read(cl + "/shared"), "from the source");

  ASSERT_TRUE(os::WriteFileAtomic(cl + "/shared", "changed in the clone").ok());
  ASSERT_TRUE(os::WriteFileAtomic(cl + "/new", "only in the clone").ok());
  ASSERT_TRUE(os::WriteFileAtomic(src + "/later", "only in the source").ok());
  EXPECT_EQ(Read(src + "/shared"), "from the source");
  EXPECT_FALSE(os::Exists(src + "/new"));
  EXPECT_FALSE(os::Exists(cl + "/later"));
}

TEST_F(BlockSnapshotTest, SnapshotTakenWhileAWriterRunsIsACleanFilesystem) {
  ASSERT_TRUE(Create("pvc-w", 64 * kMi).ok());
  const std::string w = Stage("pvc-w");
  ASSERT_FALSE(w.empty());
  std::atomic<bool> stop{false};
  std::atomic<int> written{0};
  std::thread writer([&] {
    std::string chunk(64 * 1024, 'd');
    for (int i = 0; !stop.load(); ++i) {
      const std::string p = w + "/f" + std::to_string(i % 200);
      int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (fd < 0) continue;
      for (int k = 0; k < 4; ++k) {
        if (::write(fd, chunk.data(), chunk.size()) < 0) break;
      }
      ::close(fd);  // no fsync: dirty pages and journal in flight when the snapshot comes
      written.fetch_add(1);
    }
  });
  while (written.load() < 50) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  auto snap = Snapshot("snapcontent-w", "pvc-w");
  const int atSnapshot = written.load();
  stop = true;
  writer.join();
  ASSERT_TRUE(snap.ok()) << snap.status().message();
  EXPECT_GE(atSnapshot, 50);
  EXPECT_EQ(Fsck(s_.path() + "/block/snapshots/snapcontent-w.img"), "exit 0");

  auto r = Create("pvc-wr", 64 * kMi, "", FromSnapshot("snapcontent-w"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  const std::string rd = Stage("pvc-wr");
  ASSERT_FALSE(rd.empty());
  EXPECT_TRUE(os::Exists(rd + "/f0"));
  EXPECT_EQ(FileSize(rd + "/f0"), 256 * 1024);  // written whole long before the snapshot
}

TEST_F(BlockSnapshotTest, XfsRestoreMountsNextToItsSource) {
  ASSERT_TRUE(Create("pvc-x", 320 * kMi, "xfs").ok());
  const std::string x = Stage("pvc-x", "xfs");
  ASSERT_FALSE(x.empty());
  ASSERT_TRUE(os::WriteFileAtomic(x + "/data", "xfs data").ok());
  ASSERT_TRUE(Snapshot("snapcontent-x", "pvc-x").ok());
  auto r = Create("pvc-xr", 320 * kMi, "xfs", FromSnapshot("snapcontent-x"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  const std::string rd = Stage("pvc-xr", "xfs");  // same UUID would be refused by the kernel
  ASSERT_FALSE(rd.empty());
  EXPECT_EQ(Read(rd + "/data"), "xfs data");
}

TEST_F(BlockSnapshotTest, SparseCopyWhenReflinkIsNotAvailable) {
  // /tmp here is ext4: FICLONE fails there and CopyImage falls back to the sparse copy.
  const std::string src = s_.path() + "/src.img";
  ASSERT_TRUE(os::MakeSparseFile(src, 32 * kMi).ok());
  {
    int fd = ::open(src.c_str(), O_WRONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    std::string a(4096, 'a'), b(8192, 'b');
    ASSERT_EQ(::pwrite(fd, a.data(), a.size(), 0), static_cast<ssize_t>(a.size()));
    ASSERT_EQ(::pwrite(fd, b.data(), b.size(), 10 * kMi), static_cast<ssize_t>(b.size()));
    ::close(fd);
  }
  const std::string dst = s_.path() + "/dst.img";
  auto m = CopyImage(src, dst);
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(*m, CopyMethod::kSparse);
  EXPECT_EQ(FileSize(dst), 32 * kMi);
  EXPECT_LT(AllocatedBytes(dst), kMi);  // holes stayed holes
  EXPECT_EQ(Read(dst), Read(src));
  EXPECT_EQ(CopyImage(src, dst).status().code(), Code::kInternal);  // never overwrites

  // On the XFS pool the same copy is a reflink; the driver can be told not to use it.
  ASSERT_TRUE(Create("pvc-p", 64 * kMi).ok());
  const std::string pooled = s_.path() + "/block/pvc-p.img";
  auto r = CopyImage(pooled, s_.path() + "/block/copy.img");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(*r, CopyMethod::kReflink);
  EXPECT_EQ(::unlink((s_.path() + "/block/copy.img").c_str()), 0);

  const std::string p = Stage("pvc-p");
  ASSERT_FALSE(p.empty());
  ASSERT_TRUE(os::WriteFileAtomic(p + "/kept", "sparse-copied").ok());
  ctl_.set_allow_reflink(false);
  ASSERT_TRUE(Snapshot("snapcontent-p", "pvc-p").ok());
  EXPECT_EQ(Fsck(s_.path() + "/block/snapshots/snapcontent-p.img"), "exit 0");
  ASSERT_TRUE(Create("pvc-pr", 64 * kMi, "", FromSnapshot("snapcontent-p")).ok());
  const std::string pr = Stage("pvc-pr");
  ASSERT_FALSE(pr.empty());
  EXPECT_EQ(Read(pr + "/kept"), "sparse-copied");
}

}  // namespace
}  // namespace kvol::driver
