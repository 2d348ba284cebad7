// Plain sockets to a server on 127.0.0.1, for tests of what goes over the wire: a connection
// that gives up reading after 10 s (a framing bug fails rather than hangs), and one request
// read until the server closes the connection.
#ifndef ACCORD_TESTS_TESTING_LOOPBACK_HTTP_H_
#define ACCORD_TESTS_TESTING_LOOPBACK_HTTP_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdint>
#include <string>

namespace accord::testing {

// A connected socket, or -1.
inline int ConnectLoopback(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  timeval timeout{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// Sends `request` and returns everything read until the server closes (empty if the
// connection failed).
inline std::string LoopbackExchange(int port, const std::string& request) {
  std::string reply;
  int fd = ConnectLoopback(port);
  if (fd < 0) return reply;
  if (write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size())) {
    char buf[65536];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) reply.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return reply;
}

}  // namespace accord::testing

#endif  // ACCORD_TESTS_TESTING_LOOPBACK_HTTP_H_
