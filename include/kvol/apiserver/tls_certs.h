// The API server's own certificates: a self-signed CA and a serving certificate it signs, made at
// the first start of a data dir with OpenSSL (as kube-apiserver does without --tls-cert-file).
//
// Files in `pkiDir` (created 0700): ca.crt + ca.key (EC P-256, 10 years, basicConstraints
// CA:TRUE critical, keyUsage keyCertSign+cRLSign) and server.crt + server.key (EC P-256, signed by
// the CA, 10 years, extendedKeyUsage serverAuth, subjectAltName = the hosts asked for). Keys are
// mode 0600, certificates 0644; every file is written atomically (temp file + rename).
// At later starts the files are reused as they are: the CA is re-made only when its files are
// missing or unusable (then the server certificate is re-made with it); the server certificate is
// re-made (with the same CA) when it is missing, unusable, not signed by the CA, expires within
// 30 days, or does not cover one of the hosts asked for.
//
// Thread safety: stateless functions; two processes must not share a pkiDir at the same start.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "kvol/common/status.h"

namespace kvol::apiserver {

struct ServingCertificates {
  std::string caCertFile;  // pkiDir/ca.crt
  std::string certFile;    // pkiDir/server.crt
  std::string keyFile;     // pkiDir/server.key
  std::string caPem;  // the CA certificate, PEM (for a kubeconfig's certificate-authority-data)
  bool caCreated = false;    // the CA was made at this call
  bool certCreated = false;  // the serving certificate was made at this call
};

// The hosts a serving certificate for a server listening on `listenHost` covers: the listen
// address itself (an IP literal, or a DNS name), then 127.0.0.1, ::1, localhost and the machine's
// hostname (lowercased). "0.0.0.0", "::" and "" (every address) add every address of the
// machine's interfaces (getifaddrs; IPv6 link-local ones left out) instead of themselves.
// No duplicates, in that order.
std::vector<std::string> ServingHosts(const std::string& listenHost);

// Loads the certificates of `pkiDir`, or makes what is missing or does not fit (see above).
Result<ServingCertificates> LoadOrCreateServingCertificates(const std::string& pkiDir,
                                                            const std::vector<std::string>& hosts);

// Standard base64 (RFC 4648, with padding, no line breaks).
std::string Base64(std::string_view data);

}  // namespace kvol::apiserver
