// The cgroup2 favordynmods switch, on this machine's real cgroup2 mount (the option is global, so
// the test puts back what it found).
#include "kvol/os/cgroup_tuning.h"

#include <algorithm>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kvol/os/mount.h"

namespace kvol::os {
namespace {

using ::testing::ElementsAre;

TEST(Cgroup2OptionsTest, AddsFavorDynmodsAndKeepsTheOtherCgroup2Options) {
  EXPECT_THAT(Cgroup2OptionsWithFavorDynmods("rw,nosuid,nsdelegate,memory_recursiveprot"),
              ElementsAre("nsdelegate", "memory_recursiveprot", "favordynmods"));
  EXPECT_THAT(Cgroup2OptionsWithFavorDynmods("rw"), ElementsAre("favordynmods"));
  EXPECT_THAT(Cgroup2OptionsWithFavorDynmods("rw,favordynmods,nsdelegate"),
              ElementsAre("favordynmods", "nsdelegate"));
}

std::optional<MountInfo> Cgroup2Mount() {
  auto mounts = ReadMountInfo();
  if (!mounts.ok()) return std::nullopt;
  for (const auto& m : *mounts) {
    if (m.fsType == "cgroup2") return m;
  }
  return std::nullopt;
}

bool Has(const std::string& options, const std::string& o) {
  std::string s = "," + options + ",";
  return s.find("," + o + ",") != std::string::npos;
}

// Puts the cgroup2 superblock's cgroup2 options back as they were.
struct Restore {
  MountInfo before;
  ~Restore() {
    std::vector<std::string> flags;
    for (const auto& o : Cgroup2OptionsWithFavorDynmods(before.superOptions)) {
      if (o != "favordynmods" || Has(before.superOptions, "favordynmods")) flags.push_back(o);
    }
    Status st = ReconfigureCgroup2(before.mountPoint, flags);
    EXPECT_TRUE(st.ok()) << st.ToString();
  }
};

TEST(FavorCgroupDynamicModificationsTest, SetsTheOptionOnceAndKeepsEverythingElse) {
  auto before = Cgroup2Mount();
  if (!before) GTEST_SKIP() << "no cgroup2 mounted on this machine";
  Restore restore{*before};
  // Start from "not set", as on a freshly booted host.
  std::vector<std::string> without;
  for (const auto& o : Cgroup2OptionsWithFavorDynmods(before->superOptions)) {
    if (o != "favordynmods") without.push_back(o);
  }
  ASSERT_TRUE(ReconfigureCgroup2(before->mountPoint, without).ok());
  ASSERT_FALSE(Has(Cgroup2Mount()->superOptions, "favordynmods"));

  auto changed = FavorCgroupDynamicModifications();
  ASSERT_TRUE(changed.ok()) << changed.status().ToString();
  EXPECT_EQ(*changed, before->mountPoint);
  auto after = Cgroup2Mount();
  ASSERT_TRUE(after);
  EXPECT_TRUE(Has(after->superOptions, "favordynmods")) << after->superOptions;
  for (const auto& o : without) EXPECT_TRUE(Has(after->superOptions, o)) << o;
  EXPECT_EQ(after->options, before->options);  // the mount's own flags (nosuid...) untouched

  // Already set: nothing to do.
  auto again = FavorCgroupDynamicModifications();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, "");
}

TEST(FavorCgroupDynamicModificationsTest, AMountPointThatIsNotCgroup2IsAnError) {
  Status st = ReconfigureCgroup2("/nonexistent-kvol-test", {"favordynmods"});
  EXPECT_FALSE(st.ok());
  EXPECT_THAT(st.message(), ::testing::HasSubstr("fspick /nonexistent-kvol-test"));
}

}  // namespace
}  // namespace kvol::os
