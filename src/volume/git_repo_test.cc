// gitRepo: local repositories refused (CVE-2025-1767), directory rules, and hooks never running
// (CVE-2024-10220). Local repositories are refused by the plugin, so the hook tests call the
// internal clone/checkout with GitTestOptions{allowLocal}, and each has a control showing that
// the same hook does run under a plain git command (so the test can fail).
#include <sys/stat.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "kvol/os/exec.h"
#include "kvol/os/fs.h"
#include "kvol/volume/plugin.h"
#include "src/os/test_scratch.h"
#include "src/volume/plugins_internal.h"

namespace kvol::volume {
namespace {

class GitRepoTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_FALSE(s_.path().empty()); }

  std::string P(const std::string& rel) const { return s_.path() + "/" + rel; }

  // git with a fixed identity, in `cwd`.
  std::string Git(const std::vector<std::string>& args, const std::string& cwd,
                  std::map<std::string, std::string> env = {}) {
    std::vector<std::string> argv = {"git",
                                     "-c",
                                     "user.name=t",
                                     "-c",
                                     "user.email=t@example.com",
                                     "-c",
                                     "init.defaultBranch=main",
                                     "-c",
                                     "protocol.file.allow=always"};
    argv.insert(argv.end(), args.begin(), args.end());
    os::ExecOptions o;
    o.cwd = cwd;
    env["PATH"] = "/usr/local/bin:/usr/bin:/bin";
    env["HOME"] = s_.path();
    env["GIT_CONFIG_NOSYSTEM"] = "1";
    o.env = env;
    auto r = os::ExecOk(argv, o);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return "";
    std::string out = r->out;
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
  }

  void WriteHook(const std::string& hooksDir, const std::string& marker) {
    ASSERT_TRUE(os::MakeDirs(hooksDir).ok());
    ASSERT_TRUE(
        os::WriteFileAtomic(hooksDir + "/post-checkout", "#!/bin/sh\ntouch " + marker + "\n", 0755)
            .ok());
  }

  // A work repo with two commits (file = "one", then "two") and a bare clone of it. Returns the
  // first commit's id.
  std::string MakeRepos() {
    EXPECT_TRUE(os::MakeDirs(P("work")).ok());
    Git({"init", "-q"}, P("work"));
    EXPECT_TRUE(os::WriteFileAtomic(P("work/file"), "one").ok());
    Git({"add", "file"}, P("work"));
    Git({"commit", "-q", "-m", "one"}, P("work"));
    std::string first = Git({"rev-parse", "HEAD"}, P("work"));
    EXPECT_TRUE(os::WriteFileAtomic(P("work/file"), "two").ok());
    Git({"commit", "-q", "-am", "two"}, P("work"));
    Git({"clone", "-q", "--bare", P("work"), P("bare.git")}, s_.path());
    return first;
  }

  os::testing::Scratch s_;
};

TEST_F(GitRepoTest, LocalRepositoriesAreRefusedNamingTheCve) {
  for (const std::string r :
       {"/srv/repo", "./repo", "../repo", "~/repo", "file:///srv/repo", "FILE:///srv/repo", "repo",
        "ext::sh -c touch% /tmp/x", "-uhelp", "ssh://-oProxyCommand=x/y"}) {
    Status st = CheckGitRepository(r);
    EXPECT_EQ(st.code(), PermissionDenied("").code()) << r;
    EXPECT_EQ(st.message(), "gitRepo repository \"" + r +
                                "\" is refused: only remote repositories (scheme://host/... or "
                                "user@host:path) can be cloned, never a local path or file:// "
                                "URL (CVE-2025-1767)");
  }
  for (const std::string r :
       {"https://github.com/kubernetes/kubernetes.git", "git@github.com:kubernetes/kubernetes.git",
        "ssh://git@example.com/x.git", "git://example.com/x"}) {
    EXPECT_TRUE(CheckGitRepository(r).ok()) << r;
  }
}

TEST_F(GitRepoTest, PluginRefusesAFileUrlAndCreatesNothing) {
  std::string first = MakeRepos();
  auto plugin = NewGitRepoPlugin();
  api::Pod pod;
  pod.metadata.uid = "u1";
  api::Volume v;
  v.name = "code";
  v.gitRepo.emplace();
  v.gitRepo->repository = "file://" + P("bare.git");
  NodeContext node;
  node.dataDir = P("kvol");
  VolumeRequest req;
  req.pod = &pod;
  req.volume = &v;
  req.podDir = P("kvol/pods/u1");
  req.node = &node;
  auto mv = plugin->SetUp(req);
  ASSERT_FALSE(mv.ok());
  EXPECT_NE(mv.status().message().find("CVE-2025-1767"), std::string::npos);
  EXPECT_FALSE(os::Exists(P("kvol/pods/u1/volumes/kubernetes.io~git-repo/code")));

  v.gitRepo->repository = P("bare.git");
  EXPECT_NE(plugin->SetUp(req).status().message().find("CVE-2025-1767"), std::string::npos);
}

TEST_F(GitRepoTest, DirectoryMustBeOneElement) {
  for (const std::string d : {"a/b", "..", "../x", "/abs"}) {
    Status st = CheckGitDirectory(d);
    EXPECT_EQ(st.code(), Code::kInvalid) << d;
    EXPECT_EQ(st.message(), "gitRepo directory \"" + d +
                                "\" must be \"\", \".\" or a single path element without '..'");
  }
  for (const std::string d : {"", ".", "src", "my.repo"}) EXPECT_TRUE(CheckGitDirectory(d).ok());
  GitTestOptions t{.allowLocal = true, .env = {}};
  EXPECT_EQ(GitCloneInto(P("vol"), P("bare.git"), "--upload-pack=x", "", &t).code(),
            Code::kInvalid);
}

TEST_F(GitRepoTest, CloneArgvDisablesHooksSubmodulesAndLocalTransports) {
  EXPECT_EQ(GitCloneArgv("https://h/r.git", "dst"),
            (std::vector<std::string>{"git", "-c", "core.hooksPath=/dev/null", "-c",
                                      "protocol.file.allow=never", "-c", "protocol.ext.allow=never",
                                      "clone", "--no-recurse-submodules", "--", "https://h/r.git",
                                      "dst"}));
}

TEST_F(GitRepoTest, CheckoutHookDoesNotRun) {
  std::string first = MakeRepos();
  WriteHook(P("work/.git/hooks"), P("marker"));
  // Control: a plain checkout runs the hook.
  Git({"checkout", "-q", first}, P("work"));
  ASSERT_TRUE(os::Exists(P("marker"))) << "the hook is not live: this test could not fail";
  ASSERT_EQ(::unlink(P("marker").c_str()), 0);
  Git({"checkout", "-q", "main"}, P("work"));
  ASSERT_EQ(::unlink(P("marker").c_str()), 0);

  GitTestOptions t{.allowLocal = true, .env = {}};
  ASSERT_TRUE(GitCheckout(P("work"), first, &t).ok());
  EXPECT_EQ(*os::ReadFile(P("work/file")), "one");
  EXPECT_FALSE(os::Exists(P("marker")));
}

TEST_F(GitRepoTest, CloneWithRevisionRunsNoHookAndIsIdempotent) {
  std::string first = MakeRepos();
  // A template whose post-checkout hook every new clone would get.
  WriteHook(P("template/hooks"), P("marker"));
  std::map<std::string, std::string> env = {{"GIT_TEMPLATE_DIR", P("template")}};
  Git({"clone", "-q", P("bare.git"), P("control")}, s_.path(), env);
  ASSERT_TRUE(os::Exists(P("marker"))) << "the template hook is not live: test could not fail";
  ASSERT_EQ(::unlink(P("marker").c_str()), 0);

  GitTestOptions t{.allowLocal = true, .env = env};
  // directory "." : the volume is the repository.
  ASSERT_TRUE(GitCloneInto(P("vol-dot"), P("bare.git"), first, ".", &t).ok());
  EXPECT_EQ(*os::ReadFile(P("vol-dot/file")), "one");
  // directory "src": the repository in a subdirectory.
  ASSERT_TRUE(GitCloneInto(P("vol-sub"), P("bare.git"), "", "src", &t).ok());
  EXPECT_EQ(*os::ReadFile(P("vol-sub/src/file")), "two");
  // directory "": git's own name for the clone.
  ASSERT_TRUE(GitCloneInto(P("vol-def"), P("bare.git"), first, "", &t).ok());
  EXPECT_EQ(*os::ReadFile(P("vol-def/bare/file")), "one");
  EXPECT_FALSE(os::Exists(P("marker")));
  EXPECT_FALSE(os::Exists(P("vol-dot.cloning")));

  // Idempotent: an existing clone is kept as it is.
  ASSERT_TRUE(os::WriteFileAtomic(P("vol-dot/file"), "edited").ok());
  ASSERT_TRUE(GitCloneInto(P("vol-dot"), P("bare.git"), first, ".", &t).ok());
  EXPECT_EQ(*os::ReadFile(P("vol-dot/file")), "edited");

  // A failed clone leaves nothing behind.
  EXPECT_FALSE(GitCloneInto(P("vol-bad"), P("no-such.git"), "", ".", &t).ok());
  EXPECT_FALSE(os::Exists(P("vol-bad")));
  EXPECT_FALSE(os::Exists(P("vol-bad.cloning")));
}

}  // namespace
}  // namespace kvol::volume
