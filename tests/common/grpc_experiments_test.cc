#include <stdlib.h>

#include <string>

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

TEST(ExperimentsWithoutTest, SpacesAroundItemsAreIgnoredWhenMatching) {
  EXPECT_EQ(ExperimentsWithout("x, -tcp_read_chunks ", "tcp_read_chunks"), "x, -tcp_read_chunks ");
  EXPECT_EQ(ExperimentsWithout(" , x", "tcp_read_chunks"), " , x,-tcp_read_chunks");
}

TEST(TurnOffTcpReadChunksTest, SetsTheEnvironmentGrpcReads) {
  const char* before = getenv("GRPC_EXPERIMENTS");
  const std::string saved = before == nullptr ? "" : before;
  const bool was_set = before != nullptr;
  unsetenv("GRPC_EXPERIMENTS");
  TurnOffTcpReadChunks();
  ASSERT_NE(getenv("GRPC_EXPERIMENTS"), nullptr);
  EXPECT_STREQ(getenv("GRPC_EXPERIMENTS"), "-tcp_read_chunks");
  setenv("GRPC_EXPERIMENTS", "tcp_rcv_lowat", 1);
  TurnOffTcpReadChunks();
  EXPECT_STREQ(getenv("GRPC_EXPERIMENTS"), "tcp_rcv_lowat,-tcp_read_chunks");
  EXPECT_EQ(GrpcExperiments(), "tcp_rcv_lowat,-tcp_read_chunks");
  if (was_set) {
    setenv("GRPC_EXPERIMENTS", saved.c_str(), 1);
  } else {
    unsetenv("GRPC_EXPERIMENTS");
  }
}

}  // namespace
}  // namespace accord
