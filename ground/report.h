// triage-ground report: one self-contained HTML file from a flight output
// folder, a receive folder, or both, and optionally replay's what-if JSON.
//
// Plots are Vega-Lite specs rendered in the page by vega, vega-lite and
// vega-embed (npm, pinned in ground/report/package-lock.json), whose
// build/*.min.js files are inlined: the file opens offline. Thumbnails are
// embedded as base64 data: URIs. Every section is always present; one whose
// data is absent says so in a sentence.
//
// Inputs (each optional except that at least one folder is needed):
//   flight folder:  telemetry.jsonl, summary.json, sent.csv, logs/triage-flight*.log,
//                   config/<hash16>.yaml (pass windows, orbit for day/night);
//   receive folder: products.csv, receive.json, catalog.csv, the product files;
//   what-if JSON:   `triage-ground replay --json` output.
//
// Ground code: allocates freely; never throws out of these functions.
#ifndef TRIAGE_GROUND_REPORT_H_
#define TRIAGE_GROUND_REPORT_H_

#include <cstddef>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/status.h"

namespace triage::ground {

struct ReportOptions {
  std::vector<std::string> runs;  // 1 or 2 folders: a flight output and/or a receive folder
  std::string out;                // the HTML file to write
  std::string whatif;             // replay --json output; "" = none
  std::string assets;             // node_modules-like folder; "" = $TRIAGE_REPORT_ASSETS, then the built-in default
  bool progress = false;          // a line per step on stderr
};

// The three plot runtime files, found and checked to exist.
struct ReportAssets {
  std::string dir;
  std::string vega, vega_lite, vega_embed;  // full paths to the .min.js files
};

enum class RunKind { kUnknown, kFlight, kReceive };
// By contents: telemetry.jsonl or summary.json = flight; products.csv or
// receive.json = receive.
RunKind DetectRunKind(const std::string& dir);

// Looks in `dir_option`, else $TRIAGE_REPORT_ASSETS, else the default CMake
// compiled in (ground/report/node_modules). In each, either
// <dir>/vega/build/vega.min.js (a node_modules folder) or <dir>/vega.min.js.
// Error: names the missing file and the command that fetches it.
Result<ReportAssets> FindReportAssets(const std::string& dir_option);
// The compiled-in default folder.
const char* DefaultReportAssetsDir();

struct ReportSection {
  std::string id;  // HTML id of the <section>
  std::string title;
  bool has_data = false;
};

struct ReportSummary {
  std::string out;  // where the HTML went
  size_t html_bytes = 0;
  std::string flight_dir, receive_dir;  // "" when not given
  size_t frames = 0;                    // telemetry records (last per frame id)
  size_t thumbnails = 0;                // embedded in the contact sheet
  std::vector<std::string> plots;       // HTML ids of the plot containers
  std::vector<ReportSection> sections;  // in page order
};

// Reads the inputs and writes options.out. Errors: no or unknown folder,
// a malformed input (with file:line for telemetry.jsonl and CSV files),
// missing plot assets, an unwritable output.
Result<ReportSummary> WriteReport(const ReportOptions& options);

}  // namespace triage::ground

#endif  // TRIAGE_GROUND_REPORT_H_
