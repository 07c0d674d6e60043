#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace papr::net {

//! One parsed HTTP request as handlers see it. Header names are lowercase.
struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // path + query as sent
  std::string path;    // percent-decoded path
  std::string query;   // raw query string without '?'
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string remote_address;

  // First header with this lowercase name, or empty.
  std::string_view Header(std::string_view lowercase_name) const;
  // Percent-decoded query parameter; false when absent.
  bool QueryParam(std::string_view name, std::string* value) const;
};

//! The body of a streamed answer (Server-Sent Events): the producer pushes pieces from any
//! thread and closes it; the connection writes them in order and closes after the last. When
//! the client goes away, closed() turns true so the producer can stop. Thread-safe.
class ResponseStream {
 public:
  void Push(std::string data);
  void Close();
  bool closed() const;

  // ---- For the server's connection.
  // `wake` is called (on the producer's thread) whenever data or the close arrives.
  void SetWake(std::function<void()> wake);
  // Takes everything pushed so far; `*done` tells that the stream is closed and drained.
  std::string TakePending(bool* done);
  void MarkClientGone();

 private:
  mutable std::mutex mu_;
  std::string pending_;
  bool closed_ = false;
  std::function<void()> wake_;
};

//! One HTTP answer. A response with `stream` set is sent as headers without a length, then
//! whatever the stream's producer pushes, and the connection closes after the last piece
//! (Server-Sent Events).
struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // When set, `body` is ignored: the headers go out at once, then the stream's pieces.
  std::shared_ptr<ResponseStream> stream;

  static HttpResponse Json(int status, std::string body) {
    HttpResponse r;
    r.status = status;
    r.body = std::move(body);
    return r;
  }
};

// Decodes %XX and (when plus_is_space) '+'. Invalid escapes are kept as is.
std::string PercentDecode(std::string_view s, bool plus_is_space);

}  // namespace papr::net
