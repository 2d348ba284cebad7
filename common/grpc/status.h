// Maps between absl::Status and grpc::Status: the one place where the two meet.
// Codes keep their meaning (kUnavailable and kResourceExhausted: retry with backoff;
// kInvalidArgument: never retry).
#ifndef ACCORD_COMMON_GRPC_STATUS_H_
#define ACCORD_COMMON_GRPC_STATUS_H_

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace accord {

grpc::Status ToGrpcStatus(const absl::Status& status);
absl::Status FromGrpcStatus(const grpc::Status& status);

// True when the error is worth retrying at the normal backoff (transient or unknown).
// False for permanent errors (INVALID_ARGUMENT, PERMISSION_DENIED, UNAUTHENTICATED,
// UNIMPLEMENTED, FAILED_PRECONDITION, OUT_OF_RANGE, DATA_LOSS).
bool IsRetryable(absl::StatusCode code);

}  // namespace accord

#endif  // ACCORD_COMMON_GRPC_STATUS_H_
