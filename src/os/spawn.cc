#include "kvol/os/spawn.h"

#include <signal.h>

namespace kvol::os {

SpawnSetup::SpawnSetup(bool newProcessGroup) {
  posix_spawn_file_actions_init(&fa);
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
  if (newProcessGroup) {
    posix_spawnattr_setpgroup(&attr, 0);
    flags |= POSIX_SPAWN_SETPGROUP;
  }
  posix_spawnattr_setflags(&attr, flags);
}

SpawnSetup::~SpawnSetup() {
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
}

}  // namespace kvol::os
