#include "tar_reader.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>

namespace kvol::image {
namespace {

constexpr size_t kBlock = 512;

std::string Field(const char* b, size_t off, size_t len) {
  size_t n = 0;
  while (n < len && b[off + n] != '\0') ++n;
  return std::string(b + off, n);
}

bool ParseNumber(const char* b, size_t off, size_t len, int64_t* out) {
  const auto* u = reinterpret_cast<const unsigned char*>(b + off);
  if (u[0] & 0x80) {  // base-256 (GNU): big-endian, first byte's high bit is the marker
    if (u[0] != 0x80) return false;  // negative or too large for us
    uint64_t v = 0;
    for (size_t i = 1; i < len; ++i) {
      if (v >> 55) return false;
      v = (v << 8) | u[i];
    }
    *out = static_cast<int64_t>(v);
    return true;
  }
  size_t i = 0;
  while (i < len && b[off + i] == ' ') ++i;
  uint64_t v = 0;
  bool any = false;
  for (; i < len && b[off + i] >= '0' && b[off + i] <= '7'; ++i) {
    if (v >> 60) return false;
    v = v * 8 + static_cast<uint64_t>(b[off + i] - '0');
    any = true;
  }
  for (; i < len; ++i)
    if (b[off + i] != ' ' && b[off + i] != '\0') return false;
  *out = any ? static_cast<int64_t>(v) : 0;
  return true;
}

bool ChecksumOk(const char* b) {
  int64_t want = 0;
  if (!ParseNumber(b, 148, 8, &want)) return false;
  int64_t su = 0, ss = 0;
  for (size_t i = 0; i < kBlock; ++i) {
    unsigned char c = (i >= 148 && i < 156) ? ' ' : static_cast<unsigned char>(b[i]);
    su += c;
    ss += static_cast<signed char>(c);
  }
  return want == su || want == ss;
}

// pax records: "<len> <key>=<value>\n"...
bool ParsePax(const std::string& data, std::map<std::string, std::string>* out) {
  size_t pos = 0;
  while (pos < data.size()) {
    size_t sp = data.find(' ', pos);
    if (sp == std::string::npos) return false;
    size_t len = 0;
    for (size_t i = pos; i < sp; ++i) {
      if (data[i] < '0' || data[i] > '9' || len > data.size()) return false;
      len = len * 10 + static_cast<size_t>(data[i] - '0');
    }
    if (len == 0 || pos + len > data.size() || data[pos + len - 1] != '\n') return false;
    std::string rec = data.substr(sp + 1, pos + len - 1 - (sp + 1));
    size_t eq = rec.find('=');
    if (eq == std::string::npos) return false;
    (*out)[rec.substr(0, eq)] = rec.substr(eq + 1);
    pos += len;
  }
  return true;
}

bool HeaderOnly(char t) {
  return t == '1' || t == '2' || t == '3' || t == '4' || t == '5' || t == '6';
}

}  // namespace

Result<std::vector<TarMember>> ListTar(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    int e = errno;
    if (e == ENOENT) return NotFound(path + ": no such file");
    return Internal("open " + path + ": " + std::strerror(e));
  }
  return ListTarStream(in, path);
}

Result<std::vector<TarMember>> ListTarStream(std::istream& in, const std::string& path) {
  auto bad = [&](const std::string& why) {
    return Invalid(path + ": not a valid tar archive (" + why + ")");
  };
  std::vector<TarMember> members;
  std::string longName, longLink;
  std::map<std::string, std::string> pax;
  char b[kBlock];
  bool sawHeader = false;
  while (true) {
    in.read(b, kBlock);
    if (in.gcount() == 0 && sawHeader) break;  // EOF without the end-of-archive blocks: tolerated
    if (in.gcount() != static_cast<std::streamsize>(kBlock)) return bad("truncated header");
    bool zero = true;
    for (char c : b) zero = zero && c == '\0';
    if (zero) {
      if (!sawHeader) return bad("empty archive");
      break;
    }
    if (!ChecksumOk(b)) return bad("header checksum mismatch");
    sawHeader = true;
    int64_t size = 0;
    if (!ParseNumber(b, 124, 12, &size) || size < 0) return bad("bad size field");
    char type = b[156] == '\0' ? '0' : b[156];
    int64_t dataLen = HeaderOnly(type) ? 0 : size;
    if (type == 'L' || type == 'K' || type == 'x' || type == 'g') {
      if (size > (64 << 20)) return bad("extended header too large");
      std::string data(static_cast<size_t>(size), '\0');
      in.read(data.data(), size);
      if (in.gcount() != size) return bad("truncated extended header");
      int64_t pad = (kBlock - size % kBlock) % kBlock;
      in.seekg(pad, std::ios::cur);
      if (type == 'L') {
        longName = data.substr(0, data.find('\0'));
      } else if (type == 'K') {
        longLink = data.substr(0, data.find('\0'));
      } else if (type == 'x') {
        if (!ParsePax(data, &pax)) return bad("malformed pax header");
      }
      continue;
    }
    TarMember m;
    m.type = type == '7' ? '0' : type;
    m.size = size;
    m.name = Field(b, 0, 100);
    if (std::memcmp(b + 257, "ustar\0", 6) == 0) {
      std::string prefix = Field(b, 345, 155);
      if (!prefix.empty()) m.name = prefix + "/" + m.name;
    }
    m.linkname = Field(b, 157, 100);
    if (!longName.empty()) m.name = longName;
    if (!longLink.empty()) m.linkname = longLink;
    if (auto it = pax.find("path"); it != pax.end()) m.name = it->second;
    if (auto it = pax.find("GNU.sparse.name"); it != pax.end()) m.name = it->second;
    if (auto it = pax.find("linkpath"); it != pax.end()) m.linkname = it->second;
    if (auto it = pax.find("size"); it != pax.end() && !HeaderOnly(type)) {
      try {
        dataLen = std::stoll(it->second);
      } catch (...) {
        return bad("bad pax size");
      }
      m.size = dataLen;
    }
    longName.clear();
    longLink.clear();
    pax.clear();
    members.push_back(std::move(m));
    int64_t skip = dataLen + (kBlock - dataLen % kBlock) % kBlock;
    in.seekg(skip, std::ios::cur);
    if (!in) return bad("truncated member data");
  }
  return members;
}

}  // namespace kvol::image
