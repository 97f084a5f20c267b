// `triage-ground receive RADIO... --out DIR`: the ground station's side of
// the link. Reads packet captures (radio.bin of each pass, in any order, with
// duplicates), reassembles products with downlink::Reassembler (packet CRC,
// then the whole payload's SHA-256 against its metadata packet), writes each
// completed product with a JSON sidecar, the products and frame catalogs,
// and the retransmission request (downlink/retransmit.h) for whatever is
// still incomplete, ready for the flight side's uplink folder.
//
// DIR layout:
//   products/<id>-<kind>-f<frame>.<jpg|png|bin>  payload, as the flight queued it
//   products/<id>-<kind>-f<frame>.json          its metadata (written last: a
//                                                product is complete iff this exists)
//   products.csv    one row per complete product
//   catalog.csv     the frame catalog rows received (last snapshot wins)
//   receive.json    cumulative counters, rejections by reason, what is incomplete
//   retransmit.bin  the request (absent when nothing known is missing)
//   state/journal.bin  every accepted packet of a still-incomplete product
//
// Restart: a second run (the next pass's capture) reloads the sidecars and
// replays the journal, so it picks up where the last one stopped. Every
// file is replaced atomically (temp, fsync, rename) except the journal,
// which is appended; a torn journal tail from a kill -9 is skipped on reload.
//
// Untrusted input: nothing in a capture can crash it. Garbage, truncation,
// bad CRCs, forged metadata (e.g. a huge size), limit breaches and a product
// id reused with different content are counted by reason and reported.
// Ground code: allocates freely, bounded by ReassemblerLimits.
#ifndef TRIAGE_GROUND_RECEIVE_H_
#define TRIAGE_GROUND_RECEIVE_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/span.h"
#include "downlink/reassembler.h"
#include "downlink/retransmit.h"

namespace triage::ground {

struct ReceiveOptions {
  std::vector<std::string> captures;  // radio.bin files, any order
  std::string out_dir;
  // From the mission config: the flight's packet size (checked per packet),
  // its request capacity (a larger request would be refused whole), labels.
  uint32_t packet_data_size = 0;
  uint32_t max_request_ranges = 256;
  std::vector<std::string> labels;
  downlink::ReassemblerLimits limits;
  bool progress = true;
};

struct IncompleteProduct {
  uint32_t product_id = 0;
  std::vector<downlink::PacketRange> missing;
};

struct ReceiveSummary {
  uint64_t captures_read = 0;          // this run
  uint64_t capture_bytes = 0;          // this run
  uint64_t packets_accepted = 0;       // cumulative (all runs)
  uint64_t packets_rejected = 0;       // cumulative
  uint64_t bytes_skipped = 0;          // cumulative: resynchronisation over bad bytes
  uint64_t products_new = 0;           // completed by this run
  uint64_t products_complete = 0;      // in DIR
  uint64_t journal_packets = 0;        // replayed from state/journal.bin
  uint64_t journal_torn_bytes = 0;     // skipped in the journal (a killed run)
  std::map<std::string, uint64_t> rejections;  // reason -> count, cumulative
  std::vector<std::string> rejection_examples;  // first few messages, this run
  std::vector<IncompleteProduct> incomplete;
  size_t request_ranges = 0;           // in retransmit.bin (0: none written)
  size_t ranges_deferred = 0;          // beyond max_request_ranges: next request
  size_t catalog_frames = 0;           // frames in catalog.csv
};

// Runs one receive session. Fails only on I/O problems with DIR or an
// unreadable capture path; bad capture contents are counted, not fatal.
Result<ReceiveSummary> Receive(const ReceiveOptions& options);

// Rejection reason for a packet or product problem (for counting), e.g.
// "bad_packet", "metadata", "size_mismatch", "sha256_mismatch", "limit",
// "reused_id", "inconsistent".
const char* RejectionReason(const Status& status);

}  // namespace triage::ground

#endif  // TRIAGE_GROUND_RECEIVE_H_
