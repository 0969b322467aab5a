#include "kvol/apiserver/peer_cred.h"

#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

namespace kvol::apiserver {

namespace {

std::optional<uid_t> Scan(const char* file, const std::string& local, const std::string& remote) {
  std::ifstream in(file);
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::istringstream ss(line);
    std::string sl, l, r, st, queues, timer, retr;
    long uid = -1;
    if (!(ss >> sl >> l >> r >> st >> queues >> timer >> retr >> uid)) continue;
    if (l == local && r == remote) return static_cast<uid_t>(uid);
  }
  return std::nullopt;
}

// The address as sock_diag wants it: family and 16 bytes (an IPv4 address in the first 4); an
// IPv4-mapped IPv6 address (::ffff:a.b.c.d, what a dual-stack listener reports) becomes IPv4, the
// family of the client's own socket.
struct DiagAddr {
  int family = 0;
  uint32_t words[4] = {0, 0, 0, 0};
};

std::optional<DiagAddr> ParseDiagAddr(const std::string& addr) {
  DiagAddr d;
  in_addr a4{};
  in6_addr a6{};
  if (inet_pton(AF_INET, addr.c_str(), &a4) == 1) {
    d.family = AF_INET;
    d.words[0] = a4.s_addr;
    return d;
  }
  if (inet_pton(AF_INET6, addr.c_str(), &a6) == 1) {
    if (IN6_IS_ADDR_V4MAPPED(&a6)) {
      d.family = AF_INET;
      std::memcpy(&d.words[0], a6.s6_addr + 12, 4);
    } else {
      d.family = AF_INET6;
      std::memcpy(d.words, a6.s6_addr, 16);
    }
    return d;
  }
  return std::nullopt;
}

// /proc/net/tcp{,6} print an address as its in-memory bytes in hex, 32-bit words in host order
// (one word for IPv4, four for IPv6); this renders `a` the same way.
std::string ProcHex(const DiagAddr& a) {
  std::string out;
  char buf[16];
  for (int w = 0; w < (a.family == AF_INET ? 1 : 4); ++w) {
    std::snprintf(buf, sizeof buf, "%08X", a.words[w]);
    out += buf;
  }
  return out;
}

// The /proc/net/tcp{,6} lookup, with the same address forms as sock_diag's (an IPv4-mapped
// address is the IPv4 socket it is).
std::optional<uid_t> ScanProc(const DiagAddr& client, uint16_t clientPort, const DiagAddr& server,
                              uint16_t serverPort) {
  char port[8];
  std::snprintf(port, sizeof port, "%04X", clientPort);
  std::string local = ProcHex(client) + ":" + port;
  std::snprintf(port, sizeof port, "%04X", serverPort);
  std::string remote = ProcHex(server) + ":" + port;
  return Scan(client.family == AF_INET ? "/proc/net/tcp" : "/proc/net/tcp6", local, remote);
}

enum class Diag { kFound, kNotFound, kUnavailable };

// Asks the kernel for the one TCP socket whose local end is client and remote end is server
// (NETLINK_SOCK_DIAG, an exact lookup: no scan of the socket table, unlike reading
// /proc/net/tcp, which walks every hash bucket and costs milliseconds per call).
Diag SockDiagUid(const DiagAddr& client, uint16_t clientPort, const DiagAddr& server,
                 uint16_t serverPort, uid_t* uid) {
  int fd = ::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (fd < 0) return Diag::kUnavailable;
  struct {
    nlmsghdr nlh;
    inet_diag_req_v2 req;
  } msg;
  std::memset(&msg, 0, sizeof msg);
  msg.nlh.nlmsg_len = sizeof msg;
  msg.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  msg.nlh.nlmsg_flags = NLM_F_REQUEST;
  msg.req.sdiag_family = static_cast<uint8_t>(client.family);
  msg.req.sdiag_protocol = IPPROTO_TCP;
  msg.req.idiag_states = ~0U;
  msg.req.id.idiag_sport = htons(clientPort);
  msg.req.id.idiag_dport = htons(serverPort);
  std::memcpy(msg.req.id.idiag_src, client.words, sizeof client.words);
  std::memcpy(msg.req.id.idiag_dst, server.words, sizeof server.words);
  msg.req.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
  msg.req.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  Diag out = Diag::kUnavailable;
  if (::sendto(fd, &msg, sizeof msg, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) ==
      static_cast<ssize_t>(sizeof msg)) {
    alignas(nlmsghdr) char buf[8192];
    ssize_t n;
    while ((n = ::recv(fd, buf, sizeof buf, 0)) < 0 && errno == EINTR) {
    }
    if (n > 0) {
      auto* h = reinterpret_cast<nlmsghdr*>(buf);
      if (NLMSG_OK(h, static_cast<unsigned>(n))) {
        if (h->nlmsg_type == NLMSG_ERROR) {
          auto* e = static_cast<nlmsgerr*>(NLMSG_DATA(h));
          out = e->error == -ENOENT ? Diag::kNotFound : Diag::kUnavailable;
        } else if (h->nlmsg_type == SOCK_DIAG_BY_FAMILY &&
                   h->nlmsg_len >= NLMSG_LENGTH(sizeof(inet_diag_msg))) {
          *uid = static_cast<inet_diag_msg*>(NLMSG_DATA(h))->idiag_uid;
          out = Diag::kFound;
        }
      }
    }
  }
  ::close(fd);
  return out;
}

}  // namespace

bool IsLoopbackAddress(const std::string& addr) {
  if (addr == "::1") return true;
  if (addr.rfind("127.", 0) == 0) return true;
  if (addr.rfind("::ffff:127.", 0) == 0) return true;
  return false;
}

std::optional<uid_t> LoopbackPeerUid(const std::string& clientAddr, uint16_t clientPort,
                                     const std::string& serverAddr, uint16_t serverPort) {
  auto c = ParseDiagAddr(clientAddr);
  auto s = ParseDiagAddr(serverAddr);
  if (!c || !s || c->family != s->family) return std::nullopt;
  uid_t uid = 0;
  switch (SockDiagUid(*c, clientPort, *s, serverPort, &uid)) {
    case Diag::kFound:
      return uid;
    case Diag::kNotFound:
      return std::nullopt;
    case Diag::kUnavailable:
      break;  // a kernel without sock_diag for TCP: read the table
  }
  return ScanProc(*c, clientPort, *s, serverPort);
}

std::optional<uid_t> LoopbackPeerUidFromProc(const std::string& clientAddr, uint16_t clientPort,
                                             const std::string& serverAddr, uint16_t serverPort) {
  auto c = ParseDiagAddr(clientAddr);
  auto s = ParseDiagAddr(serverAddr);
  if (!c || !s || c->family != s->family) return std::nullopt;
  return ScanProc(*c, clientPort, *s, serverPort);
}

}  // namespace kvol::apiserver
