#include "kvol/cli/cli.h"

#include <CLI/CLI.hpp>

#include <iostream>

#include "kvol/cli/image_import.h"
#include "kvol/cli/verbs.h"
#include "kvol/node/agent.h"
#include "kvol/server/serve.h"

namespace kvol::cli {

namespace {

constexpr const char* kVersion = "0.1.0";

}  // namespace

int RunCli(int argc, char** argv) {
  CLI::App app{"kvol: the Kubernetes storage system as one program", "kvol"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show every subcommand's help");

  auto* version = app.add_subcommand("version", "Print kvol's version");

  // validate
  std::vector<std::string> validateFiles;
  std::string unknownFields = "Strict";
  std::string validateOutput = "yaml";
  auto* validate = app.add_subcommand(
      "validate",
      "Check manifests offline: print them defaulted, or every error with its field path");
  validate
      ->add_option("-f,--filename", validateFiles, "Manifest file(s), YAML or JSON ('-' for stdin)")
      ->required();
  validate
      ->add_option("--unknown-fields", unknownFields,
                   "Strict, Warn or Ignore (as kubectl's --validate)")
      ->check(CLI::IsMember({"Strict", "Warn", "Ignore"}));
  validate->add_option("-o,--output", validateOutput, "yaml or json")
      ->check(CLI::IsMember({"yaml", "json"}));

  const char* const kProtectKernelHelp =
      "Leave the host's kernel settings alone (default: the node agent sets the cgroup2 option "
      "favordynmods, which makes container starts faster)";

  // serve
  server::ServeOptions serve;
  auto* serveCmd = app.add_subcommand(
      "serve", "Run the API server, the controllers and (unless --no-node) a node agent");
  serveCmd->add_option("--data-dir", serve.dataDir, "Data directory (store, token, kubeconfig)")
      ->required();
  serveCmd->add_option("--listen", serve.listen, "HOST:PORT to listen on (port 0 picks a free one)")
      ->required();
  serveCmd->add_option("--node-name", serve.nodeName, "This node's name (default: the hostname)");
  serveCmd->add_option("--zone", serve.zone, "This node's topology.kubernetes.io/zone");
  serveCmd->add_option("--store", serve.storeUrl, "Store URL (default: SQLite in the data dir)");
  serveCmd->add_flag("--no-node", serve.noNode, "Do not run a node agent in this process");
  serveCmd
      ->add_option("--allowed-host-paths", serve.allowedHostPaths,
                   "Comma-separated prefixes hostPath volumes may use (default: all)")
      ->delimiter(',');
  serveCmd->add_option("--block-pool", serve.blockPool, "Block volume pool directory");
  serveCmd->add_flag("--disable-builtin-classes", serve.disableBuiltinClasses,
                     "Do not create the built-in StorageClasses");
  serveCmd
      ->add_option("--node-monitor-grace-period", serve.nodeMonitorGracePeriodSeconds,
                   "Seconds without a heartbeat before a node is NotReady (default 40)")
      ->check(CLI::Range(0.5, 86400.0));
  serveCmd
      ->add_option("--node-status-update-frequency", serve.nodeStatusUpdateFrequencySeconds,
                   "Seconds between the local node's heartbeats (default 10)")
      ->check(CLI::Range(1, 3600));
  serveCmd->add_flag("--protect-kernel-defaults", serve.protectKernelDefaults, kProtectKernelHelp);

  // node
  node::NodeOptions nodeOpts;
  auto* nodeCmd = app.add_subcommand("node", "Run a node agent alone against an API server");
  nodeCmd->add_option("--server", nodeOpts.server, "API server URL (http(s)://HOST:PORT)")
      ->required();
  nodeCmd->add_option("--token", nodeOpts.token, "API bearer token")->required();
  nodeCmd
      ->add_option("--certificate-authority", nodeOpts.certificateAuthority,
                   "PEM file of the CA that signed an https API server's certificate (the "
                   "server's DIR/pki/ca.crt)")
      ->check(CLI::ExistingFile);
  nodeCmd->add_option("--data-dir", nodeOpts.dataDir, "This node's data directory")->required();
  nodeCmd->add_option("--node-name", nodeOpts.nodeName, "This node's name (default: the hostname)");
  nodeCmd->add_option("--zone", nodeOpts.zone, "This node's topology.kubernetes.io/zone");
  nodeCmd
      ->add_option("--allowed-host-paths", nodeOpts.allowedHostPaths,
                   "Comma-separated prefixes hostPath volumes may use (default: all)")
      ->delimiter(',');
  nodeCmd->add_option("--block-pool", nodeOpts.blockPool, "Block volume pool directory");
  nodeCmd
      ->add_option("--node-status-update-frequency", nodeOpts.heartbeatSeconds,
                   "Seconds between heartbeats (default 10)")
      ->check(CLI::Range(1, 3600));
  nodeCmd->add_flag("--protect-kernel-defaults", nodeOpts.protectKernelDefaults,
                    kProtectKernelHelp);

  // client verbs
  ClientOptions client;
  auto addClientFlags = [&](CLI::App* c) {
    c->add_option("--kubeconfig", client.kubeconfig, "Path to the kubeconfig file");
    c->add_option("-n,--namespace", client.ns, "Namespace");
  };
  std::vector<std::string> applyFiles;
  bool applyWait = false;
  double applyTimeout = 300;
  auto* apply =
      app.add_subcommand("apply", "Create or update objects from manifests, as kubectl apply");
  addClientFlags(apply);
  apply->add_option("-f,--filename", applyFiles, "Manifest file(s)")->required();
  apply->add_flag("--wait", applyWait, "Wait until claims are Bound and pods Running or finished");
  apply->add_option("--timeout", applyTimeout, "Seconds to wait with --wait");

  std::vector<std::string> getArgs;
  std::string getOutput;
  std::string getSelector;
  auto* get = app.add_subcommand("get", "Display objects, as kubectl get");
  addClientFlags(get);
  get->add_option("args", getArgs, "TYPE [NAME...] or TYPE/NAME")->required();
  get->add_option("-o,--output", getOutput, "wide, yaml, json or name");
  get->add_option("-l,--selector", getSelector, "Label selector");
  get->add_flag("-A,--all-namespaces", client.allNamespaces, "List across all namespaces");

  std::vector<std::string> describeArgs;
  auto* describe = app.add_subcommand("describe", "Show details of objects, as kubectl describe");
  addClientFlags(describe);
  describe->add_option("args", describeArgs, "TYPE NAME or TYPE/NAME")->required();

  std::vector<std::string> deleteArgs;
  std::vector<std::string> deleteFiles;
  bool ignoreNotFound = false;
  auto* del = app.add_subcommand("delete", "Delete objects, as kubectl delete");
  addClientFlags(del);
  del->add_option("args", deleteArgs, "TYPE NAME... or TYPE/NAME");
  del->add_option("-f,--filename", deleteFiles, "Manifest file(s)");
  del->add_flag("--ignore-not-found", ignoreNotFound, "Treat a missing object as deleted");

  LogsOptions logsOpts;
  auto* logs = app.add_subcommand("logs", "Print a container's logs, as kubectl logs");
  addClientFlags(logs);
  logs->add_option("pod", logsOpts.pod, "POD or pod/POD")->required();
  logs->add_option("-c,--container", logsOpts.container, "The container (default: the first)");
  logs->add_flag("-f,--follow", logsOpts.follow, "Keep streaming as the log grows");
  logs->add_flag("-p,--previous", logsOpts.previous, "The previous instance's log");
  logs->add_flag("--timestamps", logsOpts.timestamps, "Prefix each line with its timestamp");
  logs->add_option("--tail", logsOpts.tail, "Lines from the end (-1: all)");

  PlayOptions playOpts;
  auto* play =
      app.add_subcommand("play", "Run a manifest on an embedded server until its pods finish");
  play->add_option("-f,--filename", playOpts.file, "The manifest")->required();
  play->add_option("--data-dir", playOpts.dataDir,
                   "Data directory for the embedded server (default: a temporary one)");
  auto* image = app.add_subcommand("image", "Manage the node's image store");
  auto* imageImport = image->add_subcommand("import", "Import an OCI or docker-archive tar");
  std::string imageDataDir, imageFile, imageName;
  imageImport->add_option("--data-dir", imageDataDir,
                          "The node's data directory (default: " + DefaultDataDir() + ")");
  imageImport->add_option("file", imageFile, "FILE.tar (OCI archive or docker-archive)")
      ->required();
  imageImport->add_option("name", imageName, "NAME:TAG (default: the archive's own tag)");
  image->require_subcommand(1);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  if (*version) {
    std::cout << "kvol " << kVersion << "\n";
    return 0;
  }
  if (*validate)
    return RunValidate(validateFiles, unknownFields, validateOutput, std::cout, std::cerr);
  if (*serveCmd) return server::RunServe(serve);
  if (*apply) return RunApply(client, applyFiles, applyWait, applyTimeout, std::cout, std::cerr);
  if (*get) return RunGet(client, getArgs, getOutput, getSelector, std::cout, std::cerr);
  if (*describe) return RunDescribe(client, describeArgs, std::cout, std::cerr);
  if (*del) return RunDelete(client, deleteArgs, deleteFiles, ignoreNotFound, std::cout, std::cerr);
  if (*nodeCmd) return node::RunNode(nodeOpts);
  if (*logs) return RunLogs(client, logsOpts, std::cout, std::cerr);
  if (*play) return RunPlay(playOpts, std::cout, std::cerr);
  if (*imageImport) return RunImageImport(imageDataDir, imageFile, imageName, std::cout, std::cerr);
  return 0;
}

}  // namespace kvol::cli
