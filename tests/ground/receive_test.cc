// triage-ground receive (ground/receive.h): products verified and written
// with their sidecars, the retransmission request for what is missing, a
// second run that completes from the journal, hostile captures counted by
// reason, and kill -9 at random points converging to the same folder.
#include "ground/receive.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "downlink/retransmit.h"
#include "tests/downlink/test_util.h"

namespace triage::ground {
namespace {
namespace fs = std::filesystem;
using downlink::testing::Packetize;
using downlink::testing::Payload;
using Packets = std::vector<std::vector<uint8_t>>;

constexpr uint32_t kData = 200;

std::vector<uint8_t> JpegLike(uint64_t seed, size_t size) {
  std::vector<uint8_t> p = Payload(seed, size);
  p[0] = 0xFF, p[1] = 0xD8, p[2] = 0xFF;
  return p;
}

downlink::ProductMeta Meta(uint64_t frame, downlink::ProductKind kind, uint16_t class_id) {
  downlink::ProductMeta m;
  m.frame_id = frame;
  m.timestamp = frame * 20000000;
  m.class_id = class_id;
  m.confidence = 0.75f;
  m.kind = kind;
  m.priority = 200;
  m.config_hash[0] = 0xC0;
  m.model_hash[0] = 0x30;
  return m;
}

std::vector<uint8_t> Concat(const Packets& packets) {
  std::vector<uint8_t> out;
  for (const auto& p : packets) out.insert(out.end(), p.begin(), p.end());
  return out;
}

std::string WriteCapture(const std::string& dir, const std::string& name, const std::vector<uint8_t>& bytes) {
  const std::string path = dir + "/" + name;
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                             static_cast<std::streamsize>(bytes.size()));
  return path;
}

std::vector<uint8_t> ReadBytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

nlohmann::json ReadJson(const fs::path& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

class ReceiveTest : public ::testing::Test {
 protected:
  ReceiveOptions Options(std::vector<std::string> captures) const {
    ReceiveOptions o;
    o.captures = std::move(captures);
    o.out_dir = out_;
    o.packet_data_size = kData;
    o.max_request_ranges = 32;
    o.labels = {"black", "cloud", "distorted", "land", "white"};
    o.progress = false;
    return o;
  }
  downlink::testing::TempDir tmp_;
  std::string out_ = tmp_.path() + "/rx";
};

TEST_F(ReceiveTest, VerifiesAndWritesEachProductWithItsMetadata) {
  const std::vector<uint8_t> full = JpegLike(1, 1500), thumb = JpegLike(2, 450);
  Packets a = Packetize(7, Meta(3, downlink::ProductKind::kFull, 3), full, kData);
  Packets b = Packetize(8, Meta(3, downlink::ProductKind::kThumbnail, 3), thumb, kData);
  Packets all;
  for (size_t i = 0; i < std::max(a.size(), b.size()); ++i) {  // interleaved, with duplicates, reversed
    if (i < b.size()) all.push_back(b[b.size() - 1 - i]);
    if (i < a.size()) all.push_back(a[a.size() - 1 - i]);
  }
  all.push_back(a[1]);
  all.push_back(b[0]);
  Result<ReceiveSummary> r = Receive(Options({WriteCapture(tmp_.path(), "radio.bin", Concat(all))}));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->products_new, 2u);
  EXPECT_EQ(r->packets_rejected, 0u);
  EXPECT_TRUE(r->incomplete.empty());
  EXPECT_FALSE(fs::exists(out_ + "/retransmit.bin"));
  EXPECT_EQ(ReadBytes(out_ + "/products/000007-full-f000003.jpg"), full);
  EXPECT_EQ(ReadBytes(out_ + "/products/000008-thumbnail-f000003.jpg"), thumb);
  const nlohmann::json side = ReadJson(out_ + "/products/000007-full-f000003.json");
  EXPECT_EQ(side["class"], "land");
  EXPECT_EQ(side["frame_id"], 3);
  EXPECT_EQ(side["payload_bytes"], 1500);
  EXPECT_EQ(side["confidence"], 0.75);
  EXPECT_EQ(side["config_hash"].get<std::string>().substr(0, 2), "c0");
  std::ifstream csv(out_ + "/products.csv");
  std::string header, row1, row2;
  std::getline(csv, header);
  std::getline(csv, row1);
  std::getline(csv, row2);
  EXPECT_EQ(header.rfind("product_id,kind,frame_id,class_id,class,confidence,priority", 0), 0u);
  EXPECT_EQ(row1.rfind("7,full,3,3,land,0.75,200,60000000,1500,", 0), 0u) << row1;
  EXPECT_EQ(row2.rfind("8,thumbnail,3,3,land,", 0), 0u) << row2;
  EXPECT_EQ(ReadJson(out_ + "/receive.json")["products_complete"], 2);
}

TEST_F(ReceiveTest, MissingPacketsAreRequestedAndTheNextPassCompletesThem) {
  const std::vector<uint8_t> payload = JpegLike(3, 2000);  // 1 + 10 packets
  Packets p = Packetize(21, Meta(5, downlink::ProductKind::kFull, 3), payload, kData);
  Packets first, second;
  for (size_t i = 0; i < p.size(); ++i) (i == 2 || i == 5 || i == 6 ? second : first).push_back(p[i]);
  Result<ReceiveSummary> r1 = Receive(Options({WriteCapture(tmp_.path(), "pass0.bin", Concat(first))}));
  ASSERT_TRUE(r1.ok()) << r1.status().message();
  EXPECT_EQ(r1->products_new, 0u);
  ASSERT_EQ(r1->incomplete.size(), 1u);
  EXPECT_EQ(r1->request_ranges, 2u);
  const std::vector<uint8_t> request = ReadBytes(out_ + "/retransmit.bin");
  downlink::PacketRange ranges[4];
  Result<size_t> n = downlink::ParseRetransmitRequest(request, Span<downlink::PacketRange>(ranges, 4));
  ASSERT_TRUE(n.ok()) << n.status().message();
  ASSERT_EQ(n.value(), 2u);
  EXPECT_EQ(ranges[0].product_id, 21u);
  EXPECT_EQ(ranges[0].first_packet, 2u);
  EXPECT_EQ(ranges[0].last_packet, 2u);
  EXPECT_EQ(ranges[1].first_packet, 5u);
  EXPECT_EQ(ranges[1].last_packet, 6u);
  EXPECT_GT(fs::file_size(out_ + "/state/journal.bin"), 0u);

  // A new process: only the journal knows the first pass's packets.
  Result<ReceiveSummary> r2 = Receive(Options({WriteCapture(tmp_.path(), "pass1.bin", Concat(second))}));
  ASSERT_TRUE(r2.ok()) << r2.status().message();
  EXPECT_EQ(r2->journal_packets, first.size());
  EXPECT_EQ(r2->products_new, 1u);
  EXPECT_TRUE(r2->incomplete.empty());
  EXPECT_FALSE(fs::exists(out_ + "/retransmit.bin"));
  EXPECT_EQ(fs::file_size(out_ + "/state/journal.bin"), 0u);
  EXPECT_EQ(ReadBytes(out_ + "/products/000021-full-f000005.jpg"), payload);
  // Counters accumulate over runs.
  EXPECT_EQ(ReadJson(out_ + "/receive.json")["packets_accepted"], p.size());
}

TEST_F(ReceiveTest, RequestNeverExceedsWhatTheFlightAccepts) {
  const std::vector<uint8_t> payload = Payload(4, 200 * 40);  // 41 packets
  Packets p = Packetize(3, Meta(1, downlink::ProductKind::kFull, 3), payload, kData);
  Packets odd;
  for (size_t i = 0; i < p.size(); i += 2) odd.push_back(p[i]);  // every other packet: 20 gaps
  ReceiveOptions o = Options({WriteCapture(tmp_.path(), "radio.bin", Concat(odd))});
  o.max_request_ranges = 8;
  Result<ReceiveSummary> r = Receive(o);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->request_ranges, 8u);
  EXPECT_EQ(r->ranges_deferred, 12u);
  EXPECT_EQ(fs::file_size(out_ + "/retransmit.bin"), downlink::RetransmitRequestBytes(8));
}

TEST_F(ReceiveTest, HostileCapturesAreCountedByReasonAndGoodProductsStillComplete) {
  const std::vector<uint8_t> good = JpegLike(5, 900);
  Packets g = Packetize(1, Meta(1, downlink::ProductKind::kFull, 3), good, kData);
  std::vector<uint8_t> capture;
  auto append = [&](const std::vector<uint8_t>& b) { capture.insert(capture.end(), b.begin(), b.end()); };
  append(g[0]);
  append(Payload(99, 333));  // garbage between packets
  for (size_t i = 1; i < g.size(); ++i) append(g[i]);
  // Forged metadata: a 1 TB payload in a 3-packet product.
  downlink::ProductMeta huge = Meta(2, downlink::ProductKind::kFull, 3);
  Packets forged = Packetize(2, huge, Payload(6, 300), kData);
  {
    downlink::ProductMeta m = huge;
    m.payload_bytes = 1ull << 40;
    std::vector<uint8_t> user(downlink::kMetadataBytes);
    ASSERT_TRUE(downlink::EncodeMetadata(m, user).ok());
    std::vector<uint8_t> pkt(downlink::kPacketOverheadBytes + user.size());
    ASSERT_TRUE(downlink::EncodePacket(0x100, 0, downlink::SecondaryHeader{2, 0, 3}, user, pkt).ok());
    append(pkt);
  }
  // Product 1 again, with different content.
  Packets reused = Packetize(1, Meta(9, downlink::ProductKind::kFull, 1), JpegLike(7, 900), kData);
  append(reused[0]);
  // A payload that does not match its SHA-256.
  Packets bad_sha = Packetize(4, Meta(4, downlink::ProductKind::kThumbnail, 1), JpegLike(8, 300), kData, false);
  for (const auto& p : bad_sha) append(p);
  // Truncated at the end, mid-packet.
  append(std::vector<uint8_t>(g[1].begin(), g[1].begin() + 40));

  Result<ReceiveSummary> r = Receive(Options({WriteCapture(tmp_.path(), "hostile.bin", capture)}));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->products_new, 1u);
  EXPECT_EQ(ReadBytes(out_ + "/products/000001-full-f000001.jpg"), good);
  EXPECT_GE(r->rejections["bad_packet"], 2u);  // the garbage run and the truncated tail
  EXPECT_EQ(r->rejections["metadata"], 1u);    // the forged size
  EXPECT_EQ(r->rejections["reused_id"], 1u);
  EXPECT_EQ(r->rejections["sha256_mismatch"], 1u);
  EXPECT_GT(r->bytes_skipped, 333u);
  // The SHA-256 failure resets product 4: all of it is requested again.
  bool requested4 = false;
  for (const IncompleteProduct& p : r->incomplete) {
    if (p.product_id == 4) {
      requested4 = true;
      ASSERT_EQ(p.missing.size(), 1u);
      EXPECT_EQ(p.missing[0].first_packet, 0u);
      EXPECT_EQ(p.missing[0].last_packet, bad_sha.size() - 1);
    }
  }
  EXPECT_TRUE(requested4);
  EXPECT_EQ(ReadJson(out_ + "/receive.json")["rejections"]["reused_id"], 1);
}

TEST_F(ReceiveTest, UnreadableCaptureIsAOneLineErrorAndWritesNothing) {
  Result<ReceiveSummary> r = Receive(Options({tmp_.path() + "/no-such-radio.bin"}));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(std::string(r.status().message()).find("no-such-radio.bin"), std::string::npos);
  EXPECT_FALSE(fs::exists(out_ + "/receive.json"));
}

TEST_F(ReceiveTest, TornJournalTailIsSkippedAndTheProductStillCompletes) {
  const std::vector<uint8_t> payload = JpegLike(9, 1000);
  Packets p = Packetize(5, Meta(2, downlink::ProductKind::kFull, 3), payload, kData);
  Packets head(p.begin(), p.end() - 1);
  ASSERT_TRUE(Receive(Options({WriteCapture(tmp_.path(), "a.bin", Concat(head))})).ok());
  {  // what a kill -9 in the middle of an append leaves
    std::ofstream j(out_ + "/state/journal.bin", std::ios::binary | std::ios::app);
    j.write(reinterpret_cast<const char*>(p.back().data()), 30);
  }
  Result<ReceiveSummary> r = Receive(Options({WriteCapture(tmp_.path(), "b.bin", p.back())}));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->journal_torn_bytes, 30u);
  EXPECT_EQ(r->products_new, 1u);
  EXPECT_EQ(ReadBytes(out_ + "/products/000005-full-f000002.jpg"), payload);
}

// kill -9 at random points of a receive run: after each, a rerun on the same
// folder must converge to exactly what one uninterrupted run writes.
TEST_F(ReceiveTest, KilledAtRandomPointsConvergesToTheUninterruptedResult) {
  Packets all;
  std::vector<std::vector<uint8_t>> payloads;
  for (uint32_t id = 1; id <= 40; ++id) {
    payloads.push_back(JpegLike(100 + id, 3000 + 97 * id));
    Packets p = Packetize(id, Meta(id, downlink::ProductKind::kThumbnail, id % 5), payloads.back(), kData);
    all.insert(all.end(), p.begin(), p.end());
  }
  std::mt19937 rng(12345);
  std::shuffle(all.begin(), all.end(), rng);
  const auto middle = all.begin() + static_cast<std::ptrdiff_t>(all.size() / 2);  // two passes
  const std::string half1 = WriteCapture(tmp_.path(), "p0.bin", Concat(Packets(all.begin(), middle)));
  const std::string half2 = WriteCapture(tmp_.path(), "p1.bin", Concat(Packets(middle, all.end())));

  std::string reference_csv;
  {
    ReceiveOptions o = Options({half1, half2});
    o.out_dir = tmp_.path() + "/clean";
    ASSERT_TRUE(Receive(o).ok());
    std::ifstream in(o.out_dir + "/products.csv");
    reference_csv.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  int killed = 0;
  for (int round = 0; round < 12; ++round) {
    const std::string capture = round % 2 == 0 ? half1 : half2;
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      Result<ReceiveSummary> r = Receive(Options({capture}));
      ::_exit(r.ok() ? 0 : 1);
    }
    ::usleep(static_cast<useconds_t>(std::uniform_int_distribution<int>(200, 40000)(rng)));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (WIFSIGNALED(status)) ++killed;
    else EXPECT_EQ(WEXITSTATUS(status), 0);
  }
  EXPECT_GT(killed, 0) << "no run was interrupted: the test proved nothing";
  Result<ReceiveSummary> r = Receive(Options({half1, half2}));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r->incomplete.empty());
  EXPECT_EQ(r->packets_rejected, 0u);
  EXPECT_EQ(r->products_complete, 40u);
  std::ifstream in(out_ + "/products.csv");
  const std::string csv((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(csv, reference_csv);
  for (uint32_t id = 1; id <= 40; ++id) {
    char name[96];
    std::snprintf(name, sizeof(name), "/products/%06u-thumbnail-f%06u.jpg", id, id);
    EXPECT_EQ(ReadBytes(out_ + name), payloads[id - 1]) << name;
  }
}

}  // namespace
}  // namespace triage::ground
