// Test helpers for the SQLite store tests: a temp directory removed afterwards, and a watch
// event collector. Header-only; used only by *_test.cc files.
#pragma once

#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include "kvol/store/store.h"

namespace kvol::store::testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "kvol-store-XXXXXX").string();
    char* p = mkdtemp(tmpl.data());
    if (p) path_ = p;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Collects watch events; thread-safe.
class Collector {
 public:
  void operator()(const WatchEvent& e) {
    std::lock_guard<std::mutex> lk(mu_);
    events_.push_back(e);
    cv_.notify_all();
  }
  void Close(const Status& s) {
    std::lock_guard<std::mutex> lk(mu_);
    closed_ = s;
    cv_.notify_all();
  }
  // Waits until at least `n` events arrived (or 10 s passed); returns them all.
  std::vector<WatchEvent> WaitFor(size_t n,
                                  std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock<std::mutex> lk(mu_);
    cv_.wait_for(lk, timeout, [&] { return events_.size() >= n; });
    return events_;
  }
  std::vector<WatchEvent> Events() {
    std::lock_guard<std::mutex> lk(mu_);
    return events_;
  }
  std::function<void(const WatchEvent&)> Fn() {
    return [this](const WatchEvent& e) { (*this)(e); };
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<WatchEvent> events_;
  Status closed_;
};

inline const char* TypeName(WatchEvent::Type t) {
  switch (t) {
    case WatchEvent::Type::kAdded:
      return "ADDED";
    case WatchEvent::Type::kModified:
      return "MODIFIED";
    case WatchEvent::Type::kDeleted:
      return "DELETED";
  }
  return "?";
}

// "ADDED /registry/x@5" for each event: easy to compare whole sequences.
inline std::vector<std::string> Describe(const std::vector<WatchEvent>& events) {
  std::vector<std::string> out;
  for (auto& e : events) {
    out.push_back(std::string(TypeName(e.type)) + " " + e.object.key + "@" +
                  std::to_string(e.revision));
  }
  return out;
}

}  // namespace kvol::store::testing
