#include "collector/web/http_server.h"

#include <civetweb.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/logging.h"

namespace accord::collector {
namespace {

std::string UrlDecode(absl::string_view in) {
  std::string out(in.size() + 1, '\0');
  int n = mg_url_decode(in.data(), static_cast<int>(in.size()), out.data(),
                        static_cast<int>(out.size()), /*is_form_url_encoded=*/1);
  out.resize(n < 0 ? 0 : n);
  return out;
}

const char* StatusText(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 503:
      return "Service Unavailable";
    default:
      return "Error";
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(
    const HttpServerOptions& options, std::vector<std::pair<std::string, HttpHandler>> handlers) {
  static bool initialized = [] {
    mg_init_library(0);
    return true;
  }();
  (void)initialized;
  std::unique_ptr<HttpServer> server(new HttpServer());
  server->handlers_ = std::move(handlers);
  std::sort(server->handlers_.begin(), server->handlers_.end(),
            [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
  std::string threads = absl::StrCat(options.threads);
  std::string listen = options.listen_address;
  // civetweb wants "[::]:port" for IPv6 and "addr:port" otherwise, like ours.
  const char* mg_options[] = {
      "listening_ports", listen.c_str(),      "num_threads", threads.c_str(), "request_timeout_ms",
      "10000",           "enable_keep_alive", "yes",         nullptr};
  struct mg_callbacks callbacks;
  std::memset(&callbacks, 0, sizeof(callbacks));
  callbacks.log_message = [](const struct mg_connection*, const char* message) {
    Log(LogLevel::kWarn, "http server", {{"error", message}});
    return 1;
  };
  server->ctx_ = mg_start(&callbacks, nullptr, mg_options);
  if (server->ctx_ == nullptr) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen for HTTP on \"", options.listen_address, "\""));
  }
  struct mg_server_port ports[4];
  int n = mg_get_server_ports(server->ctx_, 4, ports);
  if (n > 0) server->port_ = ports[0].port;
  mg_set_request_handler(server->ctx_, "/", &HttpServer::Dispatch, server.get());
  return server;
}

HttpServer::~HttpServer() {
  if (ctx_ != nullptr) mg_stop(ctx_);
}

int HttpServer::Dispatch(struct mg_connection* conn, void* self_ptr) {
  auto* self = static_cast<HttpServer*>(self_ptr);
  ++self->requests_;
  const struct mg_request_info* info = mg_get_request_info(conn);
  HttpRequest req;
  req.method = info->request_method ? info->request_method : "";
  req.path = info->local_uri ? info->local_uri : "/";
  if (info->query_string != nullptr) {
    for (absl::string_view kv : absl::StrSplit(info->query_string, '&', absl::SkipEmpty())) {
      std::pair<absl::string_view, absl::string_view> p =
          absl::StrSplit(kv, absl::MaxSplits('=', 1));
      // A repeated parameter (Prometheus' `params: {family: [a, b]}`) is joined with commas.
      auto [it, inserted] = req.query.try_emplace(UrlDecode(p.first), UrlDecode(p.second));
      if (!inserted) absl::StrAppend(&it->second, ",", UrlDecode(p.second));
    }
  }
  HttpResponse resp;
  if (req.method != "GET" && req.method != "HEAD") {
    resp = {405, "text/plain; charset=utf-8", "only GET is supported\n"};
  } else {
    resp = {404, "text/plain; charset=utf-8", absl::StrCat("no such path: ", req.path, "\n")};
    for (const auto& [prefix, handler] : self->handlers_) {
      bool match = prefix.back() == '/' ? req.path.compare(0, prefix.size(), prefix) == 0
                                        : req.path == prefix;
      if (match) {
        resp = handler(req);
        break;
      }
    }
  }
  const bool head_only = req.method == "HEAD";
  const bool chunked = resp.stream && !head_only && info->http_version != nullptr &&
                       absl::string_view(info->http_version) != "1.0";
  if (resp.stream && !chunked) {
    resp.stream([&resp](absl::string_view piece) {
      resp.body.append(piece.data(), piece.size());
      return true;
    });
    resp.stream = nullptr;
  }
  std::string head = absl::StrCat("HTTP/1.1 ", resp.status, " ", StatusText(resp.status),
                                  "\r\nContent-Type: ", resp.content_type);
  if (chunked) {
    head.append("\r\nTransfer-Encoding: chunked");
  } else {
    absl::StrAppend(&head, "\r\nContent-Length: ", resp.body.size());
  }
  head.append("\r\nCache-Control: no-store\r\n\r\n");
  mg_write(conn, head.data(), head.size());
  if (chunked) {
    // After a failed write (the client went away) the writer says stop.
    bool failed = false;
    uint64_t sent = 0;
    resp.stream([conn, &failed, &sent](absl::string_view piece) {
      if (failed || piece.empty()) return !failed;
      failed = mg_send_chunk(conn, piece.data(), static_cast<unsigned int>(piece.size())) < 0;
      if (!failed) sent += piece.size();
      return !failed;
    });
    if (!failed) {
      mg_send_chunk(conn, "", 0);  // the last chunk
    } else {
      ++self->responses_abandoned_;
      Log(LogLevel::kInfo, "client went away before the end of a streamed response",
          {{"path", req.path}, {"bytes_sent", absl::StrCat(sent)}});
    }
  } else if (!head_only) {
    mg_write(conn, resp.body.data(), resp.body.size());
  }
  return resp.status;
}

}  // namespace accord::collector
