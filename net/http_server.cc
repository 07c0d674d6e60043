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

#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>

#include "common/ascii.h"
#include "common/log.h"
#include "net/request_framing.h"

namespace papr::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr uint32_t kHeaderLimit = 64 * 1024;
// The read buffer holds at most a whole head plus what arrived behind it.
constexpr size_t kReadBufferLimit = kHeaderLimit + 16 * 1024;

struct SharedState {
  HttpServerOptions options;
  HttpHandler handler;
  std::atomic<int> in_flight{0};
  std::atomic<bool> stopping{false};
  std::atomic<int> connections{0};
  std::atomic<int64_t> refused_connections{0};
};

//! One connection: read a request, hand it to the handler, write the answer, repeat.
//! All its operations run on its strand.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::shared_ptr<SharedState> state)
      : stream_(std::move(socket)), buffer_(kReadBufferLimit), state_(std::move(state)) {
    state_->connections++;
  }
  ~Session() { state_->connections--; }

  void Start() {
    asio::dispatch(stream_.get_executor(),
                   beast::bind_front_handler(&Session::DoRead, shared_from_this()));
  }

 private:
  // Reading one request: wait up to the idle timeout for its first byte; from then on the
  // head and the body share one deadline (read_timeout_seconds). The head is checked for
  // framing (obsolete folding, Transfer-Encoding) before any body byte is read.
  void DoRead() {
    if (state_->stopping) return DoClose();
    parser_.emplace();
    parser_->body_limit(state_->options.max_body_bytes);
    parser_->header_limit(kHeaderLimit);
    if (buffer_.size() > 0) return ReadHead();
    stream_.expires_after(std::chrono::seconds(state_->options.idle_timeout_seconds));
    stream_.async_read_some(buffer_.prepare(4096),
                            beast::bind_front_handler(&Session::OnFirstBytes, shared_from_this()));
  }

  void OnFirstBytes(beast::error_code ec, size_t n) {
    if (ec) return DoClose();
    buffer_.commit(n);
    ReadHead();
  }

  void ReadHead() {
    stream_.expires_after(std::chrono::seconds(state_->options.read_timeout_seconds));
    asio::async_read_until(stream_, buffer_, "\r\n\r\n",
                           beast::bind_front_handler(&Session::OnHeadBytes, shared_from_this()));
  }

  void OnHeadBytes(beast::error_code ec, size_t head_size) {
    if (ec == asio::error::not_found) return WriteError(431, "Request headers too large");
    if (ec) return DoClose();
    auto data = buffer_.data();
    std::string_view head(static_cast<const char*>(data.data()), head_size);
    if (Status s = CheckHeadBytes(head); !s.ok()) {
      return WriteError(400, "Malformed HTTP request: " + s.message());
    }
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&Session::OnHeader, shared_from_this()));
  }

  void OnHeader(beast::error_code ec, size_t n) {
    if (ec) return OnRead(ec, n);
    std::vector<std::string_view> codings;
    const auto& msg = parser_->get();
    for (const auto& field : msg) {
      if (field.name() == http::field::transfer_encoding) codings.push_back(field.value());
    }
    bool has_length = msg.find(http::field::content_length) != msg.end();
    if (Status s = CheckTransferEncoding(codings, has_length); !s.ok()) {
      return WriteError(400, "Malformed HTTP request: " + s.message());
    }
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::OnRead, shared_from_this()));
  }

  void OnRead(beast::error_code ec, size_t) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout) return DoClose();
    if (ec == http::error::buffer_overflow) return WriteError(431, "Request headers too large");
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

constexpr std::string_view kOverCapacity =
    "HTTP/1.1 503 Service Unavailable\r\nServer: papr-server\r\n"
    "Content-Type: application/json\r\nRetry-After: 1\r\nConnection: close\r\n"
    "Content-Length: 98\r\n\r\n"
    "{\"code\":503,\"status\":\"error\",\"error\":\"Too many connections "
    "(server.max_connections)\",\"details\":{}}";

// Over the connection cap: a fixed 503, then close. Logged for the first refusal and every
// 1000th after (a flood must not flood the log too).
void RefuseConnection(tcp::socket s, SharedState& state) {
  int64_t n = ++state.refused_connections;
  if (n == 1 || n % 1000 == 0) {
    log::Warn("connection refused: server.max_connections reached",
              {{"max_connections", std::to_string(state.options.max_connections)},
               {"refused_total", std::to_string(n)}});
  }
  auto socket = std::make_shared<tcp::socket>(std::move(s));
  asio::async_write(*socket, asio::buffer(kOverCapacity.data(), kOverCapacity.size()),
                    [socket](beast::error_code, size_t) {
                      beast::error_code ignored;
                      socket->shutdown(tcp::socket::shutdown_both, ignored);
                      socket->close(ignored);
                    });
}

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
      if (!ec && state->connections >= state->options.max_connections) {
        RefuseConnection(std::move(s), *state);
      } else if (!ec) {
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

std::string HttpServer::MetricsText() const {
  const SharedState& state = *rep_->state;
  return "# HELP papr_http_connections_open Open HTTP connections (server.max_connections caps "
         "them).\n# TYPE papr_http_connections_open gauge\npapr_http_connections_open " +
         std::to_string(state.connections.load()) +
         "\n# HELP papr_http_connections_refused_total Connections refused at the cap.\n"
         "# TYPE papr_http_connections_refused_total counter\n"
         "papr_http_connections_refused_total " +
         std::to_string(state.refused_connections.load()) + "\n";
}

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
