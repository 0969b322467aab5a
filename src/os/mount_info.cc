// Reading the mount table: /proc/<pid>/mountinfo (see proc(5)).
#include <algorithm>
#include <climits>
#include <cstdlib>
#include <sstream>

#include "kvol/os/fs.h"
#include "kvol/os/mount.h"
#include "src/os/os_internal.h"

namespace kvol::os {
namespace {

// Decodes the octal escapes the kernel writes for ' ', '\t', '\n' and '\\' (\040 \011 \012 \134);
// any other backslash sequence is kept as written.
std::string Unescape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      const char a = s[i + 1], b = s[i + 2], c = s[i + 3];
      if (a >= '0' && a <= '3' && b >= '0' && b <= '7' && c >= '0' && c <= '7') {
        out.push_back(static_cast<char>((a - '0') * 64 + (b - '0') * 8 + (c - '0')));
        i += 3;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

std::vector<std::string> SplitSpaces(const std::string& line) {
  std::vector<std::string> f;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ') ++i;
    if (i >= line.size()) break;
    size_t j = line.find(' ', i);
    if (j == std::string::npos) j = line.size();
    f.push_back(line.substr(i, j - i));
    i = j;
  }
  return f;
}

bool ParseInt(const std::string& s, long long& out) {
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  out = std::strtoll(s.c_str(), &end, 10);
  return errno == 0 && end && *end == '\0';
}

Result<MountInfo> ParseLine(const std::string& line) {
  const auto bad = [&line](const char* why) {
    return Internal("malformed mountinfo line (" + std::string(why) + "): " + line);
  };
  std::vector<std::string> f = SplitSpaces(line);
  // id parent major:minor root mountpoint options [optional...] - fstype source superoptions
  if (f.size() < 9) return bad("too few fields");
  MountInfo m;
  long long v = 0;
  if (!ParseInt(f[0], v)) return bad("mount id");
  m.id = static_cast<int>(v);
  if (!ParseInt(f[1], v)) return bad("parent id");
  m.parentId = static_cast<int>(v);
  const size_t colon = f[2].find(':');
  if (colon == std::string::npos) return bad("major:minor");
  if (!ParseInt(f[2].substr(0, colon), v)) return bad("major");
  m.major = static_cast<unsigned>(v);
  if (!ParseInt(f[2].substr(colon + 1), v)) return bad("minor");
  m.minor = static_cast<unsigned>(v);
  m.root = Unescape(f[3]);
  m.mountPoint = Unescape(f[4]);
  m.options = f[5];
  size_t i = 6;
  while (i < f.size() && f[i] != "-") ++i;  // optional fields ("shared:1 master:2")
  if (i == f.size()) return bad("no ' - ' separator");
  ++i;
  if (f.size() - i < 2) return bad("too few fields after ' - '");
  m.fsType = Unescape(f[i]);
  m.source = Unescape(f[i + 1]);
  if (i + 2 < f.size()) m.superOptions = Unescape(f[i + 2]);
  return m;
}

// "/a/b/" -> "/a/b"; "" stays "".
std::string TrimSlash(std::string p) {
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}

// realpath(path), or `path` (without trailing slashes) when it cannot be resolved.
std::string Resolve(const std::string& path, int* err) {
  char buf[PATH_MAX];
  if (::realpath(path.c_str(), buf) != nullptr) {
    if (err) *err = 0;
    return buf;
  }
  if (err) *err = errno;
  return TrimSlash(path);
}

bool IsAtOrUnder(const std::string& p, const std::string& dir) {
  if (dir == "/") return true;
  return p == dir ||
         (p.size() > dir.size() && p.compare(0, dir.size(), dir) == 0 && p[dir.size()] == '/');
}

size_t Depth(const std::string& p) { return std::count(p.begin(), p.end(), '/'); }

}  // namespace

bool MountInfo::readOnly() const {
  std::stringstream ss(options);
  std::string o;
  while (std::getline(ss, o, ',')) {
    if (o == "ro") return true;
  }
  return false;
}

Result<std::vector<MountInfo>> ParseMountInfo(const std::string& text) {
  std::vector<MountInfo> out;
  std::stringstream ss(text);
  std::string line;
  while (std::getline(ss, line)) {
    if (line.empty()) continue;
    KVOL_ASSIGN_OR_RETURN(MountInfo m, ParseLine(line));
    out.push_back(std::move(m));
  }
  return out;
}

Result<std::vector<MountInfo>> ReadMountInfo(const std::string& pid) {
  KVOL_ASSIGN_OR_RETURN(std::string text, ReadFile("/proc/" + pid + "/mountinfo"));
  return ParseMountInfo(text);
}

Result<std::vector<MountInfo>> MountsUnder(const std::string& dir) {
  KVOL_ASSIGN_OR_RETURN(std::vector<MountInfo> all, ReadMountInfo());
  const std::string d = Resolve(dir, nullptr);
  std::vector<MountInfo> out;
  // Later entries were mounted later (on top): reverse, then a stable sort by depth keeps the
  // top of a stack of mounts on one point first.
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    if (IsAtOrUnder(it->mountPoint, d)) out.push_back(*it);
  }
  std::stable_sort(out.begin(), out.end(), [](const MountInfo& a, const MountInfo& b) {
    return Depth(a.mountPoint) > Depth(b.mountPoint);
  });
  return out;
}

Result<bool> IsMountPoint(const std::string& path) {
  int err = 0;
  const std::string p = Resolve(path, &err);
  if (err == ENOENT || err == ENOTDIR) return false;
  if (err != 0) return internal::ErrnoStatus("realpath", path, err);
  KVOL_ASSIGN_OR_RETURN(std::vector<MountInfo> all, ReadMountInfo());
  for (const MountInfo& m : all) {
    if (m.mountPoint == p) return true;
  }
  return false;
}

}  // namespace kvol::os
