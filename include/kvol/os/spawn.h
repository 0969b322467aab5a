// SpawnSetup: the posix_spawn file actions and attributes for a child that starts with a clean
// signal state, released with the object. The attributes give the child an empty signal mask and
// every signal at its default disposition (what this process ignores or handles, e.g. SIGPIPE,
// is not inherited) and, when asked, a process group of its own (so a kill of the group reaches
// what the child starts). Callers add their file actions to `fa` and pass `&fa`, `&attr` to
// posix_spawn/posix_spawnp.
//
// Thread safety: one object per spawn; not shared between threads.
#pragma once

#include <spawn.h>

namespace kvol::os {

class SpawnSetup {
 public:
  explicit SpawnSetup(bool newProcessGroup);
  ~SpawnSetup();
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;

  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
};

}  // namespace kvol::os
