#include "tar_reader.h"

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include <gtest/gtest.h>

#include "kvol/os/exec.h"
#include "layer.h"

namespace kvol::image {
namespace {

class TarReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/kvol-tar-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { ASSERT_TRUE(RemoveTree(dir_).ok()); }

  // GNU tar over a tree with a long path and a long symlink target, in `format`.
  std::string Make(const std::string& format) {
    std::string src = dir_ + "/src-" + format;
    std::string deep = src + "/" + std::string(60, 'd') + "/" + std::string(60, 'e');
    auto r = os::Exec({"mkdir", "-p", deep});
    EXPECT_TRUE(r.ok() && r->exitCode == 0);
    std::ofstream(deep + "/" + std::string(80, 'f')) << "hello";
    EXPECT_EQ(symlink(("/" + std::string(120, 't')).c_str(), (src + "/lnk").c_str()), 0);
    std::string out = dir_ + "/" + format + ".tar";
    r = os::Exec({"tar", "--format=" + format, "--sort=name", "-C", src, "-cf", out, "."});
    EXPECT_TRUE(r.ok() && r->exitCode == 0) << (r.ok() ? r->err : r.status().message());
    return out;
  }

  std::string dir_;
};

TEST_F(TarReaderTest, LongNamesInGnuAndPaxFormats) {
  for (const std::string format : {"gnu", "pax", "posix"}) {
    auto members = ListTar(Make(format));
    ASSERT_TRUE(members.ok()) << format << ": " << members.status().ToString();
    ASSERT_EQ(members->size(), 5u) << format;
    const auto& m = *members;
    EXPECT_EQ(m[0].name, "./");
    EXPECT_EQ(m[0].type, '5');
    EXPECT_EQ(m[3].name,
              "./" + std::string(60, 'd') + "/" + std::string(60, 'e') + "/" + std::string(80, 'f'))
        << format;
    EXPECT_EQ(m[3].type, '0');
    EXPECT_EQ(m[3].size, 5);
    EXPECT_EQ(m[4].name, "./lnk");
    EXPECT_EQ(m[4].type, '2');
    EXPECT_EQ(m[4].linkname, "/" + std::string(120, 't')) << format;
  }
}

TEST_F(TarReaderTest, RefusesWhatIsNotATar) {
  std::string junk = dir_ + "/junk";
  std::ofstream(junk) << std::string(2048, 'x');
  auto r = ListTar(junk);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalid);
  EXPECT_EQ(r.status().message(), junk + ": not a valid tar archive (header checksum mismatch)");
  std::string shortFile = dir_ + "/short";
  std::ofstream(shortFile) << "abc";
  r = ListTar(shortFile);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), shortFile + ": not a valid tar archive (truncated header)");
  r = ListTar(dir_ + "/missing");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kNotFound);
}

TEST(CheckLayerMembers, PathsThatStayInside) {
  std::vector<TarMember> ok = {{"./", "", '5', 0},
                               {"./a/", "", '5', 0},
                               {"a/./b", "", '0', 1},
                               {"a/l", "../x", '2', 0},  // a symlink may point anywhere
                               {"a/h", "a/b", '1', 0}};
  EXPECT_TRUE(CheckLayerMembers(ok, "layer 1").ok());
  auto st = CheckLayerMembers({{"a/../../b", "", '0', 0}}, "layer 1");
  EXPECT_EQ(st.message(),
            "layer 1: member name \"a/../../b\" contains \"..\"; refusing to write outside the "
            "image root");
  st = CheckLayerMembers({{"h", "../../etc/shadow", '1', 0}}, "layer 1");
  EXPECT_EQ(st.message(),
            "layer 1: member hard link \"../../etc/shadow\" contains \"..\"; refusing to write "
            "outside the image root");
  st = CheckLayerMembers({{".", "/", '2', 0}}, "layer 1");
  EXPECT_EQ(st.message(), "layer 1: member \".\" would replace the image root");
}

}  // namespace
}  // namespace kvol::image
