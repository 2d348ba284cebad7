// Little-endian fixed-width integer encoding for the spool's files (segments and state).
// Byte by byte, so the files read the same on any host. Pure functions; thread-safe.
#ifndef ACCORD_AGENT_SPOOL_CODING_H_
#define ACCORD_AGENT_SPOOL_CODING_H_

#include <cstdint>
#include <cstring>
#include <string>

namespace accord::agent::spool_coding {

inline void EncodeFixed32(char* dst, uint32_t v) {
  for (int i = 0; i < 4; ++i) dst[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

inline void EncodeFixed64(char* dst, uint64_t v) {
  for (int i = 0; i < 8; ++i) dst[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

inline uint32_t DecodeFixed32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i)
    v |= static_cast<uint32_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

inline uint64_t DecodeFixed64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i)
    v |= static_cast<uint64_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

inline void PutFixed32(std::string* dst, uint32_t v) {
  char buf[4];
  EncodeFixed32(buf, v);
  dst->append(buf, sizeof(buf));
}

inline void PutFixed64(std::string* dst, uint64_t v) {
  char buf[8];
  EncodeFixed64(buf, v);
  dst->append(buf, sizeof(buf));
}

// A double by its IEEE-754 bits (NaN payloads and -0.0 survive the round trip).
inline uint64_t DoubleBits(double d) {
  uint64_t v;
  std::memcpy(&v, &d, sizeof(v));
  return v;
}

inline double BitsToDouble(uint64_t v) {
  double d;
  std::memcpy(&d, &v, sizeof(d));
  return d;
}

}  // namespace accord::agent::spool_coding

#endif  // ACCORD_AGENT_SPOOL_CODING_H_
