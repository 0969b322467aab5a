#include "kvol/apiserver/peer_cred.h"

#include <arpa/inet.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

namespace kvol::apiserver {

namespace {

// /proc/net/tcp prints an address as the in-memory bytes of the address in hex, 32-bit words in
// host order; this renders `addr` the same way.
std::optional<std::string> ProcHex(const std::string& addr, bool* v6) {
  in_addr a4{};
  in6_addr a6{};
  char buf[40];
  if (inet_pton(AF_INET, addr.c_str(), &a4) == 1) {
    *v6 = false;
    std::snprintf(buf, sizeof buf, "%08X", a4.s_addr);
    return std::string(buf);
  }
  if (inet_pton(AF_INET6, addr.c_str(), &a6) == 1) {
    *v6 = true;
    std::string out;
    for (int w = 0; w < 4; ++w) {
      uint32_t word;
      std::memcpy(&word, a6.s6_addr + 4 * w, 4);
      std::snprintf(buf, sizeof buf, "%08X", word);
      out += buf;
    }
    return out;
  }
  return std::nullopt;
}

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

}  // namespace

bool IsLoopbackAddress(const std::string& addr) {
  if (addr == "::1") return true;
  if (addr.rfind("127.", 0) == 0) return true;
  if (addr.rfind("::ffff:127.", 0) == 0) return true;
  return false;
}

std::optional<uid_t> LoopbackPeerUid(const std::string& clientAddr, uint16_t clientPort,
                                     const std::string& serverAddr, uint16_t serverPort) {
  bool v6c = false, v6s = false;
  auto c = ProcHex(clientAddr, &v6c);
  auto s = ProcHex(serverAddr, &v6s);
  if (!c || !s || v6c != v6s) return std::nullopt;
  char port[8];
  std::snprintf(port, sizeof port, "%04X", clientPort);
  std::string local = *c + ":" + port;
  std::snprintf(port, sizeof port, "%04X", serverPort);
  std::string remote = *s + ":" + port;
  return Scan(v6c ? "/proc/net/tcp6" : "/proc/net/tcp", local, remote);
}

}  // namespace kvol::apiserver
