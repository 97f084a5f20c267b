// Little-endian field access for uplink/'s formats (package header, golden
// section). Private to uplink/. (downlink/byte_order.h is big-endian, the
// CCSDS order of every downlink format.)
#ifndef TRIAGE_UPLINK_LE_BYTES_H_
#define TRIAGE_UPLINK_LE_BYTES_H_

#include <cstdint>

namespace triage::uplink {

inline uint32_t GetLe32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 | static_cast<uint32_t>(p[2]) << 16 |
         static_cast<uint32_t>(p[3]) << 24;
}
inline uint64_t GetLe64(const uint8_t* p) { return GetLe32(p) | static_cast<uint64_t>(GetLe32(p + 4)) << 32; }
inline void PutLe32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
inline void PutLe64(uint8_t* p, uint64_t v) {
  PutLe32(p, static_cast<uint32_t>(v));
  PutLe32(p + 4, static_cast<uint32_t>(v >> 32));
}

}  // namespace triage::uplink

#endif  // TRIAGE_UPLINK_LE_BYTES_H_
