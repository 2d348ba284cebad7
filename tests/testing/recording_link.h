// RecordingLink: a StreamLink that records what the ingest consumer asked of the stream.
// Not thread-safe (tests drive the consumer on their own thread).
#ifndef ACCORD_TESTS_TESTING_RECORDING_LINK_H_
#define ACCORD_TESTS_TESTING_RECORDING_LINK_H_

#include <cstdint>
#include <vector>

#include "collector/ingest/ingest_queue.h"

namespace accord::testing {

class RecordingLink : public collector::StreamLink {
 public:
  void SendAck(uint64_t sequence, int64_t alive_until_ms) override {
    acks.push_back(sequence);
    alive_acks.push_back(alive_until_ms);
  }
  void Finish(const absl::Status& status, uint64_t rejected) override {
    finished_with = status;
    rejected_sequence = rejected;
    ++finishes;
  }
  void ResumeReading() override { ++resumes; }

  std::vector<uint64_t> acks;
  std::vector<int64_t> alive_acks;
  absl::Status finished_with;
  uint64_t rejected_sequence = 0;
  int finishes = 0;
  int resumes = 0;
};

}  // namespace accord::testing

#endif  // ACCORD_TESTS_TESTING_RECORDING_LINK_H_
