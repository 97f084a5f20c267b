// triage-ground report (ground/report.h): every section from a generated
// flight folder, receive folder and what-if file; absent data said in a
// sentence; telemetry errors with file:line; missing plot assets named with
// the command that fetches them; and the page rendered by headless Chromium
// (every plot an <svg>, no script error), skipped without Chromium or assets.
#include "ground/report.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "config/mission.h"
#include "imaging/jpeg_codec.h"
#include "imaging/scene.h"
#include "imaging/simulator.h"
#include "tests/support/temp_dir.h"

namespace triage::ground {
namespace {
namespace fs = std::filesystem;
using json = nlohmann::json;
using triage::testing::TempDir;

const char* const kLabels[] = {"black", "cloud", "distorted", "land", "white"};
constexpr int kFrames = 30;
constexpr double kFrameSpacingS = 300.0;  // spans both passes of the embedded mission (1500 s, 7050 s)

void WriteText(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A small, real JPEG of a simulated scene.
std::string SceneJpeg(imaging::SceneKind kind, uint64_t seed) {
  constexpr int w = 160, h = 134;
  std::vector<uint8_t> rgb(w * h * 3);
  imaging::SceneParams p;
  p.kind = kind;
  p.seed = seed;
  EXPECT_TRUE(imaging::RenderScene(p, w, h, rgb.data(), w * 3, nullptr).ok());
  imaging::JpegEncoderConfig c;
  c.max_width = w;
  c.max_height = h;
  c.quality = 85;
  Result<imaging::JpegEncoder> enc = imaging::JpegEncoder::Create(c);
  EXPECT_TRUE(enc.ok());
  Result<Span<const uint8_t>> jpeg = enc->Encode(rgb.data(), w, h, w * 3);
  EXPECT_TRUE(jpeg.ok());
  return std::string(reinterpret_cast<const char*>(jpeg->data()), jpeg->size());
}

struct FrameSpec {
  int class_id;  // -1: failed
  std::string truth, decision;
  double confidence;
};

FrameSpec SpecOf(int i) {
  if (i == 7) return {-1, "land", "failed", 0};
  switch (i % 5) {
    case 0:
      return {3, "land", "full", 0.93};
    case 1:
      return {1, "cloud", "thumbnail", 0.71};
    case 2:
      return {0, "black", "discard", 0.98};
    case 3:
      return {i % 2 ? 2 : 4, i % 2 ? "distorted" : "white", "thumbnail", 0.55};
    default:
      return {3, "cloud", "thumbnail", 0.48};  // a land call on a cloud: uncertain
  }
}

// A flight folder like triage-flight --out writes: telemetry.jsonl,
// summary.json, sent.csv, logs/, config/<hash16>.yaml (the embedded mission).
void MakeFlight(const std::string& dir) {
  config::LoadOptions lo;
  lo.check_files = false;
  const config::LoadedConfig mission = config::LoadEmbeddedMission(lo);
  ASSERT_TRUE(mission.ok());
  ASSERT_TRUE(config::RecordConfig(mission, dir + "/config").ok());
  const std::string hash16 = config::HexDigest(mission.hash).substr(0, 16);

  std::ostringstream tel;
  uint32_t next_id = 1;
  struct Queued {
    uint32_t id;
    uint64_t bytes;
    double t;
  };
  std::vector<Queued> queued;
  uint64_t camera = 0, queued_bytes = 0;
  for (int i = 0; i < kFrames; ++i) {
    const FrameSpec s = SpecOf(i);
    json j = {{"frame", i},
              {"t_s", i * kFrameSpacingS},
              {"capture_us", static_cast<int64_t>(i * kFrameSpacingS * 1e6)},
              {"source", "sim:1/" + std::to_string(i)},
              {"truth", s.truth}};
    if (s.class_id >= 0) {
      j["class"] = kLabels[s.class_id];
      j["class_id"] = s.class_id;
      j["confidence"] = s.confidence;
      j["runner_up"] = 1 - s.confidence;
      j["uncertain"] = s.confidence < 0.5;
      j["vote"] = i == 12 ? "corrected" : "agreed";
    }
    j["decision"] = s.decision;
    json products = json::array();
    uint64_t q = 0;
    auto add = [&](const char* kind, uint64_t bytes) {
      products.push_back({{"kind", kind}, {"id", next_id}, {"bytes", bytes}, {"priority", 200}, {"codec", "jpeg"}});
      queued.push_back({next_id++, bytes, i * kFrameSpacingS});
      q += bytes;
    };
    if (s.decision == "full") add("full", 400000 + 1000 * i);
    if (s.decision == "full" || s.decision == "thumbnail") add("thumbnail", 20000 + 100 * i);
    j["products"] = products;
    j["camera_bytes"] = 600000;
    j["queued_bytes"] = q;
    j["drops"] = json::array();
    j["config"] = hash16;
    j["model"] = "9f665f65fd980e34";
    j["stage_ms"] = {{"capture", 300.0 + i}, {"thumbnail", 20.0 + i % 4}, {"preprocess", 2.0},
                     {"infer", 3.5 + i % 3}, {"decide", 0.004},           {"enqueue", 1.1}};
    camera += 600000;
    queued_bytes += q;
    tel << j.dump() << "\n";
  }
  WriteText(dir + "/telemetry.jsonl", tel.str());

  // Two passes: each sends, in two packets, every product queued before it.
  std::ostringstream sent;
  sent << "pass,time_s,event,product_id,packet_index,packet_count,apid,seq_count,bytes\n";
  uint64_t sent_bytes = 0;
  size_t next = 0;
  const double starts[] = {1500, 7050};
  for (int pass = 0; pass < 2; ++pass) {
    double t = starts[pass];
    sent << pass << "," << t << ",catalog,9" << pass << ",0,1,258,0,900\n";
    sent_bytes += 900;
    for (; next < queued.size() && queued[next].t < starts[pass]; ++next) {
      for (int k = 0; k < 2; ++k) {
        t += 0.5;
        sent << pass << "," << t << ",product," << queued[next].id << "," << k << ",2,256,0," << queued[next].bytes / 2
             << "\n";
        sent_bytes += queued[next].bytes / 2;
      }
    }
  }
  WriteText(dir + "/sent.csv", sent.str());

  json summary = {{"mission", "triage-demo"},
                  {"stopped_by", "frame limit"},
                  {"config_sha256", config::HexDigest(mission.hash)},
                  {"model_sha256", "9f665f65fd980e34aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
                  {"bytes", {{"camera", camera}, {"queued", queued_bytes}, {"sent", sent_bytes}}},
                  {"products", {{"completed", next}, {"pending", queued.size() - next}, {"evicted", 0}}},
                  {"fault",
                   {{"redundancy", "dmr"},
                    {"runs", kFrames},
                    {"disagreements", 1},
                    {"corrected", 1},
                    {"no_majority", 0},
                    {"failed_runs", 0},
                    {"frames_unverified", 0},
                    {"scrub_sweeps", 3},
                    {"scrub_mismatches", 1},
                    {"scrub_repairs", 1},
                    {"missed_deadlines", 0},
                    {"stage_restarts", 0},
                    {"safe_mode", false},
                    {"safe_mode_reason", "none"},
                    {"safe_mode_frames", 0},
                    {"boot_count", 2},
                    {"resets_in_window", 1}}}};
  WriteText(dir + "/summary.json", summary.dump(2));
  WriteText(dir + "/logs/triage-flight.log",
            "2026-12-03T12:28:17.834 I event 0x0101 info [0 5 147456] started: camera sim, model 9f665f65fd980e34\n"
            "2026-12-03T12:28:21.100 W event 0x0201 warning [12 0 0] vote disagreement: frame 12\n"
            "2026-12-03T12:28:25.000 I event 0x0205 info [3 0 0] scrub repaired chunk 3\n"
            "2026-12-03T12:28:29.634 I finished at frame 30\n");
}

// A receive folder as `triage-ground receive --out` writes it.
void MakeReceive(const std::string& dir) {
  fs::create_directories(dir + "/products");
  std::ostringstream csv;
  csv << "product_id,kind,frame_id,class_id,class,confidence,priority,timestamp,payload_bytes,sha256,config_hash,"
         "model_hash,file\n";
  const struct {
    uint32_t id;
    const char* kind;
    int frame, class_id;
    double confidence;
    imaging::SceneKind scene;
  } rows[] = {{1, "full", 0, 3, 0.93, imaging::SceneKind::kLand},
              {2, "thumbnail", 0, 3, 0.93, imaging::SceneKind::kLand},
              {3, "thumbnail", 1, 1, 0.71, imaging::SceneKind::kCloud},
              {4, "thumbnail", 3, 2, 0.55, imaging::SceneKind::kDistorted},
              {6, "thumbnail", 5, 3, 0.93, imaging::SceneKind::kLand}};
  for (const auto& r : rows) {
    char name[64];
    std::snprintf(name, sizeof(name), "products/%06u-%s-f%06d.jpg", r.id, r.kind, r.frame);
    const std::string jpeg = SceneJpeg(r.scene, r.id);
    WriteText(dir + "/" + name, jpeg);
    csv << r.id << "," << r.kind << "," << r.frame << "," << r.class_id << "," << kLabels[r.class_id] << ","
        << r.confidence << ",200," << r.frame * 300000000LL << "," << jpeg.size() << ",00,3dcddac615b14d87,"
        << "9f665f65fd980e34," << name << "\n";
  }
  csv << "91,catalog,0,,,0,255,0,900,00,3dcddac615b14d87,9f665f65fd980e34,products/000091-catalog.bin\n";
  WriteText(dir + "/products.csv", csv.str());
  json r = {{"captures", {"radio.bin"}},
            {"packets_accepted", 120},
            {"packets_rejected", 3},
            {"bytes_skipped", 17},
            {"products_complete", 6},
            {"products_incomplete", 1},
            {"incomplete", {{{"product_id", 5}, {"missing", {{2, 4}, {9, 9}}}}}},
            {"rejections", {{"crc", 2}, {"duplicate", 1}}}};
  WriteText(dir + "/receive.json", r.dump(2));
  std::ostringstream cat;
  cat << "frame_id,timestamp,class_id,confidence,decision,bytes,evicted,evicted_kinds\n";
  for (int i = 0; i < 10; ++i) {
    const FrameSpec s = SpecOf(i);
    cat << i << "," << static_cast<int64_t>(i * kFrameSpacingS * 1e6) << "," << std::max(s.class_id, 0) << ","
        << s.confidence << "," << s.decision << ",1000,0,\n";
  }
  WriteText(dir + "/catalog.csv", cat.str());
}

void MakeWhatIf(const std::string& path) {
  json w = {{"frames", kFrames},
            {"mode", "whatif"},
            {"mismatches", json::array()},
            {"transitions",
             {{{"from", "full"}, {"to", "thumbnail"}, {"count", 3}},
              {{"from", "thumbnail"}, {"to", "discard"}, {"count", 2}}}},
            {"per_truth",
             {{{"truth", "land"}, {"from", "full"}, {"to", "thumbnail"}, {"count", 3}},
              {{"truth", "cloud"}, {"from", "thumbnail"}, {"to", "discard"}, {"count", 2}}}},
            {"queued_bytes", {{"before", 3000000}, {"after", 1900000}}},
            {"land_kept", {{"before", 6}, {"after", 6}}},
            {"changed",
             {{{"frame", 0},
               {"truth", "land"},
               {"class_before", "land"},
               {"class_after", "land"},
               {"from", "full"},
               {"to", "thumbnail"},
               {"confidence_before", 0.93},
               {"confidence_after", 0.93}}}}};
  WriteText(path, w.dump(2));
}

// Stub bundles: enough for every test that does not run a browser.
std::string StubAssets(const TempDir& tmp) {
  const std::string dir = tmp / "assets";
  for (const char* f : {"vega.min.js", "vega-lite.min.js", "vega-embed.min.js"}) {
    WriteText(dir + "/" + f, std::string("/* stub ") + f + " */\n//# sourceMappingURL=" + f + ".map");
  }
  return dir;
}

const ReportSection* FindSection(const ReportSummary& s, const std::string& id) {
  for (const ReportSection& x : s.sections)
    if (x.id == id) return &x;
  return nullptr;
}

const std::vector<std::string> kSectionOrder = {"summary", "classes", "confidence", "timeline", "downlink",
                                                "stages",  "faults",  "thumbnails", "whatif"};

json SpecsOf(const std::string& html) {
  const std::string open = "<script type=\"application/json\" id=\"report-specs\">";
  const size_t a = html.find(open);
  EXPECT_NE(a, std::string::npos);
  const size_t b = html.find("</script>", a);
  return json::parse(html.substr(a + open.size(), b - a - open.size()));
}

TEST(Report, FlightReceiveAndWhatIfFillEverySectionWithItsPlot) {
  TempDir tmp("report");
  MakeFlight(tmp / "flight");
  MakeReceive(tmp / "rx");
  MakeWhatIf(tmp / "whatif.json");
  ReportOptions o;
  o.runs = {tmp / "rx", tmp / "flight"};  // either order: detected by contents
  o.out = tmp / "report.html";
  o.whatif = tmp / "whatif.json";
  o.assets = StubAssets(tmp);
  Result<ReportSummary> r = WriteReport(o);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->flight_dir, tmp / "flight");
  EXPECT_EQ(r->receive_dir, tmp / "rx");
  EXPECT_EQ(r->frames, static_cast<size_t>(kFrames));
  EXPECT_EQ(r->thumbnails, 4u);
  ASSERT_EQ(r->sections.size(), kSectionOrder.size());
  for (size_t i = 0; i < kSectionOrder.size(); ++i) {
    EXPECT_EQ(r->sections[i].id, kSectionOrder[i]);
    EXPECT_TRUE(r->sections[i].has_data) << kSectionOrder[i];
  }
  const std::vector<std::string> plots = {"plot-classes",  "plot-confidence", "plot-timeline",
                                          "plot-downlink", "plot-stages",     "plot-whatif"};
  EXPECT_EQ(r->plots, plots);

  const std::string html = ReadText(o.out);
  EXPECT_EQ(html.size(), r->html_bytes);
  for (const std::string& id : kSectionOrder)
    EXPECT_NE(html.find("<section id=\"" + id + "\">"), std::string::npos) << id;
  for (const std::string& id : plots) EXPECT_NE(html.find("class=\"plot\" id=\"" + id + "\""), std::string::npos) << id;
  // Self-contained: the bundles inlined (without their source maps), no external script or image.
  EXPECT_NE(html.find("/* stub vega.min.js */"), std::string::npos);
  EXPECT_NE(html.find("/* stub vega-embed.min.js */"), std::string::npos);
  EXPECT_EQ(html.find("sourceMappingURL"), std::string::npos);
  EXPECT_EQ(html.find("<script src"), std::string::npos);
  EXPECT_EQ(html.find("src=\"http"), std::string::npos);
  EXPECT_EQ(html.find("href=\"http"), std::string::npos);
  size_t images = 0;
  for (size_t at = 0; (at = html.find("src=\"data:image/jpeg;base64,/9j/", at)) != std::string::npos; ++at) ++images;
  EXPECT_EQ(images, 4u);

  // Summary counts (30 frames: 6 full, 18 thumbnail, 5 discard, 1 failed).
  EXPECT_NE(html.find("6 full &middot; 18 thumbnail &middot; 5 discard &middot; 1 failed"), std::string::npos);
  EXPECT_NE(html.find("downlink saved"), std::string::npos);
  // Fault record and log events.
  EXPECT_NE(html.find("3 sweeps, 1 mismatches, 1 repairs"), std::string::npos);
  EXPECT_NE(html.find("vote disagreement: frame 12"), std::string::npos);
  EXPECT_NE(html.find("scrub repaired chunk 3"), std::string::npos);  // a fault-source event, though info
  EXPECT_EQ(html.find("started: camera sim"), std::string::npos);     // an app info event is not a fault event
  // What was still missing on the ground, and the what-if figures.
  EXPECT_NE(html.find("5 (packets 2&ndash;4,9)"), std::string::npos);
  EXPECT_NE(html.find("3.00 MB &rarr; 1.90 MB"), std::string::npos);

  // Every spec carries its data inline; the timeline has night and both passes.
  const json specs = SpecsOf(html);
  ASSERT_EQ(specs.size(), plots.size());
  for (const std::string& id : plots) ASSERT_TRUE(specs.contains(id)) << id;
  const json& bands = specs["plot-timeline"]["layer"][0]["data"]["values"];
  int night = 0, passes = 0;
  for (const json& b : bands) (b["band"] == "night" ? night : passes)++;
  EXPECT_GE(night, 1);
  EXPECT_EQ(passes, 2);
  int classes = 0;
  for (const json& v : specs["plot-classes"]["hconcat"][0]["data"]["values"]) classes += v["frames"].get<int>();
  EXPECT_EQ(classes, kFrames);
}

TEST(Report, SectionsWithoutDataSaySoInASentence) {
  TempDir tmp("report");
  WriteText(tmp / "flight/summary.json",
            json({{"mission", "m"}, {"bytes", {{"camera", 100}, {"queued", 40}, {"sent", 0}}}}).dump());
  ReportOptions o;
  o.runs = {tmp / "flight"};
  o.out = tmp / "r.html";
  o.assets = StubAssets(tmp);
  Result<ReportSummary> r = WriteReport(o);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->sections.size(), kSectionOrder.size());
  EXPECT_TRUE(FindSection(*r, "summary")->has_data);
  for (const char* id : {"classes", "confidence", "timeline", "downlink", "stages", "faults", "thumbnails", "whatif"}) {
    EXPECT_FALSE(FindSection(*r, id)->has_data) << id;
  }
  EXPECT_TRUE(r->plots.empty());
  const std::string html = ReadText(o.out);
  EXPECT_NE(html.find("No receive folder given"), std::string::npos);
  EXPECT_NE(html.find("No what-if output given"), std::string::npos);
  EXPECT_NE(html.find("No per-frame records"), std::string::npos);
  EXPECT_NE(html.find("60.0 %"), std::string::npos);  // downlink saved = 1 - 40/100
}

TEST(Report, ReceiveFolderAloneTakesFramesFromTheCatalog) {
  TempDir tmp("report");
  MakeReceive(tmp / "rx");
  ReportOptions o;
  o.runs = {tmp / "rx"};
  o.out = tmp / "r.html";
  o.assets = StubAssets(tmp);
  Result<ReportSummary> r = WriteReport(o);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r->flight_dir.empty());
  EXPECT_EQ(r->frames, 10u);
  EXPECT_EQ(r->thumbnails, 4u);
  EXPECT_TRUE(FindSection(*r, "classes")->has_data);
  EXPECT_TRUE(FindSection(*r, "downlink")->has_data);  // receive.json
  EXPECT_FALSE(FindSection(*r, "stages")->has_data);
  const std::string html = ReadText(o.out);
  EXPECT_NE(html.find("(from the frame catalog)"), std::string::npos);
  // Class names come from products.csv; the full product marks frame 0 full.
  const json specs = SpecsOf(html);
  bool land_full = false;
  for (const json& v : specs["plot-classes"]["data"]["values"])
    land_full |= v["class"] == "land" && v["decision"] == "full";
  EXPECT_TRUE(land_full);
  EXPECT_NE(html.find("<b>0</b> land 0.93 <span class=\"tag\" style=\"background:#2e7d32\">full</span>"),
            std::string::npos);
}

TEST(Report, UnreadableTelemetryNamesFileAndLine) {
  TempDir tmp("report");
  MakeFlight(tmp / "flight");
  std::string tel = ReadText(tmp / "flight/telemetry.jsonl");
  const size_t second = tel.find('\n', tel.find('\n') + 1);
  tel.insert(second + 1, "{\"frame\":2,\"t_s\":oops}\n");
  WriteText(tmp / "flight/telemetry.jsonl", tel);
  ReportOptions o;
  o.runs = {tmp / "flight"};
  o.out = tmp / "r.html";
  o.assets = StubAssets(tmp);
  Result<ReportSummary> r = WriteReport(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(std::string(r.status().message()).find("telemetry.jsonl:3: "), std::string::npos) << r.status().message();
  EXPECT_FALSE(fs::exists(o.out));

  WriteText(tmp / "flight/telemetry.jsonl", "{\"frame\":0}\n");
  WriteText(tmp / "flight/sent.csv", "pass,time_s,event,product_id,bytes\n0,1.5,product,1\n");
  r = WriteReport(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(std::string(r.status().message()).find("sent.csv:2: 4 fields"), std::string::npos) << r.status().message();
}

TEST(Report, RejectsMissingAndUnknownFolders) {
  TempDir tmp("report");
  ReportOptions o;
  o.out = tmp / "r.html";
  o.assets = StubAssets(tmp);
  o.runs = {tmp / "nope"};
  Result<ReportSummary> r = WriteReport(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(std::string(r.status().message()).find("no such folder"), std::string::npos);
  fs::create_directories(tmp / "empty");
  o.runs = {tmp / "empty"};
  r = WriteReport(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(std::string(r.status().message()).find("neither a flight output"), std::string::npos);
  EXPECT_EQ(DetectRunKind(tmp / "empty"), RunKind::kUnknown);
  MakeReceive(tmp / "rx");
  EXPECT_EQ(DetectRunKind(tmp / "rx"), RunKind::kReceive);
  o.runs = {tmp / "rx", tmp / "rx"};
  EXPECT_FALSE(WriteReport(o).ok());
}

TEST(Report, MissingPlotAssetsNameTheFileAndTheFetchCommand) {
  TempDir tmp("report");
  Result<ReportAssets> a = FindReportAssets(tmp / "none");
  ASSERT_FALSE(a.ok());
  const std::string msg = a.status().message();
  EXPECT_NE(msg.find("vega/build/vega.min.js"), std::string::npos) << msg;
  EXPECT_NE(msg.find("scripts/report-assets.sh"), std::string::npos) << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos);
  // A node_modules layout is found as well as a flat one.
  for (const char* f : {"vega/build/vega.min.js", "vega-lite/build/vega-lite.min.js"})
    WriteText(tmp / "nm" + "/" + f, "x");
  a = FindReportAssets(tmp / "nm");
  ASSERT_FALSE(a.ok());
  EXPECT_NE(std::string(a.status().message()).find("vega-embed/build/vega-embed.min.js"), std::string::npos);
  WriteText(tmp / "nm/vega-embed/build/vega-embed.min.js", "x");
  a = FindReportAssets(tmp / "nm");
  ASSERT_TRUE(a.ok()) << a.status().message();
  EXPECT_EQ(a->vega_embed, tmp / "nm/vega-embed/build/vega-embed.min.js");
  // The environment variable is the fallback for an empty option.
  ASSERT_EQ(::setenv("TRIAGE_REPORT_ASSETS", (tmp / "nm").c_str(), 1), 0);
  a = FindReportAssets("");
  ::unsetenv("TRIAGE_REPORT_ASSETS");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->dir, tmp / "nm");
}

// ---- the browser test -------------------------------------------------------

std::string FindChromium() {
  if (const char* env = std::getenv("TRIAGE_CHROMIUM"); env != nullptr && env[0] != '\0') {
    return ::access(env, X_OK) == 0 ? env : "";
  }
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path != nullptr ? path : "/usr/bin");
  std::string d;
  while (std::getline(dirs, d, ':')) {
    for (const char* name : {"chromium", "chromium-browser"}) {
      const std::string p = d + "/" + name;
      if (::access(p.c_str(), X_OK) == 0) return p;
    }
  }
  return "";
}

// The HTML between a plot container's opening tag and the next plot or section.
std::string PlotElement(const std::string& dom, const std::string& id) {
  const size_t a = dom.find("id=\"" + id + "\"");
  if (a == std::string::npos) return "";
  size_t b = std::min(dom.find("class=\"plot", a + 1), dom.find("</section>", a));
  return dom.substr(a, b == std::string::npos ? std::string::npos : b - a);
}

TEST(ReportBrowser, HeadlessChromiumRendersEveryPlotWithoutScriptErrors) {
  const std::string chromium = FindChromium();
  if (chromium.empty()) {
    GTEST_SKIP() << "chromium not found on PATH or at $TRIAGE_CHROMIUM (scripts/install-deps.sh --with-browser)";
  }
  Result<ReportAssets> assets = FindReportAssets("");
  if (!assets.ok()) GTEST_SKIP() << assets.status().message();

  TempDir tmp("report_browser");
  MakeFlight(tmp / "flight");
  MakeReceive(tmp / "rx");
  MakeWhatIf(tmp / "whatif.json");
  ReportOptions o;
  o.runs = {tmp / "flight", tmp / "rx"};
  o.out = tmp / "report.html";
  o.whatif = tmp / "whatif.json";
  Result<ReportSummary> r = WriteReport(o);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->plots.size(), 6u);

  const std::string png = tmp / "report.png", dom_path = tmp / "dom.html", log = tmp / "chromium.log";
  const std::string cmd = "timeout 120 '" + chromium +
                          "' --headless=new --no-sandbox --disable-gpu --no-first-run --hide-scrollbars"
                          " --user-data-dir='" +
                          (tmp / "profile") +
                          "' --enable-logging=stderr --v=0 --window-size=1400,4000 --virtual-time-budget=10000"
                          " --screenshot='" +
                          png + "' --dump-dom 'file://" + o.out + "' >'" + dom_path + "' 2>'" + log + "'";
  const int rc = std::system(cmd.c_str());
  ASSERT_TRUE(WIFEXITED(rc) && WEXITSTATUS(rc) == 0) << cmd << "\n" << ReadText(log);
  const std::string dom = ReadText(dom_path);
  ASSERT_FALSE(dom.empty()) << ReadText(log);

  // No script error: the page's own hook (window.onerror, unhandled
  // rejections, vega-embed failures) writes into #report-errors and counts
  // them on <html>; the console must show no uncaught exception either.
  const size_t errors_at = dom.find("<div id=\"report-errors\">");
  ASSERT_NE(errors_at, std::string::npos);
  const std::string errors = dom.substr(errors_at, dom.find("</div>", errors_at) - errors_at);
  EXPECT_EQ(errors, "<div id=\"report-errors\">");
  EXPECT_EQ(dom.find("data-report-errors=\""), std::string::npos) << errors;
  EXPECT_NE(dom.find("data-report-done=\"6\""), std::string::npos);
  EXPECT_NE(dom.find("plots rendered: 6 of 6"), std::string::npos);
  const std::string console = ReadText(log);
  EXPECT_EQ(console.find("Uncaught"), std::string::npos) << console;

  for (const std::string& id : r->plots) {
    const std::string el = PlotElement(dom, id);
    ASSERT_FALSE(el.empty()) << id;
    EXPECT_NE(el.find("data-rendered=\"1\""), std::string::npos) << id;
    const size_t svg = el.find("<svg");
    ASSERT_NE(svg, std::string::npos) << id << " has no <svg>";
    const size_t end = el.find("</svg>", svg);
    ASSERT_NE(end, std::string::npos) << id;
    const std::string body = el.substr(svg, end - svg);
    EXPECT_NE(body.find("<path"), std::string::npos) << id << ": an empty <svg>";
    EXPECT_GT(body.size(), 2000u) << id;
  }
  // Four thumbnails decoded by the browser as images.
  size_t imgs = 0;
  for (size_t at = 0; (at = dom.find("<img alt=\"frame", at)) != std::string::npos; ++at) ++imgs;
  EXPECT_EQ(imgs, 4u);

  const std::string shot = ReadText(png);
  ASSERT_GT(shot.size(), 10000u);
  EXPECT_EQ(shot.substr(1, 3), "PNG");
  if (const char* keep = std::getenv("TRIAGE_REPORT_KEEP"); keep != nullptr && keep[0] != '\0') {
    fs::create_directories(keep);
    fs::copy_file(png, std::string(keep) + "/report.png", fs::copy_options::overwrite_existing);
    fs::copy_file(o.out, std::string(keep) + "/report.html", fs::copy_options::overwrite_existing);
  }
}

}  // namespace
}  // namespace triage::ground
