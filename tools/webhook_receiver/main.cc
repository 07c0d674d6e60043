// webhook-receiver: a Standard Webhooks v1 endpoint for trying out and testing papr-server's
// batch webhooks. Prints `listening on http://HOST:PORT` first, then one stderr line per
// request; accepted deliveries go to --out as JSON lines. SIGTERM/SIGINT stop it (exit 0).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "common/stop_signals.h"
#include "tools/webhook_receiver/receiver.h"

namespace {

void Usage() {
  std::fprintf(
      stderr,
      "usage: webhook-receiver [--listen HOST:PORT] [--secret SECRET] [--out FILE]\n"
      "                        [--fail-first N] [--fail-status S] [--retry-after SECONDS]\n"
      "                        [--hang-first N] [--hang-ms MS] [--tolerance-seconds S]\n"
      "  --listen             default 127.0.0.1:0 (a free port)\n"
      "  --secret             whsec_<base64> or raw; without it signatures are not checked\n"
      "  --out                appends {\"webhook_id\",\"timestamp\",\"received_at\",\"body\"}\n"
      "                       per accepted delivery (duplicates of a webhook-id: once)\n"
      "  --fail-first N       answer --fail-status (default 500) to the first N deliveries\n"
      "  --retry-after S      send Retry-After: S with those failures\n"
      "  --hang-first N       answer the first N deliveries only after --hang-ms (30000)\n"
      "  --tolerance-seconds  accepted webhook-timestamp skew (default 300; -1: none)\n");
}

bool ParseInt(const char* text, int64_t* out) {
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0') return false;
  *out = v;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  papr::tools::ReceiverOptions options;
  options.log_requests = true;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      Usage();
      return 0;
    }
    if (i + 1 >= argc) {
      Usage();
      return 2;
    }
    const char* value = argv[++i];
    int64_t n = 0;
    bool is_int = ParseInt(value, &n);
    if (arg == "--listen") {
      options.listen = value;
    } else if (arg == "--secret") {
      options.secret = value;
    } else if (arg == "--out") {
      options.out_path = value;
    } else if (arg == "--fail-first" && is_int) {
      options.fail_first = static_cast<int>(n);
    } else if (arg == "--fail-status" && is_int) {
      options.fail_status = static_cast<int>(n);
    } else if (arg == "--retry-after" && is_int) {
      options.fail_retry_after_seconds = n;
    } else if (arg == "--hang-first" && is_int) {
      options.hang_first = static_cast<int>(n);
    } else if (arg == "--hang-ms" && is_int) {
      options.hang_ms = static_cast<int>(n);
    } else if (arg == "--tolerance-seconds" && is_int) {
      options.tolerance_seconds = n;
    } else {
      std::fprintf(stderr, "webhook-receiver: bad argument %s %s\n", arg.c_str(), value);
      Usage();
      return 2;
    }
  }

  papr::StopSignals stop_signals;  // before any thread starts

  papr::tools::WebhookReceiver receiver(options);
  auto port = receiver.Start();
  if (!port.ok()) {
    std::fprintf(stderr, "webhook-receiver: %s\n", port.status().message().c_str());
    return 1;
  }
  std::printf("listening on %s\n", receiver.Url("").c_str());
  std::fflush(stdout);

  int received = stop_signals.Wait();
  std::fprintf(stderr, "webhook-receiver: %s received, stopping\n", strsignal(received));
  receiver.Stop();
  return 0;
}
