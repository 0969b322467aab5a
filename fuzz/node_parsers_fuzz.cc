// Fuzz target: the node's parsers of outside bytes: a tar archive's member list (image layers,
// src/image/tar_reader), /proc mountinfo text (src/os), image references (src/image), subPathExpr
// expansion (src/volume) and CRI log files (src/runtime, read back through a temp file).
// Nothing may crash; what parses must satisfy the parser's own contract.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "kvol/image/image_store.h"
#include "kvol/os/mount.h"
#include "kvol/runtime/cri_log.h"
#include "kvol/volume/subpath.h"
#include "src/image/tar_reader.h"

namespace {

const std::string& ScratchFile() {
  static const std::string path = [] {
    char tmpl[] = "/tmp/kvol-fuzz-crilog.XXXXXX";
    int fd = ::mkstemp(tmpl);
    if (fd >= 0) ::close(fd);
    std::string p = tmpl;
    std::atexit([] { ::unlink(ScratchFile().c_str()); });
    return p;
  }();
  return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);

  std::istringstream tar(text);
  auto members = kvol::image::ListTarStream(tar, "fuzz.tar");
  if (members.ok()) {
    for (const auto& m : *members) {
      if (m.size < 0) __builtin_trap();
    }
  }

  auto mounts = kvol::os::ParseMountInfo(text);
  if (mounts.ok()) {
    for (const auto& m : *mounts) (void)m.readOnly();
  }

  auto ref = kvol::image::NormalizeImageName(text);
  if (ref.ok()) {
    // Normalising is idempotent.
    auto again = kvol::image::NormalizeImageName(*ref);
    if (!again.ok() || *again != *ref) __builtin_trap();
  }

  auto expanded = kvol::volume::ExpandSubPathExpr(text, {{"POD_NAME", "web-0"}, {"NS", "default"}});
  if (expanded.ok()) {
    if (!expanded->empty() && (*expanded)[0] == '/') __builtin_trap();  // must stay relative
  }

  {
    std::ofstream(ScratchFile(), std::ios::binary | std::ios::trunc) << text;
    kvol::runtime::LogReadOptions o;
    o.tailLines = 3;
    o.timestamps = true;
    size_t total = 0;
    (void)kvol::runtime::ReadCriLog(ScratchFile(), o, [&](const std::string& s) {
      total += s.size();
      return true;
    });
    if (total > 2 * size + 64 * 1024) __builtin_trap();  // output is bounded by the input
  }
  return 0;
}
