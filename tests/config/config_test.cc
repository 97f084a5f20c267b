// Mission config: the shipped default parses, the embedded copy is the
// shipped file, every validation error kind is reported with key path and
// line, all problems are reported (not just the first), the hash is the
// SHA-256 of the file bytes, and reload classifies changes as hot or cold.
#include "config/mission.h"

#include <sys/stat.h>

#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "config/model_check.h"
#include "downlink/checksum.h"
#include "tests/config/mission_test_support.h"
#include "tests/support/shared_paths.h"

namespace triage::config {
namespace {

using triage::testing::BuildTestModel;
using triage::testing::MakeTempDir;
using triage::testing::ReadFile;
using triage::testing::RemoveTree;
using triage::testing::SourcePath;
using triage::testing::TestMissionYaml;
using triage::testing::TestModelOptions;
using triage::testing::WriteFile;

class MissionConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("triage_config_test_");
    ASSERT_FALSE(dir_.empty());
    model_ = dir_ + "/model.tflite";
    WriteFile(model_, BuildTestModel());
  }
  void TearDown() override { RemoveTree(dir_); }

  LoadedConfig Parse(const std::string& yaml, bool check_files = true) {
    LoadOptions o;
    o.base_dir = dir_;
    o.check_files = check_files;
    return ParseMission(yaml, "test.yaml", o);
  }
  // The one problem with this key path, or a failure.
  static const ConfigProblem* Find(const LoadedConfig& c, const std::string& path) {
    for (const ConfigProblem& p : c.problems) {
      if (p.path == path) return &p;
    }
    return nullptr;
  }
  static std::string All(const LoadedConfig& c) {
    std::string s;
    for (const ConfigProblem& p : c.problems) s += FormatProblem(c.source, p) + "\n";
    return s;
  }

  std::string dir_;
  std::string model_;
};

TEST_F(MissionConfigTest, ShippedDefaultParsesWithItsDocumentedValues) {
  LoadOptions o;
  o.check_files = false;  // the default model is trained separately
  const LoadedConfig c = LoadMissionFile(SourcePath("config/mission.yaml"), o);
  ASSERT_TRUE(c.ok()) << All(c);
  const MissionConfig& m = c.config;
  EXPECT_EQ(m.name, "triage-demo");
  EXPECT_EQ(m.camera.source, CameraSource::kSimulated);
  EXPECT_EQ(m.camera.simulated.width, 2448);
  EXPECT_EQ(m.camera.simulated.camera.frame_interval_us, 20'000'000);
  EXPECT_EQ(m.thumbnail.width, 489);
  EXPECT_EQ(m.downlink.passes.size(), 2u);
  EXPECT_EQ(m.downlink.apid_catalog, 0x102);
  EXPECT_EQ(m.downlink.storage_dir, "downlink");
  ASSERT_EQ(m.triage.classes.size(), 5u);  // without a model: the default classes
  EXPECT_EQ(m.triage.classes[3].name, "land");
  EXPECT_TRUE(m.triage.classes[3].interesting);
  EXPECT_FLOAT_EQ(m.triage.classes[3].full_at, 0.8945f);
  EXPECT_FLOAT_EQ(m.triage.classes[3].thumbnail_at, 0.0f);
  EXPECT_FLOAT_EQ(m.triage.classes[3].keep_at, 0.0117f);
  EXPECT_EQ(m.triage.classes[1].keep_at, kNever);
  EXPECT_EQ(m.thumbnail.decode_buffer_bytes, 978u * 820u * 3u);
  EXPECT_EQ(m.triage.classes[3].full_codec.quality, 85);
  EXPECT_EQ(m.triage.classes[2].thumbnail_codec.codec, Codec::kPng);
  EXPECT_EQ(m.triage.classes[0].full_at, kNever);
  // dmr with separate weights is the shipped default since the optimized
  // kernels made a second inference cheap (docs/FLIGHT.md).
  EXPECT_EQ(m.fault.redundancy, fault::RedundancyMode::kDmr);
  EXPECT_TRUE(m.fault.separate_weight_copy);
  EXPECT_TRUE(m.model.optimized_kernels);
  EXPECT_EQ(m.model.threads, 1);
  EXPECT_EQ(m.model.path, SourcePath("config") + "/../models/triage_int8.tflite");
}

TEST_F(MissionConfigTest, ShippedDefaultValidatesAgainstTheShippedModelWhenPresent) {
  struct stat st;
  if (::stat(SourcePath("models/triage_int8.tflite").c_str(), &st) != 0) {
    GTEST_SKIP() << "models/triage_int8.tflite is not in the tree yet";
  }
  const LoadedConfig c = LoadMissionFile(SourcePath("config/mission.yaml"));
  ASSERT_TRUE(c.ok()) << All(c);
  EXPECT_EQ(c.config.model.output_count, 5);
  EXPECT_EQ(c.config.model.labels, (std::vector<std::string>{"black", "cloud", "distorted", "land", "white"}));
}

TEST_F(MissionConfigTest, EmbeddedDefaultIsTheShippedFileByteForByte) {
  EXPECT_EQ(EmbeddedMissionYaml(), ReadFile(SourcePath("config/mission.yaml")));
  EXPECT_EQ(std::string(EmbeddedMissionBaseDir()), SourcePath("config"));
  LoadOptions o;
  o.check_files = false;
  const LoadedConfig c = LoadEmbeddedMission(o);
  EXPECT_TRUE(c.ok()) << All(c);
}

TEST_F(MissionConfigTest, TestMissionReadsLabelsAndPreprocessingFromTheModel) {
  const LoadedConfig c = Parse(TestMissionYaml(model_));
  ASSERT_TRUE(c.ok()) << All(c);
  EXPECT_EQ(c.config.model.output_count, 5);
  EXPECT_EQ(c.config.model.labels, (std::vector<std::string>{"black", "cloud", "distorted", "land", "white"}));
  EXPECT_FLOAT_EQ(c.config.model.mean[1], 128.f);
  EXPECT_FLOAT_EQ(c.config.model.std[2], 128.f);
  // Classes follow the model's label order; unlisted ones are discarded.
  ASSERT_EQ(c.config.triage.classes.size(), 5u);
  EXPECT_EQ(c.config.triage.classes[1].name, "cloud");
  EXPECT_FLOAT_EQ(c.config.triage.classes[1].thumbnail_at, 0.9f);
  EXPECT_EQ(c.config.triage.classes[4].thumbnail_at, kNever);
}

TEST_F(MissionConfigTest, UnknownKeyIsReportedWithPathLineAndTheKnownKeys) {
  const std::string base = TestMissionYaml(model_);
  const int base_lines = static_cast<int>(std::count(base.begin(), base.end(), '\n'));
  const LoadedConfig c = Parse(base + "logging:\n  level: info\n  levle: debug\n");
  ASSERT_FALSE(c.ok());
  const ConfigProblem* p = Find(c, "logging.levle");
  ASSERT_NE(p, nullptr) << All(c);
  EXPECT_EQ(p->line, base_lines + 3);
  EXPECT_NE(p->message.find("unknown key 'levle'"), std::string::npos);
  EXPECT_NE(p->message.find("level"), std::string::npos);
  EXPECT_EQ(c.problems.size(), 1u) << All(c);
}

TEST_F(MissionConfigTest, UnknownTopLevelSectionIsReported) {
  const LoadedConfig c = Parse("camera: {source: simulated}\ncamrea: {}\n", false);
  const ConfigProblem* p = Find(c, "camrea");
  ASSERT_NE(p, nullptr) << All(c);
  EXPECT_EQ(p->line, 2);
}

TEST_F(MissionConfigTest, WrongTypesAreReportedWithPathAndLine) {
  const LoadedConfig c = Parse(
      "camera:\n"
      "  frame_interval_s: fast\n"          // 2: number expected
      "  simulated: {seed: 1, opssat_look: maybe}\n"  // 3: bool expected
      "thumbnail: [1, 2]\n"                  // 4: mapping expected
      "downlink:\n"
      "  full: {codec: jpeg, quality: \"90\"}\n"  // 6: quoted -> string, not a number
      "  passes: {start_s: 1}\n",            // 7: list expected
      false);
  ASSERT_FALSE(c.ok());
  struct Want {
    const char* path;
    int line;
    const char* text;
  };
  for (const Want& w : {Want{"camera.frame_interval_s", 2, "expected a number, got 'fast'"},
                        Want{"camera.simulated.opssat_look", 3, "expected true or false"},
                        Want{"thumbnail", 4, "expected a mapping"},
                        Want{"downlink.full.quality", 6, "expected an integer, got string '90'"},
                        Want{"downlink.passes", 7, "expected a list"}}) {
    const ConfigProblem* p = Find(c, w.path);
    ASSERT_NE(p, nullptr) << w.path << "\n" << All(c);
    EXPECT_EQ(p->line, w.line) << w.path;
    EXPECT_NE(p->message.find(w.text), std::string::npos) << p->message;
  }
  EXPECT_EQ(c.problems.size(), 5u) << All(c);
}

TEST_F(MissionConfigTest, OutOfRangeValuesAreReportedWithTheRange) {
  const LoadedConfig c = Parse(
      "downlink:\n"
      "  full: {codec: jpeg, quality: 101}\n"   // 2
      "  apid: {full: 0x800}\n"                  // 3
      "triage:\n"
      "  uncertain: {below_confidence: 1.5}\n"   // 5
      "camera:\n"
      "  pool_frames: 0\n"                       // 7
      "storage: {max_queue_items: -3}\n",        // 8
      false);
  struct Want {
    const char* path;
    int line;
    const char* text;
  };
  for (const Want& w : {Want{"downlink.full.quality", 2, "101 is outside [1, 100]"},
                        Want{"downlink.apid.full", 3, "2048 is outside [0, 2047]"},
                        Want{"triage.uncertain.below_confidence", 5, "1.5 is outside [0, 1]"},
                        Want{"camera.pool_frames", 7, "0 is outside [1, 16]"},
                        Want{"storage.max_queue_items", 8, "negative"}}) {
    const ConfigProblem* p = Find(c, w.path);
    ASSERT_NE(p, nullptr) << w.path << "\n" << All(c);
    EXPECT_EQ(p->line, w.line) << w.path;
    EXPECT_NE(p->message.find(w.text), std::string::npos) << p->message;
  }
}

TEST_F(MissionConfigTest, KeepThresholdIsParsedPerClassAndRangeChecked) {
  const LoadedConfig ok =
      Parse("triage:\n  interesting: [land]\n  classes:\n    land: {full: 0.7, thumbnail: 0.0, keep: 0.02}\n", false);
  ASSERT_TRUE(ok.ok()) << All(ok);
  EXPECT_FLOAT_EQ(ok.config.triage.classes[3].keep_at, 0.02f);
  EXPECT_EQ(ok.config.triage.classes[1].keep_at, kNever);  // unlisted in the map: never
  const LoadedConfig bad = Parse("triage:\n  classes:\n    land: {keep: 1.5}\n", false);
  const ConfigProblem* p = Find(bad, "triage.classes.land.keep");
  ASSERT_NE(p, nullptr) << All(bad);
  EXPECT_EQ(p->line, 3);
  EXPECT_NE(p->message.find("1.5 is outside [0, 1]"), std::string::npos) << p->message;
}

TEST_F(MissionConfigTest, ModelThreadsIsParsedAndRangeChecked) {
  const LoadedConfig ok = Parse("model:\n  path: " + model_ + "\n  threads: 2\n", false);
  ASSERT_TRUE(ok.ok()) << All(ok);
  EXPECT_EQ(ok.config.model.threads, 2);
  EXPECT_EQ(Parse("model:\n  path: " + model_ + "\n", false).config.model.threads, 1);
  for (const char* bad_value : {"0", "9", "two"}) {
    const LoadedConfig bad = Parse("model:\n  path: " + model_ + "\n  threads: " + bad_value + "\n", false);
    const ConfigProblem* p = Find(bad, "model.threads");
    ASSERT_NE(p, nullptr) << bad_value << ": " << All(bad);
    EXPECT_EQ(p->line, 3);
  }
}

TEST_F(MissionConfigTest, EnumValuesListWhatIsAccepted) {
  const LoadedConfig c = Parse("downlink:\n  thumbnail: {codec: original}\n", false);
  const ConfigProblem* p = Find(c, "downlink.thumbnail.codec");
  ASSERT_NE(p, nullptr) << All(c);
  EXPECT_EQ(p->line, 2);
  EXPECT_NE(p->message.find("'original' is not one of: jpeg, png"), std::string::npos) << p->message;
}

TEST_F(MissionConfigTest, MissingModelFileIsReportedAtItsKey) {
  const LoadedConfig c = Parse("model:\n  kernels: reference\n  path: nowhere/model.tflite\n");
  const ConfigProblem* p = Find(c, "model.path");
  ASSERT_NE(p, nullptr) << All(c);
  EXPECT_EQ(p->line, 3);
  EXPECT_NE(p->message.find(dir_ + "/nowhere/model.tflite does not exist"), std::string::npos) << p->message;
}

TEST_F(MissionConfigTest, MissingLabelsFileAndDirectoryAreReported) {
  const LoadedConfig c = Parse("camera:\n  source: directory\n  directory: {path: no_frames_here}\n"
                               "model:\n  path: " + model_ + "\n  labels: labels_missing.txt\n");
  const ConfigProblem* labels = Find(c, "model.labels");
  ASSERT_NE(labels, nullptr) << All(c);
  EXPECT_EQ(labels->line, 6);
  EXPECT_NE(labels->message.find("does not exist"), std::string::npos);
  const ConfigProblem* dir = Find(c, "camera.directory.path");
  ASSERT_NE(dir, nullptr) << All(c);
  EXPECT_EQ(dir->line, 3);
}

TEST_F(MissionConfigTest, ModelOutputCountMustMatchTheLabelFile) {
  WriteFile(dir_ + "/four.txt", std::string("black\ncloud\nland\nwhite\n"));
  const LoadedConfig c = Parse("model:\n  path: " + model_ + "\n  labels: four.txt\n", true);
  const ConfigProblem* p = Find(c, "model.labels");
  ASSERT_NE(p, nullptr) << All(c);
  EXPECT_EQ(p->line, 3);
  EXPECT_NE(p->message.find("4 labels but the model has 5 outputs"), std::string::npos) << p->message;
}

TEST_F(MissionConfigTest, ModelOutputCountMustMatchItsLabelMetadata) {
  TestModelOptions o;
  o.labels = "black\ncloud\ndistorted\nland\nwhite\nextra\n";
  WriteFile(dir_ + "/six.tflite", BuildTestModel(o));
  const LoadedConfig c = Parse("model:\n  path: six.tflite\n", true);
  const ConfigProblem* p = Find(c, "model.labels");
  ASSERT_NE(p, nullptr) << All(c);
  EXPECT_EQ(p->line, 2);  // no labels key: the problem points at the model path
  EXPECT_NE(p->message.find("6 labels but the model has 5 outputs"), std::string::npos) << p->message;
}

TEST_F(MissionConfigTest, ModelThatFailsVerificationIsReported) {
  WriteFile(dir_ + "/junk.tflite", std::string(512, 'x'));
  const LoadedConfig c = Parse("model: {path: junk.tflite}\n");
  const ConfigProblem* p = Find(c, "model.path");
  ASSERT_NE(p, nullptr) << All(c);
  EXPECT_EQ(p->line, 1);
  EXPECT_NE(p->message.find("fails verification"), std::string::npos) << p->message;
}

TEST_F(MissionConfigTest, ModelHashMustMatchWhenConfigured) {
  const std::string bytes = ReadFile(model_);
  downlink::Digest256 d;
  ASSERT_TRUE(downlink::Sha256::Of(Span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()),
                                   &d).ok());
  EXPECT_TRUE(Parse("model: {path: " + model_ + ", sha256: " + HexDigest(d) + "}\n").ok());
  const LoadedConfig bad = Parse("model: {path: " + model_ + ", sha256: " + std::string(64, 'a') + "}\n");
  const ConfigProblem* p = Find(bad, "model.sha256");
  ASSERT_NE(p, nullptr) << All(bad);
  EXPECT_NE(p->message.find(HexDigest(d)), std::string::npos);
}

TEST_F(MissionConfigTest, EveryProblemIsReportedNotJustTheFirst) {
  const LoadedConfig c = Parse(
      "camera: {frame_interval_s: -1}\n"
      "thumbnail: {widht: 3}\n"
      "model: {path: missing.tflite}\n"
      "logging: {level: loud}\n"
      "uplink: {poll_every_frames: 0}\n");
  EXPECT_EQ(c.problems.size(), 5u) << All(c);
  std::vector<int> lines;
  for (const ConfigProblem& p : c.problems) lines.push_back(p.line);
  std::sort(lines.begin(), lines.end());
  EXPECT_EQ(lines, (std::vector<int>{1, 2, 3, 4, 5}));
}

TEST_F(MissionConfigTest, YamlSyntaxErrorNamesTheLine) {
  const LoadedConfig c = Parse("camera:\n  source: simulated\n  gain: [1, 2\nmodel: {}\n", false);
  ASSERT_EQ(c.problems.size(), 1u) << All(c);
  EXPECT_NE(c.problems[0].message.find("YAML syntax"), std::string::npos);
  EXPECT_GE(c.problems[0].line, 3);
}

TEST_F(MissionConfigTest, DuplicateKeyIsReported) {
  const LoadedConfig c = Parse("camera:\n  pool_frames: 2\n  pool_frames: 3\n", false);
  const ConfigProblem* p = Find(c, "camera.pool_frames");
  ASSERT_NE(p, nullptr) << All(c);
  EXPECT_EQ(p->line, 3);
  EXPECT_NE(p->message.find("duplicate"), std::string::npos);
}

TEST_F(MissionConfigTest, ClassNamesMustBeModelClasses) {
  const LoadedConfig c = Parse("model: {path: " + model_ + "}\n"
                               "triage:\n"
                               "  interesting: [land, lnad]\n"
                               "  classes:\n"
                               "    clod: {thumbnail: 0.5}\n"
                               "downlink:\n"
                               "  per_class:\n"
                               "    whit: {thumbnail: {codec: png}}\n");
  for (const char* path : {"triage.interesting", "triage.classes.clod", "downlink.per_class.whit"}) {
    const ConfigProblem* p = Find(c, path);
    ASSERT_NE(p, nullptr) << path << "\n" << All(c);
    EXPECT_NE(p->message.find("is not a model class (classes: black, cloud, distorted, land, white)"),
              std::string::npos)
        << p->message;
  }
  EXPECT_EQ(Find(c, "triage.interesting")->line, 3);
}

TEST_F(MissionConfigTest, FullThresholdOnAnUninterestingClassIsRejected) {
  const LoadedConfig c = Parse("triage:\n  interesting: [land]\n  classes:\n    cloud: {full: 0.9}\n", false);
  const ConfigProblem* p = Find(c, "triage.classes.cloud.full");
  ASSERT_NE(p, nullptr) << All(c);
  EXPECT_EQ(p->line, 4);
}

TEST_F(MissionConfigTest, PassesMustBeOrderedAndWellFormed) {
  const LoadedConfig c = Parse("downlink:\n  passes:\n"
                               "    - {start_s: 100, end_s: 200}\n"
                               "    - {start_s: 150, end_s: 300}\n"
                               "    - {start_s: 400, end_s: 350}\n"
                               "    - {start_s: 500}\n",
                               false);
  for (const char* path : {"downlink.passes[1]", "downlink.passes[2]", "downlink.passes[3]"}) {
    ASSERT_NE(Find(c, path), nullptr) << path << "\n" << All(c);
  }
  EXPECT_EQ(Find(c, "downlink.passes[1]")->line, 4);
  EXPECT_NE(Find(c, "downlink.passes[3]")->message.find("missing end_s"), std::string::npos);
}

TEST_F(MissionConfigTest, ConfigHashIsTheSha256OfTheFileBytes) {
  const std::string yaml = TestMissionYaml(model_);
  const LoadedConfig a = Parse(yaml);
  ASSERT_TRUE(a.ok()) << All(a);
  downlink::Digest256 want;
  ASSERT_TRUE(downlink::Sha256::Of(Span<const uint8_t>(reinterpret_cast<const uint8_t*>(yaml.data()), yaml.size()),
                                   &want).ok());
  EXPECT_EQ(a.hash, want);
  const LoadedConfig b = Parse(yaml + "# a comment changes the bytes\n");
  EXPECT_NE(a.hash, b.hash);
  EXPECT_EQ(HexDigest(a.hash).size(), 64u);
}

TEST_F(MissionConfigTest, InputPathsResolveAgainstTheConfigFileDirectory) {
  const std::string sub = dir_ + "/cfg";
  ASSERT_EQ(::mkdir(sub.c_str(), 0755), 0);
  WriteFile(sub + "/mission.yaml", std::string("model: {path: ../model.tflite}\n"));
  const LoadedConfig c = LoadMissionFile(sub + "/mission.yaml");
  ASSERT_TRUE(c.ok()) << All(c);
  EXPECT_EQ(c.config.model.path, sub + "/../model.tflite");
  EXPECT_EQ(c.source, sub + "/mission.yaml");
  EXPECT_EQ(c.config.downlink.storage_dir, "downlink");  // outputs stay as written
}

TEST_F(MissionConfigTest, FaultSectionFillsTheFaultContract) {
  const LoadedConfig c = Parse("fault:\n  redundancy: tmr\n  stage_deadline_ms: {infer: 1234}\n"
                               "  misses_to_safe_mode: 7\n  scrub_bytes_per_frame: 0\n",
                               false);
  ASSERT_TRUE(c.ok()) << All(c);
  EXPECT_EQ(c.config.fault.redundancy, fault::RedundancyMode::kTmr);
  EXPECT_EQ(c.config.fault.stage_deadline_ms[static_cast<int>(fault::Stage::kInfer)], 1234u);
  EXPECT_EQ(c.config.fault.stage_deadline_ms[static_cast<int>(fault::Stage::kCapture)], 2000u);
  EXPECT_EQ(c.config.fault.misses_to_safe_mode, 7u);
  EXPECT_EQ(c.config.fault.scrub_bytes_per_frame, 0u);
  const LoadedConfig bad = Parse("fault: {redundancy: quad, stage_deadline_ms: {render: 5}}\n", false);
  EXPECT_NE(Find(bad, "fault.redundancy"), nullptr) << All(bad);
  EXPECT_NE(Find(bad, "fault.stage_deadline_ms.render"), nullptr) << All(bad);
}

TEST_F(MissionConfigTest, RestartOnlyDifferencesSeparateHotFromColdChanges) {
  const LoadedConfig base = Parse(TestMissionYaml(model_));
  ASSERT_TRUE(base.ok()) << All(base);
  EXPECT_TRUE(RestartOnlyDifferences(base.config, base.config).empty());
  MissionConfig hot = base.config;
  hot.triage.classes[3].full_at = 0.9f;
  hot.triage.uncertain.action = FrameAction::kDiscard;
  hot.downlink.passes.push_back({5000, 5100});
  hot.model.path = "other.tflite";
  EXPECT_TRUE(RestartOnlyDifferences(base.config, hot).empty());
  MissionConfig cold = base.config;
  cold.thumbnail.width = 100;
  cold.downlink.packet_data_size = 2048;
  cold.fault.redundancy = fault::RedundancyMode::kDmr;
  EXPECT_EQ(RestartOnlyDifferences(base.config, cold),
            (std::vector<std::string>{"thumbnail.width", "downlink.packet_data_size", "fault.redundancy"}));
}

TEST_F(MissionConfigTest, FormatProblemGivesSourceLinePathAndMessage) {
  EXPECT_EQ(FormatProblem("m.yaml", ConfigProblem{"a.b", 12, "bad"}), "m.yaml:12: a.b: bad");
  EXPECT_EQ(FormatProblem("m.yaml", ConfigProblem{"", 0, "cannot read the file"}), "m.yaml: cannot read the file");
}

TEST_F(MissionConfigTest, UnreadableFileIsAProblemNotAnException) {
  const LoadedConfig c = LoadMissionFile(dir_ + "/absent.yaml");
  ASSERT_EQ(c.problems.size(), 1u);
  EXPECT_EQ(c.problems[0].message, "cannot read the file");
}

TEST_F(MissionConfigTest, HostileNestingIsRejectedBeforeParsing) {
  const LoadedConfig c = Parse(std::string(5000, '[') + std::string(5000, ']'), false);
  ASSERT_EQ(c.problems.size(), 1u);
  EXPECT_NE(c.problems[0].message.find("nested"), std::string::npos);
}

TEST(ModelCheck, PreprocessingMetadataIsParsedAndChecked) {
  float mean[3] = {0, 0, 0}, std_dev[3] = {1, 1, 1};
  std::string why;
  EXPECT_TRUE(ParsePreprocessingJson(R"({"mean":[1,2,3],"std":[4,5,6],"resize":"area"})", mean, std_dev, &why));
  EXPECT_FLOAT_EQ(mean[2], 3.f);
  EXPECT_FLOAT_EQ(std_dev[0], 4.f);
  EXPECT_FALSE(ParsePreprocessingJson(R"({"mean":[1,2],"std":[4,5,6]})", mean, std_dev, &why));
  EXPECT_FALSE(ParsePreprocessingJson(R"({"std":[0,1,1]})", mean, std_dev, &why));
  EXPECT_FALSE(ParsePreprocessingJson(R"({"resize":"bilinear"})", mean, std_dev, &why));
  EXPECT_NE(why.find("bilinear"), std::string::npos);
  EXPECT_FALSE(ParsePreprocessingJson("{not json", mean, std_dev, &why));
  // The shipped model's form: colour and layout checked, provenance ignored.
  EXPECT_TRUE(ParsePreprocessingJson(
      R"({"color":"rgb","layout":"NHWC","mean":[128.0,128.0,128.0],"resize":"area","std":[128.0,128.0,128.0],"note":1})",
      mean, std_dev, &why))
      << why;
  EXPECT_FALSE(ParsePreprocessingJson(R"({"color":"bgr"})", mean, std_dev, &why));
  EXPECT_FALSE(ParsePreprocessingJson(R"({"layout":"NCHW"})", mean, std_dev, &why));
  EXPECT_EQ(SplitLabels("a\r\nb\n\n"), (std::vector<std::string>{"a", "b"}));
}

}  // namespace
}  // namespace triage::config
