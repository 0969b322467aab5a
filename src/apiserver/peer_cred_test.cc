#include "kvol/apiserver/peer_cred.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace kvol::apiserver {
namespace {

uint16_t PortOf(int fd) {
  sockaddr_in a{};
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  return ntohs(a.sin_port);
}

// A listening socket on 127.0.0.1 and an ephemeral port; `a` gets its address. -1 on failure.
int ListenLoopbackV4(sockaddr_in* a) {
  int srv = socket(AF_INET, SOCK_STREAM, 0);
  if (srv < 0) return -1;
  *a = sockaddr_in{};
  a->sin_family = AF_INET;
  a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(srv, reinterpret_cast<sockaddr*>(a), sizeof *a) != 0 || listen(srv, 1) != 0) {
    close(srv);
    return -1;
  }
  a->sin_port = htons(PortOf(srv));
  return srv;
}

// An IPv4 socket connected to `a`; -1 on failure.
int ConnectV4(const sockaddr_in& a) {
  int cli = socket(AF_INET, SOCK_STREAM, 0);
  if (cli >= 0 && connect(cli, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) {
    close(cli);
    return -1;
  }
  return cli;
}

TEST(PeerCred, FindsTheUidOfTheClientEndOfALoopbackConnection) {
  sockaddr_in a{};
  int srv = ListenLoopbackV4(&a);
  ASSERT_GE(srv, 0);
  int cli = ConnectV4(a);
  ASSERT_GE(cli, 0);
  int acc = accept(srv, nullptr, nullptr);
  ASSERT_GE(acc, 0);

  auto uid = LoopbackPeerUid("127.0.0.1", PortOf(cli), "127.0.0.1", PortOf(srv));
  ASSERT_TRUE(uid.has_value());
  EXPECT_EQ(*uid, getuid());
  // A connection that does not exist is not found.
  EXPECT_FALSE(LoopbackPeerUid("127.0.0.1", 1, "127.0.0.1", PortOf(srv)).has_value());
  close(acc);
  close(cli);
  close(srv);
}

// An IPv4 client of a dual-stack (::) listener: the server sees both ends as ::ffff:127.0.0.1,
// while the client's socket is an IPv4 one. Both lookups (sock_diag, and the /proc/net/tcp scan
// kept for kernels without it) must find it under its IPv4 form.
TEST(PeerCred, FindsAnIpv4ClientOfADualStackListenerBothWays) {
  int srv = socket(AF_INET6, SOCK_STREAM, 0);
  ASSERT_GE(srv, 0);
  int off = 0;
  ASSERT_EQ(setsockopt(srv, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off), 0);
  sockaddr_in6 a6{};
  a6.sin6_family = AF_INET6;
  a6.sin6_addr = in6addr_any;
  ASSERT_EQ(bind(srv, reinterpret_cast<sockaddr*>(&a6), sizeof a6), 0);
  ASSERT_EQ(listen(srv, 1), 0);
  socklen_t len = sizeof a6;
  getsockname(srv, reinterpret_cast<sockaddr*>(&a6), &len);
  const uint16_t srvPort = ntohs(a6.sin6_port);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(srvPort);
  int cli = ConnectV4(a);
  ASSERT_GE(cli, 0);
  int acc = accept(srv, nullptr, nullptr);
  ASSERT_GE(acc, 0);

  for (auto* lookup : {&LoopbackPeerUid, &LoopbackPeerUidFromProc}) {
    auto uid = lookup("::ffff:127.0.0.1", PortOf(cli), "::ffff:127.0.0.1", srvPort);
    ASSERT_TRUE(uid.has_value()) << (lookup == &LoopbackPeerUid ? "sock_diag" : "/proc");
    EXPECT_EQ(*uid, getuid());
    auto plain = lookup("127.0.0.1", PortOf(cli), "127.0.0.1", srvPort);
    ASSERT_TRUE(plain.has_value());
    EXPECT_EQ(*plain, getuid());
    EXPECT_FALSE(lookup("127.0.0.1", 1, "127.0.0.1", srvPort).has_value());
  }
  close(acc);
  close(cli);
  close(srv);
}

// The uid is the one of the process owning the client end, not ours: a child that drops to
// nobody (65534) connects and keeps its socket open until told to go.
TEST(PeerCred, FindsAnotherUsersClientEnd) {
  if (getuid() != 0) GTEST_SKIP() << "needs root to become another user";
  sockaddr_in a{};
  int srv = ListenLoopbackV4(&a);
  ASSERT_GE(srv, 0);
  int report[2], hold[2];
  ASSERT_EQ(pipe(report), 0);
  ASSERT_EQ(pipe(hold), 0);
  pid_t pid = fork();
  if (pid == 0) {
    close(report[0]);
    close(hold[1]);
    uint16_t port = 0;
    if (setgid(65534) == 0 && setuid(65534) == 0) {
      int cli = ConnectV4(a);
      if (cli >= 0) port = PortOf(cli);
    }
    if (write(report[1], &port, sizeof port) != sizeof port) _exit(1);
    char c;
    if (read(hold[0], &c, 1) < 0) _exit(1);
    _exit(0);
  }
  close(report[1]);
  close(hold[0]);
  uint16_t port = 0;
  ASSERT_EQ(read(report[0], &port, sizeof port), static_cast<ssize_t>(sizeof port));
  int acc = accept(srv, nullptr, nullptr);
  auto uid = LoopbackPeerUid("127.0.0.1", port, "127.0.0.1", PortOf(srv));
  // The same connection as a dual-stack listener reports it.
  auto mapped = LoopbackPeerUid("::ffff:127.0.0.1", port, "::ffff:127.0.0.1", PortOf(srv));
  close(hold[1]);
  int status = 0;
  waitpid(pid, &status, 0);
  close(report[0]);
  close(acc);
  close(srv);
  ASSERT_NE(port, 0);
  ASSERT_TRUE(uid.has_value());
  EXPECT_EQ(*uid, 65534u);
  ASSERT_TRUE(mapped.has_value());
  EXPECT_EQ(*mapped, 65534u);
}

TEST(PeerCred, LoopbackAddresses) {
  EXPECT_TRUE(IsLoopbackAddress("127.0.0.1"));
  EXPECT_TRUE(IsLoopbackAddress("127.1.2.3"));
  EXPECT_TRUE(IsLoopbackAddress("::1"));
  EXPECT_FALSE(IsLoopbackAddress("10.0.0.1"));
  EXPECT_FALSE(IsLoopbackAddress("::"));
}

}  // namespace
}  // namespace kvol::apiserver
