// Fuzzes the flight-side parsers of untrusted bytes: the uplinked
// retransmission request, the metadata block, catalog rows and catalog
// products. A request that parses must re-encode to the same bytes.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "downlink/catalog.h"
#include "downlink/product.h"
#include "downlink/retransmit.h"

using namespace triage::downlink;  // NOLINT: fuzz entry point

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  triage::Span<const uint8_t> input(data, size);
  static PacketRange ranges[64];
  triage::Result<size_t> n = ParseRetransmitRequest(input, triage::Span<PacketRange>(ranges, 64));
  if (n.ok()) {
    std::vector<uint8_t> again(RetransmitRequestBytes(n.value()));
    triage::Result<size_t> m =
        EncodeRetransmitRequest(triage::Span<const PacketRange>(ranges, n.value()), triage::Span<uint8_t>(again));
    if (!m.ok() || m.value() != size || std::memcmp(again.data(), data, size) != 0) __builtin_trap();
  }
  triage::Result<ProductMeta> meta = DecodeMetadata(input);
  if (meta.ok()) {
    uint8_t out[kMetadataBytes];
    if (!EncodeMetadata(meta.value(), out).ok() || std::memcmp(out, data, kMetadataBytes) != 0) __builtin_trap();
  }
  (void)DecodeCatalogRow(input);
  (void)ParseCatalogProduct(input);
  return 0;
}
