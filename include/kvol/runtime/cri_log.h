// Container logs in the CRI format (kvol::runtime), as the kubelet writes and kubectl logs reads
// them: one line per record, "<RFC3339Nano timestamp> <stdout|stderr> <F|P> <text>\n", P for a
// partial line (a line longer than the writer's buffer), F for the full line's last piece.
//
// Thread safety: a CriLogWriter is used by one thread; readers are stateless.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "kvol/common/status.h"

namespace kvol::runtime {

// Appends records to a log file (opened O_APPEND, created 0640).
class CriLogWriter {
 public:
  static Result<CriLogWriter> Open(const std::string& path);
  CriLogWriter(CriLogWriter&&) noexcept;
  ~CriLogWriter();
  // Writes `data` read from the stream ("stdout"/"stderr"); complete lines become F records, a
  // trailing incomplete piece is kept until its newline (or Flush, which writes it as P).
  Status Write(const char* stream, const char* data, size_t n);
  Status Flush();

 private:
  CriLogWriter() = default;
  int fd_ = -1;
  std::string pendingOut_, pendingErr_;
};

struct LogReadOptions {
  std::optional<int64_t> tailLines;     // last N lines
  std::optional<int64_t> sinceSeconds;  // only records newer than now - N s
  bool timestamps = false;              // prefix each line with its RFC 3339 timestamp
  bool follow = false;                  // keep reading as the file grows
  std::optional<int64_t> limitBytes;
};

// Reads a CRI log file and calls `out` with the decoded text (P records joined to their line).
// With follow, waits for more (inotify) until `stop()` returns true or `isDone()` says the
// container has exited and the file is drained. `out` returning false stops early (client gone);
// a caller that must also stop while no output comes (client gone) folds that into isDone.
// `out` gets one decoded line at a time (a P record's piece when it is read). tailLines counts
// lines (P* F), not records; a negative tailLines means all. sinceSeconds compares record time
// stamps with now; limitBytes cuts the output (time stamp prefixes included) at that many bytes.
// kNotFound when the file does not exist.
Status ReadCriLog(const std::string& path, const LogReadOptions& opts,
                  const std::function<bool(const std::string& text)>& out,
                  const std::function<bool()>& isDone = nullptr);

}  // namespace kvol::runtime
