#include <gtest/gtest.h>

#include "kvol/image/image_store.h"

namespace kvol::image {
namespace {

std::string Norm(const std::string& ref) {
  auto r = NormalizeImageName(ref);
  return r.ok() ? *r : "ERROR: " + r.status().message();
}

TEST(NormalizeImageName, DockerDefaults) {
  EXPECT_EQ(Norm("busybox"), "docker.io/library/busybox:latest");
  EXPECT_EQ(Norm("busybox:1.36"), "docker.io/library/busybox:1.36");
  EXPECT_EQ(Norm("library/busybox"), "docker.io/library/busybox:latest");
  EXPECT_EQ(Norm("docker.io/busybox"), "docker.io/library/busybox:latest");
  EXPECT_EQ(Norm("index.docker.io/library/busybox"), "docker.io/library/busybox:latest");
  EXPECT_EQ(Norm("user/app:1"), "docker.io/user/app:1");
  EXPECT_EQ(Norm("localhost/x"), "localhost/x:latest");
  EXPECT_EQ(Norm("localhost:5000/x"), "localhost:5000/x:latest");
  EXPECT_EQ(Norm("localhost"), "docker.io/library/localhost:latest");
  EXPECT_EQ(Norm("reg.io:5000/a/b:t"), "reg.io:5000/a/b:t");
  EXPECT_EQ(Norm("quay.io/org/app_x.y-z__w"), "quay.io/org/app_x.y-z__w:latest");
  EXPECT_EQ(Norm("a:V1.0_rc-2"), "docker.io/library/a:V1.0_rc-2");
}

TEST(NormalizeImageName, DigestsAreKept) {
  const std::string d = "sha256:" + std::string(64, 'a');
  EXPECT_EQ(Norm("a@" + d), "docker.io/library/a@" + d);
  EXPECT_EQ(Norm("a:t@" + d), "docker.io/library/a:t@" + d);
  EXPECT_EQ(Norm("reg.io/a@" + d), "reg.io/a@" + d);
}

TEST(NormalizeImageName, RefusesBadReferences) {
  EXPECT_EQ(Norm("Busybox"),
            "ERROR: couldn't parse image name \"Busybox\": invalid reference "
            "format: repository name must be lowercase");
  EXPECT_EQ(Norm("user/App"),
            "ERROR: couldn't parse image name \"user/App\": invalid reference "
            "format: repository name must be lowercase");
  EXPECT_EQ(Norm(""), "ERROR: couldn't parse image name \"\": invalid reference format");
  for (const char* bad : {"a:", ":t", "a::b", "-a", "a-", "a/", "/a", "a//b", "a b", "a@sha256:12",
                          "a@sha256:"
                          "ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ",
                          "a:-t", "a..b", "reg.io:/a", "re_g.io/a", "a:t!"}) {
    auto r = NormalizeImageName(bad);
    ASSERT_FALSE(r.ok()) << bad << " -> " << *r;
    EXPECT_EQ(r.status().code(), Code::kInvalid) << bad;
    EXPECT_EQ(r.status().message(),
              std::string("couldn't parse image name \"") + bad + "\": invalid reference format")
        << bad;
  }
  EXPECT_EQ(Norm(std::string(64, 'a')), "ERROR: couldn't parse image name \"" +
                                            std::string(64, 'a') + "\": invalid repository name (" +
                                            std::string(64, 'a') +
                                            "), cannot specify 64-byte hexadecimal strings");
  EXPECT_EQ(Norm("a:" + std::string(129, 't')),
            "ERROR: couldn't parse image name \"a:" + std::string(129, 't') +
                "\": invalid reference format");
}

}  // namespace
}  // namespace kvol::image
