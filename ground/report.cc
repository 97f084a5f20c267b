#include "ground/report.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "config/mission.h"
#include "imaging/simulator.h"

#ifndef TRIAGE_REPORT_ASSETS_DEFAULT
#define TRIAGE_REPORT_ASSETS_DEFAULT "ground/report/node_modules"
#endif

namespace triage::ground {
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

// Internal failures travel as exceptions (ground code) and leave WriteReport
// as one Status.
struct ReportError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

constexpr char kFetchHint[] = "fetch them with scripts/report-assets.sh";
constexpr size_t kMaxThumbnails = 600;
constexpr size_t kMaxTableRows = 200;

std::string Printf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
std::string Printf(const char* fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(buf, sizeof(buf), fmt, ap);
  va_end(ap);
  return buf;
}

std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ReportError(path + ": cannot read");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw ReportError(path + ": read failed");
  return ss.str();
}

bool IsFile(const std::string& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

std::string Esc(const std::string& s) {
  std::string o;
  o.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        o += "&amp;";
        break;
      case '<':
        o += "&lt;";
        break;
      case '>':
        o += "&gt;";
        break;
      case '"':
        o += "&quot;";
        break;
      case '\'':
        o += "&#39;";
        break;
      default:
        o += c;
    }
  }
  return o;
}

// JSON placed inside <script>: "</" becomes "<\\/" (the same string in JSON),
// so no "</script>" can end the element early.
std::string ScriptSafe(std::string s) {
  for (size_t at = 0; (at = s.find("</", at)) != std::string::npos; at += 3) s.replace(at, 2, "<\\/");
  return s;
}

// A minified bundle without its source-map comment (nothing to fetch
// offline). Only a literal "</script" would end the element; in JavaScript
// "<\\/script" means the same inside a string or a regular expression.
std::string InlineJs(std::string js) {
  const size_t at = js.rfind("//# sourceMappingURL=");
  if (at != std::string::npos && js.find('\n', at) == std::string::npos) js.erase(at);
  for (size_t i = 0; (i = js.find("</", i)) != std::string::npos; i += 2) {
    std::string tag = js.substr(i + 2, 6);
    std::transform(tag.begin(), tag.end(), tag.begin(), [](unsigned char c) { return std::tolower(c); });
    if (tag == "script") js.replace(i, 2, "<\\/");
  }
  return js;
}

std::string Base64(const std::string& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(n < 0 ? 0 : static_cast<size_t>(n));
  return out;
}

std::string Mb(double bytes) { return Printf("%.2f MB", bytes / 1e6); }
std::string Int(uint64_t v) {
  std::string s = std::to_string(v), o;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i && (s.size() - i) % 3 == 0) o += ',';
    o += s[i];
  }
  return o;
}

// ---- CSV --------------------------------------------------------------------

struct Csv {
  std::string path;
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  std::vector<int> lines;  // 1-based line of each row
  int Col(const std::string& name) const {
    for (size_t i = 0; i < header.size(); ++i)
      if (header[i] == name) return static_cast<int>(i);
    return -1;
  }
};

std::vector<std::string> SplitCsvLine(const std::string& line) {
  std::vector<std::string> f(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        f.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        f.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      f.emplace_back();
    } else {
      f.back() += c;
    }
  }
  return f;
}

Csv ReadCsv(const std::string& path, const std::vector<std::string>& required) {
  Csv csv;
  csv.path = path;
  std::istringstream in(ReadWholeFile(path));
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    std::vector<std::string> f = SplitCsvLine(line);
    if (csv.header.empty()) {
      csv.header = std::move(f);
      for (const std::string& r : required) {
        if (csv.Col(r) < 0) throw ReportError(Printf("%s:%d: no column '%s'", path.c_str(), n, r.c_str()));
      }
      continue;
    }
    if (f.size() != csv.header.size()) {
      throw ReportError(Printf("%s:%d: %zu fields, the header has %zu", path.c_str(), n, f.size(), csv.header.size()));
    }
    csv.rows.push_back(std::move(f));
    csv.lines.push_back(n);
  }
  if (csv.header.empty()) throw ReportError(path + ": empty (no header)");
  return csv;
}

double CsvNumber(const Csv& csv, size_t row, const char* column) {
  const int c = csv.Col(column);
  if (c < 0) return 0;
  const std::string& s = csv.rows[row][static_cast<size_t>(c)];
  if (s.empty()) return 0;
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (end == s.c_str() || *end != '\0' || !std::isfinite(v)) {
    throw ReportError(Printf("%s:%d: %s '%s' is not a number", csv.path.c_str(), csv.lines[row], column, s.c_str()));
  }
  return v;
}

std::string CsvText(const Csv& csv, size_t row, const char* column) {
  const int c = csv.Col(column);
  return c < 0 ? std::string() : csv.rows[row][static_cast<size_t>(c)];
}

// ---- inputs -----------------------------------------------------------------

struct Product {
  std::string kind;
  uint32_t id = 0;
  uint64_t bytes = 0;
};

struct FrameRec {
  uint64_t frame = 0;
  double t_s = 0;
  std::string truth, cls, decision, reason, vote;
  int class_id = -1;
  double confidence = 0;
  bool has_class = false, uncertain = false, safe_mode = false, unverified = false;
  uint64_t camera_bytes = 0, queued_bytes = 0;
  std::vector<Product> products;
  std::vector<std::pair<std::string, double>> stage_ms;
  std::string config;
};

struct SentRow {
  uint32_t pass = 0;
  double time_s = 0;
  std::string event;
  uint32_t product_id = 0, packet_index = 0, packet_count = 0, apid = 0;
  uint64_t bytes = 0;
};

struct LogEvent {
  std::string time, level, id, severity, text;
  bool fault_source = false;
};

struct Window {
  double start_s = 0, end_s = 0;
};

struct FlightData {
  std::string dir;
  std::vector<FrameRec> frames;
  bool from_catalog = false;  // frames rebuilt from catalog.csv (no telemetry)
  json summary;               // null when absent
  bool has_sent = false;
  std::vector<SentRow> sent;
  bool has_log = false;
  std::vector<LogEvent> events;
  size_t log_lines = 0;
  // From the recorded config, when found.
  bool has_config = false;
  config::MissionConfig mission;
};

struct ProductRow {
  uint32_t product_id = 0;
  std::string kind, cls, file;
  uint64_t frame_id = 0, payload_bytes = 0;
  int class_id = -1;
  double confidence = 0, timestamp = 0;
  int priority = 0;
};

struct ReceiveData {
  std::string dir;
  bool has_products = false;
  std::vector<ProductRow> products;
  json receive;  // null when absent
  bool has_catalog = false;
  Csv catalog;
};

void ReadTelemetry(const std::string& path, FlightData* fd) {
  std::ifstream in(path);
  if (!in) throw ReportError(path + ": cannot read");
  std::map<uint64_t, size_t> index;
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty() || line == "\r") continue;
    json j;
    try {
      j = json::parse(line);
    } catch (const json::exception& e) {
      std::string what = e.what();
      if (what.size() > 120) what.resize(120);
      throw ReportError(Printf("%s:%d: %s", path.c_str(), n, what.c_str()));
    }
    if (!j.is_object() || !j.contains("frame") || !j["frame"].is_number_unsigned()) {
      throw ReportError(Printf("%s:%d: not a telemetry record (no \"frame\")", path.c_str(), n));
    }
    try {
      FrameRec r;
      r.frame = j["frame"].get<uint64_t>();
      r.t_s = j.value("t_s", 0.0);
      r.truth = j.value("truth", "");
      r.has_class = j.contains("class");
      r.cls = j.value("class", "");
      r.class_id = j.value("class_id", -1);
      r.confidence = j.value("confidence", 0.0);
      r.uncertain = j.value("uncertain", false);
      r.vote = j.value("vote", "");
      r.safe_mode = j.value("safe_mode", false);
      r.unverified = j.value("unverified", false);
      r.decision = j.value("decision", "unknown");
      r.reason = j.value("reason", "");
      r.camera_bytes = j.value("camera_bytes", uint64_t{0});
      r.queued_bytes = j.value("queued_bytes", uint64_t{0});
      r.config = j.value("config", "");
      if (j.contains("products") && j["products"].is_array()) {
        for (const json& p : j["products"]) {
          r.products.push_back({p.value("kind", ""), p.value("id", 0u), p.value("bytes", uint64_t{0})});
        }
      }
      if (j.contains("stage_ms") && j["stage_ms"].is_object()) {
        for (auto it = j["stage_ms"].begin(); it != j["stage_ms"].end(); ++it) {
          if (it.value().is_number()) r.stage_ms.emplace_back(it.key(), it.value().get<double>());
        }
      }
      // A resumed flight may write a frame again: the last record wins.
      auto [it, fresh] = index.emplace(r.frame, fd->frames.size());
      if (fresh) {
        fd->frames.push_back(std::move(r));
      } else {
        fd->frames[it->second] = std::move(r);
      }
    } catch (const json::exception& e) {
      std::string what = e.what();
      if (what.size() > 120) what.resize(120);
      throw ReportError(Printf("%s:%d: %s", path.c_str(), n, what.c_str()));
    }
  }
  std::sort(fd->frames.begin(), fd->frames.end(),
            [](const FrameRec& a, const FrameRec& b) { return a.frame < b.frame; });
}

json ReadJsonFile(const std::string& path) {
  const std::string text = ReadWholeFile(path);
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    std::string what = e.what();
    if (what.size() > 120) what.resize(120);
    throw ReportError(path + ": " + what);
  }
}

void ReadSent(const std::string& path, FlightData* fd) {
  const Csv csv = ReadCsv(path, {"pass", "time_s", "event", "product_id", "bytes"});
  for (size_t i = 0; i < csv.rows.size(); ++i) {
    SentRow r;
    r.pass = static_cast<uint32_t>(CsvNumber(csv, i, "pass"));
    r.time_s = CsvNumber(csv, i, "time_s");
    r.event = CsvText(csv, i, "event");
    r.product_id = static_cast<uint32_t>(CsvNumber(csv, i, "product_id"));
    r.packet_index = static_cast<uint32_t>(CsvNumber(csv, i, "packet_index"));
    r.packet_count = static_cast<uint32_t>(CsvNumber(csv, i, "packet_count"));
    r.apid = static_cast<uint32_t>(CsvNumber(csv, i, "apid"));
    r.bytes = static_cast<uint64_t>(CsvNumber(csv, i, "bytes"));
    fd->sent.push_back(std::move(r));
  }
  fd->has_sent = true;
}

// spdlog lines: "2026-12-03T12:28:17.834 I event 0x0101 info [0 5 147456] text".
void ReadLogs(const std::string& dir, FlightData* fd) {
  std::vector<std::string> files;
  for (int i = 9; i >= 1; --i) {  // rotated files first: oldest to newest
    const std::string p = dir + "/triage-flight." + std::to_string(i) + ".log";
    if (IsFile(p)) files.push_back(p);
  }
  if (IsFile(dir + "/triage-flight.log")) files.push_back(dir + "/triage-flight.log");
  for (const std::string& path : files) {
    fd->has_log = true;
    std::istringstream in(ReadWholeFile(path));
    std::string line;
    while (std::getline(in, line)) {
      ++fd->log_lines;
      std::istringstream ls(line);
      LogEvent e;
      if (!(ls >> e.time >> e.level)) continue;
      std::string rest;
      std::getline(ls, rest);
      if (!rest.empty() && rest[0] == ' ') rest.erase(0, 1);
      if (rest.rfind("event 0x", 0) == 0) {
        std::istringstream es(rest.substr(6));
        es >> e.id >> e.severity;
        std::getline(es, e.text);
        if (!e.text.empty() && e.text[0] == ' ') e.text.erase(0, 1);
        const unsigned long id = std::strtoul(e.id.c_str(), nullptr, 16);
        e.fault_source = (id >> 8) == 2;  // EventSource::kFault
      } else {
        e.text = rest;
      }
      const bool notable = e.fault_source || e.level == "W" || e.level == "E" || e.level == "C" ||
                           e.severity == "warning" || e.severity == "error" || e.severity == "fatal";
      if (notable) fd->events.push_back(std::move(e));
    }
  }
}

FlightData ReadFlight(const std::string& dir) {
  FlightData fd;
  fd.dir = dir;
  if (IsFile(dir + "/telemetry.jsonl")) ReadTelemetry(dir + "/telemetry.jsonl", &fd);
  if (IsFile(dir + "/summary.json")) fd.summary = ReadJsonFile(dir + "/summary.json");
  if (IsFile(dir + "/sent.csv")) ReadSent(dir + "/sent.csv", &fd);
  if (fs::is_directory(dir + "/logs")) ReadLogs(dir + "/logs", &fd);
  // The config the flight ran with, as recorded: pass windows and orbit.
  std::string hash16;
  if (!fd.frames.empty()) hash16 = fd.frames.back().config;
  if (hash16.empty() && fd.summary.is_object()) hash16 = fd.summary.value("config_sha256", "").substr(0, 16);
  if (hash16.size() >= 16 && fs::is_directory(dir + "/config")) {
    config::LoadOptions lo;
    lo.check_files = false;
    config::LoadedConfig lc = config::LoadRecordedConfig(dir + "/config", hash16.substr(0, 16), lo);
    if (lc.ok()) {
      fd.has_config = true;
      fd.mission = std::move(lc.config);
    }
  }
  return fd;
}

ReceiveData ReadReceive(const std::string& dir) {
  ReceiveData rd;
  rd.dir = dir;
  if (IsFile(dir + "/products.csv")) {
    const Csv csv = ReadCsv(dir + "/products.csv", {"product_id", "kind", "frame_id"});
    for (size_t i = 0; i < csv.rows.size(); ++i) {
      ProductRow p;
      p.product_id = static_cast<uint32_t>(CsvNumber(csv, i, "product_id"));
      p.kind = CsvText(csv, i, "kind");
      p.frame_id = static_cast<uint64_t>(CsvNumber(csv, i, "frame_id"));
      p.class_id = CsvText(csv, i, "class_id").empty() ? -1 : static_cast<int>(CsvNumber(csv, i, "class_id"));
      p.cls = CsvText(csv, i, "class");
      p.confidence = CsvNumber(csv, i, "confidence");
      p.priority = static_cast<int>(CsvNumber(csv, i, "priority"));
      p.timestamp = CsvNumber(csv, i, "timestamp");
      p.payload_bytes = static_cast<uint64_t>(CsvNumber(csv, i, "payload_bytes"));
      p.file = CsvText(csv, i, "file");
      rd.products.push_back(std::move(p));
    }
    rd.has_products = true;
  }
  if (IsFile(dir + "/receive.json")) rd.receive = ReadJsonFile(dir + "/receive.json");
  if (IsFile(dir + "/catalog.csv")) {
    rd.catalog = ReadCsv(dir + "/catalog.csv", {"frame_id", "class_id", "confidence", "decision"});
    rd.has_catalog = true;
  }
  return rd;
}

// No telemetry: the frame catalog (flight's or received) still gives class,
// confidence and decision per frame.
void FramesFromCatalog(const Csv& csv, const std::map<int, std::string>& names, FlightData* fd) {
  for (size_t i = 0; i < csv.rows.size(); ++i) {
    FrameRec r;
    r.frame = static_cast<uint64_t>(CsvNumber(csv, i, "frame_id"));
    r.t_s = CsvNumber(csv, i, "timestamp") / 1e6;
    r.class_id = static_cast<int>(CsvNumber(csv, i, "class_id"));
    auto it = names.find(r.class_id);
    r.cls = it != names.end() ? it->second : "class " + std::to_string(r.class_id);
    r.confidence = CsvNumber(csv, i, "confidence");
    r.decision = CsvText(csv, i, "decision");
    r.has_class = r.decision != "failed";
    r.queued_bytes = static_cast<uint64_t>(CsvNumber(csv, i, "bytes"));
    fd->frames.push_back(std::move(r));
  }
  std::sort(fd->frames.begin(), fd->frames.end(),
            [](const FrameRec& a, const FrameRec& b) { return a.frame < b.frame; });
  fd->from_catalog = !fd->frames.empty();
}

// ---- page -------------------------------------------------------------------

const std::vector<std::string> kDecisionOrder = {"full", "thumbnail", "discard", "failed", "abandoned", "unknown"};
const std::map<std::string, std::string> kDecisionColor = {{"full", "#2e7d32"},      {"thumbnail", "#1f77b4"},
                                                           {"discard", "#9e9e9e"},   {"failed", "#d62728"},
                                                           {"abandoned", "#ff7f0e"}, {"unknown", "#8c564b"}};

// The decisions present, in the fixed order, with their colours.
json DecisionScale(const std::set<std::string>& present) {
  json domain = json::array(), range = json::array();
  for (const std::string& d : kDecisionOrder) {
    if (present.count(d)) {
      domain.push_back(d);
      range.push_back(kDecisionColor.at(d));
    }
  }
  for (const std::string& d : present) {
    if (!kDecisionColor.count(d)) {
      domain.push_back(d);
      range.push_back("#bcbd22");
    }
  }
  return {{"domain", domain}, {"range", range}};
}

json BaseConfig() {
  return {{"view", {{"stroke", "#ddd"}}},
          {"font", "system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif"},
          {"axis", {{"labelFontSize", 11}, {"titleFontSize", 12}, {"titleFontWeight", "normal"}}},
          {"legend", {{"labelFontSize", 11}, {"titleFontSize", 12}}},
          {"header", {{"labelFontSize", 12}, {"titleFontSize", 12}}}};
}

class Page {
 public:
  void Section(const std::string& id, const std::string& title, bool has_data) {
    if (open_) body_ += "</section>\n";
    body_ += "<section id=\"" + id + "\"><h2>" + Esc(title) + "</h2>\n";
    open_ = true;
    sections_.push_back({id, title, has_data});
  }
  void Html(const std::string& html) { body_ += html; }
  void P(const std::string& text) { body_ += "<p>" + Esc(text) + "</p>\n"; }
  void Absent(const std::string& text) { body_ += "<p class=\"absent\">" + Esc(text) + "</p>\n"; }
  void Plot(const std::string& id, json spec) {
    spec["config"] = BaseConfig();
    specs_[id] = std::move(spec);
    plots_.push_back(id);
    body_ += "<div class=\"plot\" id=\"" + id + "\"></div>\n";
  }
  // rows of already-escaped cells
  void Table(const std::vector<std::string>& head, const std::vector<std::vector<std::string>>& rows,
             const std::string& cls = "") {
    std::string t = "<table" + (cls.empty() ? std::string() : " class=\"" + cls + "\"") + "><thead><tr>";
    for (const std::string& h : head) t += "<th>" + Esc(h) + "</th>";
    t += "</tr></thead><tbody>\n";
    for (const auto& r : rows) {
      t += "<tr>";
      for (const std::string& c : r) t += "<td>" + c + "</td>";
      t += "</tr>\n";
    }
    body_ += t + "</tbody></table>\n";
  }
  std::string Finish() {
    if (open_) body_ += "</section>\n";
    open_ = false;
    return body_;
  }
  const json& specs() const { return specs_; }
  const std::vector<std::string>& plots() const { return plots_; }
  const std::vector<ReportSection>& sections() const { return sections_; }

 private:
  std::string body_;
  bool open_ = false;
  json specs_ = json::object();
  std::vector<std::string> plots_;
  std::vector<ReportSection> sections_;
};

struct Model {
  const FlightData* fd = nullptr;    // never null (may be empty)
  const ReceiveData* rd = nullptr;   // null without a receive folder
  std::vector<std::string> classes;  // by class id
  std::set<std::string> decisions;
  std::map<uint64_t, const FrameRec*> by_frame;
  double interval_s = 20.0;
};

std::string ClassOf(const FrameRec& f) { return f.has_class && !f.cls.empty() ? f.cls : "(none)"; }

void SummarySection(const Model& m, Page* page) {
  const FlightData& fd = *m.fd;
  const bool have = !fd.frames.empty() || fd.summary.is_object() || (m.rd && m.rd->has_products);
  page->Section("summary", "Summary", have);
  if (!have) {
    page->Absent("No telemetry, summary or received products: nothing to summarize.");
    return;
  }
  std::map<std::string, uint64_t> dec;
  uint64_t camera = 0, queued = 0, uncertain = 0, truth = 0, correct = 0;
  for (const FrameRec& f : fd.frames) {
    ++dec[f.decision];
    camera += f.camera_bytes;
    queued += f.queued_bytes;
    uncertain += f.uncertain;
    if (!f.truth.empty() && f.has_class) {
      ++truth;
      correct += f.truth == f.cls;
    }
  }
  uint64_t sent = 0;
  for (const SentRow& s : fd.sent) sent += s.bytes;
  const json& s = fd.summary;
  if (s.is_object()) {
    const json b = s.value("bytes", json::object());
    camera = b.value("camera", camera);
    queued = b.value("queued", queued);
    sent = b.value("sent", sent);
    if (fd.frames.empty()) {
      const json fr = s.value("frames", json::object());
      dec["full"] = fr.value("kept_full", uint64_t{0});
      dec["thumbnail"] = fr.value("thumbnail_only", uint64_t{0});
      dec["discard"] = fr.value("discarded", uint64_t{0});
      dec["failed"] = fr.value("failed", uint64_t{0});
      uncertain = fr.value("uncertain", uint64_t{0});
    }
  }
  uint64_t frames = 0;
  for (const auto& [k, v] : dec) frames += v;
  std::vector<std::vector<std::string>> rows;
  if (s.is_object()) {
    rows.push_back({"mission", Esc(s.value("mission", "")) + " (stopped by " + Esc(s.value("stopped_by", "")) + ")"});
  }
  if (frames > 0 || fd.from_catalog) {
    rows.push_back({"frames", Int(frames) + (fd.from_catalog ? " (from the frame catalog)" : "")});
    rows.push_back({"decisions", Printf("%s full &middot; %s thumbnail &middot; %s discard &middot; %s failed",
                                        Int(dec["full"]).c_str(), Int(dec["thumbnail"]).c_str(),
                                        Int(dec["discard"]).c_str(), Int(dec["failed"]).c_str()) +
                                     (dec["abandoned"] ? " &middot; " + Int(dec["abandoned"]) + " abandoned" : "")});
    rows.push_back({"uncertain frames", Int(uncertain)});
  }
  if (!fd.from_catalog && (camera > 0 || queued > 0)) {
    rows.push_back({"bytes captured", Mb(static_cast<double>(camera)) + " (" + Int(camera) + " B)"});
    rows.push_back({"bytes queued", Mb(static_cast<double>(queued)) + " (" + Int(queued) + " B)"});
    rows.push_back({"bytes sent", fd.has_sent || s.is_object()
                                      ? Mb(static_cast<double>(sent)) + " (" + Int(sent) + " B)"
                                      : "no send log"});
    const double saved = camera > 0 ? 100.0 * (1.0 - static_cast<double>(queued) / static_cast<double>(camera)) : 0.0;
    rows.push_back({"downlink saved", Printf("%.1f %% versus sending every frame", saved)});
  }
  if (truth > 0) {
    rows.push_back({"simulator truth", Printf("%.1f %% top-1 agreement (%s of %s frames)",
                                              100.0 * static_cast<double>(correct) / static_cast<double>(truth),
                                              Int(correct).c_str(), Int(truth).c_str())});
  }
  if (s.is_object()) {
    rows.push_back({"config / model", "<code>" + Esc(s.value("config_sha256", "").substr(0, 16)) + "</code> / <code>" +
                                          Esc(s.value("model_sha256", "").substr(0, 16)) + "</code>"});
  } else if (!fd.frames.empty() && !fd.frames.back().config.empty()) {
    rows.push_back({"config", "<code>" + Esc(fd.frames.back().config) + "</code>"});
  }
  if (m.rd && m.rd->has_products) {
    std::map<std::string, std::pair<uint64_t, uint64_t>> kinds;
    for (const ProductRow& p : m.rd->products) {
      ++kinds[p.kind].first;
      kinds[p.kind].second += p.payload_bytes;
    }
    std::string t;
    for (const auto& [k, v] : kinds) {
      t += (t.empty() ? "" : " &middot; ") + Int(v.first) + " " + Esc(k) + " (" + Mb(static_cast<double>(v.second)) +
           ")";
    }
    rows.push_back({"products received", t.empty() ? "none" : t});
  }
  if (m.rd && m.rd->receive.is_object()) {
    const json& r = m.rd->receive;
    rows.push_back({"packets received", Printf("%s accepted, %s rejected; products %s complete, %s incomplete",
                                               Int(r.value("packets_accepted", uint64_t{0})).c_str(),
                                               Int(r.value("packets_rejected", uint64_t{0})).c_str(),
                                               Int(r.value("products_complete", uint64_t{0})).c_str(),
                                               Int(r.value("products_incomplete", uint64_t{0})).c_str())});
  }
  page->Table({"", ""}, rows, "summary");
}

void ClassSection(const Model& m, Page* page) {
  const FlightData& fd = *m.fd;
  const bool have = !fd.frames.empty();
  page->Section("classes", "Frames per class and decision", have);
  if (!have) {
    page->Absent("No per-frame records (telemetry.jsonl or a frame catalog): no class counts.");
    return;
  }
  std::map<std::pair<std::string, std::string>, int> pred, truth;
  bool has_truth = false;
  for (const FrameRec& f : fd.frames) {
    ++pred[{ClassOf(f), f.decision}];
    if (!f.truth.empty()) {
      ++truth[{f.truth, f.decision}];
      has_truth = true;
    }
  }
  auto values = [](const std::map<std::pair<std::string, std::string>, int>& counts) {
    json v = json::array();
    for (const auto& [k, n] : counts) {
      const auto it = std::find(kDecisionOrder.begin(), kDecisionOrder.end(), k.second);
      v.push_back({{"class", k.first},
                   {"decision", k.second},
                   {"frames", n},
                   {"order", static_cast<int>(it - kDecisionOrder.begin())}});
    }
    return v;
  };
  std::vector<std::string> order = m.classes;
  order.push_back("(none)");
  auto bar = [&](const json& v, const std::string& title) {
    return json{{"title", title},
                {"data", {{"values", v}}},
                {"mark", {{"type", "bar"}, {"tooltip", true}}},
                {"width", 420},
                {"height", 260},
                {"encoding",
                 {{"x",
                   {{"field", "class"},
                    {"type", "nominal"},
                    {"sort", order},
                    {"title", nullptr},
                    {"axis", {{"labelAngle", 0}}}}},
                  {"y",
                   {{"field", "frames"},
                    {"type", "quantitative"},
                    {"title", "frames"},
                    {"axis", {{"tickMinStep", 1}, {"format", "d"}}}}},
                  {"color", {{"field", "decision"}, {"type", "nominal"}, {"scale", DecisionScale(m.decisions)}}},
                  {"order", {{"field", "order"}}}}}};
  };
  json spec;
  if (has_truth) {
    spec = {{"hconcat", {bar(values(pred), "by predicted class"), bar(values(truth), "by true class (simulator)")}}};
  } else {
    spec = bar(values(pred), "by predicted class");
  }
  page->Plot("plot-classes", spec);
}

void ConfidenceSection(const Model& m, Page* page) {
  json v = json::array();
  for (const FrameRec& f : m.fd->frames) {
    if (!f.has_class) continue;
    v.push_back({{"class", ClassOf(f)}, {"confidence", f.confidence}, {"decision", f.decision}});
  }
  page->Section("confidence", "Confidence per class", !v.empty());
  if (v.empty()) {
    page->Absent("No classified frames: no confidence histograms.");
    return;
  }
  page->P("Top-1 softmax probability of each classified frame, in bins of 0.05, coloured by the decision taken.");
  // One panel per class, in class-id order (a concat, since a faceted binned
  // chart orders its panels by first appearance whatever the sort).
  json panels = json::array();
  std::set<std::string> seen;
  for (const json& x : v) seen.insert(x["class"].get<std::string>());
  for (const std::string& cls : m.classes) {
    if (!seen.count(cls)) continue;
    panels.push_back(
        {{"title", cls},
         {"width", 165},
         {"height", 120},
         {"transform", {{{"filter", {{"field", "class"}, {"equal", cls}}}}}},
         {"mark", {{"type", "bar"}, {"tooltip", true}}},
         {"encoding",
          {{"x",
            {{"field", "confidence"},
             {"type", "quantitative"},
             {"bin", {{"extent", json::array({0, 1})}, {"step", 0.05}}},
             {"scale", {{"domain", json::array({0, 1})}}},
             {"title", "confidence"},
             {"axis", {{"values", json::array({0, 0.25, 0.5, 0.75, 1})}, {"format", ".2~f"}}}}},
           {"y",
            {{"aggregate", "count"},
             {"type", "quantitative"},
             {"title", "frames"},
             {"axis", {{"tickMinStep", 1}, {"format", "d"}}}}},
           {"color", {{"field", "decision"}, {"type", "nominal"}, {"scale", DecisionScale(m.decisions)}}}}}});
  }
  json spec = {
      {"data", {{"values", v}}}, {"concat", panels}, {"columns", 5}, {"resolve", {{"scale", {{"y", "independent"}}}}}};
  page->Plot("plot-confidence", spec);
}

// Pass windows: the recorded config's schedule, else the send log's extent.
std::vector<Window> PassWindows(const Model& m, std::string* source) {
  std::vector<Window> w;
  const FlightData& fd = *m.fd;
  double t_max = 0;
  for (const FrameRec& f : fd.frames) t_max = std::max(t_max, f.t_s);
  if (fd.has_config && !fd.mission.downlink.passes.empty()) {
    for (const auto& p : fd.mission.downlink.passes) {
      if (p.start_s <= t_max + m.interval_s || fd.frames.empty()) w.push_back({p.start_s, p.end_s});
    }
    *source = "the mission config's pass schedule";
    return w;
  }
  std::map<uint32_t, Window> by_pass;
  for (const SentRow& s : fd.sent) {
    auto [it, fresh] = by_pass.emplace(s.pass, Window{s.time_s, s.time_s});
    if (!fresh) {
      it->second.start_s = std::min(it->second.start_s, s.time_s);
      it->second.end_s = std::max(it->second.end_s, s.time_s);
    }
  }
  for (const auto& [k, v] : by_pass) w.push_back(v);
  *source = "the send log (first to last packet of each pass)";
  return w;
}

// Night: the simulator's orbit (sun below the horizon at the sub-satellite
// point) when the recorded config flew the simulated camera, else runs of
// frames whose simulator truth is black.
std::vector<Window> NightWindows(const Model& m, std::string* source) {
  std::vector<Window> w;
  const FlightData& fd = *m.fd;
  if (fd.frames.empty()) return w;
  const double t0 = fd.frames.front().t_s, t1 = fd.frames.back().t_s + m.interval_s;
  if (fd.has_config && fd.mission.camera.source == config::CameraSource::kSimulated && !fd.from_catalog) {
    const imaging::OrbitConfig& orbit = fd.mission.camera.simulated.orbit;
    const double start = fd.mission.camera.start_time_s;
    const double step = std::max(1.0, (t1 - t0) / 4000.0);
    bool night = false;
    double from = t0;
    for (double t = t0; t <= t1; t += step) {
      const bool n = imaging::PropagateOrbit(orbit, t - start).sun_elevation_deg < 0.0;
      if (n && !night) from = t;
      if (!n && night) w.push_back({from, t});
      night = n;
    }
    if (night) w.push_back({from, t1});
    *source = "the simulator's orbit (sun below the horizon under the spacecraft)";
    return w;
  }
  bool any_truth = false;
  for (const FrameRec& f : fd.frames) any_truth |= !f.truth.empty();
  if (!any_truth) return w;
  for (const FrameRec& f : fd.frames) {
    if (f.truth != "black") continue;
    const double a = f.t_s - m.interval_s / 2, b = f.t_s + m.interval_s / 2;
    if (!w.empty() && a <= w.back().end_s + 1e-6) {
      w.back().end_s = b;
    } else {
      w.push_back({a, b});
    }
  }
  *source = "frames whose simulator truth is black";
  return w;
}

json BandLayer(const std::vector<Window>& night, const std::vector<Window>& passes, bool with_legend) {
  json v = json::array();
  for (const Window& w : night) v.push_back({{"start", w.start_s / 60}, {"end", w.end_s / 60}, {"band", "night"}});
  for (size_t i = 0; i < passes.size(); ++i) {
    v.push_back({{"start", passes[i].start_s / 60},
                 {"end", passes[i].end_s / 60},
                 {"band", "ground pass"},
                 {"pass", static_cast<int>(i)}});
  }
  json legend = with_legend ? json{{"title", nullptr}, {"orient", "top"}} : json(nullptr);
  return {{"data", {{"values", v}}},
          {"mark", {{"type", "rect"}, {"opacity", 0.55}}},
          {"encoding",
           {{"x", {{"field", "start"}, {"type", "quantitative"}}},
            {"x2", {{"field", "end"}}},
            {"color",
             {{"field", "band"},
              {"type", "nominal"},
              {"scale",
               {{"domain", json::array({"night", "ground pass"})}, {"range", json::array({"#c9cbe0", "#ffe08a"})}}},
              {"legend", legend}}}}}};
}

void TimelineSection(const Model& m, Page* page) {
  const FlightData& fd = *m.fd;
  page->Section("timeline", "Timeline over mission time", !fd.frames.empty());
  if (fd.frames.empty()) {
    page->Absent("No per-frame records: no timeline.");
    return;
  }
  std::string pass_src, night_src;
  const std::vector<Window> passes = PassWindows(m, &pass_src);
  const std::vector<Window> night = NightWindows(m, &night_src);
  std::string note = "Each frame's predicted class and decision against mission time.";
  note += night_src.empty() ? " Day/night unknown (no orbit in a recorded config, no simulator truth)."
                            : " Night from " + night_src + ".";
  if (!passes.empty()) {
    note += " Pass windows from " + pass_src + ".";
  } else if (fd.has_config && !fd.mission.downlink.passes.empty()) {
    note += Printf(" No ground pass within the run (the schedule's first starts at %.1f min).",
                   fd.mission.downlink.passes.front().start_s / 60);
  } else {
    note += " No pass windows (no pass schedule, no send log).";
  }
  page->P(note);
  json v = json::array();
  for (const FrameRec& f : fd.frames) {
    v.push_back({{"t", f.t_s / 60},
                 {"frame", f.frame},
                 {"class", ClassOf(f)},
                 {"decision", f.decision},
                 {"confidence", f.confidence},
                 {"truth", f.truth}});
  }
  std::vector<std::string> order = m.classes;
  order.push_back("(none)");
  const json points = {
      {"data", {{"values", v}}},
      {"mark", {{"type", "point"}, {"filled", true}, {"size", 36}, {"opacity", 0.9}}},
      {"encoding",
       {{"x", {{"field", "t"}, {"type", "quantitative"}, {"title", "mission time (min)"}}},
        {"y", {{"field", "class"}, {"type", "nominal"}, {"sort", order}, {"title", "predicted class"}}},
        {"color",
         {{"field", "decision"},
          {"type", "nominal"},
          {"scale", DecisionScale(m.decisions)},
          {"legend", {{"orient", "top"}}}}},
        {"tooltip",
         {{{"field", "frame"}},
          {{"field", "t"}, {"title", "min"}, {"format", ".1f"}},
          {{"field", "class"}},
          {{"field", "confidence"}, {"format", ".3f"}},
          {{"field", "decision"}},
          {{"field", "truth"}}}}}}};
  json spec = {{"width", 1100},
               {"height", 36 * static_cast<int>(m.classes.size() + 1)},
               {"layer", {BandLayer(night, passes, true), points}},
               {"resolve", {{"scale", {{"color", "independent"}}}}}};
  page->Plot("plot-timeline", spec);
}

void DownlinkSection(const Model& m, Page* page) {
  const FlightData& fd = *m.fd;
  const bool have = fd.has_sent || (m.rd && m.rd->receive.is_object());
  page->Section("downlink", "Downlink per pass", have);
  if (!have) {
    page->Absent("No send log (sent.csv) and no receive record: no downlink figures.");
    return;
  }
  if (fd.has_sent && fd.sent.empty()) page->Absent("The send log is empty: no pass has run yet.");
  // Product id -> kind and bytes, from telemetry.
  std::map<uint32_t, std::pair<std::string, uint64_t>> product;
  std::map<uint32_t, double> queued_at;
  for (const FrameRec& f : fd.frames) {
    for (const Product& p : f.products) {
      product[p.id] = {p.kind, p.bytes};
      queued_at[p.id] = f.t_s;
    }
  }
  if (!fd.sent.empty()) {
    std::map<uint32_t, uint32_t> apid_kind;  // apid -> kind via the config
    std::map<std::pair<uint32_t, std::string>, uint64_t> per;
    std::map<uint32_t, uint64_t> per_pass, packets;
    std::map<uint32_t, double> done_at;  // product id -> time its last packet went out
    for (const SentRow& s : fd.sent) {
      std::string kind = s.event == "catalog" ? "catalog" : "product";
      auto it = product.find(s.product_id);
      if (s.event != "catalog" && it != product.end()) kind = it->second.first;
      per[{s.pass, kind}] += s.bytes;
      per_pass[s.pass] += s.bytes;
      ++packets[s.pass];
      if (s.packet_count > 0 && s.packet_index + 1 == s.packet_count) done_at[s.product_id] = s.time_s;
    }
    json v = json::array();
    for (const auto& [k, b] : per) {
      v.push_back(
          {{"pass", "pass " + std::to_string(k.first)}, {"kind", k.second}, {"MB", static_cast<double>(b) / 1e6}});
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& [p, b] : per_pass) {
      rows.push_back({std::to_string(p), Int(packets[p]), Mb(static_cast<double>(b))});
    }
    page->Table({"pass", "packets", "bytes sent"}, rows);
    json bars = {{"title", "bytes sent per pass"},
                 {"data", {{"values", v}}},
                 {"mark", {{"type", "bar"}, {"tooltip", true}}},
                 {"width", 320},
                 {"height", 240},
                 {"encoding",
                  {{"x", {{"field", "pass"}, {"type", "nominal"}, {"title", nullptr}, {"axis", {{"labelAngle", 0}}}}},
                   {"y", {{"field", "MB"}, {"type", "quantitative"}, {"title", "MB sent"}}},
                   {"color",
                    {{"field", "kind"},
                     {"type", "nominal"},
                     {"scale",
                      {{"domain", json::array({"full", "thumbnail", "catalog", "product"})},
                       {"range", json::array({"#2e7d32", "#1f77b4", "#ff7f0e", "#8c564b"})}}}}}}}};
    // Queue depth: products queued by frames, leaving when their last packet is sent.
    std::vector<std::pair<double, double>> steps;  // time, delta bytes
    for (const auto& [id, t] : queued_at) {
      steps.push_back({t, static_cast<double>(product[id].second)});
      auto d = done_at.find(id);
      if (d != done_at.end()) steps.push_back({d->second, -static_cast<double>(product[id].second)});
    }
    std::sort(steps.begin(), steps.end());
    json depth = json::array();
    double level = 0;
    for (size_t i = 0; i < steps.size(); ++i) {
      level += steps[i].second;
      if (i + 1 < steps.size() && steps[i + 1].first == steps[i].first) continue;
      depth.push_back({{"t", steps[i].first / 60}, {"MB", std::max(0.0, level) / 1e6}});
    }
    if (!depth.empty()) {
      std::string src;
      const std::vector<Window> passes = PassWindows(m, &src);
      json line = {{"data", {{"values", depth}}},
                   {"mark", {{"type", "line"}, {"interpolate", "step-after"}, {"color", "#444"}}},
                   {"encoding",
                    {{"x", {{"field", "t"}, {"type", "quantitative"}, {"title", "mission time (min)"}}},
                     {"y", {{"field", "MB"}, {"type", "quantitative"}, {"title", "queued, not yet sent (MB)"}}}}}};
      json queue = {{"title", "queue depth (products from telemetry)"},
                    {"width", 680},
                    {"height", 240},
                    {"layer", {BandLayer({}, passes, true), line}}};
      page->Plot("plot-downlink", {{"hconcat", {bars, queue}}, {"resolve", {{"scale", {{"color", "independent"}}}}}});
    } else {
      page->Plot("plot-downlink", bars);
    }
    // Still pending on board: queued products whose last packet never went out.
    std::map<std::string, std::pair<uint64_t, uint64_t>> pending;
    for (const auto& [id, kb] : product) {
      if (!done_at.count(id)) {
        ++pending[kb.first].first;
        pending[kb.first].second += kb.second;
      }
    }
    std::string t;
    for (const auto& [k, v2] : pending) {
      t += (t.empty() ? "" : ", ") + Int(v2.first) + " " + k + " (" + Mb(static_cast<double>(v2.second)) + ")";
    }
    if (!product.empty()) page->P("Still pending on board: " + (t.empty() ? std::string("nothing") : t) + ".");
  }
  if (fd.summary.is_object() && fd.summary.contains("products")) {
    const json p = fd.summary["products"];
    page->P(Printf("Flight summary: %llu products completed, %llu pending, %llu evicted.",
                   static_cast<unsigned long long>(p.value("completed", uint64_t{0})),
                   static_cast<unsigned long long>(p.value("pending", uint64_t{0})),
                   static_cast<unsigned long long>(p.value("evicted", uint64_t{0}))));
  }
  if (m.rd && m.rd->receive.is_object()) {
    const json& r = m.rd->receive;
    std::vector<std::vector<std::string>> rows;
    rows.push_back({"packets accepted / rejected", Int(r.value("packets_accepted", uint64_t{0})) + " / " +
                                                       Int(r.value("packets_rejected", uint64_t{0}))});
    rows.push_back({"bytes skipped (not a packet)", Int(r.value("bytes_skipped", uint64_t{0}))});
    rows.push_back({"products complete / incomplete", Int(r.value("products_complete", uint64_t{0})) + " / " +
                                                          Int(r.value("products_incomplete", uint64_t{0}))});
    if (r.contains("rejections") && r["rejections"].is_object()) {
      std::string t;
      for (auto it = r["rejections"].begin(); it != r["rejections"].end(); ++it) {
        t += (t.empty() ? "" : ", ") + Esc(it.key()) + " " + Esc(it.value().dump());
      }
      rows.push_back({"rejections", t.empty() ? "none" : t});
    }
    if (r.contains("incomplete") && r["incomplete"].is_array()) {
      std::string t;
      size_t n = 0;
      for (const json& p : r["incomplete"]) {
        if (++n > 50) {
          t += " &hellip;";
          break;
        }
        std::string missing;
        if (p.contains("missing") && p["missing"].is_array()) {
          for (const json& range : p["missing"]) {
            if (range.is_array() && range.size() == 2) {
              missing += (missing.empty() ? "" : ",") + range[0].dump() +
                         (range[0] == range[1] ? "" : "&ndash;" + range[1].dump());
            }
          }
        }
        t += (t.empty() ? "" : "; ") + Esc(p.value("product_id", json(0)).dump()) + " (packets " + missing + ")";
      }
      rows.push_back({"still missing on the ground", t.empty() ? "nothing" : t});
    }
    page->Html("<h3>Received on the ground</h3>\n");
    page->Table({"", ""}, rows, "summary");
  }
}

void StageSection(const Model& m, Page* page) {
  std::vector<std::string> order;
  std::map<std::string, std::vector<double>> ms;
  for (const FrameRec& f : m.fd->frames) {
    for (const auto& [stage, v] : f.stage_ms) {
      if (!ms.count(stage)) order.push_back(stage);
      ms[stage].push_back(v);
    }
  }
  const json& s = m.fd->summary;
  const bool from_summary = ms.empty() && s.is_object() && s.contains("stage_ms") && s["stage_ms"].is_object();
  page->Section("stages", "Stage timings", !ms.empty() || from_summary);
  if (ms.empty() && !from_summary) {
    page->Absent("No stage timings (telemetry stage_ms or summary.json).");
    return;
  }
  std::vector<std::vector<std::string>> rows;
  json bars = json::array();
  if (!ms.empty()) {
    json v = json::array();
    for (const std::string& st : order) {
      std::vector<double> x = ms[st];
      std::sort(x.begin(), x.end());
      const double median = x.size() % 2 ? x[x.size() / 2] : (x[x.size() / 2 - 1] + x[x.size() / 2]) / 2;
      const double p90 = x[std::min(x.size() - 1, static_cast<size_t>(std::ceil(0.9 * x.size())) - 1)];
      double total = 0;
      for (double d : x) {
        total += d;
        v.push_back({{"stage", st}, {"ms", std::max(d, 0.001)}});
      }
      rows.push_back({Esc(st), Printf("%.2f", median), Printf("%.2f", p90), Printf("%.2f", x.back()),
                      Printf("%.1f", total / 1000), Int(x.size())});
    }
    page->Table({"stage", "median ms", "p90 ms", "max ms", "total s", "frames"}, rows);
    json spec = {
        {"title", "per-frame time per stage (box: quartiles, whiskers: min to max)"},
        {"data", {{"values", v}}},
        {"width", 760},
        {"height", {{"step", 26}}},
        {"mark", {{"type", "boxplot"}, {"extent", "min-max"}, {"size", 16}}},
        {"encoding",
         {{"y", {{"field", "stage"}, {"type", "nominal"}, {"sort", order}, {"title", nullptr}}},
          {"x", {{"field", "ms"}, {"type", "quantitative"}, {"scale", {{"type", "log"}}}, {"title", "ms (log scale)"}}},
          {"color", {{"field", "stage"}, {"type", "nominal"}, {"sort", order}, {"legend", nullptr}}}}}};
    page->Plot("plot-stages", spec);
  } else {
    json v = json::array();
    for (auto it = s["stage_ms"].begin(); it != s["stage_ms"].end(); ++it) {
      const double med = it.value().value("median_ms", 0.0);
      v.push_back({{"stage", it.key()}, {"ms", med}});
      rows.push_back({Esc(it.key()), Printf("%.2f", med), "", "",
                      Printf("%.1f", it.value().value("total_ms", 0.0) / 1000),
                      Int(it.value().value("frames", uint64_t{0}))});
    }
    page->P("From summary.json (no per-frame telemetry).");
    page->Table({"stage", "median ms", "p90 ms", "max ms", "total s", "frames"}, rows);
    json spec = {{"title", "median ms per stage"},
                 {"data", {{"values", v}}},
                 {"width", 760},
                 {"height", {{"step", 26}}},
                 {"mark", {{"type", "bar"}, {"tooltip", true}}},
                 {"encoding",
                  {{"y", {{"field", "stage"}, {"type", "nominal"}, {"sort", nullptr}, {"title", nullptr}}},
                   {"x", {{"field", "ms"}, {"type", "quantitative"}, {"title", "median ms"}}}}}};
    page->Plot("plot-stages", spec);
  }
}

void FaultSection(const Model& m, Page* page) {
  const FlightData& fd = *m.fd;
  const json f = fd.summary.is_object() ? fd.summary.value("fault", json()) : json();
  std::map<std::string, int> votes;
  int safe_frames = 0, unverified = 0;
  for (const FrameRec& r : fd.frames) {
    if (!r.vote.empty()) ++votes[r.vote];
    safe_frames += r.safe_mode;
    unverified += r.unverified;
  }
  const bool have = f.is_object() || fd.has_log || !votes.empty();
  page->Section("faults", "Fault events", have);
  if (!have) {
    page->Absent("No fault record (summary.json), no flight log and no votes in telemetry.");
    return;
  }
  std::vector<std::vector<std::string>> rows;
  auto n = [&](const char* k) { return Int(f.value(k, uint64_t{0})); };
  if (f.is_object()) {
    rows.push_back({"redundant inference", Esc(f.value("redundancy", "")) + ", " + n("runs") + " runs"});
    rows.push_back({"disagreements", n("disagreements") + " (" + n("corrected") + " corrected, " + n("no_majority") +
                                         " without majority, " + n("failed_runs") + " failed runs, " +
                                         n("frames_unverified") + " frames unverified)"});
    rows.push_back({"weight scrubbing", n("scrub_sweeps") + " sweeps, " + n("scrub_mismatches") + " mismatches, " +
                                            n("scrub_repairs") + " repairs"});
    rows.push_back({"health", n("missed_deadlines") + " missed deadlines, " + n("stage_restarts") + " stage restarts"});
    rows.push_back({"restarts", "boot " + n("boot_count") + ", " + n("resets_in_window") + " resets in window"});
    const bool safe = f.value("safe_mode", false);
    rows.push_back(
        {"safe mode", std::string(safe ? "<b>ON</b> (" + Esc(f.value("safe_mode_reason", "")) + ")" : "off") + ", " +
                          n("safe_mode_frames") + " frames in safe mode"});
  }
  if (!votes.empty()) {
    std::string t;
    for (const auto& [k, c] : votes) t += (t.empty() ? "" : ", ") + Esc(k) + " " + Int(static_cast<uint64_t>(c));
    rows.push_back({"votes in telemetry", t});
  }
  if (safe_frames || unverified) {
    rows.push_back({"telemetry flags", Int(static_cast<uint64_t>(safe_frames)) + " safe-mode frames, " +
                                           Int(static_cast<uint64_t>(unverified)) + " unverified"});
  }
  if (!rows.empty()) page->Table({"", ""}, rows, "summary");
  if (!fd.has_log) {
    page->Absent("No flight log (logs/triage-flight.log): no event list.");
  } else if (fd.events.empty()) {
    page->P(Printf("The flight log (%zu lines) has no warning, error or fault event.", fd.log_lines));
  } else {
    page->P(Printf("Warnings, errors and fault events from the flight log (%zu of %zu lines%s):", fd.events.size(),
                   fd.log_lines, fd.events.size() > kMaxTableRows ? ", the first 200 shown" : ""));
    std::vector<std::vector<std::string>> ev;
    for (size_t i = 0; i < fd.events.size() && i < kMaxTableRows; ++i) {
      const LogEvent& e = fd.events[i];
      ev.push_back(
          {Esc(e.time), Esc(e.severity.empty() ? e.level : e.severity), "<code>" + Esc(e.id) + "</code>", Esc(e.text)});
    }
    page->Table({"time", "severity", "event", "text"}, ev, "events");
  }
}

std::string MimeOf(const std::string& file) {
  std::string ext = fs::path(file).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  if (ext == ".png") return "image/png";
  if (ext == ".jpg" || ext == ".jpeg") return "image/jpeg";
  return "";
}

size_t ContactSheet(const Model& m, Page* page, bool progress) {
  std::vector<const ProductRow*> thumbs;
  std::set<uint64_t> full_frames;
  if (m.rd) {
    for (const ProductRow& p : m.rd->products) {
      if (p.kind == "thumbnail" && !p.file.empty()) thumbs.push_back(&p);
      if (p.kind == "full") full_frames.insert(p.frame_id);
    }
  }
  page->Section("thumbnails", "Received thumbnails", !thumbs.empty());
  if (!m.rd) {
    page->Absent("No receive folder given: no received thumbnails to show.");
    return 0;
  }
  if (thumbs.empty()) {
    page->Absent("The receive folder holds no complete thumbnail.");
    return 0;
  }
  std::sort(thumbs.begin(), thumbs.end(),
            [](const ProductRow* a, const ProductRow* b) { return a->frame_id < b->frame_id; });
  const size_t shown = std::min(thumbs.size(), kMaxThumbnails);
  page->P(Printf("%zu thumbnails received%s; caption: frame, class, confidence, decision.", thumbs.size(),
                 shown < thumbs.size() ? Printf(", the first %zu shown", shown).c_str() : ""));
  std::string html = "<div class=\"sheet\">\n";
  size_t embedded = 0;
  for (size_t i = 0; i < shown; ++i) {
    const ProductRow& p = *thumbs[i];
    const std::string path = m.rd->dir + "/" + p.file;
    std::string decision = full_frames.count(p.frame_id) ? "full" : "thumbnail";
    auto it = m.by_frame.find(p.frame_id);
    if (it != m.by_frame.end() && !m.fd->from_catalog) decision = it->second->decision;
    std::string cls = p.cls;
    if (cls.empty() && p.class_id >= 0 && static_cast<size_t>(p.class_id) < m.classes.size())
      cls = m.classes[p.class_id];
    if (cls.empty()) cls = p.class_id >= 0 ? "class " + std::to_string(p.class_id) : "?";
    const std::string mime = MimeOf(p.file);
    std::string img;
    if (!IsFile(path) || mime.empty()) {
      img = "<div class=\"missing\">" + Esc(IsFile(path) ? "not an image" : "file missing") + "</div>";
    } else {
      img = "<img alt=\"frame " + std::to_string(p.frame_id) + "\" src=\"data:" + mime + ";base64," +
            Base64(ReadWholeFile(path)) + "\">";
      ++embedded;
    }
    const auto dc = kDecisionColor.find(decision);
    html += "<figure>" + img + "<figcaption><b>" + std::to_string(p.frame_id) + "</b> " + Esc(cls) +
            Printf(" %.2f ", p.confidence) +
            "<span class=\"tag\" style=\"background:" + (dc != kDecisionColor.end() ? dc->second : "#888") + "\">" +
            Esc(decision) + "</span></figcaption></figure>\n";
    if (progress && (i + 1) % 100 == 0) std::fprintf(stderr, "report: %zu/%zu thumbnails\n", i + 1, shown);
  }
  page->Html(html + "</div>\n");
  return embedded;
}

std::string Num(const json& j) {
  return j.is_number() ? j.dump() : Esc(j.is_string() ? j.get<std::string>() : j.dump());
}

void WhatIfSection(const json& w, bool given, Page* page) {
  page->Section("whatif", "What-if: decision diff", given);
  if (!given) {
    page->Absent("No what-if output given (--whatif FILE from triage-ground replay --json).");
    return;
  }
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"frames replayed", Num(w.value("frames", json(0))) + " (mode " + Esc(w.value("mode", "")) + ")"});
  if (w.contains("queued_bytes") && w["queued_bytes"].is_object()) {
    const double b = w["queued_bytes"].value("before", 0.0), a = w["queued_bytes"].value("after", 0.0);
    rows.push_back({"bytes queued", Mb(b) + " &rarr; " + Mb(a) + Printf(" (%+.2f MB)", (a - b) / 1e6)});
  }
  if (w.contains("land_kept") && w["land_kept"].is_object()) {
    rows.push_back({"land frames kept", Num(w["land_kept"].value("before", json(0))) + " &rarr; " +
                                            Num(w["land_kept"].value("after", json(0)))});
  }
  const size_t changed = w.contains("changed") && w["changed"].is_array() ? w["changed"].size() : 0;
  rows.push_back({"frames that changed decision", Int(changed)});
  if (w.contains("mismatches") && w["mismatches"].is_array()) {
    rows.push_back({"mismatches (check mode)", Int(w["mismatches"].size())});
  }
  page->Table({"", ""}, rows, "summary");
  json v = json::array();
  std::set<std::string> to;
  if (w.contains("transitions") && w["transitions"].is_array()) {
    for (const json& t : w["transitions"]) {
      const std::string from = t.value("from", ""), dest = t.value("to", "");
      v.push_back({{"change", from + " \u2192 " + dest}, {"to", dest}, {"count", t.value("count", 0)}});
      to.insert(dest);
    }
  }
  if (v.empty()) {
    page->Absent("No decision changed.");
  } else {
    page->Plot("plot-whatif",
               {{"title", "frames by decision change"},
                {"data", {{"values", v}}},
                {"width", 480},
                {"height", {{"step", 28}}},
                {"mark", {{"type", "bar"}, {"tooltip", true}}},
                {"encoding",
                 {{"y", {{"field", "change"}, {"type", "nominal"}, {"title", nullptr}, {"sort", "-x"}}},
                  {"x",
                   {{"field", "count"},
                    {"type", "quantitative"},
                    {"title", "frames"},
                    {"axis", {{"tickMinStep", 1}, {"format", "d"}}}}},
                  {"color",
                   {{"field", "to"}, {"type", "nominal"}, {"scale", DecisionScale(to)}, {"title", "new decision"}}}}}});
  }
  if (w.contains("per_truth") && w["per_truth"].is_array() && !w["per_truth"].empty()) {
    std::vector<std::vector<std::string>> pt;
    for (const json& t : w["per_truth"]) {
      pt.push_back({Esc(t.value("truth", "")), Esc(t.value("from", "")), Esc(t.value("to", "")),
                    Num(t.value("count", json(0)))});
    }
    page->Html("<h3>Per true class</h3>\n");
    page->Table({"true class", "from", "to", "frames"}, pt);
  }
  if (changed > 0) {
    std::vector<std::vector<std::string>> ch;
    for (size_t i = 0; i < changed && i < kMaxTableRows; ++i) {
      const json& c = w["changed"][i];
      ch.push_back({Num(c.value("frame", json(0))), Esc(c.value("truth", "")),
                    Esc(c.value("class_before", "")) + " &rarr; " + Esc(c.value("class_after", "")),
                    Printf("%.3f &rarr; %.3f", c.value("confidence_before", 0.0), c.value("confidence_after", 0.0)),
                    Esc(c.value("from", "")) + " &rarr; " + Esc(c.value("to", ""))});
    }
    page->Html(Printf("<h3>Changed frames%s</h3>\n", changed > kMaxTableRows ? " (first 200)" : ""));
    page->Table({"frame", "truth", "class", "confidence", "decision"}, ch);
  }
}

constexpr char kCss[] = R"(
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;color:#222;
  margin:0;background:#f6f7f9}
header{background:#1d2a3a;color:#fff;padding:18px 32px}
header h1{margin:0;font-size:22px;font-weight:600}
header p{margin:4px 0 0;color:#c5d0dc;font-size:13px}
main{padding:8px 32px 40px;max-width:1280px}
section{background:#fff;border:1px solid #e1e4e8;border-radius:6px;padding:12px 20px 16px;margin:16px 0}
h2{font-size:17px;margin:4px 0 10px;font-weight:600}
h3{font-size:14px;margin:14px 0 6px;font-weight:600}
table{border-collapse:collapse;margin:6px 0 10px;font-size:13px}
th,td{border-bottom:1px solid #eceef1;padding:4px 12px 4px 0;text-align:left;vertical-align:top}
th{color:#555;font-weight:600}
table.summary td:first-child{color:#555;white-space:nowrap;padding-right:24px}
table.events td:nth-child(4){font-family:ui-monospace,Menlo,monospace;font-size:12px}
code{font-family:ui-monospace,Menlo,monospace;font-size:12px}
.absent{color:#777;font-style:italic}
.plot{margin:8px 0}
.sheet{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:10px}
figure{margin:0;background:#fafbfc;border:1px solid #e1e4e8;border-radius:4px;padding:4px}
figure img{width:100%;height:auto;display:block;border-radius:2px}
figcaption{font-size:12px;padding:3px 2px 0}
.tag{color:#fff;border-radius:3px;padding:0 5px;font-size:11px}
.missing{height:100px;display:flex;align-items:center;justify-content:center;color:#999;background:#eee}
#report-errors{color:#b00020;white-space:pre-wrap}
#report-errors:empty{display:none}
#report-status{color:#999;font-size:12px}
)";

// Installed before the libraries so that even a broken bundle is recorded.
constexpr char kErrorHook[] = R"(
window.reportErrors = [];
function reportError(msg) {
  window.reportErrors.push(String(msg));
  var box = document.getElementById('report-errors');
  if (box) box.textContent = window.reportErrors.join('\n');
  document.documentElement.setAttribute('data-report-errors', String(window.reportErrors.length));
}
window.onerror = function (msg, src, line, col, err) { reportError('script error: ' + msg + ' (line ' + line + ')'); };
window.addEventListener('unhandledrejection', function (e) { reportError('unhandled rejection: ' + e.reason); });
)";

constexpr char kRenderer[] = R"(
(function () {
  var specs = JSON.parse(document.getElementById('report-specs').textContent);
  var ids = Object.keys(specs);
  var status = document.getElementById('report-status');
  var rendered = 0;
  Promise.all(ids.map(function (id) {
    return vegaEmbed('#' + id, specs[id], {actions: false, renderer: 'svg', mode: 'vega-lite'})
      .then(function () { rendered++; document.getElementById(id).setAttribute('data-rendered', '1'); })
      .catch(function (e) { reportError(id + ': ' + (e && e.message ? e.message : e)); });
  })).then(function () {
    status.textContent = 'plots rendered: ' + rendered + ' of ' + ids.length;
    document.documentElement.setAttribute('data-report-done', String(rendered));
  });
})();
)";

std::string AssetPath(const std::string& dir, const char* package, const char* file) {
  const std::string nested = dir + "/" + package + "/build/" + file;
  if (IsFile(nested)) return nested;
  const std::string flat = dir + "/" + file;
  if (IsFile(flat)) return flat;
  return "";
}

}  // namespace

const char* DefaultReportAssetsDir() { return TRIAGE_REPORT_ASSETS_DEFAULT; }

RunKind DetectRunKind(const std::string& dir) {
  if (IsFile(dir + "/telemetry.jsonl") || IsFile(dir + "/summary.json")) return RunKind::kFlight;
  if (IsFile(dir + "/products.csv") || IsFile(dir + "/receive.json")) return RunKind::kReceive;
  return RunKind::kUnknown;
}

Result<ReportAssets> FindReportAssets(const std::string& dir_option) {
  std::string dir = dir_option;
  const char* how = "--assets";
  if (dir.empty()) {
    const char* env = std::getenv("TRIAGE_REPORT_ASSETS");
    if (env != nullptr && env[0] != '\0') {
      dir = env;
      how = "TRIAGE_REPORT_ASSETS";
    } else {
      dir = DefaultReportAssetsDir();
      how = "default";
    }
  }
  ReportAssets a;
  a.dir = dir;
  const struct {
    const char* package;
    const char* file;
    std::string* out;
  } files[] = {{"vega", "vega.min.js", &a.vega},
               {"vega-lite", "vega-lite.min.js", &a.vega_lite},
               {"vega-embed", "vega-embed.min.js", &a.vega_embed}};
  for (const auto& f : files) {
    *f.out = AssetPath(dir, f.package, f.file);
    if (f.out->empty()) {
      return Status::Error(StatusCode::kNotFound, "plot runtime missing: %s/%s/build/%s (%s); %s", dir.c_str(),
                           f.package, f.file, how, kFetchHint);
    }
  }
  return a;
}

Result<ReportSummary> WriteReport(const ReportOptions& options) try {
  if (options.runs.empty() || options.runs.size() > 2) {
    return Status::Error(StatusCode::kInvalidArgument, "report: give one or two folders (flight output, receive)");
  }
  if (options.out.empty()) return Status::Error(StatusCode::kInvalidArgument, "report: --out is required");
  std::string flight_dir, receive_dir;
  for (const std::string& run : options.runs) {
    std::error_code ec;
    if (!fs::is_directory(run, ec)) return Status::Error(StatusCode::kNotFound, "%s: no such folder", run.c_str());
    switch (DetectRunKind(run)) {
      case RunKind::kFlight:
        if (!flight_dir.empty())
          return Status::Error(StatusCode::kInvalidArgument, "%s: a second flight folder", run.c_str());
        flight_dir = run;
        break;
      case RunKind::kReceive:
        if (!receive_dir.empty()) {
          return Status::Error(StatusCode::kInvalidArgument, "%s: a second receive folder", run.c_str());
        }
        receive_dir = run;
        break;
      case RunKind::kUnknown:
        return Status::Error(StatusCode::kInvalidArgument,
                             "%s: neither a flight output (telemetry.jsonl, summary.json) nor a receive folder "
                             "(products.csv, receive.json)",
                             run.c_str());
    }
  }
  Result<ReportAssets> assets = FindReportAssets(options.assets);
  if (!assets.ok()) return assets.status();

  auto step = [&](const char* what) {
    if (options.progress) std::fprintf(stderr, "report: %s\n", what);
  };
  step("reading inputs");
  FlightData fd = flight_dir.empty() ? FlightData() : ReadFlight(flight_dir);
  ReceiveData rd;
  if (!receive_dir.empty()) rd = ReadReceive(receive_dir);
  json whatif;
  if (!options.whatif.empty()) {
    whatif = ReadJsonFile(options.whatif);
    if (!whatif.is_object()) throw ReportError(options.whatif + ": not a JSON object");
  }

  // Class names by id from telemetry, then products.csv. (A recorded config
  // read without its model lists classes in YAML order, not by id.)
  std::map<int, std::string> names;
  for (const FrameRec& f : fd.frames) {
    if (f.has_class && f.class_id >= 0) names.emplace(f.class_id, f.cls);
  }
  for (const ProductRow& p : rd.products) {
    if (p.class_id >= 0 && !p.cls.empty()) names.emplace(p.class_id, p.cls);
  }
  if (fd.frames.empty()) {
    if (!flight_dir.empty() && IsFile(flight_dir + "/catalog.csv")) {
      FramesFromCatalog(ReadCsv(flight_dir + "/catalog.csv", {"frame_id", "class_id", "confidence", "decision"}), names,
                        &fd);
    } else if (rd.has_catalog) {
      FramesFromCatalog(rd.catalog, names, &fd);
    }
  }
  for (const FrameRec& f : fd.frames) {
    if (f.has_class && f.class_id >= 0) names.emplace(f.class_id, f.cls);
  }

  Model m;
  m.fd = &fd;
  m.rd = receive_dir.empty() ? nullptr : &rd;
  for (const auto& [id, name] : names) {
    if (std::find(m.classes.begin(), m.classes.end(), name) == m.classes.end()) m.classes.push_back(name);
  }
  if (fd.has_config) {
    for (const auto& c : fd.mission.triage.classes) {
      if (std::find(m.classes.begin(), m.classes.end(), c.name) == m.classes.end()) m.classes.push_back(c.name);
    }
  }
  for (const FrameRec& f : fd.frames) {
    m.decisions.insert(f.decision);
    m.by_frame[f.frame] = &f;
    if (f.has_class && std::find(m.classes.begin(), m.classes.end(), f.cls) == m.classes.end())
      m.classes.push_back(f.cls);
  }
  if (fd.has_config && fd.mission.camera.frame_interval_s > 0) {
    m.interval_s = fd.mission.camera.frame_interval_s;
  } else if (fd.frames.size() > 1) {
    m.interval_s = (fd.frames.back().t_s - fd.frames.front().t_s) / static_cast<double>(fd.frames.size() - 1);
    if (!(m.interval_s > 0)) m.interval_s = 20.0;
  }

  step("building the page");
  Page page;
  SummarySection(m, &page);
  ClassSection(m, &page);
  ConfidenceSection(m, &page);
  TimelineSection(m, &page);
  DownlinkSection(m, &page);
  StageSection(m, &page);
  FaultSection(m, &page);
  step("embedding thumbnails");
  const size_t thumbnails = ContactSheet(m, &page, options.progress);
  WhatIfSection(whatif, !options.whatif.empty(), &page);
  const std::string body = page.Finish();

  step("inlining the plot runtime");
  std::string title = "triage report";
  if (fd.summary.is_object() && !fd.summary.value("mission", "").empty())
    title += ": " + fd.summary.value("mission", "");
  std::string inputs;
  if (!flight_dir.empty()) inputs += "flight " + flight_dir;
  if (!receive_dir.empty()) inputs += std::string(inputs.empty() ? "" : " · ") + "receive " + receive_dir;
  if (!options.whatif.empty()) inputs += " · what-if " + options.whatif;

  std::string html;
  html.reserve(1 << 20);
  html += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  html += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  html += "<title>" + Esc(title) + "</title>\n<style>" + std::string(kCss) + "</style>\n";
  html += "<script>" + std::string(kErrorHook) + "</script>\n";
  html += "<script>" + InlineJs(ReadWholeFile(assets->vega)) + "</script>\n";
  html += "<script>" + InlineJs(ReadWholeFile(assets->vega_lite)) + "</script>\n";
  html += "<script>" + InlineJs(ReadWholeFile(assets->vega_embed)) + "</script>\n";
  html += "</head>\n<body>\n<header><h1>" + Esc(title) + "</h1><p>" + Esc(inputs) + "</p></header>\n<main>\n";
  html += "<div id=\"report-errors\"></div>\n";
  html += body;
  html += "<p id=\"report-status\">plots not rendered (JavaScript off?)</p>\n</main>\n";
  html += "<script type=\"application/json\" id=\"report-specs\">" + ScriptSafe(page.specs().dump()) + "</script>\n";
  html += "<script>" + std::string(kRenderer) + "</script>\n</body>\n</html>\n";

  const std::string tmp = options.out + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return Status::Error(StatusCode::kIoError, "%s: cannot write", options.out.c_str());
    out << html;
    out.close();
    if (!out) return Status::Error(StatusCode::kIoError, "%s: write failed", options.out.c_str());
  }
  std::error_code ec;
  fs::rename(tmp, options.out, ec);
  if (ec) return Status::Error(StatusCode::kIoError, "%s: %s", options.out.c_str(), ec.message().c_str());

  ReportSummary s;
  s.out = options.out;
  s.html_bytes = html.size();
  s.flight_dir = flight_dir;
  s.receive_dir = receive_dir;
  s.frames = fd.frames.size();
  s.thumbnails = thumbnails;
  s.plots = page.plots();
  s.sections = page.sections();
  return s;
} catch (const std::exception& e) {
  return Status::Error(StatusCode::kInvalidArgument, "%s", e.what());
}

}  // namespace triage::ground
