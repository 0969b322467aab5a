// The API server's CA and serving certificate: made once with the right names, modes and
// extensions, verified by the CA, reused at later starts, re-made when a host is not covered.
#include "kvol/apiserver/tls_certs.h"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace kvol::apiserver {
namespace {

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct CertDeleter {
  void operator()(X509* c) const { X509_free(c); }
};
using Cert = std::unique_ptr<X509, CertDeleter>;

Cert LoadCert(const std::string& path) {
  std::string pem = Slurp(path);
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  Cert c(PEM_read_bio_X509(bio, nullptr, nullptr, nullptr));
  BIO_free(bio);
  return c;
}

// The subjectAltName entries as "DNS:x" / "IP:1.2.3.4" (IPv6 in OpenSSL's long form).
std::vector<std::string> Sans(X509* c) {
  std::vector<std::string> out;
  auto* names =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(c, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names); ++i) {
    GENERAL_NAME* n = sk_GENERAL_NAME_value(names, i);
    if (n->type == GEN_DNS) {
      out.push_back("DNS:" +
                    std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(n->d.dNSName)),
                                ASN1_STRING_length(n->d.dNSName)));
    } else if (n->type == GEN_IPADD) {
      const unsigned char* b = ASN1_STRING_get0_data(n->d.iPAddress);
      int len = ASN1_STRING_length(n->d.iPAddress);
      char buf[64];
      if (len == 4) {
        std::snprintf(buf, sizeof buf, "%d.%d.%d.%d", b[0], b[1], b[2], b[3]);
        out.push_back(std::string("IP:") + buf);
      } else if (len == 16 && std::all_of(b, b + 15, [](unsigned char x) { return x == 0; }) &&
                 b[15] == 1) {
        out.push_back("IP:::1");
      } else {
        out.push_back("IP:v6");
      }
    }
  }
  GENERAL_NAMES_free(names);
  return out;
}

// Verifies `leaf` with `ca` as the only trust anchor, for TLS server use.
int VerifyServer(X509* ca, X509* leaf, const std::string& host) {
  X509_STORE* store = X509_STORE_new();
  X509_STORE_add_cert(store, ca);
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(ctx, store, leaf, nullptr);
  X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx);
  if (host.find_first_not_of("0123456789.:abcdef") == std::string::npos) {
    X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str());
  } else {
    X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size());
  }
  int ok = X509_verify_cert(ctx);
  int err = ok == 1 ? X509_V_OK : X509_STORE_CTX_get_error(ctx);
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
  return err;
}

mode_t Mode(const std::string& path) {
  struct stat st {};
  ::stat(path.c_str(), &st);
  return st.st_mode & 07777;
}

std::string Hostname() {
  char buf[256] = {0};
  ::gethostname(buf, sizeof buf - 1);
  std::string h = buf;
  for (auto& c : h) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return h;
}

class TlsCertsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/kvol-tls-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    pki_ = dir_ + "/pki";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_, pki_;
};

TEST(ServingHostsTest, SpecificAddressComesFirstThenLoopbackAndHostname) {
  auto hosts = ServingHosts("10.1.2.3");
  ASSERT_GE(hosts.size(), 4u);
  EXPECT_EQ(std::vector<std::string>(hosts.begin(), hosts.begin() + 4),
            (std::vector<std::string>{"10.1.2.3", "127.0.0.1", "::1", "localhost"}));
  EXPECT_NE(std::find(hosts.begin(), hosts.end(), Hostname()), hosts.end());
  EXPECT_EQ(ServingHosts("[fd00::5]").front(), "fd00::5");
}

TEST(ServingHostsTest, WildcardCoversLoopbackAndEveryInterfaceButNotItself) {
  auto hosts = ServingHosts("0.0.0.0");
  EXPECT_EQ(std::find(hosts.begin(), hosts.end(), "0.0.0.0"), hosts.end());
  EXPECT_EQ(hosts.front(), "127.0.0.1");
  // Every address a hostname -I style listing shows is there.
  FILE* p = ::popen("hostname -I 2>/dev/null", "r");
  ASSERT_NE(p, nullptr);
  char buf[1024] = {0};
  size_t n = std::fread(buf, 1, sizeof buf - 1, p);
  ::pclose(p);
  std::istringstream addrs(std::string(buf, n));
  for (std::string a; addrs >> a;) {
    if (a.rfind("fe80:", 0) == 0) continue;
    EXPECT_NE(std::find(hosts.begin(), hosts.end(), a), hosts.end()) << a;
  }
  auto v6 = ServingHosts("::");
  EXPECT_EQ(std::find(v6.begin(), v6.end(), "::"), v6.end());
  EXPECT_NE(std::find(v6.begin(), v6.end(), "::1"), v6.end());
}

TEST_F(TlsCertsTest, FirstStartMakesCaAndServerCertificate) {
  auto made = LoadOrCreateServingCertificates(
      pki_, {"10.1.2.3", "127.0.0.1", "::1", "localhost", "kvol-host.example"});
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  EXPECT_TRUE(made->caCreated);
  EXPECT_TRUE(made->certCreated);
  EXPECT_EQ(made->caCertFile, pki_ + "/ca.crt");
  EXPECT_EQ(made->certFile, pki_ + "/server.crt");
  EXPECT_EQ(made->keyFile, pki_ + "/server.key");
  EXPECT_EQ(made->caPem, Slurp(pki_ + "/ca.crt"));
  EXPECT_EQ(Mode(pki_), 0700u);
  EXPECT_EQ(Mode(pki_ + "/ca.key"), 0600u);
  EXPECT_EQ(Mode(pki_ + "/server.key"), 0600u);
  EXPECT_EQ(Mode(pki_ + "/ca.crt"), 0644u);
  EXPECT_EQ(Mode(pki_ + "/server.crt"), 0644u);
  // No temp files left behind.
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(pki_)) {
    (void)e;
    ++files;
  }
  EXPECT_EQ(files, 4);

  Cert ca = LoadCert(pki_ + "/ca.crt");
  Cert leaf = LoadCert(pki_ + "/server.crt");
  ASSERT_TRUE(ca && leaf);
  EXPECT_EQ(X509_check_ca(ca.get()), 1);
  EXPECT_EQ(X509_get_extension_flags(ca.get()) & EXFLAG_CA, static_cast<uint32_t>(EXFLAG_CA));
  EXPECT_TRUE(X509_get_key_usage(ca.get()) & KU_KEY_CERT_SIGN);
  EXPECT_EQ(X509_check_ca(leaf.get()), 0);
  EXPECT_EQ(Sans(leaf.get()), (std::vector<std::string>{"IP:10.1.2.3", "IP:127.0.0.1", "IP:::1",
                                                        "DNS:localhost", "DNS:kvol-host.example"}));
  for (const std::string host : {"10.1.2.3", "127.0.0.1", "::1", "localhost", "kvol-host.example"})
    EXPECT_EQ(VerifyServer(ca.get(), leaf.get(), host), X509_V_OK) << host;
  EXPECT_EQ(VerifyServer(ca.get(), leaf.get(), "10.9.9.9"), X509_V_ERR_IP_ADDRESS_MISMATCH);
  // Valid about ten years.
  int days = 0, secs = 0;
  ASSERT_EQ(
      ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(ca.get()), X509_get0_notAfter(ca.get())), 1);
  EXPECT_GE(days, 3650);
  EXPECT_LE(days, 3653);
  // A certificate signed by another CA does not verify with this one.
  auto other = LoadOrCreateServingCertificates(dir_ + "/other", {"127.0.0.1"});
  ASSERT_TRUE(other.ok());
  Cert otherLeaf = LoadCert(other->certFile);
  EXPECT_NE(VerifyServer(ca.get(), otherLeaf.get(), "127.0.0.1"), X509_V_OK);
}

TEST_F(TlsCertsTest, LaterStartsReuseTheFiles) {
  std::vector<std::string> hosts = {"127.0.0.1", "::1", "localhost"};
  auto first = LoadOrCreateServingCertificates(pki_, hosts);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  std::string ca = Slurp(pki_ + "/ca.crt"), caKey = Slurp(pki_ + "/ca.key");
  std::string crt = Slurp(pki_ + "/server.crt"), key = Slurp(pki_ + "/server.key");
  auto again = LoadOrCreateServingCertificates(pki_, {"localhost", "127.0.0.1"});  // a subset
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_FALSE(again->caCreated);
  EXPECT_FALSE(again->certCreated);
  EXPECT_EQ(again->caPem, ca);
  EXPECT_EQ(Slurp(pki_ + "/ca.key"), caKey);
  EXPECT_EQ(Slurp(pki_ + "/server.crt"), crt);
  EXPECT_EQ(Slurp(pki_ + "/server.key"), key);
}

TEST_F(TlsCertsTest, UncoveredHostRemakesTheServerCertificateWithTheSameCa) {
  ASSERT_TRUE(LoadOrCreateServingCertificates(pki_, {"127.0.0.1"}).ok());
  std::string ca = Slurp(pki_ + "/ca.crt"), crt = Slurp(pki_ + "/server.crt");
  auto moved = LoadOrCreateServingCertificates(pki_, {"192.168.77.5", "127.0.0.1"});
  ASSERT_TRUE(moved.ok()) << moved.status().ToString();
  EXPECT_FALSE(moved->caCreated);
  EXPECT_TRUE(moved->certCreated);
  EXPECT_EQ(Slurp(pki_ + "/ca.crt"), ca);
  EXPECT_NE(Slurp(pki_ + "/server.crt"), crt);
  Cert caCert = LoadCert(pki_ + "/ca.crt");
  Cert leaf = LoadCert(pki_ + "/server.crt");
  EXPECT_EQ(VerifyServer(caCert.get(), leaf.get(), "192.168.77.5"), X509_V_OK);
}

TEST_F(TlsCertsTest, MissingOrBrokenFilesAreRemade) {
  ASSERT_TRUE(LoadOrCreateServingCertificates(pki_, {"127.0.0.1"}).ok());
  std::string ca = Slurp(pki_ + "/ca.crt");
  // A server key that does not match its certificate: the pair is re-made, the CA kept.
  { std::ofstream(pki_ + "/server.key") << "garbage"; }
  auto fixed = LoadOrCreateServingCertificates(pki_, {"127.0.0.1"});
  ASSERT_TRUE(fixed.ok()) << fixed.status().ToString();
  EXPECT_FALSE(fixed->caCreated);
  EXPECT_TRUE(fixed->certCreated);
  EXPECT_EQ(Mode(pki_ + "/server.key"), 0600u);
  // No CA key: a new CA, and a server certificate it signs.
  std::filesystem::remove(pki_ + "/ca.key");
  auto fresh = LoadOrCreateServingCertificates(pki_, {"127.0.0.1"});
  ASSERT_TRUE(fresh.ok()) << fresh.status().ToString();
  EXPECT_TRUE(fresh->caCreated);
  EXPECT_TRUE(fresh->certCreated);
  EXPECT_NE(fresh->caPem, ca);
  Cert caCert = LoadCert(pki_ + "/ca.crt");
  Cert leaf = LoadCert(pki_ + "/server.crt");
  EXPECT_EQ(VerifyServer(caCert.get(), leaf.get(), "127.0.0.1"), X509_V_OK);
}

TEST(Base64Test, Rfc4648Vectors) {
  EXPECT_EQ(Base64(""), "");
  EXPECT_EQ(Base64("f"), "Zg==");
  EXPECT_EQ(Base64("fo"), "Zm8=");
  EXPECT_EQ(Base64("foo"), "Zm9v");
  EXPECT_EQ(Base64("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64(std::string(100, 'x')).find('\n'), std::string::npos);
}

}  // namespace
}  // namespace kvol::apiserver
