#include "ground/ops_cli.h"

#include <cctype>
#include <cstdio>
#include <cstring>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sys/stat.h>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "config/mission.h"
#include "inference/model.h"
#include "decision/classifier.h"
#include "imaging/image.h"
#include "uplink/golden.h"
#include "uplink/package.h"
#include "ground/receive.h"
#include "ground/replay.h"

namespace triage::ground {

struct OpsCommands {
  CLI::App* receive = nullptr;
  std::vector<std::string> captures;
  std::string receive_out;
  std::string receive_config;
  CLI::App* replay = nullptr;
  ReplayOptions replay_options;
  std::string replay_json;
  // package keygen / build / inspect / verify
  CLI::App* package = nullptr;
  CLI::App* keygen = nullptr;
  std::string key_prefix;
  CLI::App* build = nullptr;
  std::string kind = "model", input, key_file, out, mission = "triage";
  uint64_t sequence = 0;
  CLI::App* inspect = nullptr;
  std::string pkg;
  CLI::App* verify = nullptr;
  std::vector<std::string> pubkeys;
  uint64_t last_sequence = 0;
  size_t max_payload = 4u << 20;
  std::string golden_frames, package_config;
  size_t golden_count = 3;
};

void OpsCommandsDeleter::operator()(OpsCommands* p) const { delete p; }

namespace {

int Fail(const std::string& message) {
  std::fprintf(stderr, "triage-ground: error: %s\n", message.c_str());
  return 1;
}

// The mission file (or the embedded one): packet size, request capacity and
// labels must be the flight's.
bool LoadMission(const std::string& path, config::LoadedConfig* out, std::string* error) {
  *out = path.empty() ? config::LoadEmbeddedMission() : config::LoadMissionFile(path);
  if (!out->ok()) {
    *error = config::FormatProblem(out->source, out->problems.front());
    return false;
  }
  return true;
}

int RunReceive(const OpsCommands& c, bool progress) {
  config::LoadedConfig mission;
  std::string error;
  if (!LoadMission(c.receive_config, &mission, &error)) return Fail(error);
  ReceiveOptions o;
  o.captures = c.captures;
  o.out_dir = c.receive_out;
  o.packet_data_size = mission.config.downlink.packet_data_size;
  o.max_request_ranges = mission.config.downlink.max_retransmit_ranges;
  o.labels = mission.config.model.labels;
  o.progress = progress;
  Result<ReceiveSummary> r = Receive(o);
  if (!r.ok()) return Fail(r.status().message());
  const ReceiveSummary& s = r.value();
  std::printf("received %llu capture(s), %llu bytes: %llu new product(s), %llu complete in %s\n",
              static_cast<unsigned long long>(s.captures_read), static_cast<unsigned long long>(s.capture_bytes),
              static_cast<unsigned long long>(s.products_new), static_cast<unsigned long long>(s.products_complete),
              o.out_dir.c_str());
  std::printf("packets: %llu accepted, %llu rejected, %llu bad bytes skipped (all runs)\n",
              static_cast<unsigned long long>(s.packets_accepted), static_cast<unsigned long long>(s.packets_rejected),
              static_cast<unsigned long long>(s.bytes_skipped));
  for (const auto& [reason, count] : s.rejections) {
    std::printf("  rejected %-16s %llu\n", reason.c_str(), static_cast<unsigned long long>(count));
  }
  for (const std::string& e : s.rejection_examples) std::printf("  e.g. %s\n", e.c_str());
  if (s.journal_torn_bytes > 0) {
    std::printf("state: %llu torn journal byte(s) skipped (an interrupted run)\n",
                static_cast<unsigned long long>(s.journal_torn_bytes));
  }
  if (s.incomplete.empty()) {
    std::printf("incomplete: none; no retransmission request\n");
  } else {
    std::printf("incomplete: %zu product(s)\n", s.incomplete.size());
    size_t shown = 0;
    for (const IncompleteProduct& p : s.incomplete) {
      if (++shown > 10) {
        std::printf("  ... and %zu more (receive.json lists them all)\n", s.incomplete.size() - 10);
        break;
      }
      std::string ranges;
      for (const downlink::PacketRange& m : p.missing) {
        ranges += (ranges.empty() ? "" : ", ") + std::to_string(m.first_packet) +
                  (m.last_packet != m.first_packet ? "-" + std::to_string(m.last_packet) : "");
      }
      std::printf("  product %u: packets %s\n", p.product_id, ranges.c_str());
    }
    std::printf("request: %s/retransmit.bin, %zu range(s)%s; copy it into the flight's uplink folder\n",
                o.out_dir.c_str(), s.request_ranges,
                s.ranges_deferred ? (" (" + std::to_string(s.ranges_deferred) + " deferred to the next request)").c_str()
                                  : "");
  }
  return 0;
}

int RunReplay(const OpsCommands& c, bool progress) {
  ReplayOptions o = c.replay_options;
  o.progress = progress;
  Result<ReplayResult> r = Replay(o);
  if (!r.ok()) return Fail(r.status().message());
  if (!c.replay_json.empty()) {
    const std::string text = ReplayJson(r.value());
    if (c.replay_json == "-") {
      std::fwrite(text.data(), 1, text.size(), stdout);
    } else {
      std::FILE* f = std::fopen(c.replay_json.c_str(), "w");
      if (f == nullptr || std::fwrite(text.data(), 1, text.size(), f) != text.size() || std::fclose(f) != 0) {
        return Fail("cannot write " + c.replay_json);
      }
    }
  }
  if (c.replay_json != "-") std::fputs(ReplayTable(r.value()).c_str(), stdout);
  if (!r->ok()) {
    std::fprintf(stderr, "triage-ground: error: replay differs from the flight in %zu field(s)\n", r->mismatches.size());
    return 1;
  }
  return 0;
}


// --- package ---------------------------------------------------------------

bool ReadBytes(const std::string& path, std::vector<uint8_t>* out, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = "cannot read " + path;
    return false;
  }
  out->assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return true;
}

bool WriteBytes(const std::string& path, const uint8_t* data, size_t n, std::string* error) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(n));
  if (!f) *error = "cannot write " + path;
  return static_cast<bool>(f);
}

std::string Hex(const uint8_t* p, size_t n) {
  std::string s;
  char b[3];
  for (size_t i = 0; i < n; ++i) {
    std::snprintf(b, sizeof(b), "%02x", p[i]);
    s += b;
  }
  return s;
}

// A key file: its hex digits on the first line (whitespace ignored).
bool ReadHexKey(const std::string& path, uint8_t* out, size_t n, std::string* error) {
  std::vector<uint8_t> text;
  if (!ReadBytes(path, &text, error)) return false;
  std::string hex;
  for (uint8_t c : text) {
    if (c == '\n') break;
    if (std::isxdigit(c)) hex += static_cast<char>(c);
  }
  if (hex.size() != 2 * n) {
    *error = path + ": expected " + std::to_string(2 * n) + " hex digits, found " + std::to_string(hex.size());
    return false;
  }
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<uint8_t>(std::stoi(hex.substr(2 * i, 2), nullptr, 16));
  return true;
}

bool ParseKind(const std::string& text, uplink::PackageKind* kind) {
  if (text == "model") {
    *kind = uplink::PackageKind::kModel;
  } else if (text == "config") {
    *kind = uplink::PackageKind::kConfig;
  } else {
    return false;
  }
  return true;
}

int RunKeygen(const OpsCommands& c) {
  uplink::PublicKey pub;
  uplink::SecretKey secret;
  Status s = uplink::GenerateKeyPair(&pub, &secret);
  if (!s.ok()) return Fail(s.message());
  std::string error;
  const std::string pub_text = Hex(pub.bytes.data(), pub.bytes.size()) + "\n";
  const std::string key_text = Hex(secret.bytes.data(), secret.bytes.size()) + "\n";
  const std::string key_path = c.key_prefix + ".key", pub_path = c.key_prefix + ".pub";
  if (!WriteBytes(pub_path, reinterpret_cast<const uint8_t*>(pub_text.data()), pub_text.size(), &error) ||
      !WriteBytes(key_path, reinterpret_cast<const uint8_t*>(key_text.data()), key_text.size(), &error)) {
    return Fail(error);
  }
  ::chmod(key_path.c_str(), 0600);
  const uplink::KeyId id = uplink::KeyIdOf(pub);
  std::printf("wrote %s (secret, mode 0600) and %s\nkey id %s\n", key_path.c_str(), pub_path.c_str(),
              Hex(id.data(), id.size()).c_str());
  return 0;
}

// The mission's model section with `model_path` as the model: the
// preprocessing and kernel set the flight will run the new model with.
bool ModelSection(const OpsCommands& c, const std::string& model_path, config::ModelConfig* out, std::string* error) {
  config::LoadedConfig mission;
  if (!LoadMission(c.package_config, &mission, error)) return false;
  *out = mission.config.model;
  out->path = model_path;
  out->expected_sha256.clear();
  return true;
}

// Golden vectors: up to `count` images of `dir` (sorted by name, recursive)
// through the flight's classifier path; the model input and output bytes.
bool ComputeGolden(const OpsCommands& c, std::vector<uplink::GoldenPair>* out, std::string* error) {
  namespace fs = std::filesystem;
  std::vector<std::string> files;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(c.golden_frames, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string ext = it->path().extension().string();
    if (it->is_regular_file() && (ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".bmp")) {
      files.push_back(it->path().string());
    }
  }
  if (ec) {
    *error = c.golden_frames + ": " + ec.message();
    return false;
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) {
    *error = c.golden_frames + ": no images for the golden vectors";
    return false;
  }
  config::ModelConfig section;
  if (!ModelSection(c, c.input, &section, error)) return false;
  const size_t step = std::max<size_t>(1, files.size() / c.golden_count);
  for (size_t i = 0; i < files.size() && out->size() < c.golden_count; i += step) {
    Result<imaging::Image> image = imaging::LoadImageFile(files[i]);
    if (!image.ok() || image->channels != 3) continue;
    Result<std::unique_ptr<decision::Classifier>> cls = decision::Classifier::Create(section, image->width, image->height);
    if (!cls.ok()) {
      *error = cls.status().message();
      return false;
    }
    decision::Classifier& k = **cls;
    Status s = k.Preprocess(image->pixels.data(), image->width, image->height, image->stride());
    if (s.ok()) s = k.Infer();
    if (!s.ok()) {
      *error = files[i] + ": " + s.message();
      return false;
    }
    const inference::TensorView in = k.interpreter().input(0), o = k.interpreter().output(0);
    out->push_back({std::vector<uint8_t>(in.data, in.data + in.bytes), std::vector<uint8_t>(o.data, o.data + o.bytes)});
  }
  if (out->empty()) {
    *error = c.golden_frames + ": no usable RGB image";
    return false;
  }
  return true;
}

int RunBuild(const OpsCommands& c) {
  uplink::BuildInput in;
  if (!ParseKind(c.kind, &in.kind)) return Fail("--kind must be model or config, not " + c.kind);
  std::string error;
  std::vector<uint8_t> payload;
  if (!ReadBytes(c.input, &payload, &error)) return Fail(error);
  // Refuse on the ground what the flight would refuse.
  if (in.kind == uplink::PackageKind::kModel) {
    inference::AlignedBuffer image(payload.size());
    if (!payload.empty()) std::memcpy(image.data(), payload.data(), payload.size());
    Result<inference::Model> m = inference::Model::Create(image.span());
    if (!m.ok()) return Fail(c.input + ": " + m.status().message());
  } else {
    config::LoadOptions lo;
    lo.check_files = false;
    config::LoadedConfig loaded = config::ParseMission(std::string(payload.begin(), payload.end()), c.input, lo);
    if (!loaded.ok()) return Fail(config::FormatProblem(c.input, loaded.problems.front()));
  }
  uplink::SecretKey secret;
  if (!ReadHexKey(c.key_file, secret.bytes.data(), secret.bytes.size(), &error)) return Fail(error);
  std::vector<uint8_t> golden;
  if (in.kind == uplink::PackageKind::kModel) {
    if (c.golden_frames.empty()) return Fail("a model package needs --frames DIR for its golden vectors");
    std::vector<uplink::GoldenPair> pairs;
    if (!ComputeGolden(c, &pairs, &error)) return Fail(error);
    golden = uplink::EncodeGolden(pairs);
    std::printf("golden vectors: %zu (%zu bytes)\n", pairs.size(), golden.size());
  }
  in.sequence = c.sequence;
  in.mission = c.mission;
  in.payload = Span<const uint8_t>(payload.data(), payload.size());
  in.golden = Span<const uint8_t>(golden.data(), golden.size());
  Result<std::vector<uint8_t>> pkg = uplink::BuildPackage(in, secret);
  if (!pkg.ok()) return Fail(pkg.status().message());
  if (!WriteBytes(c.out, pkg->data(), pkg->size(), &error)) return Fail(error);
  std::printf("wrote %s: %s package, sequence %llu, mission %s, %zu bytes (payload %zu bytes)\n", c.out.c_str(),
              c.kind.c_str(), static_cast<unsigned long long>(c.sequence), c.mission.c_str(), pkg->size(),
              payload.size());
  return 0;
}

int RunInspect(const OpsCommands& c) {
  std::vector<uint8_t> bytes;
  std::string error;
  if (!ReadBytes(c.pkg, &bytes, &error)) return Fail(error);
  Result<uplink::PackageView> v = uplink::ParsePackage(Span<const uint8_t>(bytes.data(), bytes.size()));
  if (!v.ok()) return Fail(c.pkg + ": " + v.status().message());
  const uplink::PackageHeader& h = v->header;
  std::printf("package       %s (%zu bytes)\nformat        %u\nkind          %s\nsequence      %llu\n"
              "mission       %s\npayload       %u bytes (compressed %u, %.1f%%)\ngolden        %u bytes\n"
              "payload sha256 %s\nkey id        %s\nsignature     %s (not checked: use verify)\n",
              c.pkg.c_str(), bytes.size(), h.format_version, uplink::PackageKindName(h.kind),
              static_cast<unsigned long long>(h.sequence), h.mission, h.payload_bytes, h.compressed_bytes,
              h.payload_bytes ? 100.0 * h.compressed_bytes / h.payload_bytes : 0.0, h.golden_bytes,
              Hex(h.payload_sha256.data(), 32).c_str(), Hex(h.key_id.data(), h.key_id.size()).c_str(),
              Hex(v->signature.data(), 8).c_str());
  return 0;
}

int RunVerify(const OpsCommands& c) {
  std::vector<uint8_t> bytes;
  std::string error;
  if (!ReadBytes(c.pkg, &bytes, &error)) return Fail(error);
  std::vector<uplink::PublicKey> keys(c.pubkeys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    if (!ReadHexKey(c.pubkeys[i], keys[i].bytes.data(), keys[i].bytes.size(), &error)) return Fail(error);
  }
  Result<uplink::PackageView> view = uplink::ParsePackage(Span<const uint8_t>(bytes.data(), bytes.size()));
  if (!view.ok()) return Fail(c.pkg + ": " + view.status().message());
  uplink::VerifyOptions o;
  o.trusted = Span<const uplink::PublicKey>(keys.data(), keys.size());
  o.mission = c.mission.c_str();
  o.kind = view->header.kind;
  o.last_sequence = c.last_sequence;
  o.max_payload_bytes = c.max_payload;
  inference::AlignedBuffer payload(c.max_payload);
  uplink::VerifyResult r;
  Status s = uplink::VerifyPackage(Span<const uint8_t>(bytes.data(), bytes.size()), o, payload.mutable_span(), &r);
  if (!s.ok()) return Fail(c.pkg + ": " + s.message());
  if (r.header.kind == uplink::PackageKind::kModel) {
    const Span<const uint8_t> model(payload.data(), r.payload_bytes);
    Result<inference::Model> m = inference::Model::Create(model);
    if (!m.ok()) return Fail(c.pkg + ": model: " + m.status().message());
    config::ModelConfig section;
    if (!ModelSection(c, "", &section, &error)) return Fail(error);
    inference::InterpreterOptions io;
    io.kernel_set = section.optimized_kernels ? kernels::KernelSet::kOptimized : kernels::KernelSet::kReference;
    io.threads = section.threads;
    Result<size_t> g = uplink::CheckGoldenVectors(model, r.golden, io);
    if (!g.ok()) return Fail(c.pkg + ": " + g.status().message());
    std::printf("golden vectors: %zu match byte for byte\n", g.value());
  } else {
    config::LoadOptions lo;
    lo.check_files = false;
    config::LoadedConfig loaded = config::ParseMission(
        std::string(reinterpret_cast<const char*>(payload.data()), r.payload_bytes), c.pkg, lo);
    if (!loaded.ok()) return Fail(config::FormatProblem(c.pkg, loaded.problems.front()));
  }
  std::printf("%s: verified: %s package, sequence %llu, mission %s, payload %zu bytes\n", c.pkg.c_str(),
              uplink::PackageKindName(r.header.kind), static_cast<unsigned long long>(r.header.sequence),
              r.header.mission, r.payload_bytes);
  return 0;
}

}  // namespace

OpsCommandsPtr AddOpsCommands(CLI::App& app) {
  OpsCommandsPtr c(new OpsCommands);
  c->package = app.add_subcommand("package", "Signed uplink packages of models and configs (docs/UPLINK.md)");
  c->package->require_subcommand(1);
  c->keygen = c->package->add_subcommand("keygen", "Make an Ed25519 key pair: PREFIX.key (secret) and PREFIX.pub");
  c->keygen->add_option("--out", c->key_prefix, "Path prefix of the two key files")->required();
  c->build = c->package->add_subcommand("build", "Compress, hash and sign a model (.tflite) or mission config (.yaml)");
  c->build->add_option("--kind", c->kind, "model or config")->capture_default_str();
  c->build->add_option("--in", c->input, "The model or config file")->required()->check(CLI::ExistingFile);
  c->build->add_option("--sequence", c->sequence, "Sequence number, above every package sent before")->required();
  c->build->add_option("--mission", c->mission, "Target mission (the config's name:)")->capture_default_str();
  c->build->add_option("--key", c->key_file, "Secret key (PREFIX.key from keygen)")->required()->check(CLI::ExistingFile);
  c->build->add_option("--out", c->out, "Package to write")->required();
  c->build->add_option("--frames", c->golden_frames, "Models: stored frames for the golden vectors (searched recursively)")
      ->check(CLI::ExistingDirectory);
  c->build->add_option("--golden", c->golden_count, "Models: golden vectors")->capture_default_str()->check(CLI::Range(1, 16));
  c->build->add_option("--config", c->package_config, "Mission file whose model section (preprocessing, kernels) "
                                                      "the flight will use (default: the embedded one)")
      ->check(CLI::ExistingFile);
  c->inspect = c->package->add_subcommand("inspect", "Print a package's header (structure only)");
  c->inspect->add_option("PKG", c->pkg, "Package")->required()->check(CLI::ExistingFile);
  c->verify = c->package->add_subcommand(
      "verify", "Check a package as the flight does (signature, sequence, size bound, hash, model or config)");
  c->verify->add_option("PKG", c->pkg, "Package")->required()->check(CLI::ExistingFile);
  c->verify->add_option("--pubkey", c->pubkeys, "Trusted public key file(s) (PREFIX.pub)")->required()->check(CLI::ExistingFile);
  c->verify->add_option("--mission", c->mission, "Mission the flight is")->capture_default_str();
  c->verify->add_option("--last-sequence", c->last_sequence, "Last sequence the flight accepted")->capture_default_str();
  c->verify->add_option("--max-bytes", c->max_payload, "Inflated size bound")->capture_default_str();
  c->verify->add_option("--config", c->package_config, "Mission file: kernel set and threads of the golden check "
                                                       "(default: the embedded one)")
      ->check(CLI::ExistingFile);
  c->receive = app.add_subcommand(
      "receive", "Reassemble and verify products from radio captures; write products, catalogs and the "
                 "retransmission request for what is missing (resumable)");
  c->receive->add_option("captures", c->captures, "Packet captures (radio.bin of each pass), any order")
      ->required()
      ->check(CLI::ExistingFile);
  c->receive->add_option("--out", c->receive_out, "Receive folder (created; a rerun continues from its state)")
      ->required();
  c->receive->add_option("--config", c->receive_config,
                         "Mission file the flight flies (packet size, request capacity, labels); default: embedded");
  c->receive->fallthrough();

  ReplayOptions& ro = c->replay_options;
  c->replay = app.add_subcommand(
      "replay", "Re-run a recorded flight through the flight's code: check it bit for bit, or ask what-if of a new "
                "config or model");
  c->replay->add_option("flight_out", ro.flight_dir, "triage-flight output folder (telemetry.jsonl, config/)")
      ->required()
      ->check(CLI::ExistingDirectory);
  c->replay->add_option("--frames", ro.frames, "Directory of the frames the flight read (default: its camera)")
      ->check(CLI::ExistingDirectory);
  c->replay->add_option("--flight-config", ro.flight_config,
                        "The flight's mission file, if the output folder has no config/ record of it")
      ->check(CLI::ExistingFile);
  c->replay->add_option("--config", ro.config, "What-if: this mission file instead of the flight's")
      ->check(CLI::ExistingFile);
  c->replay->add_option("--model", ro.model, "What-if: this model instead of the flight's (same labels)")
      ->check(CLI::ExistingFile);
  c->replay->add_option("--json", c->replay_json, "Also write the result as JSON to this file (- = stdout only)");
  c->replay->fallthrough();
  return c;
}

bool RunOpsCommands(const OpsCommands& c, bool progress, int* exit_code) {
  if (c.receive->parsed()) {
    *exit_code = RunReceive(c, progress);
    return true;
  }
  if (c.replay->parsed()) {
    *exit_code = RunReplay(c, progress);
    return true;
  }
  if (c.package->parsed()) {
    if (c.keygen->parsed()) *exit_code = RunKeygen(c);
    if (c.build->parsed()) *exit_code = RunBuild(c);
    if (c.inspect->parsed()) *exit_code = RunInspect(c);
    if (c.verify->parsed()) *exit_code = RunVerify(c);
    return true;
  }
  return false;
}

}  // namespace triage::ground
