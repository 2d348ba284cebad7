// Keepalive settings that agree on both sides (see docs/protocol.md): the agent pings every
// 30 s (timeout 10 s, also without calls); the collector accepts pings 20 s apart and pings
// idle agents every 60 s. Keepalive proves the TCP path only; liveness comes from heartbeats.
// Both sides turn off HTTP/2 bandwidth-delay probing (a PING per message received); the
// agent's channel also ignores DNS service configs (see AgentChannelArguments).
#ifndef ACCORD_COMMON_GRPC_KEEPALIVE_H_
#define ACCORD_COMMON_GRPC_KEEPALIVE_H_

#include "absl/time/time.h"
#include "grpcpp/server_builder.h"
#include "grpcpp/support/channel_arguments.h"

namespace accord {

// Arguments for every agent channel: keepalive as above (tests may shorten it), gRPC's
// reconnect backoff kept short (ours paces reconnects), no BDP probe pings, no service config
// from DNS.
grpc::ChannelArguments AgentChannelArguments(absl::Duration keepalive_time = absl::Seconds(30),
                                             absl::Duration keepalive_timeout = absl::Seconds(10));
void ApplyCollectorKeepalive(grpc::ServerBuilder* builder);

}  // namespace accord

#endif  // ACCORD_COMMON_GRPC_KEEPALIVE_H_
