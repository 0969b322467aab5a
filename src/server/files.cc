// Token, kubeconfig and node-name helpers of `kvol serve`.
#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "kvol/apiserver/tls_certs.h"
#include "kvol/os/fs.h"
#include "kvol/server/serve.h"

namespace kvol::server {

std::string MakeDns1123(const std::string& in) {
  std::string out;
  for (char c : in) {
    unsigned char u = static_cast<unsigned char>(std::tolower(static_cast<unsigned char>(c)));
    if (std::isalnum(u) || u == '.' || u == '-') {
      out.push_back(static_cast<char>(u));
    } else {
      out.push_back('-');
    }
  }
  // Each dot-separated label starts and ends with an alphanumeric character.
  std::string clean;
  std::string label;
  auto flush = [&] {
    size_t b = 0, e = label.size();
    while (b < e && !std::isalnum(static_cast<unsigned char>(label[b]))) ++b;
    while (e > b && !std::isalnum(static_cast<unsigned char>(label[e - 1]))) --e;
    std::string l = label.substr(b, std::min<size_t>(e - b, 63));
    while (!l.empty() && !std::isalnum(static_cast<unsigned char>(l.back()))) l.pop_back();
    if (!l.empty()) clean += (clean.empty() ? "" : ".") + l;
    label.clear();
  };
  for (char c : out) {
    if (c == '.') {
      flush();
    } else {
      label.push_back(c);
    }
  }
  flush();
  if (clean.size() > 253) clean.resize(253);
  while (!clean.empty() && !std::isalnum(static_cast<unsigned char>(clean.back())))
    clean.pop_back();
  return clean.empty() ? "localhost" : clean;
}

std::string DefaultNodeName() {
  char buf[256] = {0};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  return MakeDns1123(buf);
}

Result<std::string> LoadOrCreateToken(const std::string& dataDir) {
  std::string path = dataDir + "/token";
  std::ifstream in(path);
  if (in) {
    std::stringstream ss;
    ss << in.rdbuf();
    std::string t = ss.str();
    while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) t.pop_back();
    if (!t.empty()) return t;
  }
  unsigned char raw[32];
  if (RAND_bytes(raw, sizeof raw) != 1) return Internal("cannot make a random token");
  static const char* kHex = "0123456789abcdef";
  std::string t;
  for (unsigned char b : raw) {
    t.push_back(kHex[b >> 4]);
    t.push_back(kHex[b & 0xf]);
  }
  KVOL_RETURN_IF_ERROR(os::WriteFileAtomic(path, t + "\n", 0600));
  return t;
}

std::string KubeconfigYaml(const std::string& url, const std::string& token,
                           const std::string& caPem) {
  std::string ca;
  if (!caPem.empty()) ca = "    certificate-authority-data: " + apiserver::Base64(caPem) + "\n";
  return "apiVersion: v1\n"
         "kind: Config\n"
         "clusters:\n"
         "- name: kvol\n"
         "  cluster:\n" +
         ca + "    server: " + url +
         "\n"
         "users:\n"
         "- name: kvol\n"
         "  user:\n"
         "    token: " +
         token +
         "\n"
         "contexts:\n"
         "- name: kvol\n"
         "  context:\n"
         "    cluster: kvol\n"
         "    user: kvol\n"
         "    namespace: default\n"
         "current-context: kvol\n"
         "preferences: {}\n";
}

}  // namespace kvol::server
