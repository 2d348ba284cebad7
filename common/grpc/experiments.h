// gRPC 1.51's experiments (GRPC_EXPERIMENTS, read once when gRPC first asks): the collector
// turns off the ones that cost it memory at 10,000 streams.
#ifndef ACCORD_COMMON_GRPC_EXPERIMENTS_H_
#define ACCORD_COMMON_GRPC_EXPERIMENTS_H_

#include <string>

#include "absl/strings/string_view.h"

namespace accord {

// The GRPC_EXPERIMENTS value that turns `experiment` off, given the current value (nullptr:
// unset). An operator's own mention of the experiment, on or off, is left as it is.
std::string ExperimentsWithout(const char* current, absl::string_view experiment);

// Turns off gRPC's tcp_read_chunks experiment (on by default in 1.51) for this process: each
// connection then reads into buffers sized by what it has been receiving (about 1.5 KiB
// for an agent) instead of keeping a fixed 8 KiB one. Measured with 2,000 agents: 6 KiB less
// heap per agent (docs/benchmarks.md, "Collector memory per agent"). Call at the start of main,
// before any gRPC object exists; later calls have no effect.
void TurnOffTcpReadChunks();

// The process's GRPC_EXPERIMENTS ("" when unset), for the start-up log.
std::string GrpcExperiments();

}  // namespace accord

#endif  // ACCORD_COMMON_GRPC_EXPERIMENTS_H_
