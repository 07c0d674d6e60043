#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/result.h"

namespace papr::tools {

// The HMAC key of a Standard Webhooks secret: the base64-decoded part after `whsec_` when the
// secret has that prefix, else the secret's raw bytes. InvalidArgument if whsec_ is not base64.
Result<std::string> WebhookKeyFromSecret(std::string_view secret);

// Verifies one Standard Webhooks v1 message. `signature_header` is a space-separated list of
// "<version>,<base64>" entries; any "v1" entry equal (constant time) to the HMAC-SHA256 of
// "{id}.{timestamp}.{body}" under `key` counts. The timestamp (unix seconds) must be within
// `tolerance_seconds` of `now_seconds` (a negative tolerance disables that check).
// An empty `key` skips the signature check. Returns InvalidArgument for a missing id or a
// malformed timestamp, Unauthenticated for a stale timestamp or no matching signature.
Status VerifyWebhook(std::string_view key, std::string_view id, std::string_view timestamp,
                     std::string_view signature_header, std::string_view body, int64_t now_seconds,
                     int64_t tolerance_seconds);

struct ReceiverOptions {
  // "HOST:PORT" to listen on; port 0 picks a free port. Default: 127.0.0.1:0.
  std::string listen = "127.0.0.1:0";
  // Signing secret (whsec_<base64> or raw). Empty: signatures are not checked (a request
  // without webhook-signature is accepted). Default: empty.
  std::string secret;
  // If set, one JSON line per accepted delivery is appended here:
  // {"webhook_id","timestamp","received_at","body":<the JSON body>}. Default: none.
  std::string out_path;
  // The first `fail_first` verified deliveries (duplicates of an accepted id excluded) are
  // answered `fail_status` and not recorded. Default: 0, 500.
  int fail_first = 0;
  int fail_status = 500;
  // Sent as Retry-After (seconds) with those failures when >= 0. Default: -1 (none).
  int64_t fail_retry_after_seconds = -1;
  // The first `hang_first` verified deliveries are answered only after `hang_ms` (then with
  // 504, not recorded); the sender should have given up by then. Applied before fail_first,
  // which also counts them. Default: 0, 30000.
  int hang_first = 0;
  int hang_ms = 30000;
  // Accepted distance between webhook-timestamp and now; negative: no check. Default: 300.
  int64_t tolerance_seconds = 300;
  // One stderr line per answered request. Default: false.
  bool log_requests = false;
};

//! What the receiver saw of one request, and how it answered.
struct ReceivedRequest {
  int64_t received_at_ms = 0;
  std::string webhook_id;  // header values, empty if absent
  std::string timestamp;
  std::string signature;
  bool has_signature = false;  // the webhook-signature header was present
  std::string content_type;
  std::string body;
  int status = 0;          // the answer; 0 while a hung request is still held
  std::string error;       // why it was not accepted; empty for a 2xx answer
  bool verified = false;   // passed the timestamp and signature checks
  bool duplicate = false;  // an already-accepted webhook-id (answered 200, not recorded)
  bool hung = false;       // held back by hang_first
};

//! A Standard Webhooks v1 receiver on net::HttpServer for tests and the `webhook-receiver`
//! tool: verifies timestamp and signature, deduplicates by webhook-id, appends accepted
//! deliveries to a JSON-lines file, and can fail or hang the first deliveries on purpose.
//! Thread-safe.
class WebhookReceiver {
 public:
  explicit WebhookReceiver(ReceiverOptions options, const Clock* clock = SystemClock::Default());
  ~WebhookReceiver();
  WebhookReceiver(const WebhookReceiver&) = delete;
  WebhookReceiver& operator=(const WebhookReceiver&) = delete;

  // Validates the options, opens `out_path`, binds and starts serving. Returns the port.
  Result<int> Start();
  // Answers held (hung) requests with 503, then stops the server. Idempotent.
  void Stop();

  int port() const;
  // "http://<host>:<port><path>" of the listening address.
  std::string Url(std::string_view path = "/webhook") const;

  // Every request so far, in arrival order.
  std::vector<ReceivedRequest> Requests() const;
  // The accepted deliveries (one per webhook-id), in arrival order.
  std::vector<ReceivedRequest> Deliveries() const;
  // Wait until at least `n` requests / accepted deliveries were seen; false on timeout.
  bool WaitForRequests(size_t n, std::chrono::milliseconds timeout) const;
  bool WaitForDeliveries(size_t n, std::chrono::milliseconds timeout) const;

 private:
  struct Rep;
  std::unique_ptr<Rep> rep_;
};

}  // namespace papr::tools
