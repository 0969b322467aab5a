#include "kvol/apiserver/peer_cred.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace kvol::apiserver {
namespace {

uint16_t PortOf(int fd) {
  sockaddr_in a{};
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  return ntohs(a.sin_port);
}

TEST(PeerCred, FindsTheUidOfTheClientEndOfALoopbackConnection) {
  int srv = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(srv, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(srv, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(listen(srv, 1), 0);
  a.sin_port = htons(PortOf(srv));
  int cli = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_EQ(connect(cli, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
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

TEST(PeerCred, LoopbackAddresses) {
  EXPECT_TRUE(IsLoopbackAddress("127.0.0.1"));
  EXPECT_TRUE(IsLoopbackAddress("127.1.2.3"));
  EXPECT_TRUE(IsLoopbackAddress("::1"));
  EXPECT_FALSE(IsLoopbackAddress("10.0.0.1"));
  EXPECT_FALSE(IsLoopbackAddress("::"));
}

}  // namespace
}  // namespace kvol::apiserver
