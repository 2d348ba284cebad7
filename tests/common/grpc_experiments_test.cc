#include <stdlib.h>

#include "common/grpc/experiments.h"
#include "gtest/gtest.h"

namespace accord {
namespace {

TEST(ExperimentsWithoutTest, UnsetOrEmptyGetsOnlyTheOptOut) {
  EXPECT_EQ(ExperimentsWithout(nullptr, "tcp_read_chunks"), "-tcp_read_chunks");
  EXPECT_EQ(ExperimentsWithout("", "tcp_read_chunks"), "-tcp_read_chunks");
}

TEST(ExperimentsWithoutTest, AnOperatorsOtherExperimentsAreKept) {
  EXPECT_EQ(ExperimentsWithout("tcp_rcv_lowat", "tcp_read_chunks"),
            "tcp_rcv_lowat,-tcp_read_chunks");
  EXPECT_EQ(ExperimentsWithout("a,-b", "tcp_read_chunks"), "a,-b,-tcp_read_chunks");
  // A name that merely contains the experiment's is another experiment.
  EXPECT_EQ(ExperimentsWithout("tcp_read_chunks_v2", "tcp_read_chunks"),
            "tcp_read_chunks_v2,-tcp_read_chunks");
}

TEST(ExperimentsWithoutTest, AnOperatorsOwnChoiceForTheExperimentWins) {
  EXPECT_EQ(ExperimentsWithout("tcp_read_chunks", "tcp_read_chunks"), "tcp_read_chunks");
  EXPECT_EQ(ExperimentsWithout("x, tcp_read_chunks", "tcp_read_chunks"), "x, tcp_read_chunks");
  EXPECT_EQ(ExperimentsWithout("-tcp_read_chunks", "tcp_read_chunks"), "-tcp_read_chunks");
}

TEST(TurnOffTcpReadChunksTest, SetsTheEnvironmentGrpcReads) {
  unsetenv("GRPC_EXPERIMENTS");
  TurnOffTcpReadChunks();
  ASSERT_NE(getenv("GRPC_EXPERIMENTS"), nullptr);
  EXPECT_STREQ(getenv("GRPC_EXPERIMENTS"), "-tcp_read_chunks");
  setenv("GRPC_EXPERIMENTS", "tcp_rcv_lowat", 1);
  TurnOffTcpReadChunks();
  EXPECT_STREQ(getenv("GRPC_EXPERIMENTS"), "tcp_rcv_lowat,-tcp_read_chunks");
  unsetenv("GRPC_EXPERIMENTS");
}

}  // namespace
}  // namespace accord
