// gitRepo (deprecated in Kubernetes; kept here, made safe): a clone of a remote repository in
// DIR/pods/<uid>/volumes/kubernetes.io~git-repo/<name>.
// - Hooks never run (core.hooksPath=/dev/null on clone and checkout: CVE-2024-10220), submodules
//   are not fetched, the file and ext transports are off, and local paths / file:// URLs are
//   refused outright (CVE-2025-1767: a pod could read another pod's or the host's repositories).
// - git runs without a shell, with GIT_CONFIG_NOSYSTEM=1, an empty temporary HOME (no user
//   config, no credentials) and GIT_TERMINAL_PROMPT=0 (never waits on a prompt).
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dirent.h>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "kvol/os/exec.h"
#include "kvol/os/fs.h"
#include "src/volume/plugins_internal.h"

namespace kvol::volume {
namespace {

constexpr const char* kPluginDir = "kubernetes.io~git-repo";
constexpr double kGitTimeoutSec = 600;

bool StartsWithNoCase(const std::string& s, const std::string& p) {
  if (s.size() < p.size()) return false;
  for (size_t i = 0; i < p.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != p[i]) return false;
  }
  return true;
}

// scheme://rest with a scheme of [A-Za-z][A-Za-z0-9+.-]* and a host that does not start with '-'.
bool IsRemoteUrl(const std::string& r) {
  size_t p = r.find("://");
  if (p == std::string::npos || p == 0) return false;
  if (!std::isalpha(static_cast<unsigned char>(r[0]))) return false;
  for (size_t i = 0; i < p; ++i) {
    char c = r[i];
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '.' && c != '-') {
      return false;
    }
  }
  std::string rest = r.substr(p + 3);
  size_t at = rest.find('@');
  size_t slash = rest.find('/');
  std::string host = (at != std::string::npos && (slash == std::string::npos || at < slash))
                         ? rest.substr(at + 1)
                         : rest;
  return !host.empty() && host[0] != '-' && host[0] != '/';
}

// user@host:path (git's scp-like syntax), with no '/' before the ':'.
bool IsScpLike(const std::string& r) {
  size_t at = r.find('@');
  size_t colon = r.find(':');
  size_t slash = r.find('/');
  if (at == std::string::npos || colon == std::string::npos || at == 0) return false;
  if (colon < at || colon == at + 1 || colon + 1 >= r.size()) return false;
  if (slash != std::string::npos && slash < colon) return false;
  return r[at + 1] != '-';
}

// The environment of every git child.
Result<std::map<std::string, std::string>> GitEnv(const std::string& home,
                                                  const GitTestOptions* test) {
  std::map<std::string, std::string> env;
  const char* path = ::getenv("PATH");
  env["PATH"] = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  env["HOME"] = home;
  env["GIT_CONFIG_NOSYSTEM"] = "1";
  env["GIT_TERMINAL_PROMPT"] = "0";
  env["LC_ALL"] = "C";
  if (test != nullptr) {
    for (const auto& [k, v] : test->env) env[k] = v;
  }
  return env;
}

// An empty HOME for git, removed when the guard goes.
class TempHome {
 public:
  Status Make() {
    char tmpl[] = "/tmp/kvol-git-home-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) return ErrnoError("mkdtemp", tmpl, errno);
    path_ = tmpl;
    return Status::Ok();
  }
  ~TempHome() {
    if (!path_.empty()) (void)os::RemoveTreeOneFs(path_);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

Status RunGit(const std::vector<std::string>& argv, const std::string& cwd,
              const GitTestOptions* test) {
  TempHome home;
  KVOL_RETURN_IF_ERROR(home.Make());
  KVOL_ASSIGN_OR_RETURN(auto env, GitEnv(home.path(), test));
  os::ExecOptions opts;
  opts.env = std::move(env);
  opts.cwd = cwd;
  opts.timeoutSec = kGitTimeoutSec;
  auto r = os::ExecOk(argv, opts);
  return r.ok() ? Status::Ok() : r.status();
}

Result<std::vector<std::string>> ListDir(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return ErrnoError("opendir", dir, errno);
  while (struct dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") out.push_back(n);
  }
  ::closedir(d);
  return out;
}

}  // namespace

Status CheckGitRepository(const std::string& repository) {
  if (repository.empty()) return Invalid("gitRepo repository must not be empty");
  bool local = repository[0] == '/' || repository[0] == '.' || repository[0] == '~' ||
               repository[0] == '-' || StartsWithNoCase(repository, "file:") ||
               (!IsRemoteUrl(repository) && !IsScpLike(repository));
  if (local) {
    return PermissionDenied("gitRepo repository \"" + repository +
                            "\" is refused: only remote repositories (scheme://host/... or "
                            "user@host:path) can be cloned, never a local path or file:// URL "
                            "(CVE-2025-1767)");
  }
  return Status::Ok();
}

Status CheckGitDirectory(const std::string& directory) {
  if (directory.empty() || directory == ".") return Status::Ok();
  if (directory.find('/') != std::string::npos || directory == ".." ||
      directory.rfind("..", 0) == 0) {
    return Invalid("gitRepo directory \"" + directory +
                   "\" must be \"\", \".\" or a single path element without '..'");
  }
  return Status::Ok();
}

std::vector<std::string> GitCloneArgv(const std::string& repository, const std::string& target,
                                      bool allowFileProtocol) {
  std::vector<std::string> argv = {
      "git",
      "-c",
      "core.hooksPath=/dev/null",
      "-c",
      allowFileProtocol ? "protocol.file.allow=always" : "protocol.file.allow=never",
      "-c",
      "protocol.ext.allow=never",
      "clone",
      "--no-recurse-submodules",
      "--",
      repository};
  if (!target.empty()) argv.push_back(target);
  return argv;
}

Status GitCheckout(const std::string& repoDir, const std::string& revision,
                   const GitTestOptions* test) {
  if (revision.empty() || revision[0] == '-') {
    return Invalid("gitRepo revision \"" + revision + "\" is not a valid revision");
  }
  return RunGit({"git", "-c", "core.hooksPath=/dev/null", "checkout", revision, "--"}, repoDir,
                test);
}

Status GitCloneInto(const std::string& volumeDir, const std::string& repository,
                    const std::string& revision, const std::string& directory,
                    const GitTestOptions* test) {
  const bool allowLocal = test != nullptr && test->allowLocal;
  if (!allowLocal) KVOL_RETURN_IF_ERROR(CheckGitRepository(repository));
  KVOL_RETURN_IF_ERROR(CheckGitDirectory(directory));
  if (!revision.empty() && revision[0] == '-') {
    return Invalid("gitRepo revision \"" + revision + "\" must not start with '-'");
  }
  if (os::Exists(volumeDir)) {
    KVOL_ASSIGN_OR_RETURN(auto entries, ListDir(volumeDir));
    if (!entries.empty()) return Status::Ok();  // a finished clone (it is renamed into place)
    if (::rmdir(volumeDir.c_str()) != 0) return ErrnoError("rmdir", volumeDir, errno);
  }
  const std::string staging = volumeDir + ".cloning";
  KVOL_RETURN_IF_ERROR(os::RemoveTreeOneFs(staging));  // left by a SetUp that died
  KVOL_RETURN_IF_ERROR(os::MakeDirs(staging, 0755));
  auto fail = [&](Status st) {
    (void)os::RemoveTreeOneFs(staging);
    return st;
  };
  Status st = RunGit(GitCloneArgv(repository, directory, allowLocal), staging, test);
  if (!st.ok()) return fail(st);
  if (!revision.empty()) {
    std::string repoDir = staging;
    if (directory == ".") {
      // the volume is the repository
    } else if (!directory.empty()) {
      repoDir += "/" + directory;
    } else {
      auto entries = ListDir(staging);
      if (!entries.ok()) return fail(entries.status());
      if (entries->size() != 1) {
        return fail(Internal("gitRepo: unexpected directory contents after clone of \"" +
                             repository + "\""));
      }
      repoDir += "/" + entries->front();
    }
    st = GitCheckout(repoDir, revision, test);
    if (!st.ok()) return fail(st);
  }
  if (::rename(staging.c_str(), volumeDir.c_str()) != 0) {
    return fail(ErrnoError("rename", staging, errno));
  }
  return Status::Ok();
}

namespace {

class GitRepoPlugin : public Plugin {
 public:
  std::string PluginDir() const override { return kPluginDir; }
  bool CanHandle(const api::Volume& v) const override { return v.gitRepo.has_value(); }

  Result<MountedVolume> SetUp(const VolumeRequest& req) override {
    const api::GitRepoVolumeSource& src = *req.volume->gitRepo;
    const std::string dir = VolumeDirPath(req.podDir, kPluginDir, req.volume->name);
    KVOL_RETURN_IF_ERROR(os::MakeDirs(req.podDir + "/volumes/" + kPluginDir, 0750));
    KVOL_RETURN_IF_ERROR(GitCloneInto(dir, src.repository, src.revision, src.directory));
    MountedVolume mv;
    mv.pluginDir = kPluginDir;
    mv.dirName = req.volume->name;
    mv.hostPath = dir;
    return mv;
  }

  Status TearDown(const NodeContext& node, const std::string& podDir,
                  const std::string& dirName) override {
    const std::string dir = VolumeDirPath(podDir, kPluginDir, dirName);
    if (os::Exists(dir)) KVOL_RETURN_IF_ERROR(MounterOf(node).UnmountAllUnder(dir));
    KVOL_RETURN_IF_ERROR(os::RemoveTreeOneFs(dir + ".cloning"));
    return os::RemoveTreeOneFs(dir);
  }
};

}  // namespace

std::unique_ptr<Plugin> NewGitRepoPlugin() { return std::make_unique<GitRepoPlugin>(); }

}  // namespace kvol::volume
