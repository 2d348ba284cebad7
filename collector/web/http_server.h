// HttpServer: a small HTTP/1.1 server (civetweb underneath) serving GET handlers by path
// prefix. The only code that includes civetweb.h.
//
// Thread safety: handlers run on the server's worker threads, concurrently; they must be
// thread-safe. Start/Stop from one thread.
#ifndef ACCORD_COLLECTOR_WEB_HTTP_SERVER_H_
#define ACCORD_COLLECTOR_WEB_HTTP_SERVER_H_

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

// Sends one piece of a streamed body.
using BodyWriter = std::function<void(absl::string_view piece)>;

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

 private:
  HttpServer() = default;
  static int Dispatch(struct mg_connection* conn, void* self);

  struct mg_context* ctx_ = nullptr;
  int port_ = 0;
  std::vector<std::pair<std::string, HttpHandler>> handlers_;
};

}  // namespace accord::collector

#endif  // ACCORD_COLLECTOR_WEB_HTTP_SERVER_H_
