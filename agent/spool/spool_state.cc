#include "agent/spool/spool_state.h"

#include <cstring>

#include "absl/status/status.h"
#include "agent/spool/coding.h"
#include "agent/spool/crc32c.h"

namespace accord::agent {
namespace {

using spool_coding::DecodeFixed32;
using spool_coding::DecodeFixed64;
using spool_coding::PutFixed32;
using spool_coding::PutFixed64;

constexpr char kStateMagic[4] = {'A', 'S', 'S', 'T'};
constexpr uint32_t kStateVersion = 2;
constexpr uint32_t kStateVersionWithoutAppended = 1;
constexpr size_t kStateHeaderBytes = 12;

// Reads fixed-width fields from a body, remembering whether it ran short.
class Reader {
 public:
  explicit Reader(absl::string_view in) : in_(in) {}
  uint64_t U64() {
    if (in_.size() < 8) return Short();
    uint64_t v = DecodeFixed64(in_.data());
    in_.remove_prefix(8);
    return v;
  }
  uint32_t U32() {
    if (in_.size() < 4) return static_cast<uint32_t>(Short());
    uint32_t v = DecodeFixed32(in_.data());
    in_.remove_prefix(4);
    return v;
  }
  size_t left() const { return in_.size(); }
  bool ok() const { return ok_; }

 private:
  uint64_t Short() {
    ok_ = false;
    in_ = {};
    return 0;
  }
  absl::string_view in_;
  bool ok_ = true;
};

}  // namespace

bool SpoolState::operator==(const SpoolState& o) const {
  return acked_sequence == o.acked_sequence && dropped_through == o.dropped_through &&
         last_sequence == o.last_sequence && dropped_batches == o.dropped_batches &&
         dropped_samples == o.dropped_samples && acked_samples == o.acked_samples &&
         corrupt_segments == o.corrupt_segments && acked_batches == o.acked_batches &&
         appended_batches == o.appended_batches && appended_samples == o.appended_samples &&
         has_appended == o.has_appended && rejected == o.rejected && alive == o.alive;
}

std::string EncodeSpoolState(const SpoolState& s) {
  std::string body;
  PutFixed64(&body, s.acked_sequence);
  PutFixed64(&body, s.dropped_through);
  PutFixed64(&body, s.last_sequence);
  PutFixed64(&body, s.dropped_batches);
  PutFixed64(&body, s.dropped_samples);
  PutFixed64(&body, s.acked_samples);
  PutFixed64(&body, s.corrupt_segments);
  PutFixed64(&body, s.acked_batches);
  PutFixed64(&body, s.appended_batches);
  PutFixed64(&body, s.appended_samples);
  PutFixed32(&body, static_cast<uint32_t>(s.rejected.size()));
  for (uint64_t r : s.rejected) PutFixed64(&body, r);
  PutFixed32(&body, static_cast<uint32_t>(s.alive.size()));
  for (const AliveSpan& a : s.alive) {
    PutFixed64(&body, static_cast<uint64_t>(absl::ToUnixMillis(a.first)));
    PutFixed64(&body, static_cast<uint64_t>(absl::ToUnixMillis(a.last)));
    PutFixed64(&body, static_cast<uint64_t>(a.boot_time));
  }
  std::string out(kStateMagic, sizeof(kStateMagic));
  PutFixed32(&out, kStateVersion);
  PutFixed32(&out, static_cast<uint32_t>(body.size()));
  out += body;
  PutFixed32(&out, crc32c::Mask(crc32c::Value(out.data(), out.size())));
  return out;
}

absl::StatusOr<SpoolState> ParseSpoolState(absl::string_view content) {
  if (content.size() < kStateHeaderBytes + 4) return absl::DataLossError("spool state: too short");
  const uint32_t version = DecodeFixed32(content.data() + 4);
  if (std::memcmp(content.data(), kStateMagic, sizeof(kStateMagic)) != 0 ||
      (version != kStateVersion && version != kStateVersionWithoutAppended)) {
    return absl::DataLossError("spool state: bad magic or version");
  }
  const uint32_t body_length = DecodeFixed32(content.data() + 8);
  if (content.size() != kStateHeaderBytes + uint64_t{body_length} + 4) {
    return absl::DataLossError("spool state: length mismatch");
  }
  const size_t crc_at = kStateHeaderBytes + body_length;
  if (crc32c::Unmask(DecodeFixed32(content.data() + crc_at)) !=
      crc32c::Value(content.data(), crc_at)) {
    return absl::DataLossError("spool state: CRC mismatch");
  }
  Reader r(content.substr(kStateHeaderBytes, body_length));
  SpoolState s;
  s.acked_sequence = r.U64();
  s.dropped_through = r.U64();
  s.last_sequence = r.U64();
  s.dropped_batches = r.U64();
  s.dropped_samples = r.U64();
  s.acked_samples = r.U64();
  s.corrupt_segments = r.U64();
  if (version == kStateVersion) {
    s.acked_batches = r.U64();
    s.appended_batches = r.U64();
    s.appended_samples = r.U64();
  } else {
    s.has_appended = false;
  }
  const uint32_t n_rejected = r.U32();
  if (!r.ok() || r.left() / 8 < n_rejected) return absl::DataLossError("spool state: bad body");
  s.rejected.reserve(n_rejected);
  for (uint32_t i = 0; i < n_rejected; ++i) s.rejected.push_back(r.U64());
  const uint32_t n_spans = r.U32();
  if (!r.ok() || r.left() / 24 < n_spans) return absl::DataLossError("spool state: bad body");
  s.alive.reserve(n_spans);
  for (uint32_t i = 0; i < n_spans; ++i) {
    AliveSpan a;
    a.first = absl::FromUnixMillis(static_cast<int64_t>(r.U64()));
    a.last = absl::FromUnixMillis(static_cast<int64_t>(r.U64()));
    a.boot_time = static_cast<int64_t>(r.U64());
    s.alive.push_back(a);
  }
  if (!r.ok() || r.left() != 0) return absl::DataLossError("spool state: bad body");
  return s;
}

std::string EncodeAppendMark(const AppendMark& mark) {
  std::string out;
  out.reserve(kAppendMarkBytes);
  PutFixed64(&out, mark.sequence);
  PutFixed64(&out, mark.appended_batches);
  PutFixed64(&out, mark.appended_samples);
  PutFixed32(&out, crc32c::Mask(crc32c::Value(out.data(), out.size())));
  return out;
}

std::optional<AppendMark> LastAppendMark(absl::string_view journal) {
  std::optional<AppendMark> last;
  for (; journal.size() >= kAppendMarkBytes; journal.remove_prefix(kAppendMarkBytes)) {
    const char* p = journal.data();
    if (crc32c::Unmask(DecodeFixed32(p + 24)) != crc32c::Value(p, 24)) break;
    last = AppendMark{DecodeFixed64(p), DecodeFixed64(p + 8), DecodeFixed64(p + 16)};
  }
  return last;
}

uint32_t StateFileId(absl::string_view state_file) {
  return crc32c::Value(state_file.data(), state_file.size());
}

std::string EncodeStateLogRecord(uint32_t base, const SpoolState& state) {
  const std::string encoded = EncodeSpoolState(state);
  std::string out;
  out.reserve(12 + encoded.size());
  PutFixed32(&out, base);
  PutFixed32(&out, static_cast<uint32_t>(encoded.size()));
  out += encoded;
  PutFixed32(&out, crc32c::Mask(crc32c::Value(out.data(), out.size())));
  return out;
}

std::optional<SpoolState> LastLoggedState(absl::string_view log, uint32_t base) {
  std::optional<SpoolState> last;
  while (log.size() >= 12) {
    const uint32_t record_base = DecodeFixed32(log.data());
    const uint64_t length = DecodeFixed32(log.data() + 4);
    if (log.size() < 12 + length) break;
    const size_t crc_at = 8 + static_cast<size_t>(length);
    if (crc32c::Unmask(DecodeFixed32(log.data() + crc_at)) != crc32c::Value(log.data(), crc_at)) {
      break;
    }
    if (record_base == base) {
      absl::StatusOr<SpoolState> state = ParseSpoolState(log.substr(8, length));
      if (!state.ok()) break;
      last = std::move(*state);
    }
    log.remove_prefix(crc_at + 4);
  }
  return last;
}

}  // namespace accord::agent
