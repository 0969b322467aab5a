// `kvol image import`: see include/kvol/cli/image_import.h.
#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <ostream>

#include "kvol/cli/image_import.h"
#include "kvol/image/image_store.h"

namespace kvol::cli {

std::string DefaultDataDir() {
  if (geteuid() == 0) return "/var/lib/kvol";
  const char* xdg = std::getenv("XDG_DATA_HOME");
  if (xdg != nullptr && xdg[0] == '/') return std::string(xdg) + "/kvol";
  std::string home;
  if (const char* h = std::getenv("HOME"); h != nullptr && h[0] != '\0') {
    home = h;
  } else if (const passwd* pw = getpwuid(geteuid()); pw != nullptr && pw->pw_dir != nullptr) {
    home = pw->pw_dir;
  }
  return home + "/.local/share/kvol";
}

int RunImageImport(const std::string& dataDir, const std::string& file, const std::string& nameTag,
                   std::ostream& out, std::ostream& err) {
  std::string dir = dataDir.empty() ? DefaultDataDir() : dataDir;
  image::ImageStore store(dir + "/images");
  auto img = store.Import(file, nameTag);
  if (!img.ok()) {
    err << "error: " << img.status().message() << "\n";
    return 1;
  }
  std::string shortId = img->id.substr(0, std::string("sha256:").size() + 12);
  out << "imported " << img->name << " (" << shortId << ")\n";
  return 0;
}

}  // namespace kvol::cli
