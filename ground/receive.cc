#include "ground/receive.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "config/mission.h"
#include "downlink/catalog.h"
#include "downlink/checksum.h"
#include "downlink/durable_file.h"
#include "downlink/product.h"
#include "downlink/space_packet.h"
#include "ground/progress.h"

namespace triage::ground {
namespace fs = std::filesystem;
namespace dl = triage::downlink;
using nlohmann::json;

namespace {

constexpr size_t kMaxExamples = 8;

struct ProductRecord {
  uint32_t product_id = 0;
  dl::ProductMeta meta;
  std::string file;  // relative to DIR
};

std::string Hex(const dl::Digest256& d) { return config::HexDigest(d); }

bool ParseHex(const std::string& hex, dl::Digest256* out) {
  if (hex.size() != 64) return false;
  for (size_t i = 0; i < 32; ++i) {
    unsigned v = 0;
    if (std::sscanf(hex.c_str() + 2 * i, "%2x", &v) != 1) return false;
    (*out)[i] = static_cast<uint8_t>(v);
  }
  return true;
}

Result<std::vector<uint8_t>> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Error(StatusCode::kNotFound, "%s: cannot open: %s", path.c_str(), std::strerror(errno));
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return Status::Error(StatusCode::kIoError, "%s: read error", path.c_str());
  return bytes;
}

Status WriteAtomically(const fs::path& path, const std::string& text) {
  const std::string dir = path.parent_path().string();
  const std::string name = path.filename().string();
  return dl::ReplaceFileAtomically(dir.c_str(), name.c_str(),
                                   Span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}
Status WriteAtomically(const fs::path& path, Span<const uint8_t> bytes) {
  const std::string dir = path.parent_path().string();
  const std::string name = path.filename().string();
  return dl::ReplaceFileAtomically(dir.c_str(), name.c_str(), bytes);
}

const char* Extension(const dl::ProductMeta& meta, const std::vector<uint8_t>& payload) {
  if (meta.kind == dl::ProductKind::kCatalog) return "bin";
  if (payload.size() >= 3 && payload[0] == 0xFF && payload[1] == 0xD8 && payload[2] == 0xFF) return "jpg";
  if (payload.size() >= 8 && std::memcmp(payload.data(), "\x89PNG\r\n\x1a\n", 8) == 0) return "png";
  return "bin";
}

std::string StemFor(uint32_t id, const dl::ProductMeta& meta) {
  char stem[96];
  std::snprintf(stem, sizeof(stem), "%06u-%s-f%06llu", id, dl::ProductKindName(meta.kind),
                static_cast<unsigned long long>(meta.frame_id));
  return stem;
}

std::string ClassName(const std::vector<std::string>& labels, const dl::ProductMeta& meta) {
  if (meta.kind == dl::ProductKind::kCatalog) return "";
  return meta.class_id < labels.size() ? labels[meta.class_id] : "";
}

json SidecarJson(const ProductRecord& r, const std::vector<std::string>& labels) {
  const dl::ProductMeta& m = r.meta;
  return json{{"product_id", r.product_id},
              {"kind", dl::ProductKindName(m.kind)},
              {"frame_id", m.frame_id},
              {"class_id", m.class_id},
              {"class", ClassName(labels, m)},
              {"confidence", m.confidence},
              {"priority", m.priority},
              {"timestamp", m.timestamp},
              {"payload_bytes", m.payload_bytes},
              {"sha256", Hex(m.payload_sha256)},
              {"config_hash", Hex(m.config_hash)},
              {"model_hash", Hex(m.model_hash)},
              {"file", r.file}};
}

Result<ProductRecord> RecordFromSidecar(const json& j) {
  ProductRecord r;
  r.product_id = j.at("product_id").get<uint32_t>();
  const std::string kind = j.at("kind").get<std::string>();
  if (kind == "full") {
    r.meta.kind = dl::ProductKind::kFull;
  } else if (kind == "thumbnail") {
    r.meta.kind = dl::ProductKind::kThumbnail;
  } else if (kind == "catalog") {
    r.meta.kind = dl::ProductKind::kCatalog;
  } else {
    return Status::Error(StatusCode::kDataLoss, "kind '%s' unknown", kind.c_str());
  }
  r.meta.frame_id = j.at("frame_id").get<uint64_t>();
  r.meta.class_id = j.at("class_id").get<uint16_t>();
  r.meta.confidence = j.at("confidence").get<float>();
  r.meta.priority = j.at("priority").get<uint8_t>();
  r.meta.timestamp = j.at("timestamp").get<uint64_t>();
  r.meta.payload_bytes = j.at("payload_bytes").get<uint64_t>();
  if (!ParseHex(j.at("sha256").get<std::string>(), &r.meta.payload_sha256) ||
      !ParseHex(j.at("config_hash").get<std::string>(), &r.meta.config_hash) ||
      !ParseHex(j.at("model_hash").get<std::string>(), &r.meta.model_hash)) {
    return Status::Error(StatusCode::kDataLoss, "a hash is not 64 hex digits");
  }
  r.file = j.at("file").get<std::string>();
  return r;
}

class Session {
 public:
  explicit Session(const ReceiveOptions& o) : o_(o), dir_(o.out_dir), reassembler_(Limits(o)) {}

  Result<ReceiveSummary> Run() {
    std::error_code ec;
    fs::create_directories(dir_ / "products", ec);
    if (!ec) fs::create_directories(dir_ / "state", ec);
    if (ec) return Status::Error(StatusCode::kIoError, "%s: cannot create: %s", dir_.c_str(), ec.message().c_str());
    for (const std::string& c : o_.captures) {
      if (!fs::is_regular_file(c, ec)) {
        return Status::Error(StatusCode::kNotFound, "capture %s: not a readable file", c.c_str());
      }
    }
    TRIAGE_RETURN_IF_ERROR(LoadCounters());
    TRIAGE_RETURN_IF_ERROR(LoadProducts());
    TRIAGE_RETURN_IF_ERROR(ReplayJournal());
    TRIAGE_RETURN_IF_ERROR(OpenJournal());
    uint64_t total = 0;
    for (const std::string& c : o_.captures) total += fs::file_size(c, ec);
    Progress progress("receive", static_cast<size_t>(total), o_.progress);
    for (const std::string& c : o_.captures) {
      Result<std::vector<uint8_t>> bytes = ReadFile(c);
      if (!bytes.ok()) return bytes.status();
      TRIAGE_RETURN_IF_ERROR(Ingest(c, bytes.value(), &progress));
      ++summary_.captures_read;
      summary_.capture_bytes += bytes->size();
      captures_.push_back(json{{"path", c}, {"bytes", bytes->size()}});
    }
    progress.Finish();
    journal_.Reset();
    TRIAGE_RETURN_IF_ERROR(CompactJournal());
    TRIAGE_RETURN_IF_ERROR(WriteCatalogs());
    TRIAGE_RETURN_IF_ERROR(WriteRequest());
    TRIAGE_RETURN_IF_ERROR(WriteSummary());
    return summary_;
  }

 private:
  static dl::ReassemblerLimits Limits(const ReceiveOptions& o) {
    dl::ReassemblerLimits l = o.limits;
    l.packet_data_size = o.packet_data_size;
    return l;
  }

  void Reject(const Status& s, const char* reason = nullptr) {
    ++summary_.packets_rejected;
    ++summary_.rejections[reason != nullptr ? reason : RejectionReason(s)];
    if (summary_.rejection_examples.size() < kMaxExamples) summary_.rejection_examples.push_back(s.message());
  }

  Status LoadCounters() {
    const fs::path p = dir_ / "receive.json";
    if (!fs::exists(p)) return Status::Ok();
    try {
      std::ifstream in(p);
      const json j = json::parse(in);
      summary_.packets_accepted = j.value("packets_accepted", uint64_t{0});
      summary_.packets_rejected = j.value("packets_rejected", uint64_t{0});
      summary_.bytes_skipped = j.value("bytes_skipped", uint64_t{0});
      if (j.contains("rejections")) {
        for (auto& [k, v] : j["rejections"].items()) summary_.rejections[k] = v.get<uint64_t>();
      }
      if (j.contains("captures")) captures_ = j["captures"].get<std::vector<json>>();
    } catch (const std::exception& e) {
      return Status::Error(StatusCode::kDataLoss, "%s: unreadable (%s); move it away to start the counters afresh",
                           p.c_str(), e.what());
    }
    return Status::Ok();
  }

  Status LoadProducts() {
    std::vector<fs::path> sidecars;
    for (const auto& entry : fs::directory_iterator(dir_ / "products")) {
      if (entry.path().extension() == ".json") sidecars.push_back(entry.path());
    }
    std::sort(sidecars.begin(), sidecars.end());
    for (const fs::path& p : sidecars) {
      Result<ProductRecord> r = Status::Error(StatusCode::kDataLoss, "unparsable");
      try {
        std::ifstream in(p);
        r = RecordFromSidecar(json::parse(in));
      } catch (const std::exception& e) {
        r = Status::Error(StatusCode::kDataLoss, "%s", e.what());
      }
      std::error_code ec;
      if (!r.ok() || !fs::exists(dir_ / r->file, ec)) {
        // Not a product this tool completed: drop the sidecar so that the
        // product is received (and requested) again.
        std::fprintf(stderr, "triage-ground: receive: %s: %s; dropped, the product will be received again\n",
                     p.c_str(), r.ok() ? "payload file missing" : r.status().message());
        fs::remove(p, ec);
        continue;
      }
      TRIAGE_RETURN_IF_ERROR(reassembler_.MarkComplete(r->product_id));
      products_[r->product_id] = r.value();
    }
    summary_.products_complete = products_.size();
    return Status::Ok();
  }

  Status ReplayJournal() {
    const fs::path p = dir_ / "state" / "journal.bin";
    if (!fs::exists(p)) return Status::Ok();
    Result<std::vector<uint8_t>> bytes = ReadFile(p.string());
    if (!bytes.ok()) return bytes.status();
    dl::PacketReader reader(Span<const uint8_t>(bytes->data(), bytes->size()));
    while (!reader.done()) {
      const size_t before = reader.offset();
      Result<dl::PacketView> packet = reader.Next();
      if (!packet.ok()) {
        summary_.journal_torn_bytes += reader.offset() - before;
        continue;
      }
      ++summary_.journal_packets;
      (void)reassembler_.Add(packet.value());  // accepted when it was journaled
    }
    return TakeCompleted();
  }

  Status OpenJournal() {
    const std::string p = (dir_ / "state" / "journal.bin").string();
    journal_ = dl::UniqueFd(::open(p.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
    if (!journal_.valid()) return Status::Error(StatusCode::kIoError, "%s: open: %s", p.c_str(), std::strerror(errno));
    return Status::Ok();
  }

  Status Ingest(const std::string& name, const std::vector<uint8_t>& bytes, Progress* progress) {
    dl::PacketReader reader(Span<const uint8_t>(bytes.data(), bytes.size()), o_.limits.max_user_data);
    bool in_garbage = false;
    size_t last_report = 0;
    while (!reader.done()) {
      const size_t before = reader.offset();
      Result<dl::PacketView> packet = reader.Next();
      if (!packet.ok()) {
        if (!in_garbage) Reject(packet.status().WithContext("%s", name.c_str()), "bad_packet");
        in_garbage = true;
        summary_.bytes_skipped += reader.offset() - before;
        continue;
      }
      in_garbage = false;
      const dl::PacketView& v = packet.value();
      const uint32_t id = v.secondary.product_id;
      if (reassembler_.IsComplete(id)) {
        TRIAGE_RETURN_IF_ERROR(CheckReuse(name, before, v));
      } else {
        Status s = reassembler_.Add(v);
        if (!s.ok()) {
          Reject(s.WithContext("%s offset %zu", name.c_str(), before));
        } else {
          ++summary_.packets_accepted;
          if (!reassembler_.IsComplete(id)) {
            TRIAGE_RETURN_IF_ERROR(
                dl::WriteAll(journal_.get(), Span<const uint8_t>(bytes.data() + before, v.total_bytes), "journal"));
          }
        }
        TRIAGE_RETURN_IF_ERROR(TakeCompleted());
      }
      if (reader.offset() - last_report > (1u << 20)) {
        progress->Advance(reader.offset() - last_report);
        last_report = reader.offset();
      }
    }
    progress->Advance(bytes.size() - last_report);
    return dl::SyncFd(journal_.get(), "journal");
  }

  // A packet of a product already complete: a duplicate, unless its metadata
  // says the id now names different content.
  Status CheckReuse(const std::string& name, size_t offset, const dl::PacketView& v) {
    const uint32_t id = v.secondary.product_id;
    if (v.secondary.packet_index == 0) {
      Result<dl::ProductMeta> meta = dl::DecodeMetadata(v.user_data);
      auto it = products_.find(id);
      if (meta.ok() && it != products_.end() && meta->payload_sha256 != it->second.meta.payload_sha256) {
        Reject(Status::Error(StatusCode::kDataLoss,
                             "%s offset %zu: product %u reused with different content (SHA-256 %.16s, kept %.16s)",
                             name.c_str(), offset, id, Hex(meta->payload_sha256).c_str(),
                             Hex(it->second.meta.payload_sha256).c_str()),
               "reused_id");
        return Status::Ok();
      }
    }
    ++summary_.packets_accepted;  // a late or repeated copy
    return Status::Ok();
  }

  Status TakeCompleted() {
    for (dl::CompletedProduct& p : reassembler_.TakeCompleted()) {
      ProductRecord r;
      r.product_id = p.product_id;
      r.meta = p.meta;
      const std::string stem = StemFor(p.product_id, p.meta);
      r.file = "products/" + stem + "." + Extension(p.meta, p.payload);
      TRIAGE_RETURN_IF_ERROR(WriteAtomically(dir_ / r.file, Span<const uint8_t>(p.payload.data(), p.payload.size())));
      TRIAGE_RETURN_IF_ERROR(WriteAtomically(dir_ / "products" / (stem + ".json"), SidecarJson(r, o_.labels).dump(1) + "\n"));
      if (p.meta.kind == dl::ProductKind::kCatalog) catalog_payloads_[p.product_id] = std::move(p.payload);
      products_[p.product_id] = r;
      ++summary_.products_new;
    }
    summary_.products_complete = products_.size();
    return Status::Ok();
  }

  // The journal becomes exactly the packets held for incomplete products.
  Status CompactJournal() {
    std::vector<uint8_t> out;
    std::vector<uint8_t> packet(dl::kPacketOverheadBytes + dl::kMaxPacketDataSize);
    Status status;
    reassembler_.ForEachBufferedPacket([&](uint32_t id, uint32_t index, uint32_t count, Span<const uint8_t> data) {
      if (!status.ok()) return;
      Result<size_t> n = dl::EncodePacket(0, 0, dl::SecondaryHeader{id, index, count}, data,
                                          Span<uint8_t>(packet.data(), packet.size()));
      if (!n.ok()) {
        status = n.status();
        return;
      }
      out.insert(out.end(), packet.begin(), packet.begin() + static_cast<std::ptrdiff_t>(n.value()));
    });
    TRIAGE_RETURN_IF_ERROR(status);
    return WriteAtomically(dir_ / "state" / "journal.bin", Span<const uint8_t>(out.data(), out.size()));
  }

  Status WriteCatalogs() {
    std::ostringstream products;
    products << "product_id,kind,frame_id,class_id,class,confidence,priority,timestamp,payload_bytes,sha256,"
                "config_hash,model_hash,file\n";
    // Frame catalog: rows from every catalog product, the latest snapshot
    // (metadata frame id = the catalog's change sequence) winning per frame.
    std::map<uint64_t, std::pair<uint64_t, dl::CatalogRow>> rows;
    for (const auto& [id, r] : products_) {
      const dl::ProductMeta& m = r.meta;
      char line[512];
      std::snprintf(line, sizeof(line), "%u,%s,%llu,%u,%s,%.9g,%u,%llu,%llu,%s,%s,%s,%s\n", id,
                    dl::ProductKindName(m.kind), static_cast<unsigned long long>(m.frame_id), m.class_id,
                    ClassName(o_.labels, m).c_str(), static_cast<double>(m.confidence), m.priority,
                    static_cast<unsigned long long>(m.timestamp), static_cast<unsigned long long>(m.payload_bytes),
                    Hex(m.payload_sha256).c_str(), Hex(m.config_hash).c_str(), Hex(m.model_hash).c_str(),
                    r.file.c_str());
      products << line;
      if (m.kind != dl::ProductKind::kCatalog) continue;
      std::vector<uint8_t> payload;
      auto cached = catalog_payloads_.find(id);
      if (cached != catalog_payloads_.end()) {
        payload = cached->second;
      } else {
        Result<std::vector<uint8_t>> b = ReadFile((dir_ / r.file).string());
        if (!b.ok()) return b.status();
        payload = std::move(b.value());
      }
      const Span<const uint8_t> span(payload.data(), payload.size());
      Result<uint32_t> count = dl::ParseCatalogProduct(span);
      if (!count.ok()) {
        Reject(count.status().WithContext("catalog product %u", id), "catalog");
        continue;
      }
      for (uint32_t i = 0; i < count.value(); ++i) {
        Result<dl::CatalogRow> row = dl::DecodeCatalogRow(
            span.subspan(dl::kCatalogProductHeaderBytes + size_t{i} * dl::kCatalogRowBytes, dl::kCatalogRowBytes));
        if (!row.ok()) continue;
        auto& slot = rows[row->frame_id];
        if (slot.first <= m.frame_id) slot = {m.frame_id, row.value()};
      }
    }
    TRIAGE_RETURN_IF_ERROR(WriteAtomically(dir_ / "products.csv", products.str()));
    std::ostringstream catalog;
    catalog << "frame_id,timestamp,class_id,class,confidence,decision,bytes,evicted\n";
    for (const auto& [frame, entry] : rows) {
      const dl::CatalogRow& r = entry.second;
      const char* decision = dl::FrameDecisionName(r.decision);
      const std::string cls = r.class_id < o_.labels.size() ? o_.labels[r.class_id] : "";
      char line[256];
      std::snprintf(line, sizeof(line), "%llu,%llu,%u,%s,%.9g,%s,%u,%d\n", static_cast<unsigned long long>(frame),
                    static_cast<unsigned long long>(r.timestamp), r.class_id, cls.c_str(),
                    static_cast<double>(r.confidence), decision != nullptr ? decision : std::to_string(r.decision).c_str(),
                    r.bytes, r.evicted() ? 1 : 0);
      catalog << line;
    }
    summary_.catalog_frames = rows.size();
    return WriteAtomically(dir_ / "catalog.csv", catalog.str());
  }

  Status WriteRequest() {
    std::vector<dl::PacketRange> ranges = reassembler_.AllMissingRanges();
    for (const dl::PacketRange& r : ranges) {
      if (summary_.incomplete.empty() || summary_.incomplete.back().product_id != r.product_id) {
        summary_.incomplete.push_back(IncompleteProduct{r.product_id, {}});
      }
      summary_.incomplete.back().missing.push_back(r);
    }
    const size_t cap = std::min<size_t>(o_.max_request_ranges, dl::kMaxRetransmitRanges);
    summary_.ranges_deferred = ranges.size() > cap ? ranges.size() - cap : 0;
    ranges.resize(std::min(ranges.size(), cap));
    summary_.request_ranges = ranges.size();
    const fs::path path = dir_ / "retransmit.bin";
    if (ranges.empty()) {
      std::error_code ec;
      fs::remove(path, ec);
      return Status::Ok();
    }
    std::vector<uint8_t> bytes(dl::RetransmitRequestBytes(ranges.size()));
    Result<size_t> n = dl::EncodeRetransmitRequest(Span<const dl::PacketRange>(ranges.data(), ranges.size()),
                                                   Span<uint8_t>(bytes.data(), bytes.size()));
    if (!n.ok()) return n.status();
    return WriteAtomically(path, Span<const uint8_t>(bytes.data(), n.value()));
  }

  Status WriteSummary() {
    json incomplete = json::array();
    for (const IncompleteProduct& p : summary_.incomplete) {
      json missing = json::array();
      for (const dl::PacketRange& r : p.missing) missing.push_back({r.first_packet, r.last_packet});
      incomplete.push_back({{"product_id", p.product_id}, {"missing", missing}});
    }
    json rejections = json::object();
    for (const auto& [k, v] : summary_.rejections) rejections[k] = v;
    const json j{{"captures", captures_},
                 {"packets_accepted", summary_.packets_accepted},
                 {"packets_rejected", summary_.packets_rejected},
                 {"bytes_skipped", summary_.bytes_skipped},
                 {"products_complete", summary_.products_complete},
                 {"products_incomplete", summary_.incomplete.size()},
                 {"catalog_frames", summary_.catalog_frames},
                 {"incomplete", incomplete},
                 {"request_ranges", summary_.request_ranges},
                 {"ranges_deferred", summary_.ranges_deferred},
                 {"rejections", rejections},
                 {"last_run",
                  {{"captures", summary_.captures_read},
                   {"capture_bytes", summary_.capture_bytes},
                   {"products_new", summary_.products_new},
                   {"journal_packets", summary_.journal_packets},
                   {"journal_torn_bytes", summary_.journal_torn_bytes},
                   {"rejection_examples", summary_.rejection_examples}}}};
    return WriteAtomically(dir_ / "receive.json", j.dump(1) + "\n");
  }

  const ReceiveOptions& o_;
  fs::path dir_;
  dl::Reassembler reassembler_;
  ReceiveSummary summary_;
  std::map<uint32_t, ProductRecord> products_;
  std::map<uint32_t, std::vector<uint8_t>> catalog_payloads_;
  std::vector<json> captures_;
  dl::UniqueFd journal_;
};

}  // namespace

const char* RejectionReason(const Status& s) {
  const std::string m = s.message();
  if (m.find("SHA-256") != std::string::npos) return "sha256_mismatch";
  if (m.find("payload is") != std::string::npos) return "size_mismatch";
  if (m.find("packet 0") != std::string::npos || m.find("metadata") != std::string::npos) return "metadata";
  if (s.code() == StatusCode::kOutOfRange || s.code() == StatusCode::kResourceExhausted) return "limit";
  if (m.find("disagrees") != std::string::npos || m.find("expected") != std::string::npos) return "inconsistent";
  return "invalid";
}

Result<ReceiveSummary> Receive(const ReceiveOptions& options) {
  try {
    Session session(options);
    return session.Run();
  } catch (const std::exception& e) {
    return Status::Error(StatusCode::kInternal, "receive: %s", e.what());
  }
}

}  // namespace triage::ground
