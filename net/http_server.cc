#include "net/http_server.h"

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "common/ascii.h"

namespace papr::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct SharedState {
  HttpServerOptions options;
  HttpHandler handler;
  std::atomic<int> in_flight{0};
  std::atomic<bool> stopping{false};
};

//! One connection: read a request, hand it to the handler, write the answer, repeat.
//! All its operations run on its strand.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::shared_ptr<SharedState> state)
      : stream_(std::move(socket)), state_(std::move(state)) {}

  void Start() {
    asio::dispatch(stream_.get_executor(),
                   beast::bind_front_handler(&Session::DoRead, shared_from_this()));
  }

 private:
  void DoRead() {
    if (state_->stopping) return DoClose();
    parser_.emplace();
    parser_->body_limit(state_->options.max_body_bytes);
    parser_->header_limit(64 * 1024);
    stream_.expires_after(std::chrono::seconds(state_->options.idle_timeout_seconds));
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::OnRead, shared_from_this()));
  }

  void OnRead(beast::error_code ec, size_t) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout) return DoClose();
    if (ec == http::error::body_limit) {
      return WriteError(413, "Request body exceeds limits.max_request_bytes");
    }
    if (ec) {
      if (ec == http::error::header_limit) return WriteError(431, "Request headers too large");
      if (ec.category() == http::make_error_code(http::error::bad_target).category()) {
        return WriteError(400, "Malformed HTTP request: " + ec.message());
      }
      return DoClose();
    }
    auto& msg = parser_->get();
    HttpRequest request;
    request.method = std::string(msg.method_string());
    request.target = std::string(msg.target());
    std::string_view target = msg.target();
    size_t q = target.find('?');
    request.path = PercentDecode(target.substr(0, q), false);
    if (q != std::string_view::npos) request.query = std::string(target.substr(q + 1));
    for (const auto& field : msg) {
      request.headers.emplace_back(AsciiLower(field.name_string()), std::string(field.value()));
    }
    request.body = std::move(msg.body());
    beast::error_code addr_ec;
    auto endpoint = stream_.socket().remote_endpoint(addr_ec);
    if (!addr_ec) request.remote_address = endpoint.address().to_string();
    keep_alive_ = msg.keep_alive();
    stream_.expires_never();

    state_->in_flight++;
    auto self = shared_from_this();
    state_->handler(std::move(request), [self](HttpResponse response) {
      asio::post(self->stream_.get_executor(), [self, r = std::move(response)]() mutable {
        self->Write(std::move(r));
      });
    });
  }

  void WriteError(int status, const std::string& message) {
    keep_alive_ = false;
    state_->in_flight++;
    HttpResponse r;
    r.status = status;
    r.body = "{\"code\":" + std::to_string(status) + ",\"status\":\"error\",\"error\":\"" +
             message + "\",\"details\":{}}";
    Write(std::move(r));
  }

  // Streamed answer: headers without a length (the body ends when the connection closes),
  // then whatever the producer pushes, in order.
  void WriteStream(HttpResponse r) {
    stream_body_ = r.stream;
    auto header = std::make_shared<http::response<http::empty_body>>();
    header->version(11);
    header->result(static_cast<unsigned>(r.status));
    header->set(http::field::server, "papr-server");
    header->set(http::field::content_type, r.content_type);
    header->set(http::field::cache_control, "no-cache");
    header->set(http::field::connection, "close");
    for (auto& [name, value] : r.headers) header->set(name, value);
    auto serializer = std::make_shared<http::response_serializer<http::empty_body>>(*header);
    stream_.expires_never();
    auto self = shared_from_this();
    http::async_write_header(stream_, *serializer,
                             [self, header, serializer](beast::error_code ec, size_t) {
                               if (ec) return self->EndStream();
                               // The stream keeps the connection alive until it ends
                               // (EndStream drops this reference).
                               self->stream_body_->SetWake([self] {
                                 asio::post(self->stream_.get_executor(),
                                            [self] { self->PumpStream(); });
                               });
                               self->PumpStream();
                             });
  }

  void PumpStream() {
    if (stream_writing_ || !stream_body_) return;
    bool done = false;
    auto chunk = std::make_shared<std::string>(stream_body_->TakePending(&done));
    if (chunk->empty()) {
      if (done) EndStream();
      return;
    }
    stream_writing_ = true;
    asio::async_write(stream_, asio::buffer(*chunk),
                      [self = shared_from_this(), chunk](beast::error_code ec, size_t) {
                        self->stream_writing_ = false;
                        if (ec) return self->EndStream();
                        self->PumpStream();
                      });
  }

  void EndStream() {
    if (!stream_body_) return;
    stream_body_->MarkClientGone();
    stream_body_.reset();
    state_->in_flight--;
    DoClose();
  }

  void Write(HttpResponse r) {
    if (r.stream) return WriteStream(std::move(r));
    auto res = std::make_shared<http::response<http::string_body>>();
    res->version(11);
    res->result(static_cast<unsigned>(r.status));
    res->set(http::field::server, "papr-server");
    res->set(http::field::content_type, r.content_type);
    for (auto& [name, value] : r.headers) res->set(name, value);
    res->keep_alive(keep_alive_ && !state_->stopping);
    res->body() = std::move(r.body);
    res->prepare_payload();
    response_ = res;
    stream_.expires_after(std::chrono::seconds(state_->options.idle_timeout_seconds));
    http::async_write(stream_, *res,
                      beast::bind_front_handler(&Session::OnWrite, shared_from_this(),
                                                !res->keep_alive()));
  }

  void OnWrite(bool close, beast::error_code ec, size_t) {
    state_->in_flight--;
    response_.reset();
    if (ec || close) return DoClose();
    DoRead();
  }

  void DoClose() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.close();
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::shared_ptr<SharedState> state_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<http::response<http::string_body>> response_;
  std::shared_ptr<ResponseStream> stream_body_;
  bool stream_writing_ = false;
  bool keep_alive_ = true;
};

bool ParseListen(const std::string& listen, std::string* host, unsigned short* port) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos) return false;
  *host = listen.substr(0, colon);
  if (host->size() > 2 && host->front() == '[' && host->back() == ']') {
    *host = host->substr(1, host->size() - 2);
  }
  try {
    int p = std::stoi(listen.substr(colon + 1));
    if (p < 0 || p > 65535) return false;
    *port = static_cast<unsigned short>(p);
  } catch (...) {
    return false;
  }
  return true;
}

}  // namespace

struct HttpServer::Rep {
  asio::io_context ioc;
  std::optional<tcp::acceptor> acceptor;
  std::shared_ptr<SharedState> state;
  std::vector<std::thread> threads;
  int port = 0;
  std::once_flag stop_once;

  void DoAccept() {
    acceptor->async_accept(asio::make_strand(ioc), [this](beast::error_code ec, tcp::socket s) {
      if (ec == asio::error::operation_aborted || !acceptor->is_open()) return;
      if (!ec) {
        beast::error_code opt_ec;
        s.set_option(tcp::no_delay(true), opt_ec);
        std::make_shared<Session>(std::move(s), state)->Start();
      }
      DoAccept();
    });
  }
};

HttpServer::HttpServer(HttpServerOptions options, HttpHandler handler) : rep_(new Rep) {
  rep_->state = std::make_shared<SharedState>();
  rep_->state->options = std::move(options);
  rep_->state->handler = std::move(handler);
}

HttpServer::~HttpServer() { Stop(0); }

Result<int> HttpServer::Start() {
  std::string host;
  unsigned short port = 0;
  if (!ParseListen(rep_->state->options.listen, &host, &port)) {
    return Status::InvalidArgument("server.listen must be HOST:PORT, got '" +
                                   rep_->state->options.listen + "'");
  }
  beast::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) return Status::InvalidArgument("server.listen: bad address '" + host + "'");
  tcp::endpoint endpoint(address, port);
  rep_->acceptor.emplace(rep_->ioc);
  rep_->acceptor->open(endpoint.protocol(), ec);
  if (!ec) rep_->acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) rep_->acceptor->bind(endpoint, ec);
  if (!ec) rep_->acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status::Unavailable("cannot listen on " + rep_->state->options.listen + ": " +
                               ec.message());
  }
  rep_->port = rep_->acceptor->local_endpoint().port();
  rep_->DoAccept();
  int n = std::max(1, rep_->state->options.io_threads);
  for (int i = 0; i < n; ++i) rep_->threads.emplace_back([this] { rep_->ioc.run(); });
  return rep_->port;
}

void HttpServer::Stop(int drain_ms) {
  std::call_once(rep_->stop_once, [&] {
    rep_->state->stopping = true;
    if (rep_->acceptor) {
      asio::post(rep_->ioc, [this] {
        beast::error_code ec;
        rep_->acceptor->close(ec);
      });
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(drain_ms);
    while (rep_->state->in_flight > 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    rep_->ioc.stop();
    for (auto& t : rep_->threads) t.join();
    rep_->threads.clear();
  });
}

int HttpServer::port() const { return rep_->port; }

}  // namespace papr::net
