// kvol_store_crash_writer: the writer half of the store crash test.
//
//   kvol_store_crash_writer write <db> <run-id> [threads]
//     Opens the store and writes until killed: each thread creates keys
//     /registry/crash/<run-id>-<t>-<i> and updates /registry/crash/<run-id>-<t> (field n = i).
//     After each write returns OK it prints an ack line (see crash_check.h) to stdout, unbuffered.
//   kvol_store_crash_writer verify <db> <ack-file> [min-revision]
//     Reopens the store and checks every ack line in <ack-file>; exit 0 and "OK <revision>" when
//     all are present and the revision is >= min-revision and every acked revision.
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "kvol/store/sqlite_store.h"
#include "src/store/sqlite/tools/crash_check.h"

namespace {

using namespace kvol;
using namespace kvol::store;

std::mutex outMu;

void Ack(const std::string& line) {
  std::lock_guard<std::mutex> lk(outMu);
  std::string l = line + "\n";
  const char* p = l.data();
  size_t left = l.size();
  while (left > 0) {
    ssize_t n = ::write(1, p, left);
    if (n <= 0) _exit(3);
    p += n;
    left -= size_t(n);
  }
}

int Write(const std::string& db, const std::string& run, int threads) {
  auto s = OpenSqliteStore(db);
  if (!s.ok()) {
    std::fprintf(stderr, "open: %s\n", s.status().ToString().c_str());
    return 2;
  }
  Store& store = **s;
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&, t] {
      const std::string base = "/registry/crash/" + run + "-" + std::to_string(t);
      if (auto c = store.Create(base, json{{"metadata", {{"name", base}}}, {"n", 0}}); c.ok())
        Ack("C " + base + " " + std::to_string(c->modRevision));
      for (int64_t i = 1;; ++i) {
        const std::string key = base + "-" + std::to_string(i);
        auto c = store.Create(key, json{{"metadata", {{"name", key}}}, {"n", i}});
        if (!c.ok()) {
          std::fprintf(stderr, "create: %s\n", c.status().ToString().c_str());
          _exit(4);
        }
        Ack("C " + key + " " + std::to_string(c->modRevision));
        auto u = store.Update(base, json{{"metadata", {{"name", base}}}, {"n", i}});
        if (!u.ok()) {
          std::fprintf(stderr, "update: %s\n", u.status().ToString().c_str());
          _exit(4);
        }
        Ack("U " + base + " " + std::to_string(u->modRevision) + " " + std::to_string(i));
      }
    });
  }
  for (auto& t : ts) t.join();
  return 0;
}

int Verify(const std::string& db, const std::string& ackFile, Revision minRev) {
  std::ifstream in(ackFile);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) {
    if (!l.empty() && !in.eof())
      lines.push_back(l);  // a last line without '\n' was cut by the kill
  }
  auto s = OpenSqliteStore(db);
  if (!s.ok()) {
    std::printf("FAIL open: %s\n", s.status().ToString().c_str());
    return 1;
  }
  Revision maxAcked = 0;
  Status st = crash::CheckAcks(**s, lines, &maxAcked);
  if (st.ok() && (*s)->CurrentRevision() < minRev) {
    st = Internal("revision went back from " + std::to_string(minRev) + " to " +
                  std::to_string((*s)->CurrentRevision()));
  }
  if (!st.ok()) {
    std::printf("FAIL %s\n", st.message().c_str());
    return 1;
  }
  std::printf("OK %lld acks=%zu\n", static_cast<long long>((*s)->CurrentRevision()), lines.size());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> a(argv + 1, argv + argc);
  if (a.size() >= 3 && a[0] == "write")
    return Write(a[1], a[2], a.size() >= 4 ? std::stoi(a[3]) : 4);
  if (a.size() >= 3 && a[0] == "verify")
    return Verify(a[1], a[2], a.size() >= 4 ? std::stoll(a[3]) : 0);
  std::fprintf(stderr,
               "usage: kvol_store_crash_writer write <db> <run-id> [threads]\n"
               "       kvol_store_crash_writer verify <db> <ack-file> [min-revision]\n");
  return 2;
}
