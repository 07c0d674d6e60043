#include "net/http_client.h"

#include <algorithm>
#include <chrono>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "common/ascii.h"

namespace papr::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// Client TLS settings shared by all calls: peer verification against the system CA store.
asio::ssl::context& TlsContext() {
  static asio::ssl::context* ctx = [] {
    auto* c = new asio::ssl::context(asio::ssl::context::tls_client);
    c->set_default_verify_paths();
    c->set_verify_mode(asio::ssl::verify_peer);
    c->set_options(asio::ssl::context::no_sslv2 | asio::ssl::context::no_sslv3 |
                   asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
    return c;
  }();
  return *ctx;
}

Status ErrorStatus(const beast::error_code& e, const std::string& what) {
  if (e == beast::error::timeout) return Status::DeadlineExceeded(what + " timed out");
  return Status::Unavailable(what + ": " + e.message());
}

// Writes the request and reads the answer on a connected (and, for TLS, handshaken) stream.
template <typename Stream>
void Exchange(Stream& stream, http::request<http::string_body>& req, beast::flat_buffer& buffer,
              http::response_parser<http::string_body>& parser, Status& failure) {
  http::async_write(stream, req, [&](beast::error_code we, size_t) {
    if (we) {
      failure = ErrorStatus(we, "sending the request");
      return;
    }
    http::async_read(stream, buffer, parser, [&](beast::error_code re, size_t) {
      if (re && re != http::error::body_limit) failure = ErrorStatus(re, "reading the response");
    });
  });
}

// Second line of defence against request splitting: nothing that reaches the request line or a
// header may carry a control byte, whatever the caller validated.
Status CheckRequestBytes(const HttpClientRequest& request, const Url& url) {
  if (HasControlByte(url.target) || HasControlByte(url.host) || HasControlByte(request.method) ||
      url.target.find(' ') != std::string::npos || request.method.find(' ') != std::string::npos) {
    return Status::InvalidArgument("request line holds a control byte or a space");
  }
  for (const auto& [name, value] : request.headers) {
    if (HasControlByte(name) || HasControlByte(value) || name.find_first_of(" :") != std::string::npos) {
      return Status::InvalidArgument("header " + (HasControlByte(name) ? std::string("name") : name) +
                                     " holds a control byte");
    }
  }
  return Status::Ok();
}

}  // namespace

std::string_view HttpClientResponse::Header(std::string_view lowercase_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lowercase_name) return value;
  }
  return {};
}

Result<HttpClientResponse> HttpCall(const HttpClientRequest& request) {
  ASSIGN_OR_RETURN(Url url, ParseUrl(request.url));
  RETURN_IF_ERROR(CheckRequestBytes(request, url));
  const bool tls = url.scheme == "https";
  asio::io_context ioc;
  tcp::resolver resolver(ioc);
  beast::ssl_stream<beast::tcp_stream> tls_stream(ioc, TlsContext());
  beast::tcp_stream& stream = beast::get_lowest_layer(tls_stream);
  auto timeout = std::chrono::milliseconds(request.timeout_ms);
  auto deadline = std::chrono::steady_clock::now() + timeout;

  beast::error_code ec;
  tcp::resolver::results_type endpoints;
  // An IP literal needs no resolver (whose background thread costs more than the call).
  boost::system::error_code literal_ec;
  auto literal = asio::ip::make_address(url.host, literal_ec);
  if (!literal_ec) {
    endpoints = tcp::resolver::results_type::create(
        tcp::endpoint(literal, static_cast<unsigned short>(std::stoi(url.port))), url.host,
        url.port);
  } else {
    // Resolution is bounded by the same deadline.
    resolver.async_resolve(url.host, url.port,
                           [&](beast::error_code e, tcp::resolver::results_type r) {
                             ec = e;
                             endpoints = std::move(r);
                           });
    ioc.run_until(deadline);
    if (!ioc.stopped()) {
      resolver.cancel();
      return Status::DeadlineExceeded("resolving " + url.host + " timed out");
    }
    ioc.restart();
  }
  if (ec) return Status::Unavailable("cannot resolve " + url.host + ": " + ec.message());
  if (request.address_check) {
    for (const auto& entry : endpoints) {
      RETURN_IF_ERROR(request.address_check(entry.endpoint().address().to_string()));
    }
  }

  http::request<http::string_body> req{http::string_to_verb(request.method), url.target, 11};
  req.set(http::field::host, url.host);
  req.set(http::field::user_agent, "papr-server");
  for (const auto& [name, value] : request.headers) req.set(name, value);
  req.body() = request.body;
  req.prepare_payload();

  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(request.max_response_bytes);
  HttpClientResponse response;
  Status failure;

  stream.expires_at(deadline);
  stream.async_connect(endpoints, [&](beast::error_code e, const tcp::endpoint& ep) {
    if (e) {
      failure = e == beast::error::timeout
                    ? Status::DeadlineExceeded("connect to " + url.host + " timed out")
                    : Status::Unavailable("connect to " + url.host + ": " + e.message());
      return;
    }
    response.remote_address = ep.address().to_string();
    if (request.address_check) {
      failure = request.address_check(response.remote_address);
      if (!failure.ok()) return;
    }
    if (!tls) return Exchange(stream, req, buffer, parser, failure);
    // TLS: SNI, certificate chain and host name verified against the system CA store.
    if (!SSL_set_tlsext_host_name(tls_stream.native_handle(), url.host.c_str())) {
      failure = Status::Unavailable("TLS: cannot set the server name");
      return;
    }
    tls_stream.set_verify_callback(asio::ssl::host_name_verification(url.host));
    tls_stream.async_handshake(asio::ssl::stream_base::client, [&](beast::error_code he) {
      if (he) {
        failure = ErrorStatus(he, "TLS handshake with " + url.host);
        return;
      }
      Exchange(tls_stream, req, buffer, parser, failure);
    });
  });
  if (!request.on_progress) {
    ioc.run();
  } else {
    auto interval = std::chrono::milliseconds(std::max(1, request.progress_interval_ms));
    // run_for returns early once the exchange is done (the context runs out of work).
    while (ioc.run_for(interval), !ioc.stopped()) request.on_progress();
  }
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  if (!failure.ok()) return failure;
  if (!parser.is_header_done()) return Status::Unavailable("no response from " + url.host);
  auto& msg = parser.get();
  response.status = static_cast<int>(msg.result_int());
  for (const auto& field : msg) {
    response.headers.emplace_back(AsciiLower(field.name_string()), std::string(field.value()));
  }
  response.body = std::move(msg.body());
  return response;
}

}  // namespace papr::net
