// The API server's self-signed CA and serving certificate (OpenSSL 3 C API); see tls_certs.h.
#include "kvol/apiserver/tls_certs.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <memory>

#include "kvol/os/fs.h"

namespace kvol::apiserver {

namespace {

struct Free {
  void operator()(X509* p) const { X509_free(p); }
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
  void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); }
  void operator()(BIGNUM* p) const { BN_free(p); }
};
using X509Ptr = std::unique_ptr<X509, Free>;
using KeyPtr = std::unique_ptr<EVP_PKEY, Free>;
using BioPtr = std::unique_ptr<BIO, Free>;

constexpr long kValiditySeconds = 10L * 365 * 24 * 3600;  // 10 years
constexpr int kRenewBeforeDays = 30;

std::string OpenSslError(const std::string& what) {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return what;
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return what + ": " + buf;
}

bool IsIpLiteral(const std::string& h) {
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, h.c_str(), buf) == 1 || inet_pton(AF_INET6, h.c_str(), buf) == 1;
}

// A DNS name a certificate may carry (letters, digits, '-', '.'); anything else is left out.
bool IsDnsName(const std::string& h) {
  if (h.empty() || h.size() > 253) return false;
  return std::all_of(h.begin(), h.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.';
  });
}

X509Ptr ParseCert(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return nullptr;
  return X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

KeyPtr ParseKey(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return nullptr;
  return KeyPtr(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
}

std::string BioText(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return n > 0 ? std::string(data, static_cast<size_t>(n)) : std::string();
}

Result<std::string> CertPem(X509* c) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), c) != 1)
    return Internal(OpenSslError("cannot encode a certificate"));
  return BioText(bio.get());
}

Result<std::string> KeyPem(EVP_PKEY* k) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), k, nullptr, nullptr, 0, nullptr, nullptr) != 1)
    return Internal(OpenSslError("cannot encode a private key"));
  return BioText(bio.get());
}

// A certificate usable now and for the next kRenewBeforeDays days.
bool FreshEnough(X509* c) {
  if (X509_cmp_current_time(X509_get0_notBefore(c)) > 0) return false;
  time_t soon = std::time(nullptr) + static_cast<time_t>(kRenewBeforeDays) * 24 * 3600;
  return X509_cmp_time(X509_get0_notAfter(c), &soon) > 0;
}

bool Covers(X509* c, const std::string& host) {
  if (IsIpLiteral(host)) return X509_check_ip_asc(c, host.c_str(), 0) == 1;
  return X509_check_host(c, host.c_str(), host.size(), 0, nullptr) == 1;
}

Status AddExt(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  std::unique_ptr<X509_EXTENSION, Free> ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1)
    return Internal(OpenSslError("cannot add certificate extension " + value));
  return Status::Ok();
}

// A new certificate for `key` named `cn`, signed by issuerKey (issuer == nullptr: self-signed).
Result<X509Ptr> MakeCert(EVP_PKEY* key, const std::string& cn, X509* issuer, EVP_PKEY* issuerKey,
                         const std::vector<std::pair<int, std::string>>& exts) {
  X509Ptr c(X509_new());
  if (!c) return Internal(OpenSslError("X509_new"));
  X509_set_version(c.get(), 2);  // v3
  std::unique_ptr<BIGNUM, Free> serial(BN_new());
  if (!serial || BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
      !BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(c.get())))
    return Internal(OpenSslError("cannot make a serial number"));
  X509_gmtime_adj(X509_getm_notBefore(c.get()), -3600);  // tolerate a little clock skew
  X509_gmtime_adj(X509_getm_notAfter(c.get()), kValiditySeconds);
  X509_NAME* name = X509_get_subject_name(c.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(c.get(), issuer ? X509_get_subject_name(issuer) : name);
  if (X509_set_pubkey(c.get(), key) != 1) return Internal(OpenSslError("X509_set_pubkey"));
  for (const auto& [nid, value] : exts)
    KVOL_RETURN_IF_ERROR(AddExt(c.get(), issuer ? issuer : c.get(), nid, value));
  if (X509_sign(c.get(), issuer ? issuerKey : key, EVP_sha256()) <= 0)
    return Internal(OpenSslError("cannot sign a certificate"));
  return c;
}

Result<KeyPtr> MakeKey() {
  KeyPtr k(EVP_EC_gen("P-256"));
  if (!k) return Internal(OpenSslError("cannot make an EC P-256 key"));
  return k;
}

std::string SanList(const std::vector<std::string>& hosts) {
  std::string out;
  for (const auto& h : hosts) {
    if (IsIpLiteral(h)) {
      out += (out.empty() ? "" : ",") + std::string("IP:") + h;
    } else if (IsDnsName(h)) {
      out += (out.empty() ? "" : ",") + std::string("DNS:") + h;
    }
  }
  return out;
}

std::string Hostname() {
  char buf[256] = {0};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "";
  std::string h = buf;
  for (auto& c : h) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return h;
}

}  // namespace

std::vector<std::string> ServingHosts(const std::string& listenHost) {
  std::vector<std::string> out;
  auto add = [&](std::string h) {
    if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
    if (!h.empty() && std::find(out.begin(), out.end(), h) == out.end()) out.push_back(h);
  };
  bool every =
      listenHost.empty() || listenHost == "0.0.0.0" || listenHost == "::" || listenHost == "[::]";
  if (!every) add(listenHost);
  add("127.0.0.1");
  add("::1");
  add("localhost");
  std::string host = Hostname();
  if (IsDnsName(host)) add(host);
  if (every) {
    ifaddrs* ifs = nullptr;
    if (::getifaddrs(&ifs) == 0) {
      for (ifaddrs* i = ifs; i != nullptr; i = i->ifa_next) {
        if (i->ifa_addr == nullptr || !(i->ifa_flags & IFF_UP)) continue;
        char text[INET6_ADDRSTRLEN] = {0};
        if (i->ifa_addr->sa_family == AF_INET) {
          auto* a = reinterpret_cast<sockaddr_in*>(i->ifa_addr);
          if (inet_ntop(AF_INET, &a->sin_addr, text, sizeof text)) add(text);
        } else if (i->ifa_addr->sa_family == AF_INET6) {
          auto* a = reinterpret_cast<sockaddr_in6*>(i->ifa_addr);
          if (IN6_IS_ADDR_LINKLOCAL(&a->sin6_addr)) continue;
          if (inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof text)) add(text);
        }
      }
      ::freeifaddrs(ifs);
    }
  }
  return out;
}

Result<ServingCertificates> LoadOrCreateServingCertificates(const std::string& pkiDir,
                                                            const std::vector<std::string>& hosts) {
  ServingCertificates out;
  out.caCertFile = pkiDir + "/ca.crt";
  out.certFile = pkiDir + "/server.crt";
  out.keyFile = pkiDir + "/server.key";
  std::string caKeyFile = pkiDir + "/ca.key";
  if (::mkdir(pkiDir.c_str(), 0700) != 0 && errno != EEXIST)
    return Internal("cannot create " + pkiDir + ": " + std::strerror(errno));

  // The CA: reused when both files parse, match, and the CA is valid for a while yet.
  X509Ptr ca;
  KeyPtr caKey;
  {
    auto certText = os::ReadFile(out.caCertFile);
    auto keyText = os::ReadFile(caKeyFile);
    if (certText.ok() && keyText.ok()) {
      ca = ParseCert(*certText);
      caKey = ParseKey(*keyText);
      if (!ca || !caKey || X509_check_private_key(ca.get(), caKey.get()) != 1 ||
          X509_check_ca(ca.get()) == 0 || !FreshEnough(ca.get())) {
        ca.reset();
        caKey.reset();
      }
    }
    ERR_clear_error();
  }
  if (!ca) {
    auto k = MakeKey();
    if (!k.ok()) return k.status();
    std::string host = Hostname();
    auto c = MakeCert(k->get(),
                      (host.empty() ? "kvol" : host) + "-ca@" +
                          std::to_string(static_cast<long long>(std::time(nullptr))),
                      nullptr, nullptr,
                      {{NID_basic_constraints, "critical,CA:TRUE"},
                       {NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature"},
                       {NID_subject_key_identifier, "hash"}});
    if (!c.ok()) return c.status();
    auto keyPem = KeyPem(k->get());
    if (!keyPem.ok()) return keyPem.status();
    auto certPem = CertPem(c->get());
    if (!certPem.ok()) return certPem.status();
    KVOL_RETURN_IF_ERROR(os::WriteFileAtomic(caKeyFile, *keyPem, 0600));
    KVOL_RETURN_IF_ERROR(os::WriteFileAtomic(out.caCertFile, *certPem, 0644));
    ca = std::move(c).value();
    caKey = std::move(k).value();
    out.caCreated = true;
  }
  auto caPem = CertPem(ca.get());
  if (!caPem.ok()) return caPem.status();
  out.caPem = *caPem;

  // The serving certificate: reused when it matches its key, is signed by this CA, is valid for
  // a while yet and covers every host.
  bool reuse = false;
  if (!out.caCreated) {
    auto certText = os::ReadFile(out.certFile);
    auto keyText = os::ReadFile(out.keyFile);
    if (certText.ok() && keyText.ok()) {
      X509Ptr c = ParseCert(*certText);
      KeyPtr k = ParseKey(*keyText);
      EVP_PKEY* caPub = X509_get0_pubkey(ca.get());
      reuse = c && k && caPub && X509_check_private_key(c.get(), k.get()) == 1 &&
              X509_verify(c.get(), caPub) == 1 &&
              X509_check_issued(ca.get(), c.get()) == X509_V_OK && FreshEnough(c.get()) &&
              std::all_of(hosts.begin(), hosts.end(),
                          [&](const std::string& h) { return Covers(c.get(), h); });
    }
    ERR_clear_error();
  }
  if (!reuse) {
    auto k = MakeKey();
    if (!k.ok()) return k.status();
    std::string sans = SanList(hosts);
    std::vector<std::pair<int, std::string>> exts = {
        {NID_basic_constraints, "critical,CA:FALSE"},
        {NID_key_usage, "critical,digitalSignature,keyEncipherment"},
        {NID_ext_key_usage, "serverAuth"},
        {NID_authority_key_identifier, "keyid:always"}};
    if (!sans.empty()) exts.emplace_back(NID_subject_alt_name, sans);
    auto c = MakeCert(k->get(), "kvol-apiserver", ca.get(), caKey.get(), exts);
    if (!c.ok()) return c.status();
    auto keyPem = KeyPem(k->get());
    if (!keyPem.ok()) return keyPem.status();
    auto certPem = CertPem(c->get());
    if (!certPem.ok()) return certPem.status();
    KVOL_RETURN_IF_ERROR(os::WriteFileAtomic(out.keyFile, *keyPem, 0600));
    KVOL_RETURN_IF_ERROR(os::WriteFileAtomic(out.certFile, *certPem, 0644));
    out.certCreated = true;
  }
  return out;
}

std::string Base64(std::string_view data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(data.data()),
                          static_cast<int>(data.size()));
  out.resize(n > 0 ? static_cast<size_t>(n) : 0);
  return out;
}

}  // namespace kvol::apiserver
