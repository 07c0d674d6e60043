// papr: the product's command-line helper.
//   papr check-limits --server URL --api-key KEY [-o text|json|jsonl] [--json]
// prints the user's batch-size usage against the edition's limits (from GET /v1/usage) and,
// when batches do not fit, the recommendation and the Cloud edition's benefits. Exit 0 when
// the batches fit, 3 when they exceed the limits (the report is printed either way), 1 when
// the server could not be asked, 2 on usage errors. `papr --help` prints the usage, exit 0.
#include <cstdio>
#include <cstdlib>
#include <string>

#include <simdjson.h>

#include "net/http_client.h"

namespace {

constexpr int kExceedsLimits = 3;

constexpr const char* kUsage =
    "usage: papr check-limits --server URL --api-key KEY [-o text|json|jsonl] [--json]\n"
    "  env: PAPR_SERVER, PAPR_API_KEY\n"
    "  exit: 0 batches fit the limits, 3 they exceed them, 1 server not reached, 2 usage\n";

// A usage error: what is wrong (if anything), then the usage, exit 2.
int Usage(const std::string& problem = "") {
  if (!problem.empty()) std::fprintf(stderr, "papr: %s\n", problem.c_str());
  std::fputs(kUsage, stderr);
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

struct Options {
  std::string server;
  std::string key;
  bool json = false;  // -o json|jsonl (one line either way), --json
};

// Parses check-limits' flags; a usage error's exit code, or -1.
int ParseFlags(int argc, char** argv, Options* o) {
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    bool has_value = i + 1 < argc;
    if (a == "--json") {
      o->json = true;
    } else if (a == "--server" || a == "--api-key" || a == "-o" || a == "--output") {
      if (!has_value) return Usage(a + " needs a value");
      std::string v = argv[++i];
      if (a == "--server") o->server = v;
      if (a == "--api-key") o->key = v;
      if (a == "-o" || a == "--output") {
        if (v != "text" && v != "json" && v != "jsonl") {
          return Usage("-o takes text, json or jsonl, not " + v);
        }
        o->json = v != "text";
      }
    } else {
      return Usage("unknown flag " + a);
    }
  }
  if (o->server.empty()) return Usage("--server (or PAPR_SERVER) is required");
  if (o->key.empty()) return Usage("--api-key (or PAPR_API_KEY) is required");
  return -1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string command = argc < 2 ? "" : argv[1];
  if (command == "--help" || command == "-h" || command == "help") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (command != "check-limits") {
    return Usage(command.empty() ? "" : "unknown command " + command);
  }
  Options o;
  o.server = std::getenv("PAPR_SERVER") ? std::getenv("PAPR_SERVER") : "";
  o.key = std::getenv("PAPR_API_KEY") ? std::getenv("PAPR_API_KEY") : "";
  if (int bad = ParseFlags(argc, argv, &o); bad >= 0) return bad;
  std::string server = o.server;
  const std::string& key = o.key;
  const bool json = o.json;
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
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(resp->body).get(doc) != simdjson::SUCCESS) {
    std::fprintf(stderr, "papr: the server's answer is not JSON\n");
    return 1;
  }
  if (json) {
    bool exceeds = false;
    Read(doc["exceeds_limits"], &exceeds);
    std::printf("%s\n", simdjson::minify(doc).c_str());
    return exceeds ? kExceedsLimits : 0;
  }
  std::string_view edition, recommendation, url;
  Read(doc["edition"], &edition);
  Read(doc["upgrade_url"], &url);
  double average = 0;
  Read(doc["usage"]["average_batch_size"], &average);
  bool over = false;
  Read(doc["exceeds_limits"], &over);
  std::string_view plan, next_plan;
  Read(doc["limits"]["plan"], &plan);
  Read(doc["limits"]["next_plan"], &next_plan);
  std::printf("Edition:                      %.*s\n", static_cast<int>(edition.size()), edition.data());
  const std::string next = next_plan.empty() ? "" : " (next plan up: " + std::string(next_plan) + ")";
  std::printf("Plan:                         %.*s%s\n", static_cast<int>(plan.size()), plan.data(),
              next.c_str());
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
  return kExceedsLimits;
}
