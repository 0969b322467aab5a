// Crash test (short form): fork the crash writer, SIGKILL it at random moments, reopen the store
// and check that every write it acknowledged survived and the revision never went back.
// The long form (hundreds of kills) is bench/crash/run.sh.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <random>

#include "kvol/store/sqlite_store.h"
#include "src/store/sqlite/test_util.h"
#include "src/store/sqlite/tools/crash_check.h"

namespace kvol::store {
namespace {

// Runs the writer for about `ms` milliseconds, SIGKILLs it, returns its complete ack lines.
std::vector<std::string> RunAndKill(const std::string& db, const std::string& run, int ms) {
  int fds[2];
  EXPECT_EQ(pipe(fds), 0);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    close(fds[1]);
    execl(KVOL_CRASH_WRITER, KVOL_CRASH_WRITER, "write", db.c_str(), run.c_str(), "4",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[1]);
  std::string out;
  char buf[65536];
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  bool eof = false;
  while (!eof && std::chrono::steady_clock::now() < deadline) {
    pollfd p{fds[0], POLLIN, 0};
    if (poll(&p, 1, 10) > 0) {
      ssize_t n = read(fds[0], buf, sizeof buf);
      if (n <= 0)
        eof = true;
      else
        out.append(buf, size_t(n));
    }
  }
  kill(pid, SIGKILL);
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) out.append(buf, size_t(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << "writer ended on its own, status " << status;
  std::vector<std::string> lines;
  size_t start = 0;
  for (size_t nl; (nl = out.find('\n', start)) != std::string::npos; start = nl + 1)
    lines.push_back(out.substr(start, nl - start));
  return lines;  // a partial last line (cut by the kill) is dropped: it was not acknowledged
}

TEST(SqliteCrashTest, AcknowledgedWritesSurviveSigkill) {
  testing::TempDir dir;
  const std::string db = dir.File("crash.db");
  std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<int> ms(150, 700);
  Revision lastRevision = 0;
  size_t totalAcks = 0;
  for (int round = 0; round < 5; ++round) {
    auto lines = RunAndKill(db, "r" + std::to_string(round), ms(rng));
    totalAcks += lines.size();
    auto s = OpenSqliteStore(db);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    Revision maxAcked = 0;
    Status st = crash::CheckAcks(**s, lines, &maxAcked);
    ASSERT_TRUE(st.ok()) << "round " << round << ": " << st.message();
    EXPECT_GE((*s)->CurrentRevision(), lastRevision) << "revision went back in round " << round;
    EXPECT_GE((*s)->CurrentRevision(), maxAcked);
    lastRevision = (*s)->CurrentRevision();
  }
  EXPECT_GT(totalAcks, 10u) << "the writer made too little progress to test anything";
}

}  // namespace
}  // namespace kvol::store
