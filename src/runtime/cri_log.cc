// CRI log writer and reader (see include/kvol/runtime/cri_log.h).
#include "kvol/runtime/cri_log.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <utility>
#include <vector>

#include "src/runtime/cri_time.h"

namespace kvol::runtime {

namespace {

// A line longer than this is written as P records of this size (the kubelet's runtimes use 8-16
// KiB).
constexpr size_t kMaxRecord = 16 * 1024;

Status WriteAll(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = ::write(fd, s.data() + off, s.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Internal(std::string("write log: ") + std::strerror(errno));
    }
    off += static_cast<size_t>(n);
  }
  return Status::Ok();
}

void AppendRecord(std::string& out, const std::string& ts, const char* stream, char tag,
                  const char* data, size_t n) {
  out += ts;
  out += ' ';
  out += stream;
  out += ' ';
  out += tag;
  out += ' ';
  out.append(data, n);
  out += '\n';
}

}  // namespace

Result<CriLogWriter> CriLogWriter::Open(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0) return Internal("open " + path + ": " + std::strerror(errno));
  CriLogWriter w;
  w.fd_ = fd;
  return w;
}

CriLogWriter::CriLogWriter(CriLogWriter&& o) noexcept
    : fd_(std::exchange(o.fd_, -1)),
      pendingOut_(std::move(o.pendingOut_)),
      pendingErr_(std::move(o.pendingErr_)) {}

CriLogWriter::~CriLogWriter() {
  if (fd_ >= 0) ::close(fd_);
}

Status CriLogWriter::Write(const char* stream, const char* data, size_t n) {
  if (fd_ < 0) return Internal("log writer is closed");
  std::string& pending = std::strcmp(stream, "stderr") == 0 ? pendingErr_ : pendingOut_;
  std::string ts = FormatRfc3339Nano(NowRealtime());
  std::string out;
  size_t i = 0;
  while (i < n) {
    const void* nl = std::memchr(data + i, '\n', n - i);
    size_t end = nl ? static_cast<size_t>(static_cast<const char*>(nl) - data) : n;
    pending.append(data + i, end - i);
    // A line longer than kMaxRecord goes out as P records; at most kMaxRecord bytes wait.
    while (pending.size() > kMaxRecord) {
      AppendRecord(out, ts, stream, 'P', pending.data(), kMaxRecord);
      pending.erase(0, kMaxRecord);
    }
    if (nl) {
      AppendRecord(out, ts, stream, 'F', pending.data(), pending.size());
      pending.clear();
    }
    i = nl ? end + 1 : n;
  }
  return WriteAll(fd_, out);
}

Status CriLogWriter::Flush() {
  if (fd_ < 0) return Status::Ok();
  std::string ts = FormatRfc3339Nano(NowRealtime());
  std::string out;
  if (!pendingOut_.empty())
    AppendRecord(out, ts, "stdout", 'P', pendingOut_.data(), pendingOut_.size());
  if (!pendingErr_.empty())
    AppendRecord(out, ts, "stderr", 'P', pendingErr_.data(), pendingErr_.size());
  pendingOut_.clear();
  pendingErr_.clear();
  return WriteAll(fd_, out);
}

// ---- reader ----

namespace {

struct Record {
  int64_t tsNanos = 0;
  std::string ts;  // as written
  bool partial = false;
  std::string text;
};

// Parses one record line (without its '\n'); false when malformed (skipped, as the kubelet does).
bool ParseRecord(std::string_view line, Record& r) {
  size_t a = line.find(' ');
  if (a == std::string_view::npos) return false;
  size_t b = line.find(' ', a + 1);
  if (b == std::string_view::npos) return false;
  std::string_view stream = line.substr(a + 1, b - a - 1);
  if (stream != "stdout" && stream != "stderr") return false;
  std::string_view rest = line.substr(b + 1);
  // "<tag> <text>"; the tag is F or P (older files have no tag: treat as F).
  if (rest.size() >= 2 && (rest[0] == 'F' || rest[0] == 'P') && rest[1] == ' ') {
    r.partial = rest[0] == 'P';
    rest = rest.substr(2);
  } else if (rest == "F" || rest == "P") {
    r.partial = rest[0] == 'P';
    rest = {};
  } else {
    r.partial = false;
  }
  r.ts = std::string(line.substr(0, a));
  auto t = ParseRfc3339Nano(r.ts);
  if (!t) return false;
  r.tsNanos = *t;
  r.text = std::string(rest);
  return true;
}

class Emitter {
 public:
  Emitter(const LogReadOptions& o, const std::function<bool(const std::string&)>& out)
      : opts_(o), out_(out) {
    if (o.sinceSeconds) sinceNanos_ = NowRealtime() - *o.sinceSeconds * 1000000000LL;
    if (o.limitBytes) remain_ = *o.limitBytes;
  }
  // False when output must stop (limit reached or the client is gone).
  bool Emit(const Record& r) {
    if (r.tsNanos < sinceNanos_) return true;
    std::string s;
    if (opts_.timestamps && atLineStart_) {
      s = FormatRfc3339Nano(r.tsNanos);
      s += ' ';
    }
    s += r.text;
    if (!r.partial) s += '\n';
    atLineStart_ = !r.partial;
    if (remain_ >= 0) {
      if (static_cast<int64_t>(s.size()) > remain_) s.resize(static_cast<size_t>(remain_));
      remain_ -= static_cast<int64_t>(s.size());
    }
    if (!s.empty() && !out_(s)) return false;
    return remain_ != 0;
  }

 private:
  const LogReadOptions& opts_;
  const std::function<bool(const std::string&)>& out_;
  int64_t sinceNanos_ = INT64_MIN;
  int64_t remain_ = -1;  // -1: no limit
  bool atLineStart_ = true;
};

// Splits complete record lines off the front of `buf` into `recs`.
void TakeRecords(std::string& buf, std::vector<Record>& recs) {
  size_t start = 0;
  while (true) {
    size_t nl = buf.find('\n', start);
    if (nl == std::string::npos) break;
    Record r;
    if (ParseRecord(std::string_view(buf).substr(start, nl - start), r))
      recs.push_back(std::move(r));
    start = nl + 1;
  }
  buf.erase(0, start);
}

// Reads what is left in fd into buf; false on a read error.
bool ReadMore(int fd, std::string& buf) {
  char tmp[64 * 1024];
  while (true) {
    ssize_t n = ::read(fd, tmp, sizeof tmp);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (n == 0) return true;
    buf.append(tmp, static_cast<size_t>(n));
  }
}

// Index of the first record of the last `n` lines (a line = P* F, or a trailing run of P).
size_t TailStart(const std::vector<Record>& recs, int64_t n) {
  size_t i = recs.size();
  for (int64_t lines = 0; lines < n && i > 0; ++lines) {
    size_t j = i - 1;  // the last record of this line
    while (j > 0 && recs[j - 1].partial) --j;
    i = j;
  }
  return i;
}

}  // namespace

Status ReadCriLog(const std::string& path, const LogReadOptions& opts,
                  const std::function<bool(const std::string& text)>& out,
                  const std::function<bool()>& isDone) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return NotFound("log file " + path + " not found");
    return Internal("open " + path + ": " + std::strerror(errno));
  }
  struct Closer {
    int fd;
    ~Closer() {
      if (fd >= 0) ::close(fd);
    }
  } closeFd{fd}, closeIn{-1};

  Emitter em(opts, out);
  std::string buf;
  std::vector<Record> recs;
  if (!ReadMore(fd, buf)) return Internal("read " + path + ": " + std::strerror(errno));
  TakeRecords(buf, recs);
  size_t first = opts.tailLines && *opts.tailLines >= 0 ? TailStart(recs, *opts.tailLines) : 0;
  for (size_t i = first; i < recs.size(); ++i) {
    if (!em.Emit(recs[i])) return Status::Ok();
  }
  if (!opts.follow) return Status::Ok();

  int in = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (in < 0) return Internal(std::string("inotify_init1: ") + std::strerror(errno));
  closeIn.fd = in;
  if (::inotify_add_watch(in, path.c_str(), IN_MODIFY) < 0) {
    return Internal("inotify_add_watch " + path + ": " + std::strerror(errno));
  }
  while (true) {
    // Ask isDone before reading, so that what was written before the exit is still read.
    bool done = isDone && isDone();
    recs.clear();
    if (!ReadMore(fd, buf)) return Internal("read " + path + ": " + std::strerror(errno));
    TakeRecords(buf, recs);
    for (const Record& r : recs) {
      if (!em.Emit(r)) return Status::Ok();
    }
    if (done) return Status::Ok();
    if (recs.empty()) {
      pollfd p{in, POLLIN, 0};
      int rc = ::poll(&p, 1, 100);
      if (rc > 0) {
        char evbuf[4096];
        while (::read(in, evbuf, sizeof evbuf) > 0) {
        }
      }
    }
  }
  return Status::Ok();
}

}  // namespace kvol::runtime
