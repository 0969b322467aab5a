#include "src/volume/atomic_writer.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <regex>
#include <set>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kvol/os/safe_path.h"
#include "src/volume/projected_test_util.h"

namespace kvol::volume {
namespace {

using ::testing::ElementsAre;
using testing::LinkOf;
using testing::ModeOf;
using testing::ScratchDir;
using testing::Slurp;

std::set<std::string> List(const std::string& dir) {
  std::set<std::string> out;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* de = readdir(d)) {
      std::string n = de->d_name;
      if (n != "." && n != "..") out.insert(n);
    }
    closedir(d);
  }
  return out;
}

class AtomicWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(scratch_.path().empty());
    dir_ = scratch_.path() + "/vol";
    ASSERT_EQ(mkdir(dir_.c_str(), 0755), 0);
    oldUmask_ = umask(077);  // modes must come out exactly as given, whatever the umask
  }
  void TearDown() override { umask(oldUmask_); }

  Result<bool> Write(const Payload& p) { return AtomicWriter(dir_).Write(p); }

  ScratchDir scratch_;
  std::string dir_;
  mode_t oldUmask_ = 022;
};

TEST_F(AtomicWriterTest, LayoutIsDataSymlinkTimestampedDirAndVisibleSymlinks) {
  Result<bool> r = Write({{"a", {"one", 0644}}, {"dir/b", {"two", 0600}}, {"x.conf", {"", 0777}}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(*r);

  std::string ts = LinkOf(dir_ + "/..data");
  EXPECT_TRUE(std::regex_match(ts, std::regex(R"(\.\.\d{4}_\d{2}_\d{2}_\d{2}_\d{2}_\d{2}\.\d{9})")))
      << ts;
  EXPECT_EQ(List(dir_), (std::set<std::string>{"..data", ts, "a", "dir", "x.conf"}));
  EXPECT_EQ(LinkOf(dir_ + "/a"), "..data/a");
  EXPECT_EQ(LinkOf(dir_ + "/dir"), "..data/dir");
  EXPECT_EQ(LinkOf(dir_ + "/x.conf"), "..data/x.conf");
  EXPECT_EQ(Slurp(dir_ + "/a"), "one");
  EXPECT_EQ(Slurp(dir_ + "/dir/b"), "two");
  EXPECT_EQ(Slurp(dir_ + "/x.conf"), "");
  EXPECT_EQ(ModeOf(dir_ + "/a"), 0644u);
  EXPECT_EQ(ModeOf(dir_ + "/dir/b"), 0600u);
  EXPECT_EQ(ModeOf(dir_ + "/x.conf"), 0777u);
  EXPECT_EQ(ModeOf(dir_ + "/" + ts), 0755u);
  EXPECT_EQ(ModeOf(dir_ + "/" + ts + "/dir"), 0755u);
  EXPECT_EQ(List(dir_ + "/" + ts), (std::set<std::string>{"a", "dir", "x.conf"}));
}

TEST_F(AtomicWriterTest, UpdateSwapsDataAndRemovesDroppedKeysAndOldDir) {
  ASSERT_TRUE(Write({{"a", {"one", 0644}}, {"dir/b", {"two", 0644}}, {"dir/c", {"3", 0644}}}).ok());
  std::string oldTs = LinkOf(dir_ + "/..data");

  Result<bool> r =
      Write({{"a", {"one, changed", 0644}}, {"dir/c", {"3", 0644}}, {"d", {"4", 0400}}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(*r);
  std::string newTs = LinkOf(dir_ + "/..data");
  EXPECT_NE(newTs, oldTs);
  EXPECT_EQ(List(dir_), (std::set<std::string>{"..data", newTs, "a", "d", "dir"}));
  EXPECT_EQ(Slurp(dir_ + "/a"), "one, changed");
  EXPECT_EQ(Slurp(dir_ + "/d"), "4");
  EXPECT_EQ(ModeOf(dir_ + "/d"), 0400u);
  EXPECT_FALSE(os::Exists(dir_ + "/dir/b"));
  EXPECT_EQ(Slurp(dir_ + "/dir/c"), "3");

  // Dropping a whole top-level element removes its visible symlink.
  r = Write({{"d", {"4", 0400}}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(*r);
  EXPECT_EQ(List(dir_), (std::set<std::string>{"..data", LinkOf(dir_ + "/..data"), "d"}));
}

TEST_F(AtomicWriterTest, SamePayloadIsNotRewrittenButModeChangeIs) {
  Payload p = {{"a", {"one", 0644}}, {"dir/b", {"two", 0600}}};
  ASSERT_TRUE(Write(p).ok());
  std::string ts = LinkOf(dir_ + "/..data");
  Result<bool> r = Write(p);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(*r);
  EXPECT_EQ(LinkOf(dir_ + "/..data"), ts);

  p["dir/b"].mode = 0640;
  r = Write(p);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(*r);
  EXPECT_NE(LinkOf(dir_ + "/..data"), ts);
  EXPECT_EQ(ModeOf(dir_ + "/dir/b"), 0640u);
}

TEST_F(AtomicWriterTest, EmptyPayloadStillMakesDataDir) {
  Result<bool> r = Write({});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(*r);
  std::string ts = LinkOf(dir_ + "/..data");
  EXPECT_EQ(List(dir_), (std::set<std::string>{"..data", ts}));
  r = Write({});
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(*r);
}

TEST_F(AtomicWriterTest, BadPathsAreRefusedAndNothingIsWritten) {
  struct Case {
    std::string path, message;
  };
  for (const Case& c : std::vector<Case>{
           {"", "invalid path: must not be empty: \"\""},
           {"/etc/passwd", "invalid path: must be relative path: /etc/passwd"},
           {"../escape", "invalid path: must not contain '..': ../escape"},
           {"a/../../b", "invalid path: must not contain '..': a/../../b"},
           {"..data", "invalid path: must not start with '..': ..data"},
           {"..2026_01_01/x", "invalid path: must not start with '..': ..2026_01_01/x"},
           {std::string(256, 'f'),
            "invalid path: filenames must be less than or equal to 255 "
            "characters"},
       }) {
    Result<bool> r = Write({{"ok", {"fine", 0644}}, {c.path, {"x", 0644}}});
    ASSERT_FALSE(r.ok()) << c.path;
    EXPECT_EQ(r.status().code(), Code::kInvalid);
    EXPECT_EQ(r.status().message(), c.message);
    EXPECT_TRUE(List(dir_).empty()) << c.path;
  }
  // ".." inside a name is fine; only whole ".." elements and a leading ".." are reserved.
  EXPECT_TRUE(ValidatePayloadPath("a..b/c..").ok());
  EXPECT_TRUE(ValidatePayloadPath("a/..b").ok());
}

TEST_F(AtomicWriterTest, MissingVisibleSymlinkIsRepairedWithoutRewrite) {
  Payload p = {{"a", {"one", 0644}}};
  ASSERT_TRUE(Write(p).ok());
  std::string ts = LinkOf(dir_ + "/..data");
  ASSERT_EQ(unlink((dir_ + "/a").c_str()), 0);
  Result<bool> r = Write(p);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(*r);
  EXPECT_EQ(LinkOf(dir_ + "/a"), "..data/a");
  EXPECT_EQ(LinkOf(dir_ + "/..data"), ts);
}

TEST_F(AtomicWriterTest, LeftoversOfACrashedWriteAreRemoved) {
  ASSERT_TRUE(Write({{"a", {"one", 0644}}}).ok());
  ASSERT_EQ(mkdir((dir_ + "/..2020_01_01_00_00_00.000000001").c_str(), 0755), 0);
  ASSERT_EQ(symlink("..2020_01_01_00_00_00.000000001", (dir_ + "/..data_tmp").c_str()), 0);
  ASSERT_TRUE(Write({{"a", {"two", 0644}}}).ok());
  std::string ts = LinkOf(dir_ + "/..data");
  EXPECT_EQ(List(dir_), (std::set<std::string>{"..data", ts, "a"}));
  EXPECT_EQ(Slurp(dir_ + "/a"), "two");
}

TEST_F(AtomicWriterTest, SymlinkPlantedInDataDirIsNeitherFollowedNorKept) {
  std::string outside = scratch_.path() + "/outside";
  ASSERT_TRUE(os::WriteFileAtomic(outside, "precious", 0644).ok());
  ASSERT_TRUE(Write({{"a", {"one", 0644}}, {"sub/b", {"two", 0644}}}).ok());
  std::string ts = LinkOf(dir_ + "/..data");
  // Someone with write access swaps a file and a directory for symlinks leading out.
  ASSERT_EQ(unlink((dir_ + "/" + ts + "/a").c_str()), 0);
  ASSERT_EQ(symlink(outside.c_str(), (dir_ + "/" + ts + "/a").c_str()), 0);

  Result<bool> r = Write({{"a", {"one", 0644}}, {"sub/b", {"two", 0644}}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(*r);  // the planted symlink is not the payload: rewritten
  EXPECT_EQ(Slurp(outside), "precious");
  EXPECT_EQ(Slurp(dir_ + "/a"), "one");
  struct stat st;
  ASSERT_EQ(lstat((dir_ + "/..data/a").c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
}

}  // namespace
}  // namespace kvol::volume

namespace kvol::volume {
namespace {

TEST_F(AtomicWriterTest, FsGroupOwnsEverythingAndAddsGroupRead) {
  const gid_t kGid = 4321;
  Result<bool> r = AtomicWriter(dir_, kGid).Write({{"key", {"v", 0400}}, {"sub/x", {"y", 0600}}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  std::string ts = testing::LinkOf(dir_ + "/..data");
  struct Want {
    std::string path;
    unsigned mode;
  };
  for (const Want& w : std::vector<Want>{{"", 02755},
                                         {"/" + ts, 02755},
                                         {"/" + ts + "/key", 0440},
                                         {"/" + ts + "/sub", 02755},
                                         {"/" + ts + "/sub/x", 0640}}) {
    struct stat st;
    ASSERT_EQ(lstat((dir_ + w.path).c_str(), &st), 0) << w.path;
    EXPECT_EQ(st.st_gid, kGid) << w.path;
    EXPECT_EQ(st.st_mode & 07777, w.mode) << w.path;
  }
  for (const char* link : {"/..data", "/key", "/sub"}) {
    struct stat st;
    ASSERT_EQ(lstat((dir_ + link).c_str(), &st), 0) << link;
    EXPECT_EQ(st.st_gid, kGid) << link;
  }
  // The group bits are part of the payload: the same payload again is no change.
  r = AtomicWriter(dir_, kGid).Write({{"key", {"v", 0400}}, {"sub/x", {"y", 0600}}});
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(*r);
}

}  // namespace
}  // namespace kvol::volume

namespace kvol::volume {
namespace {

// Readers see every update whole: through `..data` both files always come from one payload, and
// a visible path never disappears while updates swap under it.
TEST_F(AtomicWriterTest, ReadersNeverSeeAMixOrAMissingFile) {
  auto payload = [](int n) {
    return Payload{{"a", {std::to_string(n), 0644}}, {"b", {std::to_string(n), 0644}}};
  };
  ASSERT_TRUE(Write(payload(0)).ok());
  std::atomic<bool> done{false};
  std::atomic<int> mixed{0}, missing{0}, missingData{0}, reads{0};
  std::thread reader([&] {
    while (!done.load()) {
      // Retried: a lookup that resolved ..data just before a swap may meet the old directory
      // already removed (as in Kubernetes; a loaded machine can stretch that window across
      // several swaps); a file that had vanished would fail every time.
      bool found = false;
      for (int attempt = 0; attempt < 10 && !found; ++attempt) {
        found = os::ReadFile(dir_ + "/a").ok();
      }
      if (!found) ++missing;
      os::Fd d;
      for (int attempt = 0; attempt < 10 && !d.valid(); ++attempt) {
        d = os::Fd(open((dir_ + "/..data").c_str(), O_RDONLY | O_DIRECTORY));
      }
      if (!d.valid()) {
        ++missingData;
        continue;
      }
      std::string a, b;
      for (auto [name, out] : {std::pair{"a", &a}, std::pair{"b", &b}}) {
        os::Fd f(openat(d.get(), name, O_RDONLY));
        char buf[32];
        ssize_t n = f.valid() ? read(f.get(), buf, sizeof buf) : -1;
        if (n > 0) out->assign(buf, static_cast<size_t>(n));
      }
      // Both empty: the directory was removed after the reader opened it (not a mix).
      if (!a.empty() && !b.empty() && a != b) ++mixed;
      ++reads;
    }
  });
  for (int i = 1; i <= 60; ++i) {
    Result<bool> r = Write(payload(i));
    if (!r.ok() || !*r) {
      ADD_FAILURE() << "write " << i;
      break;
    }
  }
  done = true;
  reader.join();
  EXPECT_EQ(mixed.load(), 0);
  EXPECT_EQ(missing.load(), 0);
  EXPECT_EQ(missingData.load(), 0);
  EXPECT_GT(reads.load(), 0);
  EXPECT_EQ(testing::Slurp(dir_ + "/b"), "60");
}

}  // namespace
}  // namespace kvol::volume
