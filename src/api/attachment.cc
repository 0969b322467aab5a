#include "kvol/api/attachment.h"

#include <openssl/evp.h>

namespace kvol::api {

std::string VolumeAttachmentName(const std::string& volumeHandle, const std::string& attacher,
                                 const std::string& nodeName) {
  std::string data = volumeHandle + attacher + nodeName;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  EVP_Digest(data.data(), data.size(), md, &n, EVP_sha256(), nullptr);
  static const char kHex[] = "0123456789abcdef";
  std::string out = "csi-";
  for (unsigned i = 0; i < n; ++i) {
    out.push_back(kHex[md[i] >> 4]);
    out.push_back(kHex[md[i] & 15]);
  }
  return out;
}

bool AttachRequired(const std::string& driver, const std::optional<CSIDriver>& csiDriver) {
  if (csiDriver.has_value() && csiDriver->spec.attachRequired.has_value()) {
    return *csiDriver->spec.attachRequired;
  }
  if (csiDriver.has_value()) return true;  // the API's default for spec.attachRequired
  return driver != "kvol.io/local";
}

std::string UniqueVolumeName(const std::string& driver, const std::string& volumeHandle) {
  return "kubernetes.io/csi/" + driver + "^" + volumeHandle;
}

bool MultiAttachAllowed(const std::vector<std::string>& pvAccessModes) {
  if (pvAccessModes.empty()) return true;
  for (const auto& m : pvAccessModes) {
    if (m == "ReadWriteMany" || m == "ReadOnlyMany") return true;
  }
  return false;
}

}  // namespace kvol::api
