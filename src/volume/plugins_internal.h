// Internal to kvol::volume: the factory of each built-in plugin (BuiltinPlugins() lists them in
// order), and helpers the plugins share (paths, error codes, hostPath prefix checks, gitRepo
// argv). Not a public interface: only src/volume/*.cc include it.
//
// Thread safety: the helpers are stateless.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "kvol/common/status.h"
#include "kvol/os/mount.h"
#include "kvol/volume/plugin.h"

namespace kvol::volume {

std::unique_ptr<Plugin> NewEmptyDirPlugin();
std::unique_ptr<Plugin> NewHostPathPlugin();
std::unique_ptr<Plugin> NewConfigMapPlugin();    // H3: configmap.cc
std::unique_ptr<Plugin> NewSecretPlugin();       // H3: secret.cc
std::unique_ptr<Plugin> NewProjectedPlugin();    // H3: projected.cc
std::unique_ptr<Plugin> NewDownwardApiPlugin();  // H3: downward_api.cc
std::unique_ptr<Plugin> NewGitRepoPlugin();
std::unique_ptr<Plugin> NewNfsPlugin();
std::unique_ptr<Plugin> NewPvcPlugin();
// How long persistentVolumeClaim's SetUp waits for the Node to list a volume in
// status.volumesInUse before it gives up (kUnavailable); default 5 s.
void SetVolumesInUseWaitForTest(std::chrono::milliseconds wait);

// kvol::Code has no PermissionDenied / FailedPrecondition (the contract names them): until it
// does, a refused path is kForbidden and a spec this node can never serve is kForbidden too.
// Every plugin builds those errors through these two so the codes change in one place.
Status PermissionDenied(std::string message);
Status FailedPrecondition(std::string message);

// <podDir>/volumes/<pluginDir>/<dirName>
std::string VolumeDirPath(const std::string& podDir, const std::string& pluginDir,
                          const std::string& dirName);
// node.mounter, or os::RealMounter() when it is null (tests that build a bare NodeContext).
os::Mounter& MounterOf(const NodeContext& node);
// errno as "<what> <path>: <strerror>" (kInternal).
Status ErrnoError(const std::string& what, const std::string& path, int err);

// --- hostPath (shared with persistentVolumeClaim for PVs with spec.hostPath / spec.local) ---

// Lexically cleans an absolute path (Go's filepath.Clean): "//a/./b/" -> "/a/b".
std::string CleanPath(const std::string& p);
// Refuses a path that is not absolute or has a ".." element (kInvalid), then resolves symlinks in
// its longest existing prefix (realpath) and, when `allowed` is non-empty, requires the result to
// be under one of them by whole path components (kvol's PermissionDenied):
//   hostPath "/etc" is not under an allowed prefix (--allowed-host-paths: /data,/srv)
// Returns the resolved path.
Result<std::string> CheckAllowedHostPath(const std::string& path,
                                         const std::vector<std::string>& allowed);
// The kubelet's hostPath type checks (and creation for DirectoryOrCreate / FileOrCreate).
Status CheckHostPathType(const std::string& path, const std::string& type);

// --- gitRepo ---

// Refuses local repositories (CVE-2025-1767): kvol's PermissionDenied.
Status CheckGitRepository(const std::string& repository);
// "" / "." / one path element: kInvalid otherwise.
Status CheckGitDirectory(const std::string& directory);
// Test-only knobs of GitCloneInto.
struct GitTestOptions {
  bool allowLocal = false;                 // skip CheckGitRepository, allow the file transport
  std::map<std::string, std::string> env;  // added to the child environment
};
// The argv of the clone of `repository` (into `target` when non-empty), run in the directory that
// becomes the volume: hooks off, no submodules, no file/ext transports.
std::vector<std::string> GitCloneArgv(const std::string& repository, const std::string& target,
                                      bool allowFileProtocol = false);
// `git -c core.hooksPath=/dev/null checkout <revision> --` in repoDir (revision must not start
// with '-': kInvalid), with the environment GitCloneInto uses.
Status GitCheckout(const std::string& repoDir, const std::string& revision,
                   const GitTestOptions* test = nullptr);
// Clones (and checks out `revision` when non-empty) so that volumeDir holds what the kubelet puts
// there: the repository in volumeDir/<directory>, or volumeDir itself for ".", or the clone's
// default directory name for "". Clones into a sibling temp dir renamed into place, so a present,
// non-empty volumeDir is a finished clone and is kept (idempotent). The child gets
// GIT_CONFIG_NOSYSTEM=1, an empty temp HOME, GIT_TERMINAL_PROMPT=0.
Status GitCloneInto(const std::string& volumeDir, const std::string& repository,
                    const std::string& revision, const std::string& directory,
                    const GitTestOptions* test = nullptr);

// --- nfs ---

// True when `filesystems` (a /proc/filesystems-format file) lists nfs or nfs4.
bool KernelHasNfs(const std::string& filesystems = "/proc/filesystems");
// An nfs plugin reading the kernel's filesystem list from `filesystems`.
std::unique_ptr<Plugin> NewNfsPluginForTest(const std::string& filesystems);

}  // namespace kvol::volume
