// The request metrics and GET /metrics over real sockets: kube-apiserver's labels and codes for
// a few requests, an open watch in apiserver_longrunning_requests, auth on /metrics; and the
// request classification (verb, scope, subresource) table.
#include "src/apiserver/request_metrics.h"

#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <thread>

#include "kvol/apiserver/http_server.h"
#include "kvol/store/store.h"
#include "test_scheme.h"

namespace kvol::testing {
using json = api::json;
}  // namespace kvol::testing
#include "testing/fake_store.h"

namespace kvol::apiserver {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

// The value of the sample line `series` (name{labels}) in a scrape, 0 when absent.
double Sample(const std::string& text, const std::string& series) {
  std::string needle = "\n" + series + " ";
  auto p = text.find(needle);
  if (p == std::string::npos) return 0;
  return std::stod(text.substr(p + needle.size()));
}

std::string ReqLabels(const std::string& verb, const std::string& resource,
                      const std::string& scope, const std::string& code,
                      const std::string& subresource = "", const std::string& group = "",
                      const std::string& version = "v1") {
  return "{code=\"" + code + "\",component=\"apiserver\",dry_run=\"\",group=\"" + group +
         "\",resource=\"" + resource + "\",scope=\"" + scope + "\",subresource=\"" + subresource +
         "\",verb=\"" + verb + "\",version=\"" + version + "\"}";
}

class RequestMetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    HandlerOptions o;
    o.store = &store_;
    o.scheme = &testing::TestScheme();
    o.token = "t0k";
    handler_ = std::make_unique<ApiHandler>(o);
    server_ = std::make_unique<HttpServer>(*handler_, HttpServerOptions{});
    auto port = server_->Listen("127.0.0.1", 0);
    ASSERT_TRUE(port.ok()) << port.status().ToString();
    port_ = *port;
    server_->Start();
    ASSERT_EQ(Send("POST", "/api/v1/namespaces", R"({"metadata":{"name":"default"}})").result_int(),
              201);
  }
  void TearDown() override { server_->Stop(); }

  tcp::socket Connect() {
    tcp::socket s(ioc_);
    s.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), static_cast<uint16_t>(port_)));
    return s;
  }
  http::response<http::string_body> Send(const std::string& method, const std::string& target,
                                         const std::string& body = "", bool auth = true) {
    tcp::socket s = Connect();
    http::request<http::string_body> req(http::string_to_verb(method), target, 11);
    req.set(http::field::host, "127.0.0.1");
    if (auth) req.set(http::field::authorization, "Bearer t0k");
    req.set(http::field::content_type, "application/json");
    req.body() = body;
    req.prepare_payload();
    http::write(s, req);
    beast::flat_buffer buf;
    http::response<http::string_body> res;
    http::read(s, buf, res);
    return res;
  }
  std::string Scrape() {
    auto r = Send("GET", "/metrics");
    EXPECT_EQ(r.result_int(), 200);
    return r.body();
  }

  kvol::testing::FakeStore store_;
  std::unique_ptr<ApiHandler> handler_;
  std::unique_ptr<HttpServer> server_;
  int port_ = 0;
  net::io_context ioc_;
};

constexpr const char* kPvcs = "/api/v1/namespaces/default/persistentvolumeclaims";
constexpr const char* kPvc = R"({"metadata":{"name":"a"},"spec":{"accessModes":["ReadWriteOnce"],
                                 "resources":{"requests":{"storage":"1Gi"}}}})";

TEST_F(RequestMetricsTest, RequestsAreCountedWithKubernetesLabelsAndCodes) {
  // The registry is process-wide: compare before and after.
  std::string before = Scrape();
  EXPECT_EQ(Send("GET", std::string(kPvcs) + "/a").result_int(), 404);
  EXPECT_EQ(Send("POST", kPvcs, kPvc).result_int(), 201);
  EXPECT_EQ(Send("GET", std::string(kPvcs) + "/a").result_int(), 200);
  EXPECT_EQ(Send("GET", kPvcs).result_int(), 200);
  EXPECT_EQ(Send("GET", "/api/v1/persistentvolumeclaims").result_int(), 200);
  EXPECT_EQ(Send("DELETE", std::string(kPvcs) + "/a").result_int(), 200);
  EXPECT_EQ(Send("GET", "/api/v1/nosuchthings").result_int(), 404);
  EXPECT_EQ(Send("GET", "/healthz", "", false).result_int(), 200);
  EXPECT_EQ(Send("GET", "/metrics", "", false).result_int(), 401);
  auto scrape = Send("GET", "/metrics");
  EXPECT_EQ(scrape[http::field::content_type], "text/plain; version=0.0.4; charset=utf-8");
  std::string after = scrape.body();

  auto delta = [&](const std::string& series) {
    return Sample(after, series) - Sample(before, series);
  };
  const std::string total = "apiserver_request_total";
  EXPECT_EQ(delta(total + ReqLabels("GET", "persistentvolumeclaims", "resource", "404")), 1)
      << after;
  EXPECT_EQ(delta(total + ReqLabels("GET", "persistentvolumeclaims", "resource", "200")), 1);
  EXPECT_EQ(delta(total + ReqLabels("POST", "persistentvolumeclaims", "resource", "201")), 1);
  EXPECT_EQ(delta(total + ReqLabels("LIST", "persistentvolumeclaims", "namespace", "200")), 1);
  EXPECT_EQ(delta(total + ReqLabels("LIST", "persistentvolumeclaims", "cluster", "200")), 1);
  EXPECT_EQ(delta(total + ReqLabels("DELETE", "persistentvolumeclaims", "resource", "200")), 1);
  // A path the server does not serve: no resource labels.
  EXPECT_EQ(delta(total + ReqLabels("GET", "", "", "404", "", "", "")), 1);
  // Non-resource paths carry the path as the subresource; the 401 is counted too.
  EXPECT_EQ(delta(total + ReqLabels("GET", "", "", "200", "/healthz", "", "")), 1);
  EXPECT_EQ(delta(total + ReqLabels("GET", "", "", "401", "/metrics", "", "")), 1);
  // The duration histogram has the same series (without code), with Kubernetes' buckets.
  std::string get = "{component=\"apiserver\",dry_run=\"\",group=\"\",resource=\"" +
                    std::string("persistentvolumeclaims") +
                    "\",scope=\"resource\",subresource=\"\",verb=\"GET\",version=\"v1\"";
  EXPECT_EQ(delta("apiserver_request_duration_seconds_count" + get + "}"), 2);
  EXPECT_EQ(delta("apiserver_request_duration_seconds_bucket" + get + ",le=\"60\"}"), 2);
  EXPECT_NE(after.find("apiserver_request_duration_seconds_bucket" + get + ",le=\"0.005\"}"),
            std::string::npos);
  EXPECT_NE(after.find("# TYPE apiserver_request_duration_seconds histogram\n"), std::string::npos);
  EXPECT_NE(after.find("# TYPE apiserver_request_total counter\n"), std::string::npos);
  EXPECT_GT(Sample(after, "process_resident_memory_bytes"), 0);
}

TEST_F(RequestMetricsTest, OpenWatchIsALongRunningRequestUntilItEnds) {
  const std::string open =
      "apiserver_longrunning_requests{component=\"apiserver\",group=\"\",resource=\""
      "persistentvolumeclaims\",scope=\"namespace\",subresource=\"\",verb=\"WATCH\","
      "version=\"v1\"}";
  const std::string watches =
      "apiserver_request_total" + ReqLabels("WATCH", "persistentvolumeclaims", "namespace", "200");
  std::string before = Scrape();
  double base = Sample(before, open);
  {
    tcp::socket w = Connect();
    std::string req = "GET " + std::string(kPvcs) +
                      "?watch=true HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t0k\r\n\r\n";
    net::write(w, net::buffer(req));
    beast::flat_buffer buf;
    http::response_parser<http::string_body> parser;
    http::read_header(w, buf, parser);
    ASSERT_EQ(parser.get().result_int(), 200);
    std::string during = Scrape();
    EXPECT_EQ(Sample(during, open), base + 1) << during;
    EXPECT_EQ(Sample(during, watches), Sample(before, watches));  // counted when it ends
  }  // the client closes the connection
  double now = 0;
  std::string after;
  for (int i = 0; i < 200; ++i) {
    after = Scrape();
    now = Sample(after, open);
    if (now == base) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(now, base);
  EXPECT_EQ(Sample(after, watches), Sample(before, watches) + 1);
}

TEST(ClassifyRequest, VerbsScopesAndSubresourcesAsKubernetesReportsThem) {
  const api::Scheme& s = testing::TestScheme();
  struct Case {
    std::string method, target, contentType;
    std::string verb, group, version, resource, subresource, scope, dryRun;
  };
  const std::string pvcs = "/api/v1/namespaces/ns/persistentvolumeclaims";
  const Case cases[] = {
      {"GET", pvcs + "/a", "", "GET", "", "v1", "persistentvolumeclaims", "", "resource", ""},
      {"HEAD", pvcs, "", "LIST", "", "v1", "persistentvolumeclaims", "", "namespace", ""},
      {"GET", pvcs + "?watch=1", "", "WATCH", "", "v1", "persistentvolumeclaims", "", "namespace",
       ""},
      {"GET", "/api/v1/persistentvolumes?watch=true", "", "WATCH", "", "v1", "persistentvolumes",
       "", "cluster", ""},
      {"POST", pvcs + "?dryRun=All", "", "POST", "", "v1", "persistentvolumeclaims", "", "resource",
       "All"},
      {"PUT", pvcs + "/a/status", "", "PUT", "", "v1", "persistentvolumeclaims", "status",
       "resource", ""},
      {"PATCH", pvcs + "/a", "application/apply-patch+yaml", "APPLY", "", "v1",
       "persistentvolumeclaims", "", "resource", ""},
      {"PATCH", pvcs + "/a?dryRun=x", "application/merge-patch+json", "PATCH", "", "v1",
       "persistentvolumeclaims", "", "resource", "invalid"},
      {"DELETE", pvcs, "", "DELETECOLLECTION", "", "v1", "persistentvolumeclaims", "", "namespace",
       ""},
      {"GET", "/api/v1/namespaces/ns/pods/p/log", "", "CONNECT", "", "v1", "pods", "log",
       "resource", ""},
      {"GET", "/api/v1/namespaces/ns", "", "GET", "", "v1", "namespaces", "", "resource", ""},
      {"PUT", "/api/v1/namespaces/ns/status", "", "PUT", "", "v1", "namespaces", "status",
       "resource", ""},
      {"GET", "/apis/storage.k8s.io/v1/storageclasses", "", "LIST", "storage.k8s.io", "v1",
       "storageclasses", "", "cluster", ""},
      // Not served: bounded, empty labels.
      {"GET", "/apis/storage.k8s.io/v1/storageclasses/a/status", "", "GET", "", "", "", "", "", ""},
      {"GET", pvcs + "/a/b/c", "", "GET", "", "", "", "", "", ""},
      {"GET", "/api/v1/widgets", "", "GET", "", "", "", "", "", ""},
      {"BREW", "/healthz", "", "other", "", "", "", "/healthz", "", ""},
      {"GET", "/whatever", "", "GET", "", "", "", "", "", ""},
      // Non-resource paths.
      {"GET", "/apis/storage.k8s.io/v1", "", "GET", "", "", "", "/apis/storage.k8s.io/v1", "", ""},
      {"GET", "/apis/nope.io", "", "GET", "", "", "", "", "", ""},
      {"GET", "/openapi/v3/api/v1", "", "GET", "", "", "", "/openapi/v3", "", ""},
      {"GET", "/metrics", "", "GET", "", "", "", "/metrics", "", ""},
  };
  for (const Case& c : cases) {
    std::map<std::string, std::string> h;
    if (!c.contentType.empty()) h["content-type"] = c.contentType;
    RequestMetricLabels l = ClassifyRequest(s, Request::Make(c.method, c.target, "", h));
    SCOPED_TRACE(c.method + " " + c.target);
    EXPECT_EQ(l.verb, c.verb);
    EXPECT_EQ(l.group, c.group);
    EXPECT_EQ(l.version, c.version);
    EXPECT_EQ(l.resource, c.resource);
    EXPECT_EQ(l.subresource, c.subresource);
    EXPECT_EQ(l.scope, c.scope);
    EXPECT_EQ(l.dryRun, c.dryRun);
  }
}

}  // namespace
}  // namespace kvol::apiserver
