// Reading the member list of a plain (uncompressed) tar file without extracting it (kvol::image),
// so that a layer can be checked before any of it is written: ustar, GNU long names ('L'/'K')
// and pax extended headers ('x' path/linkpath) are understood; checksums are verified.
//
// Thread safety: stateless.
#pragma once

#include <cstdint>
#include <istream>
#include <string>
#include <vector>

#include "kvol/common/status.h"

namespace kvol::image {

struct TarMember {
  std::string name;      // as stored (after long-name / pax overrides)
  std::string linkname;  // symlink target or hard-link source
  char type = '0';       // '0' file, '1' hard link, '2' symlink, '5' dir, '3'/'4' devices, '6' fifo
  int64_t size = 0;
};

// The members of the tar at `path`, in archive order. kInvalid "<path>: not a tar archive..." on a
// malformed header, kNotFound / kInternal on I/O errors.
Result<std::vector<TarMember>> ListTar(const std::string& path);
// The same over a stream (`name` only appears in messages): the fuzz target's entry.
Result<std::vector<TarMember>> ListTarStream(std::istream& in, const std::string& name);

}  // namespace kvol::image
