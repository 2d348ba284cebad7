#include "common/grpc/keepalive.h"

namespace accord {

grpc::ChannelArguments AgentChannelArguments(absl::Duration keepalive_time,
                                             absl::Duration keepalive_timeout) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS,
              static_cast<int>(absl::ToInt64Milliseconds(keepalive_time)));
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS,
              static_cast<int>(absl::ToInt64Milliseconds(keepalive_timeout)));
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  // Reconnect pacing is ours (common/backoff.h); keep gRPC's own short.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 1000);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 5000);
  // No bandwidth-delay probing: the agent receives only small acks, so a larger receive window
  // buys nothing, while the probe (a ping after reads, a timer after each ping) cost ~0.3 ms
  // of the agent's ~2 ms per 1 s cycle, most of it in gRPC's timer thread. The collector,
  // which receives the batches, keeps its own probe.
  args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  // The collector's address names no service config in DNS: no TXT lookup on each resolution,
  // and no DNS record can turn on retries or another load-balancing policy behind our backs.
  args.SetInt(GRPC_ARG_SERVICE_CONFIG_DISABLE_RESOLUTION, 1);
  return args;
}

void ApplyCollectorKeepalive(grpc::ServerBuilder* builder) {
  builder->AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 60000);
  builder->AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10000);
  builder->AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 20000);
  builder->AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 2);
  builder->AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  // No bandwidth-delay probing here either: the probe answered every agent message (a
  // heartbeat too) with a PING the agent had to wake up for and acknowledge, one extra round
  // trip per message on both sides. Agents send ~1 KiB a second; the default 64 KiB window
  // still lets a backlog drain at 64 KiB per round trip (~6 MiB/s at 10 ms).
  builder->AddChannelArgument(GRPC_ARG_HTTP2_BDP_PROBE, 0);
}

}  // namespace accord
