#include "digest.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace kvol::image {
namespace {

struct CtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

std::string ToHex(const unsigned char* d, unsigned n) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (unsigned i = 0; i < n; ++i) {
    out.push_back(kHex[d[i] >> 4]);
    out.push_back(kHex[d[i] & 15]);
  }
  return out;
}

}  // namespace

std::string Sha256Hex(const std::string& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  EVP_Digest(data.data(), data.size(), md, &n, EVP_sha256(), nullptr);
  return ToHex(md, n);
}

Result<std::string> Sha256File(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return NotFound(path + ": no such file");
    return Internal("open " + path + ": " + std::strerror(errno));
  }
  std::unique_ptr<EVP_MD_CTX, CtxFree> ctx(EVP_MD_CTX_new());
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  std::unique_ptr<char[]> buf(new char[1 << 16]);
  while (true) {
    ssize_t r = read(fd, buf.get(), 1 << 16);
    if (r < 0) {
      if (errno == EINTR) continue;
      Status st = Internal("read " + path + ": " + std::strerror(errno));
      close(fd);
      return st;
    }
    if (r == 0) break;
    EVP_DigestUpdate(ctx.get(), buf.get(), static_cast<size_t>(r));
  }
  close(fd);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  EVP_DigestFinal_ex(ctx.get(), md, &n);
  return ToHex(md, n);
}

Result<std::string> DigestHex(const std::string& digest, const std::string& what) {
  const std::string prefix = "sha256:";
  if (digest.rfind(prefix, 0) != 0 || digest.size() != prefix.size() + 64) {
    return Invalid(what + ": unsupported digest \"" + digest + "\" (want sha256:<64 hex>)");
  }
  std::string hex = digest.substr(prefix.size());
  for (char c : hex) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return Invalid(what + ": unsupported digest \"" + digest + "\" (want sha256:<64 hex>)");
    }
  }
  return hex;
}

}  // namespace kvol::image
