// papr: the product's command-line helper.
//   papr check-limits --server URL --api-key KEY [--json]
// prints the user's batch-size usage against the edition's limits (from GET /v1/usage) and,
// when batches do not fit, the recommendation and the Cloud edition's benefits. Exit 0 when
// the report was printed, 1 when the server could not be asked, 2 on usage errors.
#include <cstdio>
#include <cstdlib>
#include <string>

#include <simdjson.h>

#include "net/http_client.h"

namespace {

int Usage() {
  std::fprintf(stderr, "usage: papr check-limits --server URL --api-key KEY [--json]\n"
                       "  env: PAPR_SERVER, PAPR_API_KEY\n");
  return 2;
}

// Reads a value, leaving the default when absent or of another type.
template <typename T>
void Read(simdjson::simdjson_result<simdjson::dom::element> field, T* out) {
  if (field.get(*out) != simdjson::SUCCESS) *out = T{};
}

int64_t IntAt(simdjson::dom::element doc, const char* a, const char* b) {
  int64_t v = 0;
  return doc[a][b].get(v) == simdjson::SUCCESS ? v : 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]) != "check-limits") return Usage();
  std::string server = std::getenv("PAPR_SERVER") ? std::getenv("PAPR_SERVER") : "";
  std::string key = std::getenv("PAPR_API_KEY") ? std::getenv("PAPR_API_KEY") : "";
  bool json = false;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--json") {
      json = true;
    } else if (a == "--server" && i + 1 < argc) {
      server = argv[++i];
    } else if (a == "--api-key" && i + 1 < argc) {
      key = argv[++i];
    } else {
      return Usage();
    }
  }
  if (server.empty() || key.empty()) return Usage();
  while (!server.empty() && server.back() == '/') server.pop_back();
  papr::net::HttpClientRequest req;
  req.method = "GET";
  req.url = server + "/v1/usage";
  req.headers = {{"x-api-key", key}};
  req.timeout_ms = 10000;
  auto resp = papr::net::HttpCall(req);
  if (!resp.ok()) {
    std::fprintf(stderr, "papr: cannot reach %s: %s\n", server.c_str(),
                 resp.status().message().c_str());
    return 1;
  }
  if (resp->status != 200) {
    std::fprintf(stderr, "papr: server answered %d: %s\n", resp->status, resp->body.c_str());
    return 1;
  }
  if (json) {
    std::printf("%s\n", resp->body.c_str());
    return 0;
  }
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(resp->body).get(doc) != simdjson::SUCCESS) {
    std::fprintf(stderr, "papr: the server's answer is not JSON\n");
    return 1;
  }
  std::string_view edition, recommendation, url;
  Read(doc["edition"], &edition);
  Read(doc["upgrade_url"], &url);
  double average = 0;
  Read(doc["usage"]["average_batch_size"], &average);
  bool over = false;
  Read(doc["exceeds_limits"], &over);
  std::printf("Edition:                      %.*s\n", static_cast<int>(edition.size()), edition.data());
  std::printf("Batch size limit:             %lld\n",
              static_cast<long long>(IntAt(doc, "limits", "max_batch_size")));
  std::printf("Batches attempted:            %lld\n",
              static_cast<long long>(IntAt(doc, "usage", "batches_attempted")));
  std::printf("Average batch size:           %.1f\n", average);
  std::printf("Largest batch attempted:      %lld\n",
              static_cast<long long>(IntAt(doc, "usage", "max_batch_size_attempted")));
  std::printf("Rejected as too large:        %lld\n",
              static_cast<long long>(IntAt(doc, "usage", "batches_rejected_for_size")));
  if (!over) {
    std::printf("\nYour batches fit the limits of this edition.\n");
    return 0;
  }
  if (doc["recommendation"].get(recommendation) == simdjson::SUCCESS) {
    std::printf("\nRecommendation: %.*s\n", static_cast<int>(recommendation.size()),
                recommendation.data());
  }
  simdjson::dom::array benefits;
  if (doc["cloud_benefits"].get(benefits) == simdjson::SUCCESS && benefits.size() > 0) {
    std::printf("Cloud benefits:\n");
    for (auto b : benefits) {
      std::string_view s;
      if (b.get(s) == simdjson::SUCCESS) std::printf("  - %.*s\n", static_cast<int>(s.size()), s.data());
    }
  }
  std::printf("Upgrade: %.*s\n", static_cast<int>(url.size()), url.data());
  return 0;
}
