// Fuzzes the ground side: the Space Packet stream parser and the reassembler
// (including catalog-product decoding of whatever completes). Input is a raw
// radio capture. Limits are small so the fuzzer explores logic, not memory.
#include <cstddef>
#include <cstdint>

#include "downlink/catalog.h"
#include "downlink/reassembler.h"
#include "downlink/space_packet.h"

using namespace triage::downlink;  // NOLINT: fuzz entry point

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  triage::Span<const uint8_t> input(data, size);
  ReassemblerLimits limits;
  limits.max_open_products = 16;
  limits.max_packets_per_product = 4096;
  limits.max_buffered_bytes = 1 << 20;
  Reassembler ground(limits);
  StreamSummary summary = ground.AddStream(input);
  (void)summary;
  for (const PacketRange& r : ground.AllMissingRanges()) {
    if (r.first_packet > r.last_packet) __builtin_trap();
  }
  for (const CompletedProduct& p : ground.TakeCompleted()) {
    if (p.payload.size() != p.meta.payload_bytes) __builtin_trap();
    if (p.meta.kind != ProductKind::kCatalog) continue;
    triage::Result<uint32_t> rows = ParseCatalogProduct(triage::Span<const uint8_t>(p.payload.data(), p.payload.size()));
    if (!rows.ok()) continue;
    for (uint32_t i = 0; i < rows.value(); ++i) {
      (void)DecodeCatalogRow(triage::Span<const uint8_t>(
          p.payload.data() + kCatalogProductHeaderBytes + size_t{i} * kCatalogRowBytes, kCatalogRowBytes));
    }
  }
  // A single packet at the start, with a tight size limit.
  (void)ParsePacket(input, 0, 256);
  return 0;
}
