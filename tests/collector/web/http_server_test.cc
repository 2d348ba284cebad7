#include "collector/web/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/testing/loopback_http.h"
#include "tests/testing/wait_for.h"

namespace accord::collector {
namespace {

// A loopback connection that gives up reading after 10 s (a framing bug fails, not hangs).
int Connect(int port) {
  int fd = accord::testing::ConnectLoopback(port);
  EXPECT_GE(fd, 0);
  return fd;
}

void Send(int fd, const std::string& request) {
  EXPECT_EQ(write(fd, request.data(), request.size()), static_cast<ssize_t>(request.size()));
}

// Reads until `text` ends with `end` (or the connection closes or times out).
void ReadUntil(int fd, const std::string& end, std::string* text) {
  char buf[65536];
  while (!absl::EndsWith(*text, end)) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) return;
    text->append(buf, static_cast<size_t>(n));
  }
}

// Sends `request` to 127.0.0.1:port and reads until the server closes the connection.
std::string RawExchange(int port, const std::string& request) {
  int fd = Connect(port);
  Send(fd, request);
  std::string reply;
  ReadUntil(fd, "\x01never\x01", &reply);
  close(fd);
  return reply;
}

struct Reply {
  std::string head;
  std::string body;  // as sent (chunk framing included)
};
Reply Split(const std::string& raw) {
  size_t end = raw.find("\r\n\r\n");
  EXPECT_NE(end, std::string::npos) << raw;
  if (end == std::string::npos) return {raw, ""};
  return {raw.substr(0, end + 2), raw.substr(end + 4)};
}

// Decodes a chunked body; fails the test on bad framing.
std::string Dechunk(const std::string& body, int* chunks) {
  std::string out;
  size_t pos = 0;
  *chunks = 0;
  while (true) {
    size_t eol = body.find("\r\n", pos);
    EXPECT_NE(eol, std::string::npos);
    if (eol == std::string::npos) return out;
    uint64_t size = 0;
    EXPECT_TRUE(absl::SimpleHexAtoi(body.substr(pos, eol - pos), &size)) << body.substr(pos, 20);
    pos = eol + 2;
    if (size == 0) {
      EXPECT_EQ(body.substr(pos), "\r\n");
      return out;
    }
    ++*chunks;
    out.append(body, pos, size);
    pos += size;
    EXPECT_EQ(body.substr(pos, 2), "\r\n");
    pos += 2;
  }
}

// One server for the suite: stopping civetweb takes its 2 s poll timeout.
class HttpServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    HttpServerOptions options;
    options.listen_address = "127.0.0.1:0";
    std::vector<std::pair<std::string, HttpHandler>> handlers;
    handlers.emplace_back("/streamed", [](const HttpRequest&) {
      HttpResponse r;
      r.stream = [](const BodyWriter& write) {
        write("first piece\n");
        write("");  // nothing to send: no chunk (an empty chunk would end the body)
        write(std::string(100000, 'x'));
        write("last\n");
      };
      return r;
    });
    // Up to 1 GiB in 1 MiB pieces, stopping when the writer says the client is gone.
    handlers.emplace_back("/endless", [](const HttpRequest&) {
      HttpResponse r;
      r.stream = [](const BodyWriter& write) {
        const std::string piece(1 << 20, 'y');
        int n = 0;
        while (n < 1024 && write(piece)) ++n;
        endless_pieces_ = n;
        endless_done_ = true;
      };
      return r;
    });
    handlers.emplace_back("/plain", [](const HttpRequest&) {
      return HttpResponse(200, "text/plain", "whole body\n");
    });
    auto server = HttpServer::Start(options, std::move(handlers));
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server).release();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(server_, nullptr); }
  static HttpServer* server_;
  static std::atomic<int> endless_pieces_;
  static std::atomic<bool> endless_done_;
  const std::string expected_ = absl::StrCat("first piece\n", std::string(100000, 'x'), "last\n");
};
HttpServer* HttpServerTest::server_ = nullptr;
std::atomic<int> HttpServerTest::endless_pieces_{0};
std::atomic<bool> HttpServerTest::endless_done_{false};

TEST_F(HttpServerTest, AStreamStopsWhenTheClientGoesAway) {
  const uint64_t abandoned = server_->stats().responses_abandoned;
  int fd = Connect(server_->port());
  Send(fd, "GET /endless HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string text;
  ReadUntil(fd, "yyyy", &text);  // the body has begun
  ASSERT_TRUE(absl::StartsWith(text, "HTTP/1.1 200 ")) << text.substr(0, 200);
  // Close with unread data: the kernel answers the next write with a reset.
  linger hard{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
  close(fd);
  for (int i = 0; i < 1000 && !endless_done_; ++i) usleep(10 * 1000);
  ASSERT_TRUE(endless_done_) << "the handler is still writing 10 s after the client left";
  // Socket buffers take a few MiB at most; 1 GiB would mean it never noticed.
  EXPECT_LT(endless_pieces_, 64);
  // The server counts the abandoned response after the handler returns, so wait for it.
  EXPECT_TRUE(accord::testing::WaitFor(
      [&] { return server_->stats().responses_abandoned == abandoned + 1; }))
      << "responses_abandoned " << server_->stats().responses_abandoned << ", expected "
      << abandoned + 1;
}

TEST_F(HttpServerTest, AStreamedBodyIsSentInChunksAsItIsWritten) {
  Reply r = Split(RawExchange(server_->port(),
                              "GET /streamed HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  EXPECT_TRUE(absl::StartsWith(r.head, "HTTP/1.1 200 ")) << r.head;
  EXPECT_TRUE(absl::StrContains(r.head, "\r\nTransfer-Encoding: chunked\r\n")) << r.head;
  EXPECT_FALSE(absl::StrContains(r.head, "Content-Length")) << r.head;
  int chunks = 0;
  EXPECT_EQ(Dechunk(r.body, &chunks), expected_);
  EXPECT_EQ(chunks, 3);
}

TEST_F(HttpServerTest, AKeptAliveConnectionServesAnotherRequestAfterAChunkedReply) {
  // As Prometheus does: the next scrape reuses the connection.
  int fd = Connect(server_->port());
  Send(fd, "GET /streamed HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string first;
  ReadUntil(fd, "\r\n0\r\n\r\n", &first);
  int chunks = 0;
  EXPECT_EQ(Dechunk(Split(first).body, &chunks), expected_);
  Send(fd, "GET /plain HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string second;
  ReadUntil(fd, "whole body\n", &second);
  close(fd);
  EXPECT_TRUE(absl::StartsWith(second, "HTTP/1.1 200 ")) << second;
  EXPECT_TRUE(absl::EndsWith(second, "\r\n\r\nwhole body\n")) << second;
}

TEST_F(HttpServerTest, AnHttp10ClientGetsAStreamedBodyWithAContentLength) {
  Reply r = Split(RawExchange(server_->port(), "GET /streamed HTTP/1.0\r\n\r\n"));
  EXPECT_TRUE(absl::StrContains(r.head, absl::StrCat("\r\nContent-Length: ", expected_.size())))
      << r.head;
  EXPECT_FALSE(absl::StrContains(r.head, "chunked")) << r.head;
  EXPECT_EQ(r.body, expected_);
}

TEST_F(HttpServerTest, HeadOfAStreamedBodyHasItsLengthAndNoBody) {
  Reply r = Split(RawExchange(server_->port(),
                              "HEAD /streamed HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  EXPECT_TRUE(absl::StrContains(r.head, absl::StrCat("\r\nContent-Length: ", expected_.size())))
      << r.head;
  EXPECT_EQ(r.body, "");
}

TEST_F(HttpServerTest, APlainBodyHasAContentLength) {
  Reply r = Split(
      RawExchange(server_->port(), "GET /plain HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  EXPECT_TRUE(absl::StrContains(r.head, "\r\nContent-Length: 11\r\n")) << r.head;
  EXPECT_EQ(r.body, "whole body\n");
}

}  // namespace
}  // namespace accord::collector
