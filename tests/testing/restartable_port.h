// RestartablePort(): a free loopback TCP port for a server that a test stops and starts again
// on the same port. It lies below the kernel's ephemeral range, so no port-0 bind and no
// client socket of a test running in parallel can take it while the server is down (seen
// under parallel ctest when the port came from a bind to port 0).
#ifndef ACCORD_TESTS_TESTING_RESTARTABLE_PORT_H_
#define ACCORD_TESTS_TESTING_RESTARTABLE_PORT_H_

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <random>

namespace accord::testing {

// 0 if no port was found.
inline int RestartablePort() {
  int low = 32768;
  std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range");
  if (!(range >> low)) low = 32768;
  std::random_device seed;
  std::mt19937 rng(seed());
  std::uniform_int_distribution<int> pick(std::max(1024, low - 12000), low - 1);
  for (int attempt = 0; attempt < 200; ++attempt) {
    const int port = pick(rng);
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return 0;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    const bool bound = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    close(fd);
    if (bound) return port;
  }
  return 0;
}

}  // namespace accord::testing

#endif  // ACCORD_TESTS_TESTING_RESTARTABLE_PORT_H_
