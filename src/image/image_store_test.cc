// ImageStore against real archives: the busybox image scripts/make-busybox-image.sh builds, OCI
// layouts and docker-archives written here (ustar headers by hand), and layers built to escape.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "digest.h"
#include "kvol/api/reflect.h"
#include "kvol/cli/image_import.h"
#include "kvol/image/image_store.h"
#include "kvol/os/exec.h"
#include "layer.h"

namespace kvol::image {
namespace {

using api::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// A minimal ustar writer: enough to build layers no well-behaved tool would write.
class TarBuilder {
 public:
  TarBuilder& File(const std::string& name, const std::string& data, unsigned mode = 0644) {
    Header(name, '0', data.size(), mode, "");
    out_ += data;
    out_.append((512 - data.size() % 512) % 512, '\0');
    return *this;
  }
  TarBuilder& Dir(const std::string& name, unsigned mode = 0755) {
    Header(name, '5', 0, mode, "");
    return *this;
  }
  TarBuilder& Symlink(const std::string& name, const std::string& target) {
    Header(name, '2', 0, 0777, target);
    return *this;
  }
  TarBuilder& Hardlink(const std::string& name, const std::string& target) {
    Header(name, '1', 0, 0644, target);
    return *this;
  }
  std::string Build() const { return out_ + std::string(1024, '\0'); }

 private:
  void Header(const std::string& name, char type, size_t size, unsigned mode,
              const std::string& link) {
    char h[512] = {};
    std::snprintf(h, 100, "%s", name.c_str());
    std::snprintf(h + 100, 8, "%07o", mode);
    std::snprintf(h + 108, 8, "%07o", 0);
    std::snprintf(h + 116, 8, "%07o", 0);
    std::snprintf(h + 124, 12, "%011o", static_cast<unsigned>(size));
    std::snprintf(h + 136, 12, "%011o", 1700000000u);
    std::memset(h + 148, ' ', 8);
    h[156] = type;
    std::snprintf(h + 157, 100, "%s", link.c_str());
    std::memcpy(h + 257,
                "ustar\0"
                "00",
                8);
    unsigned sum = 0;
    for (unsigned char c : h) sum += c;
    std::snprintf(h + 148, 8, "%06o", sum);
    out_.append(h, 512);
  }
  std::string out_;
};

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteAll(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary) << data;
}

bool Exists(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0;
}

std::string Gzip(const std::string& data) {
  os::ExecOptions o;
  o.stdinData = data;
  auto r = os::Exec({"gzip", "-c", "-n"}, o);
  EXPECT_TRUE(r.ok() && r->exitCode == 0);
  return r.ok() ? r->out : "";
}

class ImageStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/kvol-image-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    scratch_ = tmpl;
    images_ = scratch_ + "/data/images";
  }
  void TearDown() override { ASSERT_TRUE(RemoveTree(scratch_).ok()); }

  // A tar of the files in `files` (name -> content), made by GNU tar from a directory.
  std::string PackDir(const std::string& name, const std::map<std::string, std::string>& files) {
    std::string dir = scratch_ + "/" + name + ".d";
    mkdir(dir.c_str(), 0755);
    for (const auto& [rel, data] : files) {
      std::string path = dir + "/" + rel;
      auto r = os::Exec({"mkdir", "-p", path.substr(0, path.rfind('/'))});
      EXPECT_TRUE(r.ok());
      WriteAll(path, data);
    }
    std::string out = scratch_ + "/" + name;
    auto r = os::Exec({"tar", "-C", dir, "-cf", out, "."});
    EXPECT_TRUE(r.ok() && r->exitCode == 0) << (r.ok() ? r->err : r.status().message());
    return out;
  }

  // A docker-archive with the given layer tars (no diff_ids: nothing to check them against).
  std::string DockerArchive(
      const std::string& name, const std::vector<std::string>& layers,
      const std::string& tag = "localhost/evil:1",
      const std::string& config = R"({"config":{"Cmd":["sh"]},"rootfs":{"type":"layers"}})",
      const std::string& configName = "config.json") {
    std::map<std::string, std::string> files;
    json layerNames = json::array();
    for (size_t i = 0; i < layers.size(); ++i) {
      std::string rel = "l" + std::to_string(i) + "/layer.tar";
      files[rel] = layers[i];
      layerNames.push_back(rel);
    }
    files[configName] = config;
    files["manifest.json"] =
        json::array({{{"Config", configName}, {"RepoTags", {tag}}, {"Layers", layerNames}}}).dump();
    return PackDir(name, files);
  }

  std::string scratch_, images_;
};

std::string SourceDir() { return KVOL_SOURCE_DIR; }

TEST_F(ImageStoreTest, ImportsTheBusyboxImageOfTheScript) {
  std::string tar = scratch_ + "/busybox.tar";
  auto made = os::Exec({SourceDir() + "/scripts/make-busybox-image.sh", tar});
  ASSERT_TRUE(made.ok());
  ASSERT_EQ(made->exitCode, 0) << made->err;

  ImageStore store(images_);
  auto img = store.Import(tar, "");
  ASSERT_TRUE(img.ok()) << img.status().ToString();
  EXPECT_EQ(img->name, "docker.io/library/busybox:latest");
  EXPECT_EQ(img->rootfs, images_ + "/" + img->id.substr(7) + "/rootfs");
  EXPECT_THAT(img->config.cmd, ElementsAre("sh"));
  EXPECT_THAT(img->config.env, ElementsAre("PATH=/usr/sbin:/usr/bin:/sbin:/bin"));
  EXPECT_TRUE(img->config.entrypoint.empty());

  // The image ID is the sha256 of the config blob, which the store keeps verbatim.
  std::string config = ReadAll(images_ + "/" + img->id.substr(7) + "/config.json");
  EXPECT_EQ(img->id, "sha256:" + Sha256Hex(config));

  struct stat st;
  ASSERT_EQ(lstat((img->rootfs + "/bin/busybox").c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0755u);
  char link[64] = {};
  ASSERT_GT(readlink((img->rootfs + "/bin/sh").c_str(), link, sizeof(link) - 1), 0);
  EXPECT_STREQ(link, "/bin/busybox");
  EXPECT_THAT(ReadAll(img->rootfs + "/etc/passwd"), HasSubstr("nobody:x:65534:65534:"));
  ASSERT_EQ(lstat((img->rootfs + "/tmp").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 01777u);
  EXPECT_FALSE(Exists(img->rootfs + ".tmp"));
  if (geteuid() == 0) {  // the rootfs works: its shell runs, and finds the applets on PATH
    os::ExecOptions o;
    o.env = {{"PATH", "/usr/sbin:/usr/bin:/sbin:/bin"}};
    auto sh = os::Exec(
        {"chroot", img->rootfs, "sh", "-c", "id -u; ls /bin | wc -l >/dev/null; echo ok"}, o);
    ASSERT_TRUE(sh.ok()) << sh.status().ToString();
    EXPECT_EQ(sh->out, "0\nok\n") << sh->err;
  }

  auto got = store.Get("busybox");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->id, img->id);
  EXPECT_EQ(got->rootfs, img->rootfs);
  EXPECT_THAT(got->config.cmd, ElementsAre("sh"));
  EXPECT_TRUE(store.Get("docker.io/library/busybox:latest").ok());
  EXPECT_TRUE(store.Get(img->id).ok());
  EXPECT_TRUE(store.Get("busybox@" + img->id).ok());

  // Re-importing keeps the rootfs (same inode) and the single index entry; another name for
  // the same image shares it.
  struct stat before, after;
  ASSERT_EQ(stat(img->rootfs.c_str(), &before), 0);
  auto again = store.Import(tar, "");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->id, img->id);
  ASSERT_EQ(stat(img->rootfs.c_str(), &after), 0);
  EXPECT_EQ(before.st_ino, after.st_ino);
  auto other = store.Import(tar, "localhost/bb:v1");
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  EXPECT_EQ(other->name, "localhost/bb:v1");
  EXPECT_EQ(other->rootfs, img->rootfs);
  auto all = store.List();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].name, "docker.io/library/busybox:latest");
  EXPECT_EQ((*all)[1].name, "localhost/bb:v1");
  json index = json::parse(ReadAll(images_ + "/index.json"));
  EXPECT_EQ(index["images"].size(), 2u);
  EXPECT_EQ(index["images"][0]["id"], img->id);
}

TEST_F(ImageStoreTest, ScriptTakesATag) {
  std::string tar = scratch_ + "/b.tar";
  auto made = os::Exec({SourceDir() + "/scripts/make-busybox-image.sh", tar, "localhost/box"});
  ASSERT_TRUE(made.ok());
  ASSERT_EQ(made->exitCode, 0) << made->err;
  ImageStore store(images_);
  auto img = store.Import(tar, "");
  ASSERT_TRUE(img.ok()) << img.status().ToString();
  EXPECT_EQ(img->name, "localhost/box:latest");
}

TEST_F(ImageStoreTest, GzippedArchivesAndConcurrentImports) {
  std::string tar = scratch_ + "/busybox.tar";
  auto made = os::Exec({SourceDir() + "/scripts/make-busybox-image.sh", tar});
  ASSERT_TRUE(made.ok());
  ASSERT_EQ(made->exitCode, 0) << made->err;
  auto gz = os::Exec({"gzip", "-k", "-n", tar});
  ASSERT_TRUE(gz.ok());
  ASSERT_EQ(gz->exitCode, 0) << gz->err;

  // Two stores on one directory import at once (the lock file serialises them).
  ImageStore s1(images_), s2(images_ + "/");
  Result<Image> r1 = Internal("not run"), r2 = Internal("not run");
  std::thread t1([&] { r1 = s1.Import(tar + ".gz", "localhost/gz:1"); });
  std::thread t2([&] { r2 = s2.Import(tar, "localhost/plain:1"); });
  t1.join();
  t2.join();
  ASSERT_TRUE(r1.ok()) << r1.status().ToString();
  ASSERT_TRUE(r2.ok()) << r2.status().ToString();
  EXPECT_EQ(r1->id, r2->id);
  auto all = s1.List();
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 2u);
  auto leftovers =
      os::Exec({"find", images_, "-maxdepth", "2", "-name", "*.tmp*", "-o", "-name", ".import-*"});
  ASSERT_TRUE(leftovers.ok());
  EXPECT_EQ(leftovers->out, "");
}

TEST_F(ImageStoreTest, MissingImage) {
  ImageStore store(images_);
  auto r = store.Get("x");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kNotFound);
  EXPECT_EQ(r.status().message(),
            "image \"docker.io/library/x:latest\" not found in the node's image store");
  auto bad = store.Get("X");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Code::kInvalid);
  auto list = store.List();
  ASSERT_TRUE(list.ok());
  EXPECT_TRUE(list->empty());
}

// An OCI layout: index -> manifest -> config + a gzip layer and a plain one whose whiteouts
// delete a file and empty a directory of the first.
class OciLayout {
 public:
  std::string AddBlob(const std::string& data) {
    std::string hex = Sha256Hex(data);
    blobs_["blobs/sha256/" + hex] = data;
    return "sha256:" + hex;
  }
  std::map<std::string, std::string> Files(const json& index) {
    auto files = blobs_;
    files["oci-layout"] = R"({"imageLayoutVersion":"1.0.0"})";
    files["index.json"] = index.dump();
    return files;
  }

 private:
  std::map<std::string, std::string> blobs_;
};

TEST_F(ImageStoreTest, ImportsAnOciLayoutWithGzipAndWhiteouts) {
  std::string layer1 = TarBuilder()
                           .Dir("etc/")
                           .File("etc/keep", "keep\n")
                           .File("etc/gone", "gone\n")
                           .Dir("opq/")
                           .File("opq/old", "old\n")
                           .File("bin/tool", "#!/bin/sh\n", 0755)
                           .Hardlink("bin/tool2", "bin/tool")
                           .Build();
  std::string layer2 = TarBuilder()
                           .File("etc/.wh.gone", "")
                           .Dir("opq/")
                           .File("opq/.wh..wh..opq", "")
                           .File("opq/new", "new\n")
                           .File("etc/keep", "kept\n")
                           .Build();
  std::string gz1 = Gzip(layer1);
  OciLayout oci;
  std::string l1 = oci.AddBlob(gz1), l2 = oci.AddBlob(layer2);
  json config = {
      {"architecture", "amd64"},
      {"os", "linux"},
      {"config",
       {{"Entrypoint", {"/bin/tool"}}, {"Env", {"A=1"}}, {"WorkingDir", "/w"}, {"User", "65534"}}},
      {"rootfs",
       {{"type", "layers"},
        {"diff_ids", {"sha256:" + Sha256Hex(layer1), "sha256:" + Sha256Hex(layer2)}}}}};
  std::string configBytes = config.dump();
  std::string cfg = oci.AddBlob(configBytes);
  json manifest = {
      {"schemaVersion", 2},
      {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
      {"config", {{"mediaType", "application/vnd.oci.image.config.v1+json"}, {"digest", cfg}}},
      {"layers",
       {{{"mediaType", "application/vnd.oci.image.layer.v1.tar+gzip"}, {"digest", l1}},
        {{"mediaType", "application/vnd.oci.image.layer.v1.tar"}, {"digest", l2}}}}};
  std::string mdigest = oci.AddBlob(manifest.dump());
  // A nested index (as multi-arch images have) between index.json and the manifest.
  json inner = {{"schemaVersion", 2},
                {"mediaType", "application/vnd.oci.image.index.v1+json"},
                {"manifests",
                 {{{"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                   {"digest", mdigest},
                   {"platform", {{"os", "linux"}, {"architecture", "amd64"}}}}}}};
  std::string idigest = oci.AddBlob(inner.dump());
  json index = {
      {"schemaVersion", 2},
      {"manifests",
       {{{"mediaType", "application/vnd.oci.image.index.v1+json"},
         {"digest", idigest},
         {"annotations", {{"org.opencontainers.image.ref.name", "docker.io/library/oci:1"}}}}}}};
  std::string tar = PackDir("oci.tar", oci.Files(index));

  ImageStore store(images_);
  auto img = store.Import(tar, "");
  ASSERT_TRUE(img.ok()) << img.status().ToString();
  EXPECT_EQ(img->name, "docker.io/library/oci:1");
  EXPECT_EQ(img->id, "sha256:" + Sha256Hex(configBytes));
  EXPECT_THAT(img->config.entrypoint, ElementsAre("/bin/tool"));
  EXPECT_THAT(img->config.env, ElementsAre("A=1"));
  EXPECT_EQ(img->config.workingDir, "/w");
  EXPECT_EQ(img->config.user, "65534");
  EXPECT_EQ(ReadAll(img->rootfs + "/etc/keep"), "kept\n");
  EXPECT_FALSE(Exists(img->rootfs + "/etc/gone"));
  EXPECT_FALSE(Exists(img->rootfs + "/etc/.wh.gone"));
  EXPECT_FALSE(Exists(img->rootfs + "/opq/old"));
  EXPECT_FALSE(Exists(img->rootfs + "/opq/.wh..wh..opq"));
  EXPECT_EQ(ReadAll(img->rootfs + "/opq/new"), "new\n");
  struct stat a, b;
  ASSERT_EQ(stat((img->rootfs + "/bin/tool").c_str(), &a), 0);
  ASSERT_EQ(stat((img->rootfs + "/bin/tool2").c_str(), &b), 0);
  EXPECT_EQ(a.st_ino, b.st_ino);
  EXPECT_EQ(a.st_mode & 0777, 0755u);

  // Get by the manifest digest works too.
  EXPECT_TRUE(store.Get("oci@" + mdigest).ok());
  EXPECT_FALSE(store.Get("other@" + mdigest).ok());
}

TEST_F(ImageStoreTest, RefusesAnOciBlobThatDoesNotMatchItsDigest) {
  std::string layer = TarBuilder().File("a", "a").Build();
  OciLayout oci;
  std::string l = oci.AddBlob(layer);
  std::string cfg = oci.AddBlob(R"({"rootfs":{"type":"layers"}})");
  std::string m = oci.AddBlob(
      json({{"schemaVersion", 2}, {"config", {{"digest", cfg}}}, {"layers", {{{"digest", l}}}}})
          .dump());
  auto files = oci.Files({{"manifests", {{{"digest", m}}}}});
  files["blobs/sha256/" + l.substr(7)] = TarBuilder().File("a", "tampered").Build();
  std::string tar = PackDir("bad.tar", files);
  ImageStore store(images_);
  auto r = store.Import(tar, "localhost/bad:1");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalid);
  EXPECT_THAT(r.status().message(), HasSubstr(": layer " + l + " does not match its digest"));
  // Without a name in the archive or on the command line there is nothing to call it.
  files = oci.Files({{"manifests", {{{"digest", m}}}}});
  tar = PackDir("noname.tar", files);
  auto unnamed = store.Import(tar, "");
  ASSERT_FALSE(unnamed.ok());
  EXPECT_EQ(unnamed.status().message(),
            tar + ": the archive does not name its image; give NAME:TAG");
  EXPECT_TRUE(store.Import(tar, "localhost/named").ok());
}

TEST_F(ImageStoreTest, RefusesDockerArchivesThatDoNotMatchTheirDigests) {
  std::string layer = TarBuilder().File("a", "a").Build();
  std::string zeros = "sha256:" + std::string(64, '0');
  std::string config = json({{"rootfs", {{"type", "layers"}, {"diff_ids", {zeros}}}}}).dump();
  std::string tar = DockerArchive("diff.tar", {layer}, "localhost/x:1", config);
  ImageStore store(images_);
  auto r = store.Import(tar, "");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), tar + ": layer 1 (" + zeros +
                                      "): content is sha256:" + Sha256Hex(layer) +
                                      ", not the diff_id the image config gives");
  tar = DockerArchive("cfg.tar", {layer}, "localhost/x:1", "{}", std::string(64, 'a') + ".json");
  r = store.Import(tar, "");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), tar + ": config " + std::string(64, 'a') +
                                      ".json does not match its digest (sha256:" + Sha256Hex("{}") +
                                      ")");
}

TEST_F(ImageStoreTest, RefusesDotDotMembers) {
  std::string tar = DockerArchive("evil.tar", {TarBuilder().File("ok", "ok").Build(),
                                               TarBuilder().File("../evil", "x").Build()});
  ImageStore store(images_);
  auto r = store.Import(tar, "");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalid);
  EXPECT_EQ(r.status().message(),
            tar +
                ": layer 2: member name \"../evil\" contains \"..\"; refusing to write outside "
                "the image root");
  EXPECT_FALSE(Exists(scratch_ + "/evil"));
  EXPECT_FALSE(Exists(scratch_ + "/data/evil"));
  EXPECT_FALSE(Exists(scratch_ + "/data/images/evil"));
  EXPECT_EQ(store.Get("localhost/evil:1").status().code(), Code::kNotFound);
  // Nothing half-built is left behind.
  auto ls = os::Exec({"find", images_, "-name", "rootfs*"});
  ASSERT_TRUE(ls.ok());
  EXPECT_EQ(ls->out, "");
}

TEST_F(ImageStoreTest, RefusesAbsoluteMembers) {
  std::string tar = DockerArchive("abs.tar", {TarBuilder().File(scratch_ + "/abs", "x").Build()});
  ImageStore store(images_);
  auto r = store.Import(tar, "");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("is an absolute path; refusing to write outside"));
  EXPECT_FALSE(Exists(scratch_ + "/abs"));
}

TEST_F(ImageStoreTest, RefusesWritesThroughASymlinkOfTheSameLayer) {
  std::string outside = scratch_ + "/outside";
  ASSERT_EQ(mkdir(outside.c_str(), 0755), 0);
  std::string tar = DockerArchive(
      "lnk.tar", {TarBuilder().Symlink("lnk", outside).File("lnk/pwned", "pwned").Build()});
  ImageStore store(images_);
  auto r = store.Import(tar, "");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            tar +
                ": layer 1: member \"lnk/pwned\" goes through the symlink \"lnk\" made by an "
                "earlier member; refusing to write through a symlink");
  EXPECT_FALSE(Exists(outside + "/pwned"));
  // Hard links through it are refused as well.
  tar = DockerArchive(
      "hl.tar", {TarBuilder().Symlink("lnk", "/etc").Hardlink("shadow", "lnk/shadow").Build()});
  r = store.Import(tar, "");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("hard link \"shadow\" -> \"lnk/shadow\" goes through "
                                              "the symlink \"lnk\""));
}

TEST_F(ImageStoreTest, ALaterLayerReplacesASymlinkInsteadOfFollowingIt) {
  std::string outside = scratch_ + "/outside";
  ASSERT_EQ(mkdir(outside.c_str(), 0755), 0);
  WriteAll(outside + "/victim", "victim\n");
  std::string tar = DockerArchive(
      "lnk2.tar", {TarBuilder().Symlink("lnk", outside).Symlink("v", outside + "/victim").Build(),
                   TarBuilder().Dir("lnk/").File("lnk/pwned", "pwned").File("v", "new").Build(),
                   TarBuilder().File(".wh.lnk", "").Build()});
  ImageStore store(images_);
  auto img = store.Import(tar, "");
  ASSERT_TRUE(img.ok()) << img.status().ToString();
  EXPECT_FALSE(Exists(outside + "/pwned"));
  EXPECT_EQ(ReadAll(outside + "/victim"), "victim\n");
  EXPECT_EQ(ReadAll(img->rootfs + "/v"), "new");
  EXPECT_FALSE(Exists(img->rootfs + "/lnk"));
  auto ls = os::Exec({"ls", "-A", outside});
  ASSERT_TRUE(ls.ok());
  EXPECT_EQ(ls->out, "victim\n");
}

TEST_F(ImageStoreTest, ImplicitParentDirectoriesKeepTheirMetadata) {
  std::string tar = DockerArchive(
      "meta.tar", {TarBuilder().Dir("tmp/", 01777).Dir("ro/", 0555).File("ro/a", "a").Build(),
                   TarBuilder().File("tmp/x", "x").File("ro/b", "b").Dir("new/", 0700).Build()});
  ImageStore store(images_);
  auto img = store.Import(tar, "");
  ASSERT_TRUE(img.ok()) << img.status().ToString();
  struct stat st;
  ASSERT_EQ(lstat((img->rootfs + "/tmp").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 01777u);
  ASSERT_EQ(lstat((img->rootfs + "/ro").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0555u);
  ASSERT_EQ(lstat((img->rootfs + "/new").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  EXPECT_EQ(ReadAll(img->rootfs + "/tmp/x"), "x");
  EXPECT_EQ(ReadAll(img->rootfs + "/ro/a"), "a");
  EXPECT_EQ(ReadAll(img->rootfs + "/ro/b"), "b");
}

TEST_F(ImageStoreTest, ImageImportVerb) {
  std::string tar = scratch_ + "/busybox.tar";
  auto made = os::Exec({SourceDir() + "/scripts/make-busybox-image.sh", tar, "busybox:1.0"});
  ASSERT_TRUE(made.ok());
  ASSERT_EQ(made->exitCode, 0) << made->err;
  std::ostringstream out, err;
  ASSERT_EQ(cli::RunImageImport(scratch_ + "/data", tar, "", out, err), 0) << err.str();
  ImageStore store(images_);
  auto img = store.Get("busybox:1.0");
  ASSERT_TRUE(img.ok()) << img.status().ToString();
  EXPECT_EQ(out.str(), "imported docker.io/library/busybox:1.0 (" + img->id.substr(0, 19) + ")\n");
  EXPECT_EQ(err.str(), "");

  std::ostringstream out2, err2;
  EXPECT_EQ(cli::RunImageImport(scratch_ + "/data", scratch_ + "/nope.tar", "", out2, err2), 1);
  EXPECT_EQ(out2.str(), "");
  EXPECT_EQ(err2.str(), "error: open " + scratch_ + "/nope.tar: No such file or directory\n");
  std::ostringstream out3, err3;
  EXPECT_EQ(cli::RunImageImport(scratch_ + "/data", tar, "Bad", out3, err3), 1);
  EXPECT_EQ(err3.str(),
            "error: couldn't parse image name \"Bad\": invalid reference format: repository name "
            "must be lowercase\n");
}

TEST(DefaultDataDir, RootOrXdg) {
  if (geteuid() == 0) {
    EXPECT_EQ(cli::DefaultDataDir(), "/var/lib/kvol");
  } else {
    const char* xdg = getenv("XDG_DATA_HOME");
    if (xdg != nullptr && xdg[0] == '/') {
      EXPECT_EQ(cli::DefaultDataDir(), std::string(xdg) + "/kvol");
    }
  }
}

}  // namespace
}  // namespace kvol::image
