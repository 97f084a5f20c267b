#include "ground/ops_cli.h"

#include <cerrno>
#include <fcntl.h>
#include <cstdio>
#include <cstring>
#include <algorithm>
#include <filesystem>
#include <sys/stat.h>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "config/mission.h"
#include "downlink/durable_file.h"
#include "inference/model.h"
#include "decision/classifier.h"
#include "imaging/image.h"
#include "uplink/golden.h"
#include "uplink/package.h"
#include "ground/export.h"
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

// A file read with the project's size-capped, 16-byte-aligned reader.
bool ReadAll(const std::string& path, inference::AlignedBuffer* out, std::string* error) {
  Result<inference::AlignedBuffer> file = inference::ReadFileAligned(path);
  if (!file.ok()) {
    *error = file.status().message();
    return false;
  }
  *out = std::move(file.value());
  return true;
}

bool WriteText(const std::string& path, const std::string& text, std::string* error) {
  Status s = WriteFile(path, std::vector<uint8_t>(text.begin(), text.end()));
  if (!s.ok()) *error = s.message();
  return s.ok();
}

// A key file: the key's hex digits on its first line.
bool ReadHexKey(const std::string& path, Span<uint8_t> key, std::string* error) {
  inference::AlignedBuffer text;
  if (!ReadAll(path, &text, error)) return false;
  const char* chars = reinterpret_cast<const char*>(text.data());
  const void* newline = std::memchr(chars, '\n', text.size());
  const size_t line = newline ? static_cast<size_t>(static_cast<const char*>(newline) - chars) : text.size();
  Status s = uplink::ParseHex(chars, line, key);
  if (!s.ok()) *error = path + ": " + s.message();
  return s.ok();
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
  const std::string key_path = c.key_prefix + ".key", pub_path = c.key_prefix + ".pub";
  // The secret key file is created private (0600) and never overwrites a key.
  const std::string key_text = uplink::FormatHex(secret.bytes) + "\n";
  downlink::UniqueFd fd(::open(key_path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600));
  if (!fd.valid()) return Fail(key_path + ": " + std::strerror(errno) + " (an existing key is never overwritten)");
  Status w = downlink::WriteAll(
      fd.get(), Span<const uint8_t>(reinterpret_cast<const uint8_t*>(key_text.data()), key_text.size()), key_path.c_str());
  if (w.ok()) w = downlink::SyncFd(fd.get(), key_path.c_str());
  if (!w.ok()) return Fail(w.message());
  if (!WriteText(pub_path, uplink::FormatHex(pub.bytes) + "\n", &error)) return Fail(error);
  const uplink::KeyId id = uplink::KeyIdOf(pub);
  std::printf("wrote %s (secret, mode 0600) and %s\nkey id %s\n", key_path.c_str(), pub_path.c_str(),
              uplink::FormatHex(id).c_str());
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
  const size_t step = std::max<size_t>(1, files.size() / c.golden_count);
  std::vector<imaging::Image> images;
  int max_w = 1, max_h = 1;
  for (size_t i = 0; i < files.size() && images.size() < c.golden_count; i += step) {
    Result<imaging::Image> image = imaging::LoadImageFile(files[i]);
    if (!image.ok() || image->channels != 3) continue;
    max_w = std::max(max_w, image->width);
    max_h = std::max(max_h, image->height);
    images.push_back(std::move(image.value()));
  }
  if (images.empty()) {
    *error = c.golden_frames + ": no usable RGB image";
    return false;
  }
  config::ModelConfig section;
  if (!ModelSection(c, c.input, &section, error)) return false;
  Result<std::unique_ptr<decision::Classifier>> cls = decision::Classifier::Create(section, max_w, max_h);
  if (!cls.ok()) {
    *error = cls.status().message();
    return false;
  }
  decision::Classifier& k = **cls;
  for (const imaging::Image& image : images) {
    Status s = k.Preprocess(image.pixels.data(), image.width, image.height, image.stride());
    if (s.ok()) s = k.Infer();
    if (!s.ok()) {
      *error = s.message();
      return false;
    }
    const inference::TensorView in = k.interpreter().input(0), o = k.interpreter().output(0);
    out->push_back({std::vector<uint8_t>(in.data, in.data + in.bytes), std::vector<uint8_t>(o.data, o.data + o.bytes)});
  }
  return true;
}

int RunBuild(const OpsCommands& c) {
  uplink::BuildInput in;
  if (!ParseKind(c.kind, &in.kind)) return Fail("--kind must be model or config, not " + c.kind);
  std::string error;
  inference::AlignedBuffer payload;
  if (!ReadAll(c.input, &payload, &error)) return Fail(error);
  // Refuse on the ground what the flight would refuse.
  if (in.kind == uplink::PackageKind::kModel) {
    Result<inference::Model> m = inference::Model::Create(payload.span());
    if (!m.ok()) return Fail(c.input + ": " + m.status().message());
  } else {
    config::LoadOptions lo;
    lo.check_files = false;
    config::LoadedConfig loaded = config::ParseMission(
        std::string(reinterpret_cast<const char*>(payload.data()), payload.size()), c.input, lo);
    if (!loaded.ok()) return Fail(config::FormatProblem(c.input, loaded.problems.front()));
  }
  uplink::SecretKey secret;
  if (!ReadHexKey(c.key_file, Span<uint8_t>(secret.bytes.data(), secret.bytes.size()), &error)) return Fail(error);
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
  in.payload = payload.span();
  in.golden = Span<const uint8_t>(golden.data(), golden.size());
  Result<std::vector<uint8_t>> pkg = uplink::BuildPackage(in, secret);
  if (!pkg.ok()) return Fail(pkg.status().message());
  if (Status w = WriteFile(c.out, *pkg); !w.ok()) return Fail(w.message());
  std::printf("wrote %s: %s package, sequence %llu, mission %s, %zu bytes (payload %zu bytes)\n", c.out.c_str(),
              c.kind.c_str(), static_cast<unsigned long long>(c.sequence), c.mission.c_str(), pkg->size(),
              payload.size());
  return 0;
}

int RunInspect(const OpsCommands& c) {
  inference::AlignedBuffer bytes;
  std::string error;
  if (!ReadAll(c.pkg, &bytes, &error)) return Fail(error);
  Result<uplink::PackageView> v = uplink::ParsePackage(bytes.span());
  if (!v.ok()) return Fail(c.pkg + ": " + v.status().message());
  const uplink::PackageHeader& h = v->header;
  std::printf("package       %s (%zu bytes)\nformat        %u\nkind          %s\nsequence      %llu\n"
              "mission       %s\npayload       %u bytes (compressed %u, %.1f%%)\ngolden        %u bytes\n"
              "payload sha256 %s\nkey id        %s\nsignature     %s (not checked: use verify)\n",
              c.pkg.c_str(), bytes.size(), h.format_version, uplink::PackageKindName(h.kind),
              static_cast<unsigned long long>(h.sequence), h.mission, h.payload_bytes, h.compressed_bytes,
              h.payload_bytes ? 100.0 * h.compressed_bytes / h.payload_bytes : 0.0, h.golden_bytes,
              uplink::FormatHex(h.payload_sha256).c_str(), uplink::FormatHex(h.key_id).c_str(),
              uplink::FormatHex(v->signature.subspan(0, 8)).c_str());
  return 0;
}

int RunVerify(const OpsCommands& c) {
  inference::AlignedBuffer bytes;
  std::string error;
  if (!ReadAll(c.pkg, &bytes, &error)) return Fail(error);
  std::vector<uplink::PublicKey> keys(c.pubkeys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    if (!ReadHexKey(c.pubkeys[i], Span<uint8_t>(keys[i].bytes.data(), keys[i].bytes.size()), &error)) return Fail(error);
  }
  Result<uplink::PackageView> view = uplink::ParsePackage(bytes.span());
  if (!view.ok()) return Fail(c.pkg + ": " + view.status().message());
  uplink::VerifyOptions o;
  o.trusted = Span<const uplink::PublicKey>(keys.data(), keys.size());
  o.mission = c.mission.c_str();
  o.kind = view->header.kind;
  o.last_sequence = c.last_sequence;
  o.max_payload_bytes = c.max_payload;
  inference::AlignedBuffer payload(c.max_payload);
  uplink::VerifyResult r;
  Status s = uplink::VerifyPackage(bytes.span(), o, payload.mutable_span(), &r);
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
