#include "downlink/link_simulator.h"

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "downlink/reassembler.h"
#include "downlink/space_packet.h"
#include "tests/downlink/test_util.h"

namespace triage::downlink {
namespace {

using testing::Meta;
using testing::Payload;
using testing::View;
using testing::TempDir;

// The flight side of the link in one directory: catalog, queue, simulator.
// Destroying and re-creating a Station is a process restart.
struct Station {
  explicit Station(const Config& c, const std::string& dir) : config(c), radio(dir + "/radio.bin"),
                                                              log(dir + "/send_log.csv") {
    Status s = catalog.Open(config);
    EXPECT_TRUE(s.ok()) << s.message();
    s = queue.Open(config, &catalog);
    EXPECT_TRUE(s.ok()) << s.message();
    s = link.Open(config, &queue, &catalog, radio.c_str(), log.c_str());
    EXPECT_TRUE(s.ok()) << s.message();
  }
  uint32_t Enqueue(uint64_t frame, uint8_t priority, size_t bytes, ProductKind kind = ProductKind::kFull) {
    Result<uint32_t> id = queue.Enqueue(Meta(frame, priority, kind), View(Payload(frame, bytes)));
    EXPECT_TRUE(id.ok()) << id.status().message();
    return id.ok() ? id.value() : 0;
  }
  PassReport Run(double start, double end, uint32_t number = 0) {
    Result<PassReport> r = link.RunWindow(number, PassWindow{start, end});
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? r.value() : PassReport{};
  }
  Config config;
  std::string radio;
  std::string log;
  Catalog catalog;
  DownlinkQueue queue;
  LinkSimulator link;
};

struct SentPacket {
  uint16_t apid;
  uint16_t seq;
  uint32_t product;
  uint32_t index;
};

std::vector<SentPacket> ParseRadio(const std::vector<uint8_t>& bytes, size_t from = 0) {
  std::vector<SentPacket> out;
  PacketReader reader(Span<const uint8_t>(bytes.data() + from, bytes.size() - from));
  for (size_t guard = 0; guard < bytes.size() && !reader.done(); ++guard) {
    Result<PacketView> v = reader.Next();
    EXPECT_TRUE(v.ok()) << v.status().message();
    if (!v.ok()) break;
    out.push_back({v->primary.apid, v->primary.sequence_count, v->secondary.product_id, v->secondary.packet_index});
  }
  return out;
}

std::vector<std::string> LogLines(const std::string& path) {
  std::vector<uint8_t> bytes = testing::ReadAll(path);
  std::vector<std::string> lines;
  std::string line;
  for (uint8_t b : bytes) {
    if (b == '\n') {
      lines.push_back(line);
      line.clear();
    } else {
      line.push_back(static_cast<char>(b));
    }
  }
  return lines;
}

TEST(LinkSimulator, PassSendsWholePacketsUpToTheExactByteBudget) {
  TempDir dir;
  Station s(testing::SmallConfig(dir.path()), dir.path());  // 8000 bit/s = 1000 B/s
  s.Enqueue(1, 5, 20000);                                    // 1 + 100 packets
  const PassReport r = s.Run(100.0, 110.0);
  EXPECT_EQ(r.budget_bytes, 10000u);
  // Metadata packet 136 + 22 bytes, then 200 + 22 per packet: 158 + 44 * 222 = 9926;
  // the 46th packet would need 10148.
  EXPECT_EQ(r.bytes_sent, 9926u);
  EXPECT_EQ(r.packets_sent, 45u);
  EXPECT_EQ(testing::ReadAll(s.radio).size(), 9926u);
  EXPECT_TRUE(r.cut_off);
  EXPECT_EQ(r.resume_packet, 45u);
  // Simulated time: packet k starts after the bits before it at the link rate.
  const std::vector<std::string> lines = LogLines(s.log);
  ASSERT_EQ(lines.size(), 46u);
  EXPECT_EQ(lines[0], "pass,time_s,event,product_id,packet_index,packet_count,apid,seq_count,bytes");
  EXPECT_EQ(lines[1], "0,100.000000,product,1,0,101,256,0,158");
  EXPECT_EQ(lines[45], "0,109.704000,product,1,44,101,256,44,222");  // (158 + 43*222) B at 1000 B/s
}

TEST(LinkSimulator, BudgetThatExactlyFitsSendsEverything) {
  TempDir dir;
  Config config = testing::SmallConfig(dir.path());
  config.link_rate_bps = 602 * 8;  // 602 bytes in a one-second pass
  Station s(config, dir.path());
  s.Enqueue(1, 5, 400);  // 158 + 222 + 222 = 602 bytes
  const PassReport r = s.Run(0.0, 1.0);
  EXPECT_EQ(r.budget_bytes, 602u);
  EXPECT_EQ(r.bytes_sent, 602u);
  EXPECT_FALSE(r.cut_off);
  EXPECT_EQ(r.products_completed, 1u);
  EXPECT_EQ(s.queue.pending_count(), 0u);
  EXPECT_EQ(PassByteBudget(PassWindow{5.0, 5.0}, 8000), 0u);
  EXPECT_EQ(PassByteBudget(PassWindow{0.0, 0.5}, 8001), 500u);  // floor
}

TEST(LinkSimulator, CutOffProductResumesWhereItStoppedAfterRestart) {
  TempDir dir;
  const Config config = testing::SmallConfig(dir.path());
  const std::vector<uint8_t> payload = Payload(1, 5000);  // 26 packets
  uint32_t id = 0;
  size_t first_pass_bytes = 0;
  {
    Station s(config, dir.path());
    id = s.Enqueue(1, 5, 5000);
    const PassReport r = s.Run(0.0, 2.0);  // 2000 bytes: metadata + 8 packets
    EXPECT_TRUE(r.cut_off);
    EXPECT_EQ(r.resume_product_id, id);
    EXPECT_EQ(r.resume_packet, 9u);
    first_pass_bytes = testing::ReadAll(s.radio).size();
  }
  {
    Station s(config, dir.path());  // restart between passes
    EXPECT_EQ(s.link.resume_product_id(), id);
    EXPECT_EQ(s.link.resume_packet(), 9u);
    const PassReport r = s.Run(100.0, 110.0);
    EXPECT_FALSE(r.cut_off);
    EXPECT_EQ(r.products_completed, 1u);
    EXPECT_EQ(r.resume_product_id, 0u);
  }
  const std::vector<uint8_t> radio = testing::ReadAll(dir / "radio.bin");
  const std::vector<SentPacket> second = ParseRadio(radio, first_pass_bytes);
  ASSERT_FALSE(second.empty());
  EXPECT_EQ(second.front().index, 9u);  // not from the start again
  const std::vector<SentPacket> all = ParseRadio(radio);
  ASSERT_EQ(all.size(), 26u);
  for (uint32_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i].index, i);  // each packet exactly once
  Reassembler ground;
  EXPECT_EQ(ground.AddStream(radio).packets_rejected, 0u);
  std::vector<CompletedProduct> done = ground.TakeCompleted();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].payload, payload);
}

// The ground cannot tell a product's cut-off tail from a loss and requests
// both; the tail is sent once (by the resume), the lost packet once (by the
// request).
TEST(LinkSimulator, RequestedTailOfACutOffProductIsNotSentTwice) {
  TempDir dir;
  Station s(testing::SmallConfig(dir.path()), dir.path());
  const uint32_t id = s.Enqueue(1, 5, 5000);  // 26 packets
  const PassReport first = s.Run(0.0, 2.0);   // metadata + 8 packets
  ASSERT_TRUE(first.cut_off);
  ASSERT_EQ(first.resume_packet, 9u);
  const size_t before = testing::ReadAll(s.radio).size();
  const PacketRange asked[2] = {{id, 3, 3}, {id, 9, 25}};  // "3 was lost", and the tail
  std::vector<uint8_t> request(RetransmitRequestBytes(2));
  ASSERT_TRUE(EncodeRetransmitRequest(Span<const PacketRange>(asked, 2), request).ok());
  ASSERT_TRUE(s.link.AcceptRetransmitRequest(Span<const uint8_t>(request.data(), request.size())).ok());
  const PassReport second = s.Run(100.0, 110.0);
  EXPECT_EQ(second.retransmitted_packets, 1u);
  EXPECT_EQ(second.products_completed, 1u);
  std::map<uint32_t, int> times;
  for (const SentPacket& p : ParseRadio(testing::ReadAll(s.radio), before)) ++times[p.index];
  EXPECT_EQ(times[3], 1);
  for (uint32_t i = 9; i < 26; ++i) EXPECT_EQ(times[i], 1) << "packet " << i;
  EXPECT_EQ(times.size(), 18u);
}

TEST(LinkSimulator, CutOffCatalogDoesNotDisturbTheProductResumePoint) {
  TempDir dir;
  const Config config = testing::SmallConfig(dir.path());
  Station s(config, dir.path());
  const uint32_t x = s.Enqueue(1, 5, 5000);
  PassReport r1 = s.Run(0.0, 1.0, 0);  // 158 + 3 * 222 = 824 of 1000 bytes
  EXPECT_EQ(r1.resume_product_id, x);
  EXPECT_EQ(r1.resume_packet, 4u);
  for (uint64_t f = 1; f <= 16; ++f) {
    CatalogRow row;
    row.frame_id = f;
    ASSERT_TRUE(s.catalog.Record(row).ok());
  }
  PassReport r2 = s.Run(10.0, 10.3, 1);  // 300 bytes: catalog metadata only
  EXPECT_EQ(r2.packets_sent, 1u);
  EXPECT_NE(r2.catalog_resume_product_id, 0u);
  EXPECT_EQ(r2.catalog_resume_packet, 1u);
  EXPECT_EQ(r2.resume_product_id, x);
  EXPECT_EQ(r2.resume_packet, 4u);
  const size_t before = testing::ReadAll(s.radio).size();
  PassReport r3 = s.Run(20.0, 120.0, 2);
  EXPECT_FALSE(r3.cut_off);
  const std::vector<SentPacket> sent = ParseRadio(testing::ReadAll(s.radio), before);
  ASSERT_GE(sent.size(), 4u);
  EXPECT_EQ(sent[0].apid, config.apid_catalog);
  EXPECT_EQ(sent[0].index, 1u);  // the catalog resumes too
  size_t first_x = 0;
  while (first_x < sent.size() && sent[first_x].product != x) ++first_x;
  ASSERT_LT(first_x, sent.size());
  EXPECT_EQ(sent[first_x].index, 4u);
  Reassembler ground;
  EXPECT_EQ(ground.AddStream(View(testing::ReadAll(s.radio))).packets_rejected, 0u);
  EXPECT_EQ(ground.TakeCompleted().size(), 2u);
}

TEST(LinkSimulator, CatalogGoesDownFirstInEveryPass) {
  TempDir dir;
  const Config config = testing::SmallConfig(dir.path());
  Station s(config, dir.path());
  for (uint64_t f = 1; f <= 3; ++f) {
    CatalogRow row;
    row.frame_id = f;
    row.decision = static_cast<uint8_t>(f == 2 ? FrameDecision::kDiscarded : FrameDecision::kFull);
    ASSERT_TRUE(s.catalog.Record(row).ok());
  }
  s.Enqueue(1, 200, 1000);
  s.Enqueue(3, 200, 1000);
  PassReport r1 = s.Run(0.0, 100.0, 1);
  EXPECT_EQ(r1.catalog_products_enqueued, 1u);
  std::vector<uint8_t> radio = testing::ReadAll(s.radio);
  std::vector<SentPacket> sent = ParseRadio(radio);
  ASSERT_GE(sent.size(), 2u);
  EXPECT_EQ(sent[0].apid, config.apid_catalog);
  EXPECT_EQ(sent[1].apid, config.apid_catalog);  // 16 + 3 * 32 bytes: one data packet
  EXPECT_EQ(sent[2].apid, config.apid_full);

  Reassembler ground;
  ground.AddStream(radio);
  std::vector<CompletedProduct> done = ground.TakeCompleted();
  ASSERT_EQ(done.size(), 3u);
  EXPECT_EQ(done[0].meta.kind, ProductKind::kCatalog);
  Result<uint32_t> rows = ParseCatalogProduct(done[0].payload);
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows.value(), 3u);  // the discarded frame is in the catalog too

  // Pass 2: only the new row goes, and again before the products.
  CatalogRow row4;
  row4.frame_id = 4;
  ASSERT_TRUE(s.catalog.Record(row4).ok());
  s.Enqueue(4, 250, 300);
  const size_t before = radio.size();
  PassReport r2 = s.Run(200.0, 300.0, 2);
  EXPECT_EQ(r2.catalog_products_enqueued, 1u);
  radio = testing::ReadAll(s.radio);
  sent = ParseRadio(radio, before);
  ASSERT_GE(sent.size(), 3u);
  EXPECT_EQ(sent[0].apid, config.apid_catalog);
  ground.AddStream(Span<const uint8_t>(radio.data() + before, radio.size() - before));
  done = ground.TakeCompleted();
  ASSERT_EQ(done.size(), 2u);
  ASSERT_EQ(done[0].meta.kind, ProductKind::kCatalog);
  ASSERT_EQ(ParseCatalogProduct(done[0].payload).value(), 1u);
  EXPECT_EQ(DecodeCatalogRow(Span<const uint8_t>(done[0].payload.data() + 16, 32))->frame_id, 4u);

  // Pass 3: nothing changed, no catalog product.
  PassReport r3 = s.Run(400.0, 500.0, 3);
  EXPECT_EQ(r3.catalog_products_enqueued, 0u);
  EXPECT_EQ(r3.packets_sent, 0u);
}

TEST(LinkSimulator, RetransmitRequestIsServedFirstInNextPass) {
  TempDir dir;
  const Config config = testing::SmallConfig(dir.path());
  uint32_t p = 0, q = 0;
  std::vector<uint8_t> radio;
  {
    Station s(config, dir.path());
    p = s.Enqueue(1, 5, 1800);  // 10 packets
    s.Run(0.0, 100.0, 0);
    radio = testing::ReadAll(s.radio);
  }
  // The ground loses packets 3, 4 and 7 of product p.
  std::vector<uint8_t> received;
  PacketReader reader(radio);
  while (!reader.done()) {
    const size_t at = reader.offset();
    Result<PacketView> v = reader.Next();
    ASSERT_TRUE(v.ok());
    const uint32_t i = v->secondary.packet_index;
    if (i == 3 || i == 4 || i == 7) continue;
    received.insert(received.end(), radio.begin() + at, radio.begin() + at + v->total_bytes);
  }
  Reassembler ground;
  ground.AddStream(received);
  EXPECT_TRUE(ground.TakeCompleted().empty());
  const std::vector<PacketRange> gaps = ground.AllMissingRanges();
  ASSERT_EQ(gaps.size(), 2u);
  std::vector<uint8_t> request(RetransmitRequestBytes(gaps.size()));
  ASSERT_TRUE(EncodeRetransmitRequest(gaps, request).ok());
  testing::WriteAllBytes(dir / "uplink.bin", request);
  {
    Station s(config, dir.path());
    ASSERT_TRUE(s.link.AcceptRetransmitRequest((dir / "uplink.bin").c_str()).ok());
    EXPECT_EQ(s.link.pending_retransmits().size(), 2u);
  }
  {
    Station s(config, dir.path());  // the request survived a restart
    EXPECT_EQ(s.link.pending_retransmits().size(), 2u);
    q = s.Enqueue(2, 255, 300);     // a new, high-priority product waits behind it
    const PassReport r = s.Run(200.0, 300.0, 1);
    EXPECT_EQ(r.retransmitted_packets, 3u);
    EXPECT_TRUE(s.link.pending_retransmits().empty());
  }
  const std::vector<uint8_t> all = testing::ReadAll(dir / "radio.bin");
  const std::vector<SentPacket> second = ParseRadio(all, radio.size());
  ASSERT_GE(second.size(), 4u);
  EXPECT_EQ(second[0].product, p);
  EXPECT_EQ(second[0].index, 3u);
  EXPECT_EQ(second[1].index, 4u);
  EXPECT_EQ(second[2].index, 7u);
  EXPECT_EQ(second[3].product, q);
  ground.AddStream(Span<const uint8_t>(all.data() + radio.size(), all.size() - radio.size()));
  std::vector<CompletedProduct> done = ground.TakeCompleted();
  ASSERT_EQ(done.size(), 2u);
  EXPECT_EQ(done[0].product_id, p);
  EXPECT_EQ(done[0].payload, Payload(1, 1800));
  const std::vector<std::string> lines = LogLines(dir / "send_log.csv");
  bool saw_retransmit = false;
  for (const std::string& l : lines) saw_retransmit |= l.find(",retransmit,") != std::string::npos;
  EXPECT_TRUE(saw_retransmit);
}

TEST(LinkSimulator, RetransmissionCutOffContinuesInTheNextPass) {
  TempDir dir;
  Station s(testing::SmallConfig(dir.path()), dir.path());
  const uint32_t p = s.Enqueue(1, 5, 2000);  // 11 packets
  s.Run(0.0, 100.0, 0);
  const std::vector<PacketRange> ranges = {{p, 1, 10}};
  std::vector<uint8_t> request(RetransmitRequestBytes(1));
  ASSERT_TRUE(EncodeRetransmitRequest(ranges, request).ok());
  ASSERT_TRUE(s.link.AcceptRetransmitRequest(request).ok());
  const PassReport r = s.Run(200.0, 201.0, 1);  // 1000 bytes: 4 packets of 222
  EXPECT_EQ(r.retransmitted_packets, 4u);
  ASSERT_EQ(s.link.pending_retransmits().size(), 1u);
  EXPECT_EQ(s.link.pending_retransmits()[0].first_packet, 5u);
  const PassReport r2 = s.Run(300.0, 400.0, 2);
  EXPECT_EQ(r2.retransmitted_packets, 6u);
  EXPECT_TRUE(s.link.pending_retransmits().empty());
}

TEST(LinkSimulator, RetransmitOfAnUnknownProductIsLoggedAndDropped) {
  TempDir dir;
  Station s(testing::SmallConfig(dir.path()), dir.path());
  const std::vector<PacketRange> ranges = {{999, 0, 3}};
  std::vector<uint8_t> request(RetransmitRequestBytes(1));
  ASSERT_TRUE(EncodeRetransmitRequest(ranges, request).ok());
  ASSERT_TRUE(s.link.AcceptRetransmitRequest(request).ok());
  const PassReport r = s.Run(0.0, 10.0, 0);
  EXPECT_EQ(r.retransmit_ranges_unavailable, 1u);
  EXPECT_TRUE(s.link.pending_retransmits().empty());
  const std::vector<std::string> lines = LogLines(s.log);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[1], "0,0.000000,retransmit_unavailable,999,0,3,0,0,0");
}

TEST(LinkSimulator, CorruptOrOversizedUplinkChangesNothing) {
  TempDir dir;
  Config config = testing::SmallConfig(dir.path());
  config.max_retransmit_ranges = 2;
  {
    Station s(config, dir.path());
    std::vector<PacketRange> ranges = {{1, 0, 0}, {2, 0, 0}};
    std::vector<uint8_t> request(RetransmitRequestBytes(2));
    ASSERT_TRUE(EncodeRetransmitRequest(ranges, request).ok());
    std::vector<uint8_t> bad = request;
    bad[10] ^= 1;
    EXPECT_EQ(s.link.AcceptRetransmitRequest(bad).code(), StatusCode::kDataLoss);
    EXPECT_TRUE(s.link.pending_retransmits().empty());
    ASSERT_TRUE(s.link.AcceptRetransmitRequest(request).ok());
    EXPECT_EQ(s.link.AcceptRetransmitRequest(request).code(), StatusCode::kResourceExhausted);
    EXPECT_EQ(s.link.pending_retransmits().size(), 2u);
    EXPECT_EQ(s.link.AcceptRetransmitRequest((dir / "missing.bin").c_str()).code(), StatusCode::kNotFound);
  }
  Station s(config, dir.path());
  EXPECT_EQ(s.link.pending_retransmits().size(), 2u);
}

TEST(LinkSimulator, DamagedStateFileIsDiscardedNotFatal) {
  TempDir dir;
  const Config config = testing::SmallConfig(dir.path());
  {
    Station s(config, dir.path());
    s.Enqueue(1, 5, 5000);
    EXPECT_TRUE(s.Run(0.0, 1.0).cut_off);
    EXPECT_FALSE(s.link.state_discarded());
  }
  std::vector<uint8_t> state = testing::ReadAll(config.storage_dir + "/link.state");
  ASSERT_FALSE(state.empty());
  state[26] ^= 0x01;  // inside the resume point
  testing::WriteAllBytes(config.storage_dir + "/link.state", state);
  Station s(config, dir.path());
  EXPECT_TRUE(s.link.state_discarded());
  EXPECT_EQ(s.link.resume_product_id(), 0u);
  EXPECT_FALSE(s.Run(10.0, 100.0).cut_off);  // the product is re-sent from packet 0
  EXPECT_EQ(s.queue.pending_count(), 0u);
}

// Enqueues, records, runs passes with a restart and a retransmission request.
std::pair<std::vector<uint8_t>, std::vector<uint8_t>> RunScenario(const std::string& dir) {
  Config config = testing::SmallConfig(dir);
  config.passes = {{0.0, 3.0}, {50.0, 55.5}, {90.0, 200.0}};
  {
    Station s(config, dir);
    for (uint64_t f = 1; f <= 6; ++f) {
      CatalogRow row;
      row.frame_id = f;
      row.confidence = 0.1f * static_cast<float>(f);
      row.decision = static_cast<uint8_t>(f % 3 == 0 ? FrameDecision::kDiscarded : FrameDecision::kFull);
      EXPECT_TRUE(s.catalog.Record(row).ok());
      if (f % 3 != 0) s.Enqueue(f, static_cast<uint8_t>(f * 7 % 5), 700 + 300 * f);
    }
    EXPECT_TRUE(s.link.RunPass(0).ok());
  }
  Station s(config, dir);
  const std::vector<PacketRange> ranges = {{1, 2, 3}};
  std::vector<uint8_t> request(RetransmitRequestBytes(1));
  EXPECT_TRUE(EncodeRetransmitRequest(ranges, request).ok());
  EXPECT_TRUE(s.link.AcceptRetransmitRequest(request).ok());
  EXPECT_TRUE(s.link.RunPass(1).ok());
  EXPECT_TRUE(s.link.RunPass(2).ok());
  EXPECT_FALSE(s.link.RunPass(3).ok());  // no such pass
  return {testing::ReadAll(s.radio), testing::ReadAll(s.log)};
}

TEST(LinkSimulator, SameInputsGiveIdenticalRadioAndLogBytes) {
  TempDir a, b;
  const auto first = RunScenario(a.path());
  const auto second = RunScenario(b.path());
  EXPECT_GT(first.first.size(), 5000u);
  EXPECT_EQ(first.first, second.first);
  EXPECT_EQ(first.second, second.second);
}

TEST(LinkSimulator, SequenceCountsRunContinuouslyPerApidAcrossPasses) {
  TempDir dir;
  const Config config = testing::SmallConfig(dir.path());
  {
    Station s(config, dir.path());
    s.Enqueue(1, 1, 3000);
    s.Enqueue(2, 1, 500, ProductKind::kThumbnail);
    s.Run(0.0, 2.0, 0);
  }
  {
    Station s(config, dir.path());
    s.Enqueue(3, 1, 1000, ProductKind::kThumbnail);
    s.Run(10.0, 12.0, 1);
    s.Run(20.0, 30.0, 2);
    EXPECT_EQ(s.queue.pending_count(), 0u);
  }
  std::map<uint16_t, uint16_t> next;
  for (const SentPacket& p : ParseRadio(testing::ReadAll(dir / "radio.bin"))) {
    auto it = next.find(p.apid);
    if (it != next.end()) {
      EXPECT_EQ(p.seq, it->second) << "apid " << p.apid;
    }
    next[p.apid] = NextSequenceCount(p.seq);
  }
  EXPECT_EQ(next.size(), 2u);
}

TEST(LinkSimulator, ManyProductsOverManyPassesAllArriveVerified) {
  TempDir dir;
  Config config = testing::SmallConfig(dir.path());
  Station s(config, dir.path());
  std::map<uint32_t, uint64_t> frame_of;
  for (uint64_t f = 1; f <= 20; ++f) {
    frame_of[s.Enqueue(f, static_cast<uint8_t>(f % 4), 100 * f + 17)] = f;
  }
  Reassembler ground;
  size_t offset = 0;
  for (uint32_t pass = 0; pass < 40 && s.queue.pending_count() > 0; ++pass) {
    s.Run(100.0 * pass, 100.0 * pass + 1.7, pass);
    const std::vector<uint8_t> radio = testing::ReadAll(s.radio);
    StreamSummary summary = ground.AddStream(Span<const uint8_t>(radio.data() + offset, radio.size() - offset));
    EXPECT_EQ(summary.packets_rejected, 0u);
    offset = radio.size();
  }
  EXPECT_EQ(s.queue.pending_count(), 0u);
  std::vector<CompletedProduct> done = ground.TakeCompleted();
  ASSERT_EQ(done.size(), 20u);
  uint8_t last_priority = 255;
  for (const CompletedProduct& p : done) {
    const uint64_t f = frame_of[p.product_id];
    EXPECT_EQ(p.meta.frame_id, f);
    EXPECT_EQ(p.payload, Payload(f, 100 * f + 17));
    EXPECT_LE(p.meta.priority, last_priority);  // completed in priority order
    last_priority = p.meta.priority;
  }
}

// The simulated channel loses, corrupts, duplicates and reorders packets at
// the configured rates, the same way on every run; the spacecraft's log and
// counts do not see it; and ground requests recover every product exactly.
TEST(LinkSimulator, LossyChannelIsSeededAndRetransmissionRecoversEverything) {
  auto fly = [](const std::string& root, std::vector<uint8_t>* first_radio) {
    Config config = testing::SmallConfig(root);
    config.channel = ChannelFaults{0.08, 0.04, 0.04, 0.04, 42};
    config.max_retransmit_ranges = 256;
    Station s(config, root);
    std::map<uint32_t, uint64_t> frame_of;
    for (uint64_t f = 1; f <= 30; ++f) frame_of[s.Enqueue(f, static_cast<uint8_t>(f % 4), 150 * f + 11)] = f;
    ReassemblerLimits limits;
    limits.packet_data_size = config.packet_data_size;
    Reassembler ground(limits);
    std::map<uint32_t, std::vector<uint8_t>> received;
    PassReport total;
    size_t offset = 0;
    int passes = 0;
    for (uint32_t pass = 0; pass < 60; ++pass, ++passes) {
      const PassReport r = s.Run(100.0 * pass, 100.0 * pass + 4.0, pass);
      total.packets_sent += r.packets_sent;
      total.channel_lost += r.channel_lost;
      total.channel_corrupted += r.channel_corrupted;
      total.channel_duplicated += r.channel_duplicated;
      total.channel_reordered += r.channel_reordered;
      const std::vector<uint8_t> radio = testing::ReadAll(s.radio);
      if (pass == 0) *first_radio = radio;
      (void)ground.AddStream(Span<const uint8_t>(radio.data() + offset, radio.size() - offset));
      offset = radio.size();
      for (CompletedProduct& p : ground.TakeCompleted()) received[p.product_id] = std::move(p.payload);
      std::vector<PacketRange> missing = ground.AllMissingRanges();
      if (s.queue.pending_count() == 0 && missing.empty() && received.size() == frame_of.size()) break;
      if (!missing.empty()) {
        std::vector<uint8_t> request(RetransmitRequestBytes(missing.size()));
        EXPECT_TRUE(EncodeRetransmitRequest(Span<const PacketRange>(missing.data(), missing.size()), request).ok());
        Status a = s.link.AcceptRetransmitRequest(Span<const uint8_t>(request.data(), request.size()));
        EXPECT_TRUE(a.ok()) << a.message();
      }
    }
    EXPECT_EQ(received.size(), frame_of.size()) << "after " << passes << " passes";
    for (const auto& [id, f] : frame_of) EXPECT_EQ(received[id], Payload(f, 150 * f + 11)) << "product " << id;
    // Every fault kind happened, near its rate (binomial, a few sigma).
    const double n = static_cast<double>(total.packets_sent);
    EXPECT_NEAR(total.channel_lost / n, 0.08, 0.04);
    EXPECT_GT(total.channel_corrupted, 0u);
    EXPECT_GT(total.channel_duplicated, 0u);
    EXPECT_GT(total.channel_reordered, 0u);
    // The spacecraft logs every packet as sent, whatever the channel did.
    size_t logged = 0;
    for (const std::string& line : LogLines(s.log)) {
      logged += line.rfind("pass,", 0) != 0 && line.find("retransmit_unavailable") == std::string::npos;
    }
    EXPECT_EQ(logged, total.packets_sent);
    return total.packets_sent;
  };
  TempDir a, b;
  std::vector<uint8_t> radio_a, radio_b;
  const uint64_t sent_a = fly(a.path(), &radio_a);
  const uint64_t sent_b = fly(b.path(), &radio_b);
  EXPECT_EQ(sent_a, sent_b);
  EXPECT_EQ(radio_a, radio_b);  // seeded: the same channel on every run
}

TEST(LinkSimulator, OpenRequiresOpenQueueAndCatalog) {
  TempDir dir;
  const Config config = testing::SmallConfig(dir.path());
  DownlinkQueue queue;
  Catalog catalog;
  LinkSimulator link;
  EXPECT_EQ(link.Open(config, &queue, &catalog, (dir / "r").c_str(), (dir / "l").c_str()).code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(link.RunWindow(0, PassWindow{0, 1}).status().code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace triage::downlink
