// StorageClass, VolumeAttachment, CSIDriver and snapshot kinds: every rule with Kubernetes' (or
// external-snapshotter's CRD) exact path and message.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "kvol/api/defaults.h"
#include "kvol/api/scheme.h"
#include "kvol/api/validation.h"

namespace kvol::api {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::EndsWith;
using ::testing::IsEmpty;
using ::testing::StartsWith;

std::vector<std::string> Strings(const ErrorList& errs) {
  std::vector<std::string> out;
  for (const auto& e : errs) out.push_back(e.ToString());
  return out;
}

template <class T>
T Parse(const char* manifest) {
  T obj = FromJsonLoose<T>(json::parse(manifest));
  obj.metadata.resourceVersion = "5";
  return obj;
}

// ---- StorageClass -------------------------------------------------------------------------------

StorageClass SC(const char* manifest) {
  StorageClass sc = Parse<StorageClass>(manifest);
  DefaultStorageClass(sc);
  return sc;
}

constexpr const char* kLocalClass = R"({"metadata": {"name": "local"},
    "provisioner": "kvol.io/local", "parameters": {"type": "dir"}})";

TEST(ValidateStorageClass, ValidClassesPass) {
  EXPECT_THAT(Strings(ValidateStorageClass(SC(kLocalClass))), IsEmpty());
  EXPECT_THAT(Strings(ValidateStorageClass(SC(R"({"metadata": {"name": "zonal"},
      "provisioner": "kvol.io/block", "reclaimPolicy": "Retain",
      "volumeBindingMode": "WaitForFirstConsumer",
      "allowedTopologies": [{"matchLabelExpressions": [
        {"key": "topology.kubernetes.io/zone", "values": ["a", "b"]}]}]})"))),
              IsEmpty());
}

TEST(ValidateStorageClass, Provisioner) {
  EXPECT_THAT(Strings(ValidateStorageClass(SC(R"({"metadata": {"name": "x"}})"))),
              ElementsAre("provisioner: Required value"));
  auto errs = Strings(ValidateStorageClass(SC(R"({"metadata": {"name": "x"},
                                                  "provisioner": "Example.com/My Provisioner"})")));
  ASSERT_EQ(errs.size(), 1u);
  // Kubernetes checks (and prints) the lower-cased name.
  EXPECT_THAT(errs[0], StartsWith("provisioner: Invalid value: \"example.com/my provisioner\": "
                                  "name part must consist of alphanumeric characters"));
}

TEST(ValidateStorageClass, PoliciesAndBindingMode) {
  EXPECT_THAT(Strings(ValidateStorageClass(SC(R"({"metadata": {"name": "x"},
      "provisioner": "kvol.io/local", "reclaimPolicy": "Recycle",
      "volumeBindingMode": "Later"})"))),
              ElementsAre("reclaimPolicy: Unsupported value: \"Recycle\": supported values: "
                          "\"Delete\", \"Retain\"",
                          "volumeBindingMode: Unsupported value: \"Later\": supported values: "
                          "\"Immediate\", \"WaitForFirstConsumer\""));
  // Undefaulted, the binding mode is required.
  StorageClass raw = Parse<StorageClass>(kLocalClass);
  EXPECT_THAT(Strings(ValidateStorageClass(raw)), ElementsAre("volumeBindingMode: Required value"));
}

TEST(ValidateStorageClass, Parameters) {
  EXPECT_THAT(Strings(ValidateStorageClass(SC(R"({"metadata": {"name": "x"},
      "provisioner": "kvol.io/local", "parameters": {"": "v"}})"))),
              ElementsAre("parameters: Invalid value: \"\": field can not be empty."));
}

TEST(ValidateStorageClass, AllowedTopologies) {
  EXPECT_THAT(Strings(ValidateStorageClass(SC(R"({"metadata": {"name": "x"},
      "provisioner": "kvol.io/local",
      "allowedTopologies": [
        {"matchLabelExpressions": [{"key": "zone", "values": []},
                                   {"key": "zone", "values": ["a", "a"]}]},
        {"matchLabelExpressions": [{"key": "rack", "values": ["r1"]}]},
        {"matchLabelExpressions": [{"key": "rack", "values": ["r1"]}]}]})"))),
              ElementsAre("allowedTopologies[0].matchLabelExpressions[0].values: Required value",
                          "allowedTopologies[0].matchLabelExpressions[1].values[1]: Duplicate "
                          "value: \"a\"",
                          "allowedTopologies[0].matchLabelExpressions[1].key: Duplicate value: "
                          "\"zone\"",
                          "allowedTopologies[2].matchLabelExpressions: Duplicate value: \"\""));
}

TEST(ValidateStorageClassUpdate, ParametersProvisionerPolicyAndModeAreFixed) {
  StorageClass old = SC(kLocalClass);
  StorageClass now = old;
  now.allowVolumeExpansion = true;
  now.mountOptions = {"noatime"};
  now.metadata.annotations["storageclass.kubernetes.io/is-default-class"] = "true";
  EXPECT_THAT(Strings(ValidateStorageClassUpdate(now, old)), IsEmpty());

  now.parameters["type"] = "block";
  now.provisioner = "kvol.io/block";
  now.reclaimPolicy = "Retain";
  now.volumeBindingMode = "WaitForFirstConsumer";
  EXPECT_THAT(Strings(ValidateStorageClassUpdate(now, old)),
              ElementsAre("parameters: Forbidden: updates to parameters are forbidden.",
                          "provisioner: Forbidden: updates to provisioner are forbidden.",
                          "reclaimPolicy: Forbidden: updates to reclaimPolicy are forbidden.",
                          "volumeBindingMode: Invalid value: \"WaitForFirstConsumer\": field is "
                          "immutable"));
}

// ---- VolumeAttachment ---------------------------------------------------------------------------

constexpr const char* kAttachment = R"({"metadata": {"name": "csi-abc"},
    "spec": {"attacher": "kvol.io/block", "nodeName": "node-1",
             "source": {"persistentVolumeName": "pv-1"}}})";

TEST(ValidateVolumeAttachment, ValidAttachmentPasses) {
  EXPECT_THAT(Strings(ValidateVolumeAttachment(Parse<VolumeAttachment>(kAttachment))), IsEmpty());
  EXPECT_THAT(Strings(ValidateVolumeAttachment(Parse<VolumeAttachment>(R"({
      "metadata": {"name": "csi-inline"},
      "spec": {"attacher": "kvol.io/block", "nodeName": "node-1",
               "source": {"inlineVolumeSpec": {"accessModes": ["ReadWriteOnce"],
                          "csi": {"driver": "kvol.io/block", "volumeHandle": "v"}}}}})"))),
              IsEmpty());
}

TEST(ValidateVolumeAttachment, ExactlyOneSource) {
  VolumeAttachment va = Parse<VolumeAttachment>(kAttachment);
  va.spec.source.persistentVolumeName.reset();
  EXPECT_THAT(Strings(ValidateVolumeAttachment(va)),
              ElementsAre("spec.source: Required value: must specify exactly one of "
                          "inlineVolumeSpec and persistentVolumeName"));
  va.spec.source.persistentVolumeName = "pv-1";
  va.spec.source.inlineVolumeSpec = json::parse(R"({"csi": {"driver": "d", "volumeHandle": "v"}})");
  EXPECT_THAT(Strings(ValidateVolumeAttachment(va)),
              ElementsAre("spec.source: Forbidden: must specify exactly one of inlineVolumeSpec "
                          "and persistentVolumeName"));
  va.spec.source.inlineVolumeSpec = nullptr;
  va.spec.source.persistentVolumeName = "";
  EXPECT_THAT(Strings(ValidateVolumeAttachment(va)),
              Contains("spec.source.persistentVolumeName: Required value: must specify non empty "
                       "persistentVolumeName"));
}

TEST(ValidateVolumeAttachment, InlineSpecIsValidatedAsAnInlineVolume) {
  VolumeAttachment va = Parse<VolumeAttachment>(kAttachment);
  va.spec.source.persistentVolumeName.reset();
  va.spec.source.inlineVolumeSpec = json::parse(R"({"capacity": {"storage": "1Gi"},
      "accessModes": ["ReadWriteOnce"], "csi": {"driver": "kvol.io/block", "volumeHandle": "v"}})");
  EXPECT_THAT(Strings(ValidateVolumeAttachment(va)),
              ElementsAre("spec.source.inlineVolumeSpec.capacity: Forbidden: may not be specified "
                          "in the context of inline volumes"));
}

TEST(ValidateVolumeAttachment, AttacherAndNodeName) {
  VolumeAttachment va = Parse<VolumeAttachment>(kAttachment);
  va.spec.attacher = "";
  va.spec.nodeName = "Node_1";
  auto errs = Strings(ValidateVolumeAttachment(va));
  EXPECT_THAT(errs, Contains("spec.attacher: Required value"));
  EXPECT_THAT(errs, Contains(StartsWith("spec.nodeName: Invalid value: \"Node_1\": a lowercase "
                                        "RFC 1123 subdomain")));
}

TEST(ValidateVolumeAttachmentUpdate, SpecIsImmutableStatusIsNot) {
  VolumeAttachment old = Parse<VolumeAttachment>(kAttachment);
  VolumeAttachment now = old;
  now.status.attached = true;
  now.status.attachmentMetadata["devicePath"] = "/dev/loop3";
  EXPECT_THAT(Strings(ValidateVolumeAttachmentUpdate(now, old)), IsEmpty());
  now.spec.nodeName = "node-2";
  auto errs = Strings(ValidateVolumeAttachmentUpdate(now, old));
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_THAT(errs[0], StartsWith("spec: Invalid value: {"));
  EXPECT_THAT(errs[0], EndsWith("}: field is immutable"));
}

// ---- CSIDriver ----------------------------------------------------------------------------------

CSIDriver Driver(const char* spec) {
  CSIDriver d = Parse<CSIDriver>(R"({"metadata": {"name": "kvol.io.block"}})");
  d.spec = FromJsonLoose<CSIDriverSpec>(json::parse(spec));
  DefaultCSIDriver(d);
  return d;
}

TEST(ValidateCSIDriver, DefaultedDriverPasses) {
  EXPECT_THAT(Strings(ValidateCSIDriver(Driver("{}"))), IsEmpty());
}

TEST(ValidateCSIDriver, UndefaultedFieldsAreRequired) {
  CSIDriver d = Parse<CSIDriver>(R"({"metadata": {"name": "kvol.io.block"}})");
  EXPECT_THAT(
      Strings(ValidateCSIDriver(d)),
      ElementsAre("spec.attachedRequired: Required value", "spec.podInfoOnMount: Required value",
                  "spec.storageCapacity: Required value", "spec.seLinuxMount: Required value"));
}

TEST(ValidateCSIDriver, EnumsAndTokenRequests) {
  EXPECT_THAT(Strings(ValidateCSIDriver(Driver(R"({"fsGroupPolicy": "Sometimes",
      "volumeLifecycleModes": ["Persistent", "Forever"],
      "tokenRequests": [{"audience": "a", "expirationSeconds": 60}, {"audience": "a"},
                        {"audience": "b", "expirationSeconds": 5000000000}]})"))),
              ElementsAre("spec.fsGroupPolicy: Unsupported value: \"Sometimes\": supported values: "
                          "\"File\", \"None\", \"ReadWriteOnceWithFSType\"",
                          "spec.tokenRequests[0].expirationSeconds: Invalid value: 60: may not "
                          "specify a duration less than 10 minutes",
                          "spec.tokenRequests[1].audience: Duplicate value: \"a\"",
                          "spec.tokenRequests[2].expirationSeconds: Invalid value: 5000000000: may "
                          "not specify a duration larger than 2^32 seconds",
                          "spec.volumeLifecycleModes: Unsupported value: \"Forever\": supported "
                          "values: \"Persistent\", \"Ephemeral\""));
}

TEST(ValidateCSIDriverUpdate, AttachRequiredAndLifecycleModesAreFixed) {
  CSIDriver old = Driver("{}");
  CSIDriver now = old;
  now.spec.podInfoOnMount = true;
  now.spec.fsGroupPolicy = "File";
  now.spec.storageCapacity = true;
  EXPECT_THAT(Strings(ValidateCSIDriverUpdate(now, old)), IsEmpty());
  now.spec.attachRequired = false;
  now.spec.volumeLifecycleModes = {"Persistent", "Ephemeral"};
  EXPECT_THAT(
      Strings(ValidateCSIDriverUpdate(now, old)),
      ElementsAre("spec.attachedRequired: Invalid value: false: field is immutable",
                  "spec.volumeLifecycleModes: Invalid value: [\"Persistent\",\"Ephemeral\"]: "
                  "field is immutable"));
}

// ---- VolumeSnapshot -----------------------------------------------------------------------------

constexpr const char* kSnapshot = R"({"metadata": {"name": "snap", "namespace": "default"},
    "spec": {"volumeSnapshotClassName": "kvol", "source": {"persistentVolumeClaimName": "data"}}})";

TEST(ValidateVolumeSnapshot, Source) {
  EXPECT_THAT(Strings(ValidateVolumeSnapshot(Parse<VolumeSnapshot>(kSnapshot))), IsEmpty());
  VolumeSnapshot vs = Parse<VolumeSnapshot>(kSnapshot);
  vs.spec.source.volumeSnapshotContentName = "content";
  EXPECT_THAT(Strings(ValidateVolumeSnapshot(vs)),
              ElementsAre("spec.source: Invalid value: \"object\": exactly one of "
                          "volumeSnapshotContentName and persistentVolumeClaimName must be set"));
  vs.spec.source = {};
  EXPECT_THAT(Strings(ValidateVolumeSnapshot(vs)), ElementsAre("spec.source: Required value"));
}

TEST(ValidateVolumeSnapshot, EmptyClassNameAndNamespace) {
  VolumeSnapshot vs = Parse<VolumeSnapshot>(kSnapshot);
  vs.spec.volumeSnapshotClassName = "";
  vs.metadata.namespace_ = "";
  EXPECT_THAT(Strings(ValidateVolumeSnapshot(vs)),
              ElementsAre("metadata.namespace: Required value",
                          "spec.volumeSnapshotClassName: Invalid value: \"string\": "
                          "volumeSnapshotClassName must not be the empty string when set"));
}

TEST(ValidateVolumeSnapshotUpdate, SourceIsImmutable) {
  VolumeSnapshot old = Parse<VolumeSnapshot>(kSnapshot);
  VolumeSnapshot now = old;
  now.spec.volumeSnapshotClassName = "other";
  now.metadata.finalizers = {"snapshot.storage.kubernetes.io/volumesnapshot-as-source-protection"};
  EXPECT_THAT(Strings(ValidateVolumeSnapshotUpdate(now, old)), IsEmpty());
  now.spec.source.persistentVolumeClaimName = "other";
  EXPECT_THAT(Strings(ValidateVolumeSnapshotUpdate(now, old)),
              ElementsAre("spec.source.persistentVolumeClaimName: Invalid value: \"string\": "
                          "persistentVolumeClaimName is immutable"));
  now.spec.source.persistentVolumeClaimName.reset();
  now.spec.source.volumeSnapshotContentName = "c";
  EXPECT_THAT(Strings(ValidateVolumeSnapshotUpdate(now, old)),
              ElementsAre("spec.source: Invalid value: \"object\": persistentVolumeClaimName is "
                          "required once set"));
}

// ---- VolumeSnapshotContent ----------------------------------------------------------------------

constexpr const char* kContent = R"({"metadata": {"name": "snapcontent-1"},
    "spec": {"deletionPolicy": "Delete", "driver": "kvol.io/block",
             "source": {"volumeHandle": "vol-1"}, "sourceVolumeMode": "Filesystem",
             "volumeSnapshotRef": {"name": "snap", "namespace": "default"}}})";

TEST(ValidateVolumeSnapshotContent, RequiredFields) {
  EXPECT_THAT(Strings(ValidateVolumeSnapshotContent(Parse<VolumeSnapshotContent>(kContent))),
              IsEmpty());
  EXPECT_THAT(Strings(ValidateVolumeSnapshotContent(
                  Parse<VolumeSnapshotContent>(R"({"metadata": {"name": "c"}})"))),
              ElementsAre("spec.deletionPolicy: Required value", "spec.driver: Required value",
                          "spec.source: Required value", "spec.volumeSnapshotRef: Required value"));
}

TEST(ValidateVolumeSnapshotContent, EnumOneOfAndReference) {
  VolumeSnapshotContent c = Parse<VolumeSnapshotContent>(kContent);
  c.spec.deletionPolicy = "Keep";
  c.spec.source.snapshotHandle = "snap-1";
  c.spec.volumeSnapshotRef.namespace_ = "";
  EXPECT_THAT(Strings(ValidateVolumeSnapshotContent(c)),
              ElementsAre("spec.deletionPolicy: Unsupported value: \"Keep\": supported values: "
                          "\"Delete\", \"Retain\"",
                          "spec.source: Invalid value: \"object\": exactly one of volumeHandle and "
                          "snapshotHandle must be set",
                          "spec.volumeSnapshotRef: Invalid value: \"object\": both "
                          "spec.volumeSnapshotRef.name and spec.volumeSnapshotRef.namespace must "
                          "be set"));
}

TEST(ValidateVolumeSnapshotContentUpdate, HandlesAndSourceVolumeModeAreImmutable) {
  VolumeSnapshotContent old = Parse<VolumeSnapshotContent>(kContent);
  VolumeSnapshotContent now = old;
  now.spec.volumeSnapshotRef.uid = "1234";  // the controller binds it
  now.spec.deletionPolicy = "Retain";
  EXPECT_THAT(Strings(ValidateVolumeSnapshotContentUpdate(now, old)), IsEmpty());
  now.spec.source.volumeHandle = "vol-2";
  now.spec.sourceVolumeMode = "Block";
  EXPECT_THAT(Strings(ValidateVolumeSnapshotContentUpdate(now, old)),
              ElementsAre("spec.sourceVolumeMode: Invalid value: \"string\": sourceVolumeMode is "
                          "immutable",
                          "spec.source.volumeHandle: Invalid value: \"string\": volumeHandle is "
                          "immutable"));
  now = old;
  now.spec.sourceVolumeMode.reset();
  now.spec.source.volumeHandle.reset();
  now.spec.source.snapshotHandle = "s";
  EXPECT_THAT(Strings(ValidateVolumeSnapshotContentUpdate(now, old)),
              ElementsAre("spec: Invalid value: \"object\": sourceVolumeMode is required once set",
                          "spec.source: Invalid value: \"object\": volumeHandle is required once "
                          "set"));
}

// ---- VolumeSnapshotClass ------------------------------------------------------------------------

TEST(ValidateVolumeSnapshotClass, DriverAndDeletionPolicy) {
  EXPECT_THAT(Strings(ValidateVolumeSnapshotClass(Parse<VolumeSnapshotClass>(
                  R"({"metadata": {"name": "kvol"}, "driver": "kvol.io/block",
                      "deletionPolicy": "Retain"})"))),
              IsEmpty());
  EXPECT_THAT(Strings(ValidateVolumeSnapshotClass(
                  Parse<VolumeSnapshotClass>(R"({"metadata": {"name": "kvol"}})"))),
              ElementsAre("deletionPolicy: Required value", "driver: Required value"));
  EXPECT_THAT(Strings(ValidateVolumeSnapshotClass(Parse<VolumeSnapshotClass>(
                  R"({"metadata": {"name": "kvol"}, "driver": "d", "deletionPolicy": "Never"})"))),
              ElementsAre("deletionPolicy: Unsupported value: \"Never\": supported values: "
                          "\"Delete\", \"Retain\""));
}

}  // namespace
}  // namespace kvol::api
