// bench/soak: the crash loop of tests/integration/reliability_crash_loop_test.cc as a long
// standalone soak. Starts the real papr-server (cloud edition, fsync on, temp data dir,
// 127.0.0.1:0) and an in-process Standard Webhooks receiver, then, while 10,000-memory batches
// (a new one whenever the previous one ended) and a stream of small batches (1-20 memories,
// half with an Idempotency-Key, each with a signed webhook) are submitted, kills the server
// with SIGKILL at pseudo-random moments (deterministic seed) and restarts it. At the end every
// accepted batch must be completed with exact counts, every memory stored exactly once
// (results pages + token searches) and every webhook delivered. Prints the figures; exit code
// 0 if nothing was violated, 1 otherwise.
//
// Usage: soak [--kills N] [--minutes M] [--seed S] [--big MEMORIES] [--verbose]
//   --kills N     stop after N kills (default 200; 0: no limit, needs --minutes)
//   --minutes M   stop the kill loop after M minutes (default: none). With both, the kills are
//                 spread over the M minutes (mean interval M*60/N s) and the loop ends at
//                 whichever limit comes first.
//   --big N       memories of each big batch (default 10000)
#include <cstdio>
#include <cstdlib>
#include <string>

#define PAPR_CRASH_LOOP_NO_TESTS 1
#include "tests/integration/reliability_crash_loop_test.cc"

namespace {

int Usage(const char* argv0) {
  std::fprintf(stderr,
               "usage: %s [--kills N] [--minutes M] [--seed S] [--big MEMORIES] [--verbose]\n",
               argv0);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
#if !PAPR_WITH_ENGINE
  std::fprintf(stderr, "soak needs the cloud edition: this build has PAPR_WITH_ENGINE=0\n");
  return 2;
#endif
  using papr::integration::crash_loop::CrashLoopOptions;
  CrashLoopOptions o;
  o.kills = 200;
  o.repeat_big_batch = true;
  o.final_wait_seconds = 900;
  o.big_search_sample = 200;
  o.small_search_sample = 3000;
  o.min_kill_interval_ms = 500;
  o.max_kill_interval_ms = 5000;
  o.early_kills = 0;
  bool kills_given = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](const char** out) {
      if (i + 1 >= argc) return false;
      *out = argv[++i];
      return true;
    };
    const char* v = nullptr;
    if (arg == "--kills" && value(&v)) {
      o.kills = std::atoi(v);
      kills_given = true;
    } else if (arg == "--minutes" && value(&v)) {
      o.minutes = std::atof(v);
    } else if (arg == "--seed" && value(&v)) {
      o.seed = std::strtoull(v, nullptr, 0);
    } else if (arg == "--big" && value(&v)) {
      o.big_batch_memories = std::atoi(v);
    } else if (arg == "--verbose") {
      o.verbose = true;
    } else {
      return Usage(argv[0]);
    }
  }
  if (o.kills < 0 || o.minutes < 0 || o.big_batch_memories < 1 ||
      (o.kills == 0 && o.minutes <= 0)) {
    return Usage(argv[0]);
  }
  if (o.minutes > 0 && !kills_given) o.kills = 0;  // only the time limit
  if (o.minutes > 0 && o.kills > 0) {
    // Spread the kills over the run: uniform in [0.3, 1.7] x the mean interval.
    double mean_ms = o.minutes * 60000.0 / o.kills;
    o.min_kill_interval_ms = std::max(50, static_cast<int>(mean_ms * 0.3));
    o.max_kill_interval_ms = std::max(o.min_kill_interval_ms + 1, static_cast<int>(mean_ms * 1.7));
  }
  std::printf("soak: kills %d, minutes %.1f, kill interval %d..%d ms, big batches of %d, seed %llu\n",
              o.kills, o.minutes, o.min_kill_interval_ms, o.max_kill_interval_ms,
              o.big_batch_memories, static_cast<unsigned long long>(o.seed));
  std::fflush(stdout);
  auto report = papr::integration::crash_loop::RunCrashLoop(o);
  std::printf("%s", report.Figures().c_str());
  for (const auto& v : report.violations) std::printf("VIOLATION: %s\n", v.c_str());
  const bool ok = report.violations.empty() && report.restarts_ok == report.kills &&
                  report.batches_checked == report.batches_accepted &&
                  report.webhooks_delivered == report.webhooks_expected;
  std::printf("soak: %s\n", ok ? "PASS" : "FAIL");
  return ok ? 0 : 1;
}
