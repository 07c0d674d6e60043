#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "common/clock.h"
#include "common/result.h"
#include "config/config.h"
#include "workflows/batch_types.h"

namespace papr::workflows {

//! The outcome of one delivery attempt.
struct WebhookAttempt {
  int64_t status_code = 0;  // 0 when no HTTP answer
  std::string error;        // empty on success
  bool delivered = false;   // 2xx
  bool stop_retrying = false;  // 410 Gone, or a refused target
  int64_t retry_after_seconds = -1;  // from Retry-After, -1 if none
};

//! Builds and sends Standard Webhooks v1 batch callbacks: payload, `webhook-id`,
//! `webhook-timestamp`, `webhook-signature` (HMAC-SHA256 over "{id}.{ts}.{body}").
//! Thread-safe.
class WebhookSender {
 public:
  WebhookSender(config::Webhooks options, const Clock* clock);

  // The event body for a finished batch (`status_url` relative to the server).
  static std::string BuildPayload(const BatchStatus& status, int64_t timestamp_ms);
  // "v1,<base64 HMAC>" for `secret` (whsec_ prefix: base64 key; else raw bytes).
  static Result<std::string> Sign(const std::string& secret, const std::string& id,
                                  int64_t timestamp_seconds, const std::string& body);
  // Checks URL form and, by resolving it, the SSRF policy (for submit-time 400s).
  Status CheckTarget(const std::string& url) const;

  // One attempt with this message id and body; `on_progress` (optional) is called about every
  // second while the receiver is being waited for (an activity heartbeat).
  WebhookAttempt Attempt(const std::string& url, const std::string& secret,
                         const std::string& webhook_id, const std::string& body,
                         std::function<void()> on_progress = nullptr) const;
  // OSS: one attempt with a fresh id; returns what the status shows.
  WebhookStatus DeliverOnce(const BatchStatus& status, const std::string& url,
                            const std::string& secret) const;

 private:
  config::Webhooks options_;
  const Clock* clock_;
};

}  // namespace papr::workflows
