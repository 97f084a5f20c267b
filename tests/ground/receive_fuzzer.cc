// Fuzzes triage-ground receive (ground/receive.h), the ground's path for
// untrusted radio captures: the input is split at a position taken from its
// first two bytes into two captures, received in two sessions on the same
// folder (so the journal, the sidecars and the resume path are fuzzed too).
// Nothing may crash; every session must succeed (bad bytes are counted, not
// fatal) and leave a folder the next session reads.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "ground/receive.h"

namespace {

std::string Base() {
  static const std::string base = [] {
    const char* shm = "/dev/shm";
    std::string root = std::filesystem::is_directory(shm) ? shm : std::filesystem::temp_directory_path().string();
    return root + "/triage_receive_fuzz_" + std::to_string(::getpid());
  }();
  return base;
}

void Write(const std::string& path, const uint8_t* data, size_t size) {
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const size_t split = std::min(size - 2, static_cast<size_t>(data[0] | (data[1] << 8)));
  const std::string base = Base();
  std::error_code ec;
  std::filesystem::remove_all(base, ec);
  std::filesystem::create_directories(base, ec);
  Write(base + "/a.bin", data + 2, split);
  Write(base + "/b.bin", data + 2 + split, size - 2 - split);
  triage::ground::ReceiveOptions o;
  o.out_dir = base + "/rx";
  o.packet_data_size = 0;  // any packet size: the reassembler's checks alone
  o.max_request_ranges = 64;
  o.labels = {"black", "cloud", "distorted", "land", "white"};
  o.progress = false;
  o.limits.max_open_products = 64;
  o.limits.max_buffered_bytes = 1 << 20;
  o.limits.max_packets_per_product = 4096;
  for (const char* capture : {"/a.bin", "/b.bin"}) {
    o.captures = {base + capture};
    triage::Result<triage::ground::ReceiveSummary> r = triage::ground::Receive(o);
    if (!r.ok()) {
      std::fprintf(stderr, "receive failed on fuzz input: %s\n", r.status().message());
      std::abort();
    }
  }
  return 0;
}
