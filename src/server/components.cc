// The in-process components `kvol serve` runs beside the API server, in start order. Each starts
// after the API serves and before the ready line; its stop function runs at shutdown in reverse
// order (see serve.h).
#include "kvol/controller/manager.h"
#include "kvol/node/agent.h"
#include "kvol/server/serve.h"

namespace kvol::server {

std::vector<ComponentStart> DefaultComponents() {
  std::vector<ComponentStart> out;
  // kube-controller-manager + kube-scheduler: binder, provisioner, reclaimer, protection,
  // scheduler, all meeting the API server at the store.
  out.push_back([](const ServeContext& ctx) -> Result<std::function<void()>> {
    controller::ControllerManagerOptions o;
    o.nodeName = ctx.nodeName.empty() ? DefaultNodeName() : ctx.nodeName;
    o.dataDir = ctx.options->dataDir;
    o.blockPool = ctx.options->blockPool;
    o.zone = ctx.options->zone;
    o.nodeMonitorGracePeriod = std::chrono::milliseconds(
        static_cast<int64_t>(ctx.options->nodeMonitorGracePeriodSeconds * 1000));
    auto mgr = std::make_shared<controller::ControllerManager>(*ctx.store, o);
    KVOL_RETURN_IF_ERROR(mgr->Start());
    return std::function<void()>([mgr] { mgr->Stop(); });
  });
  // The local node agent (kubelet): it reaches the cluster only through the API, exactly as
  // `kvol node` does. Its stop is the clean stop (SIGTERM): containers stopped with their grace
  // periods, volumes unmounted; pods stay in the store.
  out.push_back([](const ServeContext& ctx) -> Result<std::function<void()>> {
    if (ctx.options->noNode) return std::function<void()>();
    node::NodeOptions o;
    o.server = ctx.url;
    o.token = ctx.token;
    o.certificateAuthority = ctx.caFile;
    o.dataDir = ctx.options->dataDir;
    o.nodeName = ctx.nodeName.empty() ? DefaultNodeName() : ctx.nodeName;
    o.zone = ctx.options->zone;
    o.allowedHostPaths = ctx.options->allowedHostPaths;
    o.blockPool = ctx.options->blockPool;
    o.heartbeatSeconds = ctx.options->nodeStatusUpdateFrequencySeconds;
    o.protectKernelDefaults = ctx.options->protectKernelDefaults;
    auto agent = std::make_shared<node::Agent>(o);
    KVOL_RETURN_IF_ERROR(agent->Start());
    return std::function<void()>([agent] { agent->Stop(true); });
  });
  return out;
}

}  // namespace kvol::server
