// Sandboxes and the spare-sandbox pool, on real namespaces and bind mounts (root).
#include "src/runtime/sandbox.h"

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "kvol/os/fs.h"
#include "kvol/os/mount.h"

namespace kvol::runtime {
namespace {

ino_t Inode(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 ? st.st_ino : 0;
}

// What a process of the sandbox sees: its hostname and whether `lo` is up.
struct Seen {
  std::string hostname;
  bool loUp = false;
};

Seen Look(const std::string& dir) {
  Seen s;
  std::thread t([&] {
    int uts = ::open((dir + "/uts").c_str(), O_RDONLY | O_CLOEXEC);
    int net = ::open((dir + "/net").c_str(), O_RDONLY | O_CLOEXEC);
    if (uts >= 0 && net >= 0 && ::setns(uts, CLONE_NEWUTS) == 0 &&
        ::setns(net, CLONE_NEWNET) == 0) {
      char buf[128] = {0};
      ::gethostname(buf, sizeof buf - 1);
      s.hostname = buf;
      int sock = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
      struct ifreq ifr {};
      std::strcpy(ifr.ifr_name, "lo");
      s.loUp = sock >= 0 && ::ioctl(sock, SIOCGIFFLAGS, &ifr) == 0 && (ifr.ifr_flags & IFF_UP);
      if (sock >= 0) ::close(sock);
    }
    if (uts >= 0) ::close(uts);
    if (net >= 0) ::close(net);
  });
  t.join();
  return s;
}

bool WaitForSpare(SandboxPool& pool) {
  for (int i = 0; i < 400 && !pool.HasSpare(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return pool.HasSpare();
}

class SandboxPoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/kvol-sandbox-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    tmp_ = tmpl;
    spare_ = tmp_ + "/run/sandbox-spare";
  }
  void TearDown() override {
    for (const char* d : {"/pods/a/sandbox", "/pods/b/sandbox", "/pods/c/sandbox"}) {
      EXPECT_TRUE(RemoveSandboxNamespaces(tmp_ + d).ok());
    }
    EXPECT_TRUE(RemoveSandboxNamespaces(spare_).ok());
    auto left = os::MountsUnder(tmp_);
    EXPECT_TRUE(left.ok() && left->empty()) << "mounts left under " << tmp_;
    if (left.ok() && left->empty()) std::filesystem::remove_all(tmp_);
  }
  std::string tmp_, spare_;
};

TEST_F(SandboxPoolTest, EachPodGetsFreshNamespacesWithItsHostnameAndLoUp) {
  SandboxPool pool(spare_);
  EXPECT_FALSE(std::filesystem::exists(spare_)) << "nothing is made before the first Take";
  const std::string a = tmp_ + "/pods/a/sandbox", b = tmp_ + "/pods/b/sandbox",
                    c = tmp_ + "/pods/c/sandbox";
  ASSERT_TRUE(pool.Take(a, "pod-a").ok());  // made on the spot; a spare follows
  ASSERT_TRUE(WaitForSpare(pool));
  const ino_t spareNet = Inode(spare_ + "/net");
  ASSERT_TRUE(pool.Take(b, "pod-b").ok());  // the spare, moved
  EXPECT_EQ(Inode(b + "/net"), spareNet);
  ASSERT_TRUE(WaitForSpare(pool));
  ASSERT_TRUE(pool.Take(c, "pod-c").ok());

  Seen sa = Look(a), sb = Look(b), sc = Look(c);
  EXPECT_EQ(sa.hostname, "pod-a");
  EXPECT_EQ(sb.hostname, "pod-b");
  EXPECT_EQ(sc.hostname, "pod-c");
  EXPECT_TRUE(sa.loUp && sb.loUp && sc.loUp);
  for (const char* ns : {"/net", "/ipc", "/uts"}) {
    EXPECT_NE(Inode(a + ns), Inode(b + ns)) << ns;
    EXPECT_NE(Inode(b + ns), Inode(c + ns)) << ns;
    EXPECT_NE(Inode(a + ns), Inode(c + ns)) << ns;
  }
  // Taking again keeps what is there.
  ASSERT_TRUE(pool.Take(b, "other").ok());
  EXPECT_EQ(Inode(b + "/net"), spareNet);
  EXPECT_EQ(Look(b).hostname, "pod-b");

  pool.Close();
  EXPECT_FALSE(std::filesystem::exists(spare_)) << "Close removes the spare";
  // After Close sandboxes are still made, on the spot, and no spare appears.
  ASSERT_TRUE(RemoveSandboxNamespaces(a).ok());
  ASSERT_TRUE(pool.Take(a, "pod-a2").ok());
  EXPECT_EQ(Look(a).hostname, "pod-a2");
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(std::filesystem::exists(spare_));
}

TEST_F(SandboxPoolTest, ADeadAgentsSpareIsReplacedNotReused) {
  ASSERT_TRUE(MakeSandboxNamespaces(spare_, "").ok());  // what a SIGKILLed agent leaves
  const ino_t stale = Inode(spare_ + "/net");
  SandboxPool pool(spare_);
  const std::string a = tmp_ + "/pods/a/sandbox", b = tmp_ + "/pods/b/sandbox";
  ASSERT_TRUE(pool.Take(a, "pod-a").ok());
  EXPECT_NE(Inode(a + "/net"), stale);
  ASSERT_TRUE(WaitForSpare(pool));
  ASSERT_TRUE(pool.Take(b, "pod-b").ok());
  EXPECT_NE(Inode(b + "/net"), stale);
  EXPECT_NE(Inode(b + "/net"), Inode(a + "/net"));
  EXPECT_EQ(Look(b).hostname, "pod-b");
}

// Sandbox children are forks without exec: one must not keep another's pipes open (then neither
// sees EOF and the agent waits forever, as the pool's spare and a pod's sandbox made at the same
// moment once did). Several threads make sandboxes at once; a watchdog ends the test if they hang.
TEST_F(SandboxPoolTest, SandboxesMadeAtTheSameTimeDoNotWaitForEachOther) {
  std::atomic<bool> done{false};
  std::thread watchdog([&] {
    for (int i = 0; i < 600 && !done; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (!done) {
      std::fprintf(stderr, "sandboxes made at the same time hang\n");
      std::_Exit(1);
    }
  });
  std::vector<std::thread> makers;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    makers.emplace_back([&, t] {
      for (int i = 0; i < 8; ++i) {
        const std::string dir = tmp_ + "/many/" + std::to_string(t) + "-" + std::to_string(i);
        if (!MakeSandboxNamespaces(dir, "p").ok()) ++failures;
        if (!RemoveSandboxNamespaces(dir).ok()) ++failures;
      }
    });
  }
  for (auto& m : makers) m.join();
  done = true;
  watchdog.join();
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace kvol::runtime
