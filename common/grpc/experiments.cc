#include "common/grpc/experiments.h"

#include <stdlib.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace accord {

std::string ExperimentsWithout(const char* current, absl::string_view experiment) {
  const std::string off = absl::StrCat("-", experiment);
  if (current == nullptr || *current == '\0') return off;
  for (absl::string_view item : absl::StrSplit(current, ',', absl::SkipWhitespace())) {
    item = absl::StripAsciiWhitespace(item);
    absl::ConsumePrefix(&item, "-");
    if (item == experiment) return current;
  }
  return absl::StrCat(current, ",", off);
}

void TurnOffTcpReadChunks() {
  const std::string value = ExperimentsWithout(getenv("GRPC_EXPERIMENTS"), "tcp_read_chunks");
  setenv("GRPC_EXPERIMENTS", value.c_str(), 1);
}

std::string GrpcExperiments() {
  const char* value = getenv("GRPC_EXPERIMENTS");
  return value == nullptr ? std::string() : std::string(value);
}

}  // namespace accord
