// Running helper programs (mkfs, git, tar, crun...) without a shell (kvol::os): argv as given,
// stdin from a string, stdout and stderr captured, a timeout after which the child gets SIGKILL.
// posix_spawn-based (safe in a multithreaded process); the child gets a clean signal mask.
//
// Thread safety: stateless; may be called from many threads.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "kvol/common/status.h"

namespace kvol::os {

struct ExecOptions {
  std::string stdinData;
  std::map<std::string, std::string> env;  // replaces the environment when non-empty
  std::string cwd;
  double timeoutSec = 60;  // <= 0: no limit
};

struct ExecResult {
  int exitCode = -1;  // 128+N when killed by signal N
  std::string out, err;
};

// Runs argv[0] (looked up in PATH when it has no '/'). A non-OK Status only when the program
// could not be started or timed out (kTimeout); a non-zero exit is a normal ExecResult.
Result<ExecResult> Exec(const std::vector<std::string>& argv, const ExecOptions& opts = {});
// Exec, and a non-zero exit becomes kInternal "<argv0> failed (exit N): <first stderr line>".
Result<ExecResult> ExecOk(const std::vector<std::string>& argv, const ExecOptions& opts = {});

}  // namespace kvol::os
