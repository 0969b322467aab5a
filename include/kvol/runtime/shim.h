// The per-container shim (kvol::runtime), run as `kvol __shim <args>` by the runtime (forked by
// the pre-started `kvol __shim --zygote`, src/runtime/shim_zygote.h; exec'd when that is gone):
// detaches (setsid), enters a private mount namespace where /sys/fs/cgroup/unified is hidden, runs
// `crun run` for the bundle with stdout/stderr on pipes, copies them into the CRI log, and when
// the container exits writes DIR/.../exit.json ({"exitCode":N,"finishedAt":...,"reason":...}) and
// exits. It outlives the node agent (a SIGKILLed agent leaves it running; the restarted agent finds
// it through its pid file and exit file).
//
// Command line (built by the runtime, src/runtime/shim_protocol.h): `kvol __shim --bundle B
// --id ID --root CRUNROOT --log LOGPATH --exit EXITFILE --pid PIDFILE [--crun PATH]
// [--ready-fd N]`. The container is started with `crun run --detach` (crun's own errors go to
// B/crun.log, never into the container's log; the container is re-parented to the shim, a child
// subreaper). On fd N the shim writes "ok\n" once the container runs, or "fail\n" once the exit
// file holds {"reason":"StartError","exitCode":128,"message":<crun's error>}. Exit file:
// {"exitCode":N,"reason":"Completed"|"Error"|"StartError","message":"...","startedAt":"...",
// "finishedAt":"..."} (RFC 3339 UTC, seconds), written atomically (rename). B/started.json
// ({"startedAt","pid"}) appears when the container runs. SIGTERM/SIGINT/SIGHUP/SIGPIPE do not
// stop the shim: the runtime stops containers with `crun kill`.
#pragma once

namespace kvol::runtime {

// Entry point for the hidden subcommand; argv excludes "kvol __shim". Returns the exit code.
int ShimMain(int argc, char** argv);

}  // namespace kvol::runtime
