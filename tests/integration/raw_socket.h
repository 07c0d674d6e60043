#pragma once

#include <chrono>
#include <string>

// Raw TCP clients for tests about the wire (request smuggling, slow clients): bytes go out
// exactly as given, and everything the server sends comes back unparsed.

namespace papr::integration {

//! One blocking TCP connection to 127.0.0.1:port. Closes in the destructor. Not thread-safe.
class RawConnection {
 public:
  explicit RawConnection(int port);
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool connected() const { return fd_ >= 0; }
  // Sends all of `bytes`; false if the peer closed or the send failed.
  bool Send(const std::string& bytes);
  // Reads until the peer closes or `timeout` passes; `*closed` tells which.
  std::string ReadUntilClose(std::chrono::milliseconds timeout, bool* closed = nullptr);
  // Whether the peer has closed the connection (non-blocking check; reads and drops data).
  bool PeerClosed();

 private:
  int fd_ = -1;
};

// Sends `bytes` on a new connection and returns all the server sent until it closed (or
// `timeout` passed).
std::string RawExchange(int port, const std::string& bytes,
                        std::chrono::milliseconds timeout = std::chrono::seconds(5),
                        bool* closed = nullptr);

// Number of HTTP/1.1 status lines ("HTTP/1.1 ") in a raw answer stream.
int CountResponses(const std::string& raw);

}  // namespace papr::integration
