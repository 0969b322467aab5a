#include <gtest/gtest.h>

#include "pod_worker.h"

namespace kvol::node {
namespace {

using api::json;

class FakeObjects : public volume::ObjectSource {
 public:
  std::map<std::string, json> objs;  // "resource/ns/name"
  Result<json> Get(const std::string& resource, const std::string& ns,
                   const std::string& name) override {
    auto it = objs.find(resource + "/" + ns + "/" + name);
    if (it == objs.end()) return NotFound(resource + " \"" + name + "\" not found");
    return it->second;
  }
};

api::Container C(json j) {
  api::Container c;
  api::DecodeContext ctx;
  api::FromJson(j, c, ctx);
  EXPECT_TRUE(ctx.errors.empty());
  return c;
}

api::Pod P(json j) {
  api::Pod p;
  api::DecodeContext ctx;
  api::FromJson(j, p, ctx);
  return p;
}

TEST(ContainerArgs, CommandAndArgsOverImageEntrypointAndCmd) {
  image::ImageConfig img;
  img.entrypoint = {"/entry"};
  img.cmd = {"--default"};
  std::map<std::string, std::string> env = {{"WHO", "world"}};
  // Neither: Entrypoint + Cmd.
  EXPECT_EQ(ContainerArgs(img, C({{"name", "a"}}), env),
            (std::vector<std::string>{"/entry", "--default"}));
  // Only args: Entrypoint + args (Cmd dropped).
  EXPECT_EQ(ContainerArgs(img, C({{"name", "a"}, {"args", {"x"}}}), env),
            (std::vector<std::string>{"/entry", "x"}));
  // Command: command + args, the image ignored.
  EXPECT_EQ(ContainerArgs(
                img, C({{"name", "a"}, {"command", {"sh", "-c"}}, {"args", {"echo $(WHO)"}}}), env),
            (std::vector<std::string>{"sh", "-c", "echo world"}));
  EXPECT_EQ(ContainerArgs(img, C({{"name", "a"}, {"command", {"echo"}}}), env),
            (std::vector<std::string>{"echo"}));
}

TEST(ExpandVars, KubernetesRules) {
  std::map<std::string, std::string> env = {{"A", "1"}, {"B", "two"}};
  EXPECT_EQ(ExpandVars("$(A)-$(B)", env), "1-two");
  EXPECT_EQ(ExpandVars("$(UNKNOWN)", env), "$(UNKNOWN)");
  EXPECT_EQ(ExpandVars("$$(A)", env), "$(A)");
  EXPECT_EQ(ExpandVars("cost $5", env), "cost $5");
  EXPECT_EQ(ExpandVars("$(A", env), "$(A");
  EXPECT_EQ(ExpandVars("$", env), "$");
}

TEST(ContainerEnv, ValuesRefsAndEnvFromInKubernetesOrder) {
  FakeObjects objs;
  objs.objs["configmaps/default/cfg"] = {
      {"data", {{"MODE", "fast"}, {"bad key", "x"}, {"LEVEL", "3"}}}};
  objs.objs["secrets/default/sec"] = {{"data", {{"PASSWORD", "c2VjcmV0"}}}};  // "secret"
  api::Pod pod = P(
      {{"metadata",
        {{"name", "web"}, {"namespace", "default"}, {"uid", "u-1"}, {"labels", {{"app", "web"}}}}},
       {"spec", {{"nodeName", "n1"}, {"serviceAccountName", "sa"}}}});
  api::Container c =
      C({{"name", "app"},
         {"envFrom", {{{"configMapRef", {{"name", "cfg"}}}, {"prefix", "CFG_"}}}},
         {"env",
          {{{"name", "GREETING"}, {"value", "hi $(CFG_MODE)"}},
           {{"name", "POD"}, {"valueFrom", {{"fieldRef", {{"fieldPath", "metadata.name"}}}}}},
           {{"name", "APP"},
            {"valueFrom", {{"fieldRef", {{"fieldPath", "metadata.labels['app']"}}}}}},
           {{"name", "NODE"}, {"valueFrom", {{"fieldRef", {{"fieldPath", "spec.nodeName"}}}}}},
           {{"name", "HOST_IP"}, {"valueFrom", {{"fieldRef", {{"fieldPath", "status.hostIP"}}}}}},
           {{"name", "PW"},
            {"valueFrom", {{"secretKeyRef", {{"name", "sec"}, {"key", "PASSWORD"}}}}}},
           {{"name", "CFG_LEVEL"},
            {"valueFrom", {{"configMapKeyRef", {{"name", "cfg"}, {"key", "MODE"}}}}}}}}});
  NodeFacts facts;
  auto env = ContainerEnv(pod, c, objs, facts);
  ASSERT_TRUE(env.ok()) << env.status().message();
  std::vector<std::pair<std::string, std::string>> want = {
      {"CFG_LEVEL", "fast"},  // envFrom first; the later env entry overrides in place
      {"CFG_MODE", "fast"},  {"GREETING", "hi fast"},  {"POD", "web"},  {"APP", "web"},
      {"NODE", "n1"},        {"HOST_IP", "127.0.0.1"}, {"PW", "secret"}};
  EXPECT_EQ(*env, want);
}

TEST(ContainerEnv, MissingReferencesUseTheKubeletsMessages) {
  FakeObjects objs;
  objs.objs["configmaps/ns1/cfg"] = {{"data", {{"A", "1"}}}};
  api::Pod pod = P({{"metadata", {{"name", "p"}, {"namespace", "ns1"}, {"uid", "u"}}}});
  NodeFacts facts;
  auto missingMap = ContainerEnv(
      pod, C({{"name", "a"}, {"envFrom", {{{"configMapRef", {{"name", "nope"}}}}}}}), objs, facts);
  ASSERT_FALSE(missingMap.ok());
  EXPECT_EQ(missingMap.status().message(), "configmap \"nope\" not found");
  auto missingKey =
      ContainerEnv(pod,
                   C({{"name", "a"},
                      {"env",
                       {{{"name", "X"},
                         {"valueFrom", {{"configMapKeyRef", {{"name", "cfg"}, {"key", "B"}}}}}}}}}),
                   objs, facts);
  ASSERT_FALSE(missingKey.ok());
  EXPECT_EQ(missingKey.status().message(), "couldn't find key B in ConfigMap ns1/cfg");
  auto missingSecret = ContainerEnv(
      pod,
      C({{"name", "a"},
         {"env",
          {{{"name", "X"}, {"valueFrom", {{"secretKeyRef", {{"name", "s"}, {"key", "k"}}}}}}}}}),
      objs, facts);
  ASSERT_FALSE(missingSecret.ok());
  EXPECT_EQ(missingSecret.status().message(), "secret \"s\" not found");
  // optional: skipped.
  auto optional = ContainerEnv(
      pod,
      C({{"name", "a"},
         {"env",
          {{{"name", "X"},
            {"valueFrom",
             {{"secretKeyRef", {{"name", "s"}, {"key", "k"}, {"optional", true}}}}}}}}}),
      objs, facts);
  ASSERT_TRUE(optional.ok());
  EXPECT_TRUE(optional->empty());
}

TEST(MergeEnv, ContainerOverridesImageAndPathIsDefaulted) {
  auto env = MergeEnv({"PATH=/bin", "LANG=C"}, {{"LANG", "en_US.UTF-8"}, {"X", "1"}}, "web");
  EXPECT_EQ(env,
            (std::vector<std::string>{"PATH=/bin", "LANG=en_US.UTF-8", "HOSTNAME=web", "X=1"}));
  auto noPath = MergeEnv({}, {}, "h");
  EXPECT_EQ(noPath, (std::vector<std::string>{std::string("PATH=") + kDefaultPath, "HOSTNAME=h"}));
}

TEST(RestartPolicy, Decisions) {
  EXPECT_TRUE(ShouldRestart("Always", 0));
  EXPECT_TRUE(ShouldRestart("Always", 1));
  EXPECT_TRUE(ShouldRestart("", 0));
  EXPECT_FALSE(ShouldRestart("OnFailure", 0));
  EXPECT_TRUE(ShouldRestart("OnFailure", 137));
  EXPECT_FALSE(ShouldRestart("Never", 1));
}

TEST(Backoff, FirstAtOnceThenTenSecondsDoublingToFiveMinutesAndResetAfterTenMinutes) {
  using std::chrono::seconds;
  Backoff b;
  std::vector<int64_t> delays;
  for (int i = 0; i < 8; ++i) delays.push_back(b.OnExit(seconds(1)).count());
  EXPECT_EQ(delays, (std::vector<int64_t>{0, 10, 20, 40, 80, 160, 300, 300}));
  EXPECT_EQ(b.OnExit(seconds(600)).count(), 0);  // ran 10 minutes: starts over
  EXPECT_EQ(b.OnExit(seconds(5)).count(), 10);
}

TEST(ContainerId, RoundTrip) {
  std::string id = MakeContainerId("0b5c-11aa", "app", 3);
  EXPECT_EQ(id, "0b5c-11aa_app_3");
  std::string uid, name;
  int rc = -1;
  ASSERT_TRUE(ParseContainerId(id, &uid, &name, &rc));
  EXPECT_EQ(uid, "0b5c-11aa");
  EXPECT_EQ(name, "app");
  EXPECT_EQ(rc, 3);
  EXPECT_FALSE(ParseContainerId("nounderscore", &uid, &name, &rc));
  EXPECT_FALSE(ParseContainerId("u_app_x", &uid, &name, &rc));
  EXPECT_EQ(ContainerIdUri(id), "crun://0b5c-11aa_app_3");
}

// --- status -------------------------------------------------------------------------------------

api::Pod TwoContainers(const std::string& policy) {
  return P({{"metadata", {{"name", "p"}, {"namespace", "default"}, {"uid", "u"}}},
            {"spec",
             {{"restartPolicy", policy},
              {"containers",
               {{{"name", "a"}, {"image", "busybox"}}, {{"name", "b"}, {"image", "busybox"}}}}}},
            {"status",
             {{"conditions",
               {{{"type", "PodScheduled"},
                 {"status", "True"},
                 {"lastTransitionTime", "2026-01-01T00:00:00Z"}}}}}}});
}

ContainerRecord Rec(const std::string& name, runtime::State s, int exitCode = 0) {
  ContainerRecord r;
  r.name = name;
  if (s != runtime::State::kUnknown) {
    r.id = "u_" + name + "_0";
    r.rt.id = r.id;
    r.rt.state = s;
    r.rt.exitCode = exitCode;
    r.rt.startedAt = "2026-11-27T07:00:00Z";
    if (s == runtime::State::kExited) r.rt.finishedAt = "2026-11-27T07:00:05Z";
  }
  r.image = "docker.io/library/busybox:latest";
  r.imageID = "sha256:abc";
  return r;
}

const api::PodCondition* Find(const api::PodStatus& s, const std::string& type) {
  for (const auto& c : s.conditions) {
    if (c.type == type) return &c;
  }
  return nullptr;
}

TEST(PodStatus, PendingWhileCreatingThenRunning) {
  api::Pod pod = TwoContainers("Always");
  const std::string now = "2026-11-27T07:00:01Z";
  auto st = ComputePodStatus(
      pod, {}, {Rec("a", runtime::State::kRunning), Rec("b", runtime::State::kUnknown)}, true,
      pod.status, now);
  EXPECT_EQ(st.phase, "Pending");
  ASSERT_EQ(st.containerStatuses.size(), 2u);
  EXPECT_EQ(st.containerStatuses[1].state.waiting->reason, "ContainerCreating");
  EXPECT_EQ(Find(st, "Ready")->status, "False");
  EXPECT_EQ(Find(st, "Ready")->reason, "ContainersNotReady");
  EXPECT_EQ(Find(st, "Ready")->message, "containers with unready status: [b]");
  EXPECT_EQ(Find(st, "PodScheduled")->lastTransitionTime, "2026-01-01T00:00:00Z");
  EXPECT_EQ(st.hostIP, "127.0.0.1");
  EXPECT_EQ(st.startTime, now);

  auto st2 = ComputePodStatus(
      pod, {}, {Rec("a", runtime::State::kRunning), Rec("b", runtime::State::kRunning)}, true, st,
      "2026-11-27T07:00:02Z");
  EXPECT_EQ(st2.phase, "Running");
  EXPECT_EQ(Find(st2, "Ready")->status, "True");
  EXPECT_EQ(Find(st2, "Ready")->lastTransitionTime, "2026-11-27T07:00:02Z");
  EXPECT_EQ(Find(st2, "Initialized")->lastTransitionTime, now);  // unchanged: kept
  EXPECT_EQ(st2.startTime, now);
  const auto& a = st2.containerStatuses[0];
  EXPECT_TRUE(a.ready);
  EXPECT_EQ(a.started, true);
  EXPECT_EQ(a.containerID, "crun://u_a_0");
  EXPECT_EQ(a.state.running->startedAt, "2026-11-27T07:00:00Z");
  EXPECT_EQ(a.image, "docker.io/library/busybox:latest");
  EXPECT_EQ(a.imageID, "sha256:abc");
}

TEST(PodStatus, TerminalPhasesByRestartPolicy) {
  for (const auto& [policy, codeB, phase] :
       std::vector<std::tuple<std::string, int, std::string>>{{"Never", 0, "Succeeded"},
                                                              {"Never", 1, "Failed"},
                                                              {"OnFailure", 0, "Succeeded"},
                                                              {"OnFailure", 2, "Running"},
                                                              {"Always", 0, "Running"}}) {
    api::Pod pod = TwoContainers(policy);
    auto st = ComputePodStatus(
        pod, {}, {Rec("a", runtime::State::kExited, 0), Rec("b", runtime::State::kExited, codeB)},
        true, pod.status, "2026-11-27T07:00:09Z");
    EXPECT_EQ(st.phase, phase) << policy << " " << codeB;
    EXPECT_EQ(st.containerStatuses[1].state.terminated->exitCode, codeB);
    EXPECT_EQ(st.containerStatuses[1].state.terminated->reason, codeB ? "Error" : "Completed");
    if (phase == "Succeeded") {
      EXPECT_EQ(Find(st, "Ready")->reason, "PodCompleted");
    }
  }
}

TEST(PodStatus, CrashLoopBackOffShowsWaitingWithLastState) {
  api::Pod pod = TwoContainers("Always");
  ContainerRecord b = Rec("b", runtime::State::kExited, 3);
  b.restartCount = 2;
  b.waitingReason = "CrashLoopBackOff";
  b.waitingMessage = "back-off 20s restarting failed container=b pod=p_default(u)";
  auto st = ComputePodStatus(pod, {}, {Rec("a", runtime::State::kRunning), b}, true, pod.status,
                             "2026-11-27T07:00:09Z");
  EXPECT_EQ(st.phase, "Running");
  const auto& s = st.containerStatuses[1];
  EXPECT_EQ(s.restartCount, 2);
  EXPECT_EQ(s.state.waiting->reason, "CrashLoopBackOff");
  EXPECT_EQ(s.lastState.terminated->exitCode, 3);
  EXPECT_EQ(s.lastState.terminated->containerID, "crun://u_b_0");
  EXPECT_FALSE(s.ready);
}

TEST(PodStatus, InitContainersGateTheRest) {
  api::Pod pod = TwoContainers("Never");
  pod.spec.initContainers.push_back(C({{"name", "init"}, {"image", "busybox"}}));
  ContainerRecord init = Rec("init", runtime::State::kRunning);
  init.init = true;
  auto st = ComputePodStatus(
      pod, {init}, {Rec("a", runtime::State::kUnknown), Rec("b", runtime::State::kUnknown)}, true,
      pod.status, "2026-11-27T07:00:09Z");
  EXPECT_EQ(st.phase, "Pending");
  EXPECT_EQ(Find(st, "Initialized")->status, "False");
  EXPECT_EQ(Find(st, "Initialized")->message, "containers with incomplete status: [init]");
  EXPECT_EQ(st.containerStatuses[0].state.waiting->reason, "PodInitializing");

  ContainerRecord failed = Rec("init", runtime::State::kExited, 1);
  failed.init = true;
  failed.done = true;
  auto st2 = ComputePodStatus(
      pod, {failed}, {Rec("a", runtime::State::kUnknown), Rec("b", runtime::State::kUnknown)}, true,
      pod.status, "2026-11-27T07:00:09Z");
  EXPECT_EQ(st2.phase, "Failed");

  ContainerRecord ok = Rec("init", runtime::State::kExited, 0);
  ok.init = true;
  auto st3 = ComputePodStatus(
      pod, {ok}, {Rec("a", runtime::State::kRunning), Rec("b", runtime::State::kRunning)}, true,
      pod.status, "2026-11-27T07:00:09Z");
  EXPECT_EQ(st3.phase, "Running");
  EXPECT_EQ(Find(st3, "Initialized")->status, "True");
  EXPECT_EQ(st3.initContainerStatuses[0].state.terminated->reason, "Completed");
}

TEST(PodStatus, ImageErrorsAreWaitingReasons) {
  api::Pod pod = TwoContainers("Always");
  ContainerRecord b = Rec("b", runtime::State::kUnknown);
  b.waitingReason = "ErrImageNeverPull";
  b.waitingMessage = "Container image \"nope\" is not present with pull policy of Never";
  auto st = ComputePodStatus(pod, {}, {Rec("a", runtime::State::kRunning), b}, true, pod.status,
                             "2026-11-27T07:00:09Z");
  EXPECT_EQ(st.phase, "Pending");
  EXPECT_EQ(st.containerStatuses[1].state.waiting->reason, "ErrImageNeverPull");
  EXPECT_EQ(st.containerStatuses[1].state.waiting->message, b.waitingMessage);
}

}  // namespace
}  // namespace kvol::node
