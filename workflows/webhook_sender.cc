#include "workflows/webhook_sender.h"

#include <boost/asio/ip/tcp.hpp>

#include "common/crypto.h"
#include "common/json_writer.h"
#include "net/address_policy.h"
#include "net/http_client.h"

namespace papr::workflows {
namespace {

const char* EventType(BatchState state) {
  switch (state) {
    case BatchState::kCompleted: return "batch.completed";
    case BatchState::kPartial: return "batch.partial";
    case BatchState::kCancelled: return "batch.cancelled";
    case BatchState::kTerminated: return "batch.terminated";
    default: return "batch.failed";
  }
}

}  // namespace

WebhookSender::WebhookSender(config::Webhooks options, const Clock* clock)
    : options_(std::move(options)), clock_(clock) {}

std::string WebhookSender::BuildPayload(const BatchStatus& st, int64_t timestamp_ms) {
  JsonWriter w;
  w.BeginObject().Field("type", EventType(st.state)).Field("timestamp", FormatRfc3339(timestamp_ms));
  w.Key("data").BeginObject();
  w.Field("batch_id", st.batch_id).Field("status", BatchStateName(st.state));
  w.Field("total_memories", st.total).Field("successful_memories", st.succeeded);
  w.Field("failed_memories", st.failed);
  w.Key("errors").BeginArray();
  for (size_t i = 0; i < st.errors.size() && i < 100; ++i) {
    w.BeginObject().Field("index", st.errors[i].index).Field("error", st.errors[i].error).EndObject();
  }
  w.EndArray();
  w.Field("completed_at", FormatRfc3339(st.completed_at_ms));
  int64_t start = st.started_at_ms ? st.started_at_ms : st.created_at_ms;
  w.Field("processing_time_ms", std::max<int64_t>(0, st.completed_at_ms - start));
  w.Field("status_url", "/v1/memory/batch/status/" + st.batch_id);
  w.EndObject().EndObject();
  return w.Take();
}

Result<std::string> WebhookSender::Sign(const std::string& secret, const std::string& id,
                                        int64_t timestamp_seconds, const std::string& body) {
  std::string key = secret;
  if (secret.rfind("whsec_", 0) == 0 && !Base64Decode(secret.substr(6), &key)) {
    return Status::InvalidArgument("webhook_secret has the whsec_ prefix but is not base64");
  }
  std::string to_sign = id + "." + std::to_string(timestamp_seconds) + "." + body;
  return "v1," + Base64Encode(HmacSha256(key, to_sign));
}

Status WebhookSender::CheckTarget(const std::string& url) const {
  ASSIGN_OR_RETURN(net::Url parsed, net::ParseUrl(url));
  if (options_.allow_private_targets) return Status::Ok();
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::resolver resolver(ioc);
  boost::system::error_code ec;
  auto results = resolver.resolve(parsed.host, parsed.port, ec);
  if (ec) return Status::InvalidArgument("webhook_url host cannot be resolved: " + parsed.host);
  for (const auto& entry : results) {
    Status s = net::CheckOutboundAddress(entry.endpoint().address().to_string(), false);
    if (!s.ok()) return Status::InvalidArgument(s.message());
  }
  return Status::Ok();
}

WebhookAttempt WebhookSender::Attempt(const std::string& url, const std::string& secret,
                                      const std::string& webhook_id,
                                      const std::string& body,
                                      std::function<void()> on_progress) const {
  WebhookAttempt attempt;
  int64_t ts = clock_->NowMillis() / 1000;
  net::HttpClientRequest request;
  request.url = url;
  request.body = body;
  request.timeout_ms = static_cast<int>(options_.timeout_seconds * 1000);
  request.max_response_bytes = 64 * 1024;
  request.on_progress = std::move(on_progress);
  request.headers = {{"content-type", "application/json"},
                     {"webhook-id", webhook_id},
                     {"webhook-timestamp", std::to_string(ts)}};
  if (!secret.empty()) {
    auto signature = Sign(secret, webhook_id, ts, body);
    if (!signature.ok()) {
      attempt.error = signature.status().message();
      attempt.stop_retrying = true;
      return attempt;
    }
    request.headers.emplace_back("webhook-signature", *signature);
  }
  bool allow_private = options_.allow_private_targets;
  request.address_check = [allow_private](const std::string& ip) {
    return net::CheckOutboundAddress(ip, allow_private);
  };
  auto response = net::HttpCall(request);
  if (!response.ok()) {
    attempt.error = response.status().message();
    attempt.stop_retrying = response.status().code() == StatusCode::kFailedPrecondition ||
                            response.status().code() == StatusCode::kInvalidArgument;
    return attempt;
  }
  attempt.status_code = response->status;
  attempt.delivered = response->status >= 200 && response->status < 300;
  attempt.stop_retrying = response->status == 410;
  if (!attempt.delivered) attempt.error = "receiver answered " + std::to_string(response->status);
  std::string_view retry_after = response->Header("retry-after");
  if (!retry_after.empty()) {
    try {
      // Capped: a receiver cannot park a delivery for longer than a day per attempt.
      attempt.retry_after_seconds =
          std::min<int64_t>(std::stoll(std::string(retry_after)), 24 * 3600);
    } catch (...) {
      attempt.retry_after_seconds = -1;  // HTTP-date form: fall back to the schedule
    }
  }
  return attempt;
}

WebhookStatus WebhookSender::DeliverOnce(const BatchStatus& status, const std::string& url,
                                         const std::string& secret) const {
  std::string body = BuildPayload(status, clock_->NowMillis());
  WebhookAttempt attempt = Attempt(url, secret, "msg_" + RandomHexId(), body);
  WebhookStatus out;
  out.url = url;
  out.attempts = 1;
  out.last_status_code = attempt.status_code;
  out.last_error = attempt.error;
  out.state = attempt.delivered ? WebhookState::kDelivered : WebhookState::kFailed;
  return out;
}

}  // namespace papr::workflows
