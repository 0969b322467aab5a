#include "log_server.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "kvol/api/meta.h"
#include "kvol/client/client.h"

namespace kvol::node {
namespace {

TEST(ParseLogTarget, PathAndQuery) {
  auto q = ParseLogTarget(
      "/containerLogs/ns1/web-0/app?follow=true&tailLines=10&previous=false&timestamps=1"
      "&limitBytes=500&sinceSeconds=60",
      1000);
  ASSERT_TRUE(q.ok()) << q.status().message();
  EXPECT_EQ(q->ns, "ns1");
  EXPECT_EQ(q->pod, "web-0");
  EXPECT_EQ(q->container, "app");
  EXPECT_TRUE(q->opts.follow);
  EXPECT_FALSE(q->previous);
  EXPECT_TRUE(q->opts.timestamps);
  EXPECT_EQ(q->opts.tailLines, 10);
  EXPECT_EQ(q->opts.limitBytes, 500);
  EXPECT_EQ(q->opts.sinceSeconds, 60);

  auto plain = ParseLogTarget("/containerLogs/default/p/c", 0);
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain->opts.follow);
  EXPECT_FALSE(plain->opts.tailLines.has_value());

  // sinceTime becomes seconds before now.
  auto since = ParseLogTarget("/containerLogs/default/p/c?sinceTime=2026-11-27T07%3A00%3A00Z",
                              api::ParseTime("2026-11-27T07:01:40Z"));
  ASSERT_TRUE(since.ok()) << since.status().message();
  EXPECT_EQ(since->opts.sinceSeconds, 100);
}

TEST(ParseLogTarget, Errors) {
  EXPECT_EQ(ParseLogTarget("/containerLogs/default/p", 0).status().code(), Code::kNotFound);
  EXPECT_EQ(ParseLogTarget("/logs/default/p/c", 0).status().code(), Code::kNotFound);
  EXPECT_EQ(ParseLogTarget("/containerLogs/default/p/c?tailLines=-1", 0).status().message(),
            "invalid tailLines \"-1\": must be an integer >= 0");
  EXPECT_EQ(ParseLogTarget("/containerLogs/default/p/c?limitBytes=0", 0).status().message(),
            "invalid limitBytes \"0\": must be an integer >= 1");
  EXPECT_EQ(ParseLogTarget("/containerLogs/default/p/c?follow=maybe", 0).status().message(),
            "invalid follow \"maybe\": must be true or false");
  EXPECT_EQ(
      ParseLogTarget("/containerLogs/default/p/c?sinceSeconds=5&sinceTime=2026-11-27T07:00:00Z",
                     api::ParseTime("2026-11-27T07:01:40Z"))
          .status()
          .message(),
      "at most one of `sinceTime` or `sinceSeconds` may be specified");
}

class LogServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/kvol-logsrv-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto w = runtime::CriLogWriter::Open(dir_ + "/0.log");
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE(w->Write("stdout", "one\ntwo\nthree\n", 14).ok());
    server_ =
        std::make_unique<LogServer>("sekret", [this](const LogQuery& q) { return Resolve(q); });
    auto port = server_->Start();
    ASSERT_TRUE(port.ok()) << port.status().message();
    cfg_.server = "http://127.0.0.1:" + std::to_string(*port);
    cfg_.token = "sekret";
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }
  Result<LogServer::Resolved> Resolve(const LogQuery& q) {
    if (q.ns != "default" || q.pod != "web") return NotFound("pod \"" + q.pod + "\" not found");
    if (q.container != "app") return NotFound("container \"" + q.container + "\" not found");
    if (q.previous)
      return BadRequest("previous terminated container \"app\" in pod \"web\" not found");
    LogServer::Resolved r;
    r.path = dir_ + "/0.log";
    r.isDone = [this] { return done_.load(); };
    return r;
  }
  client::HttpResult Get(const std::string& target, client::Kubeconfig cfg) {
    client::ApiClient c(cfg);
    auto r = c.Do("GET", target, "", "", "*/*", 10);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? *r : client::HttpResult{};
  }

  std::string dir_;
  std::unique_ptr<LogServer> server_;
  client::Kubeconfig cfg_;
  std::atomic<bool> done_{false};
};

TEST_F(LogServerTest, ServesDecodedLogsWithTail) {
  auto r = Get("/containerLogs/default/web/app", cfg_);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "one\ntwo\nthree\n");
  auto tail = Get("/containerLogs/default/web/app?tailLines=1", cfg_);
  EXPECT_EQ(tail.body, "three\n");
}

TEST_F(LogServerTest, ErrorsArePlainText) {
  client::Kubeconfig anon = cfg_;
  anon.token = "";
  auto unauth = Get("/containerLogs/default/web/app", anon);
  EXPECT_EQ(unauth.status, 401);
  client::Kubeconfig wrong = cfg_;
  wrong.token = "other";
  EXPECT_EQ(Get("/containerLogs/default/web/app", wrong).status, 401);
  auto nopod = Get("/containerLogs/default/nope/app", cfg_);
  EXPECT_EQ(nopod.status, 404);
  EXPECT_EQ(nopod.body, "pod \"nope\" not found");
  auto prev = Get("/containerLogs/default/web/app?previous=true", cfg_);
  EXPECT_EQ(prev.status, 400);
  EXPECT_EQ(prev.body, "previous terminated container \"app\" in pod \"web\" not found");
  auto bad = Get("/containerLogs/default/web/app?tailLines=x", cfg_);
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.body, "invalid tailLines \"x\": must be an integer >= 0");
  EXPECT_EQ(Get("/healthz", cfg_).status, 404);
}

TEST_F(LogServerTest, FollowStreamsUntilTheContainerExits) {
  std::thread writer([this] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto w = runtime::CriLogWriter::Open(dir_ + "/0.log");
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE(w->Write("stderr", "four\n", 5).ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    done_ = true;
  });
  auto start = std::chrono::steady_clock::now();
  auto r = Get("/containerLogs/default/web/app?follow=true&tailLines=1", cfg_);
  writer.join();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "three\nfour\n");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
}

TEST_F(LogServerTest, StopEndsOpenFollowers) {
  std::thread follower([this] {
    client::ApiClient c(cfg_);
    auto r = c.Do("GET", "/containerLogs/default/web/app?follow=true", "", "", "*/*", 10);
    (void)r;  // ended by the server's stop, whatever the transport says
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  auto start = std::chrono::steady_clock::now();
  server_->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  follower.join();
}

}  // namespace
}  // namespace kvol::node
