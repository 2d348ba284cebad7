// HttpServer: a small HTTP/1.1 server (civetweb underneath) serving GET handlers by path
// prefix. The only code that includes civetweb.h.
//
// Thread safety: handlers run on the server's worker threads, concurrently; they must be
// thread-safe. Start/Stop from one thread.
#ifndef ACCORD_COLLECTOR_WEB_HTTP_SERVER_H_
#define ACCORD_COLLECTOR_WEB_HTTP_SERVER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

struct mg_context;
struct mg_connection;

namespace accord::collector {

struct HttpRequest {
  std::string method;
  std::string path;                          // decoded path without the query
  std::map<std::string, std::string> query;  // a repeated parameter's values joined by ','
};

// Sends one piece of a streamed body. False once the client has gone away (a write failed):
// the writer should stop, the rest would go nowhere.
using BodyWriter = std::function<bool(absl::string_view piece)>;

struct HttpResponse {
  HttpResponse() = default;
  HttpResponse(int status, std::string content_type, std::string body)
      : status(status), content_type(std::move(content_type)), body(std::move(body)) {}

  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  // A body too large to build whole: when set, `body` is ignored and this is called once, after
  // the head is sent, to write the body in pieces (chunked transfer encoding; for an HTTP/1.0
  // client or HEAD the pieces are gathered and sent with a Content-Length).
  std::function<void(const BodyWriter& write)> stream;
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

struct HttpServerOptions {
  // "host:port"; port 0 picks a free port (see HttpServer::port()).
  std::string listen_address = "0.0.0.0:9470";
  int threads = 4;
};

class HttpServer {
 public:
  // Binds and starts serving. Errors: Unavailable if the address cannot be bound.
  // `handlers` maps a path prefix to its handler; the longest matching prefix wins.
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(
      const HttpServerOptions& options, std::vector<std::pair<std::string, HttpHandler>> handlers);
  ~HttpServer();  // stops serving

  int port() const { return port_; }

  // Counters since Start, for the collector's own metrics.
  struct Stats {
    uint64_t requests = 0;
    // Streamed responses whose client went away before the end (e.g. a scrape timeout).
    uint64_t responses_abandoned = 0;
  };
  Stats stats() const { return {requests_.load(), responses_abandoned_.load()}; }

 private:
  HttpServer() = default;
  static int Dispatch(struct mg_connection* conn, void* self);

  struct mg_context* ctx_ = nullptr;
  int port_ = 0;
  std::vector<std::pair<std::string, HttpHandler>> handlers_;
  std::atomic<uint64_t> requests_{0};
  std::atomic<uint64_t> responses_abandoned_{0};
};

}  // namespace accord::collector

#endif  // ACCORD_COLLECTOR_WEB_HTTP_SERVER_H_
