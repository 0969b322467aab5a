// Who is on the other end of a loopback TCP connection.
//
// kubectl (client-go) never sends its bearer token over plain http (kubernetes/kubectl#744), and
// DESIGN.md's contract serves plain http on loopback. So on loopback kvol authenticates the peer
// the way a Unix socket would: by the uid of the process that owns the client end of the
// connection, asked of the kernel by an exact sock_diag lookup of that connection
// (NETLINK_SOCK_DIAG, tens of microseconds; /proc/net/tcp and /proc/net/tcp6 are read only when the
// kernel has no TCP sock_diag: that walks the whole socket hash table, milliseconds per call). A
// request from the server's own uid (or root) without a token is accepted; anyone else needs the
// token; a wrong token is always refused.
//
// Thread safety: stateless; one netlink socket per call.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

namespace kvol::apiserver {

// The uid owning the socket whose local end is clientAddr:clientPort and whose remote end is
// serverAddr:serverPort (both IPv4 or IPv6 text, as Asio prints them). nullopt when not found.
std::optional<uid_t> LoopbackPeerUid(const std::string& clientAddr, uint16_t clientPort,
                                     const std::string& serverAddr, uint16_t serverPort);

// The same lookup in /proc/net/tcp or /proc/net/tcp6 (a scan of the whole table): what
// LoopbackPeerUid falls back to on a kernel without TCP sock_diag; public for its test.
std::optional<uid_t> LoopbackPeerUidFromProc(const std::string& clientAddr, uint16_t clientPort,
                                             const std::string& serverAddr, uint16_t serverPort);

// True for 127.0.0.0/8 and ::1 (and ::ffff:127.x).
bool IsLoopbackAddress(const std::string& addr);

}  // namespace kvol::apiserver
