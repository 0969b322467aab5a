// ApiClient over https against the real API server (HttpServer with the certificates
// tls_certs.h makes): requests and a watch verified with the kubeconfig's CA, the process default
// CA, and refusals without a CA or for a name the certificate does not carry.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "kvol/api/scheme.h"
#include "kvol/apiserver/handler.h"
#include "kvol/apiserver/http_server.h"
#include "kvol/apiserver/tls_certs.h"
#include "kvol/client/client.h"

namespace kvol::testing {
using json = api::json;
}  // namespace kvol::testing
#include "testing/fake_store.h"

namespace kvol::client {
namespace {

class HttpsClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/kvol-https-client-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto certs =
        apiserver::LoadOrCreateServingCertificates(dir_ + "/pki", {"127.0.0.1", "localhost"});
    ASSERT_TRUE(certs.ok()) << certs.status().ToString();
    certs_ = *certs;
    apiserver::HandlerOptions o;
    o.store = &store_;
    o.scheme = &api::Scheme::Default();
    o.token = "t0k";
    handler_ = std::make_unique<apiserver::ApiHandler>(o);
    apiserver::HttpServerOptions so;
    so.tlsCertFile = certs_.certFile;
    so.tlsKeyFile = certs_.keyFile;
    server_ = std::make_unique<apiserver::HttpServer>(*handler_, so);
    auto port = server_->Listen("127.0.0.1", 0);
    ASSERT_TRUE(port.ok()) << port.status().ToString();
    port_ = *port;
    server_->Start();
  }
  void TearDown() override {
    if (server_) server_->Stop();
    std::filesystem::remove_all(dir_);
  }

  Kubeconfig Config(const std::string& host = "127.0.0.1") {
    Kubeconfig cfg;
    cfg.server = "https://" + host + ":" + std::to_string(port_);
    cfg.token = "t0k";
    cfg.caData = apiserver::Base64(certs_.caPem);
    return cfg;
  }

  std::string dir_;
  apiserver::ServingCertificates certs_;
  kvol::testing::FakeStore store_;
  std::unique_ptr<apiserver::ApiHandler> handler_;
  std::unique_ptr<apiserver::HttpServer> server_;
  int port_ = 0;
};

TEST_F(HttpsClientTest, RequestsAndWatchOverHttpsWithTheKubeconfigCa) {
  ApiClient c(Config());
  auto created =
      c.Do("POST", "/api/v1/namespaces", R"({"metadata":{"name":"default"}})", "application/json");
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(created->status, 201) << created->body;
  auto got = c.Do("GET", "/api/v1/namespaces/default");  // same kept-alive connection
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->status, 200);
  EXPECT_EQ(json::parse(got->body)["metadata"]["name"], "default");

  // A watch on its own TLS connection sees a write made on another one.
  std::thread writer([this] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    ApiClient w(Config("localhost"));
    auto r = w.Do("POST", "/api/v1/namespaces/default/configmaps",
                  R"({"metadata":{"name":"cm1"},"data":{"a":"b"}})", "application/json");
    EXPECT_TRUE(r.ok() && r->status == 201);
  });
  std::string seen;
  Status st = c.Watch(
      "/api/v1/namespaces/default/configmaps?watch=true",
      [&](const json& ev) {
        seen = ev["type"].get<std::string>() + " " +
               ev["object"]["metadata"]["name"].get<std::string>();
        return false;
      },
      std::chrono::steady_clock::now() + std::chrono::seconds(5));
  writer.join();
  EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(seen, "ADDED cm1");
}

TEST_F(HttpsClientTest, CertificateAuthorityFileIsTrusted) {
  Kubeconfig cfg = Config();
  cfg.caData.clear();
  {
    ApiClient c(cfg);
    auto r = c.Do("GET", "/healthz");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), Code::kUnavailable);
    EXPECT_NE(r.status().message().find("certificate verify failed"), std::string::npos)
        << r.status().message();
  }
  cfg.caFile = certs_.caCertFile;  // certificate-authority: a PEM file
  ApiClient c(cfg);
  auto r = c.Do("GET", "/healthz");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->body, "ok");
}

TEST_F(HttpsClientTest, InsecureSkipTlsVerifyAndTheHostCheck) {
  Kubeconfig cfg = Config();
  cfg.caData.clear();
  cfg.insecureSkipTlsVerify = true;
  ApiClient insecure(cfg);
  auto r = insecure.Do("GET", "/healthz");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->body, "ok");

  // ::1 is not in this certificate: the name check fails even with the right CA.
  ApiClient wrongName(Config("[::1]"));
  auto w = wrongName.Do("GET", "/healthz");
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.status().code(), Code::kUnavailable);
}

TEST_F(HttpsClientTest, KubeconfigCertificateAuthorityFileIsRelativeToTheKubeconfig) {
  { std::ofstream(dir_ + "/ca.pem") << certs_.caPem; }
  std::string kc = dir_ + "/kubeconfig";
  std::ofstream(kc) << "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n"
                       "    server: https://127.0.0.1:"
                    << port_
                    << "\n    certificate-authority: ca.pem\nusers:\n- name: u\n  user:\n"
                       "    token: t0k\ncontexts:\n- name: x\n  context:\n    cluster: c\n"
                       "    user: u\ncurrent-context: x\n";
  auto cfg = LoadKubeconfig(kc);
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_EQ(cfg->caFile, dir_ + "/ca.pem");
  ApiClient c(*cfg);
  auto r = c.Do("GET", "/api/v1/namespaces");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);

  auto parsed = ParseKubeconfig(
      "clusters:\n- name: c\n  cluster:\n    server: https://h:6443\n"
      "    certificate-authority-data: QUJD\ncontexts:\n- name: x\n  context:\n    cluster: c\n"
      "current-context: x\n");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->caData, "QUJD");
  Kubeconfig bad = Config();
  bad.caData = "not base64!";
  ApiClient b(bad);
  auto br = b.Do("GET", "/healthz");
  ASSERT_FALSE(br.ok());
  EXPECT_NE(br.status().message().find("unable to load root certificates"), std::string::npos);
}

}  // namespace
}  // namespace kvol::client
