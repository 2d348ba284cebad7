// CRC-32C (Castagnoli, the polynomial of iSCSI, ext4 and leveldb), table-driven in software.
//
// The spool checksums every record with it so that torn and corrupt data is detected on
// replay. `Mask` makes a stored CRC differ from the CRC of data that itself holds CRCs (as in
// leveldb's `crc32c::Mask`). Pure functions; thread-safe.
#ifndef ACCORD_AGENT_SPOOL_CRC32C_H_
#define ACCORD_AGENT_SPOOL_CRC32C_H_

#include <cstddef>
#include <cstdint>

namespace accord::agent::crc32c {

// The CRC-32C of data[0, n) appended to data whose CRC-32C is `crc` (0 for a fresh start).
// Extend(Extend(0, a), b) == Value(a ++ b).
uint32_t Extend(uint32_t crc, const char* data, size_t n);

inline uint32_t Value(const char* data, size_t n) { return Extend(0, data, n); }

// The stored form of a CRC, and back. Unmask(Mask(c)) == c.
inline constexpr uint32_t kMaskDelta = 0xa282ead8u;
inline uint32_t Mask(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + kMaskDelta; }
inline uint32_t Unmask(uint32_t masked) {
  uint32_t rot = masked - kMaskDelta;
  return (rot >> 17) | (rot << 15);
}

}  // namespace accord::agent::crc32c

#endif  // ACCORD_AGENT_SPOOL_CRC32C_H_
