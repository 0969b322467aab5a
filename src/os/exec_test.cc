#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kvol/os/exec.h"
#include "src/os/test_scratch.h"

namespace kvol::os {
namespace {

using ::testing::HasSubstr;

TEST(ExecTest, CapturesStdoutStderrAndExitCode) {
  auto r = Exec({"sh", "-c", "echo out; echo err >&2; exit 3"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->out, "out\n");
  EXPECT_EQ(r->err, "err\n");
  EXPECT_EQ(r->exitCode, 3);
}

TEST(ExecTest, FeedsStdinLargerThanAPipe) {
  ExecOptions o;
  o.stdinData = std::string(1 << 20, 'a') + "end";
  auto r = Exec({"cat"}, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->exitCode, 0);
  EXPECT_EQ(r->out, o.stdinData);
}

TEST(ExecTest, ChildThatIgnoresStdinDoesNotKillUs) {
  ExecOptions o;
  o.stdinData = std::string(4 << 20, 'x');
  auto r = Exec({"true"}, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->exitCode, 0);
}

TEST(ExecTest, TimeoutKillsTheChildAndItsChildren) {
  ExecOptions o;
  o.timeoutSec = 0.3;
  const auto start = std::chrono::steady_clock::now();
  auto r = Exec({"sh", "-c", "sleep 30 & sleep 30"}, o);
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kTimeout);
  EXPECT_EQ(r.status().message(), "sh timed out after 0.3s (killed)");
  EXPECT_LT(took, std::chrono::seconds(5));
}

TEST(ExecTest, SignalledChildReports128PlusSignal) {
  auto r = Exec({"sh", "-c", "kill -TERM $$"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exitCode, 128 + SIGTERM);
}

TEST(ExecTest, ChildStartsWithCleanSignalMaskEvenWhenOursBlocksTerm) {
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGTERM);
  sigaddset(&block, SIGINT);
  pthread_sigmask(SIG_BLOCK, &block, &old);
  struct sigaction ign = {}, oldPipe = {};
  ign.sa_handler = SIG_IGN;
  sigaction(SIGPIPE, &ign, &oldPipe);  // as a server that ignores SIGPIPE does
  auto r = Exec({"cat", "/proc/self/status"});
  sigaction(SIGPIPE, &oldPipe, nullptr);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  ASSERT_TRUE(r.ok());
  auto mask = [&r](const std::string& field) -> unsigned long long {
    const size_t at = r->out.find("\n" + field + ":\t");
    if (at == std::string::npos) return ~0ull;
    return std::stoull(r->out.substr(at + field.size() + 3, 16), nullptr, 16);
  };
  EXPECT_EQ(mask("SigBlk"), 0ull);
  // The standard signals (1..31) are at their defaults; 32 and 33 belong to the C library.
  EXPECT_EQ(mask("SigIgn") & 0x7fffffffull, 0ull);
}

TEST(ExecTest, EnvCwdAndNoLeakedDescriptors) {
  testing::Scratch s;
  ExecOptions o;
  o.env = {{"FOO", "bar baz"}, {"PATH", "/usr/bin:/bin"}};
  o.cwd = s.path();
  const int leaky = ::open("/dev/null", O_RDONLY);  // no O_CLOEXEC, as careless code would
  ASSERT_GE(leaky, 0);
  auto r = Exec({"sh", "-c", "echo \"$FOO\"; pwd; ls /proc/self/fd | sort -n | tr '\\n' ' '"}, o);
  ::close(leaky);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  // Only 0, 1, 2 and the fd ls uses for the directory listing.
  EXPECT_EQ(r->out, "bar baz\n" + s.path() + "\n0 1 2 3 ");

  o.cwd = s / "missing";
  auto missing = Exec({"true"}, o);
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
  EXPECT_EQ(missing.status().message(),
            "exec true: working directory " + o.cwd + ": No such file or directory");
}

TEST(ExecTest, GrandchildHoldingStdoutDoesNotBlockReturn) {
  ExecOptions o;
  o.timeoutSec = 10;
  const auto start = std::chrono::steady_clock::now();
  auto r = Exec({"sh", "-c", "echo started; (sleep 3) & exit 0"}, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->out, "started\n");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

TEST(ExecTest, MissingProgramAndExecOk) {
  auto r = Exec({"kvol-no-such-program-xyz"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kNotFound);
  EXPECT_EQ(r.status().message(), "exec kvol-no-such-program-xyz: No such file or directory");

  auto ok = ExecOk({"sh", "-c", "echo first problem >&2; echo second >&2; exit 2"});
  ASSERT_FALSE(ok.ok());
  EXPECT_EQ(ok.status().code(), Code::kInternal);
  EXPECT_EQ(ok.status().message(), "sh failed (exit 2): first problem");
  EXPECT_TRUE(ExecOk({"true"}).ok());
  EXPECT_EQ(Exec({}).status().code(), Code::kInvalid);
}

}  // namespace
}  // namespace kvol::os
