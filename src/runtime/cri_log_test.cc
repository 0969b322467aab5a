#include "kvol/runtime/cri_log.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>
#include <vector>

#include "src/runtime/cri_time.h"

namespace kvol::runtime {
namespace {

class CriLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/kvol-crilog-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/0.log";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::vector<std::string> FileLines() {
    std::ifstream f(path_);
    std::vector<std::string> lines;
    std::string l;
    while (std::getline(f, l)) lines.push_back(l);
    return lines;
  }
  // The file's lines with the time stamp checked and cut off.
  std::vector<std::string> LinesWithoutTimestamps() {
    static const std::regex ts(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z )");
    std::vector<std::string> out;
    for (const std::string& l : FileLines()) {
      std::smatch m;
      EXPECT_TRUE(std::regex_search(l, m, ts)) << l;
      out.push_back(m.suffix());
    }
    return out;
  }
  void WriteFile(const std::string& content) {
    std::ofstream f(path_);
    f << content;
  }
  std::string ReadAll(const LogReadOptions& o) {
    std::string got;
    Status st = ReadCriLog(path_, o, [&](const std::string& t) {
      got += t;
      return true;
    });
    EXPECT_TRUE(st.ok()) << st.ToString();
    return got;
  }

  std::string dir_, path_;
};

TEST(CriTimeTest, FormatsAndParsesRfc3339Nano) {
  // 2026-11-27T07:24:34.123456789Z
  int64_t t = 1795764274LL * 1000000000 + 123456789;
  EXPECT_EQ(FormatRfc3339Nano(t), "2026-11-27T07:24:34.123456789Z");
  EXPECT_EQ(FormatRfc3339(t), "2026-11-27T07:24:34Z");
  EXPECT_EQ(FormatRfc3339Nano(1795764274LL * 1000000000), "2026-11-27T07:24:34.000000000Z");
  EXPECT_EQ(ParseRfc3339Nano("2026-11-27T07:24:34.123456789Z"), t);
  EXPECT_EQ(ParseRfc3339Nano("2026-11-27T07:24:34.1234Z"), 1795764274LL * 1000000000 + 123400000);
  EXPECT_EQ(ParseRfc3339Nano("2026-11-27T08:24:34.123456789+01:00"), t);
  EXPECT_EQ(ParseRfc3339Nano("2026-11-27T07:24:34Z"), 1795764274LL * 1000000000);
  EXPECT_EQ(ParseRfc3339Nano("2026-11-27 07:24:34Z"), std::nullopt);
  EXPECT_EQ(ParseRfc3339Nano("2026-11-27T07:24:34"), std::nullopt);
}

TEST_F(CriLogTest, WriterSplitsLinesAndTagsStreams) {
  auto w = CriLogWriter::Open(path_);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  ASSERT_TRUE(w->Write("stdout", "hello\nwor", 9).ok());
  ASSERT_TRUE(w->Write("stderr", "oops\n", 5).ok());
  ASSERT_TRUE(w->Write("stdout", "ld\n\nlast", 8).ok());
  ASSERT_TRUE(w->Flush().ok());
  EXPECT_EQ(LinesWithoutTimestamps(), (std::vector<std::string>{
                                          "stdout F hello",
                                          "stderr F oops",
                                          "stdout F world",
                                          "stdout F ",
                                          "stdout P last",
                                      }));
  EXPECT_EQ(std::filesystem::status(path_).permissions() & std::filesystem::perms::all,
            std::filesystem::perms(0640));
}

TEST_F(CriLogTest, WriterCutsLongLinesIntoPartialRecords) {
  auto w = CriLogWriter::Open(path_);
  ASSERT_TRUE(w.ok());
  std::string line(16 * 1024 * 2 + 5, 'x');
  line += '\n';
  ASSERT_TRUE(w->Write("stdout", line.data(), line.size()).ok());
  auto lines = LinesWithoutTimestamps();
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], "stdout P " + std::string(16384, 'x'));
  EXPECT_EQ(lines[1], "stdout P " + std::string(16384, 'x'));
  EXPECT_EQ(lines[2], "stdout F xxxxx");
  EXPECT_EQ(ReadAll({}), line);
}

TEST_F(CriLogTest, ReaderJoinsPartialsAndAddsTimestamps) {
  WriteFile(
      "2026-11-27T07:24:34.123456789Z stdout F one\n"
      "2026-11-27T07:24:35.000000001Z stderr P tw\n"
      "2026-11-27T07:24:35.5Z stderr F o\n"
      "garbage line\n"
      "2026-11-27T07:24:36.000000000Z stdout F three\n");
  EXPECT_EQ(ReadAll({}), "one\ntwo\nthree\n");
  LogReadOptions o;
  o.timestamps = true;
  EXPECT_EQ(ReadAll(o),
            "2026-11-27T07:24:34.123456789Z one\n"
            "2026-11-27T07:24:35.000000001Z two\n"
            "2026-11-27T07:24:36.000000000Z three\n");
}

TEST_F(CriLogTest, ReaderTailsLines) {
  WriteFile(
      "2026-11-27T07:24:34.000000000Z stdout F one\n"
      "2026-11-27T07:24:35.000000000Z stderr P tw\n"
      "2026-11-27T07:24:35.000000000Z stderr F o\n"
      "2026-11-27T07:24:36.000000000Z stdout F three\n"
      "2026-11-27T07:24:37.000000000Z stdout P fo\n");
  LogReadOptions o;
  o.tailLines = 1;
  EXPECT_EQ(ReadAll(o), "fo");
  o.tailLines = 2;
  EXPECT_EQ(ReadAll(o), "three\nfo");
  o.tailLines = 3;
  EXPECT_EQ(ReadAll(o), "two\nthree\nfo");
  o.tailLines = 10;
  EXPECT_EQ(ReadAll(o), "one\ntwo\nthree\nfo");
  o.tailLines = 0;
  EXPECT_EQ(ReadAll(o), "");
}

TEST_F(CriLogTest, ReaderSinceSecondsAndLimitBytes) {
  int64_t now = NowRealtime();
  WriteFile(FormatRfc3339Nano(now - 3600LL * 1000000000) + " stdout F old\n" +
            FormatRfc3339Nano(now - 1000000000) + " stdout F new\n" + FormatRfc3339Nano(now) +
            " stdout F newer\n");
  LogReadOptions o;
  o.sinceSeconds = 60;
  EXPECT_EQ(ReadAll(o), "new\nnewer\n");
  LogReadOptions l;
  l.limitBytes = 6;
  EXPECT_EQ(ReadAll(l), "old\nne");
  l.timestamps = true;
  l.limitBytes = 10;
  EXPECT_EQ(ReadAll(l), FormatRfc3339Nano(now - 3600LL * 1000000000).substr(0, 10));
}

TEST_F(CriLogTest, ReaderMissingFileIsNotFound) {
  Status st = ReadCriLog(dir_ + "/nope.log", {}, [](const std::string&) { return true; });
  EXPECT_TRUE(st.IsNotFound()) << st.ToString();
}

TEST_F(CriLogTest, FollowSeesAppendedLinesUntilDone) {
  auto w = CriLogWriter::Open(path_);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(w->Write("stdout", "first\n", 6).ok());
  std::atomic<bool> done{false};
  std::string got;
  std::atomic<int> chunks{0};
  LogReadOptions o;
  o.follow = true;
  std::thread reader([&] {
    Status st = ReadCriLog(
        path_, o,
        [&](const std::string& t) {
          got += t;
          chunks++;
          return true;
        },
        [&] { return done.load(); });
    EXPECT_TRUE(st.ok()) << st.ToString();
  });
  auto waitFor = [&](int n) {
    for (int i = 0; i < 2000 && chunks.load() < n; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  };
  waitFor(1);
  EXPECT_EQ(chunks.load(), 1);
  // inotify wakes the reader at once: the median latency of 5 appends is far below the 100 ms
  // poll timeout (a reader that only polled would have a median around 50 ms).
  std::vector<std::chrono::steady_clock::duration> latency;
  for (int i = 0; i < 5; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    ASSERT_TRUE(w->Write("stderr", "second\n", 7).ok());
    waitFor(2 + i);
    latency.push_back(std::chrono::steady_clock::now() - t0);
  }
  std::sort(latency.begin(), latency.end());
  EXPECT_LT(latency[2], std::chrono::milliseconds(20));
  ASSERT_TRUE(w->Write("stdout", "third\n", 6).ok());
  done = true;  // the container exited: the reader drains the file and returns
  reader.join();
  EXPECT_EQ(got, "first\nsecond\nsecond\nsecond\nsecond\nsecond\nthird\n");
}

TEST_F(CriLogTest, FollowStopsWhenClientIsGone) {
  WriteFile(
      "2026-11-27T07:24:34.000000000Z stdout F a\n2026-11-27T07:24:34.000000000Z stdout F b\n");
  LogReadOptions o;
  o.follow = true;
  int calls = 0;
  Status st = ReadCriLog(path_, o, [&](const std::string&) { return ++calls < 1; });
  EXPECT_TRUE(st.ok());
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace kvol::runtime
