#include "engine/engine_metrics.h"

namespace papr::engine {
namespace {

void Counter(std::string* out, const char* name, const char* help, int64_t value,
             const char* type = "counter") {
  *out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
  *out += std::string(name) + " " + std::to_string(value) + "\n";
}

}  // namespace

std::string EngineMetrics::Render() const {
  std::string out;
  out += "# HELP papr_engine_commit_seconds Synced commit (WAL fsync) latency of transitions.\n";
  out += "# TYPE papr_engine_commit_seconds histogram\n";
  commit_seconds.Render(&out, "papr_engine_commit_seconds");
  out += "# HELP papr_engine_events_per_commit History events written per transition commit.\n";
  out += "# TYPE papr_engine_events_per_commit histogram\n";
  events_per_commit.Render(&out, "papr_engine_events_per_commit");
  out += "# HELP papr_engine_activity_seconds Activity attempt latency.\n";
  out += "# TYPE papr_engine_activity_seconds histogram\n";
  activity_seconds.Render(&out, "papr_engine_activity_seconds");
  Counter(&out, "papr_engine_activity_attempts_total", "Activity attempts run.",
          activity_attempts.load());
  Counter(&out, "papr_engine_activity_attempt_failures_total", "Activity attempts that failed.",
          activity_attempt_failures.load());
  Counter(&out, "papr_engine_activity_retries_total", "Failed attempts that were retried.",
          activity_retries.load());
  Counter(&out, "papr_engine_activities_failed_total",
          "Activities that failed for good (retries exhausted or not retryable).",
          activities_failed.load());
  // Base unit seconds (Prometheus' convention; promtool refuses milliseconds).
  out += "# HELP papr_engine_recovery_seconds Duration of the last start-up recovery.\n";
  out += "# TYPE papr_engine_recovery_seconds gauge\n";
  out += "papr_engine_recovery_seconds " + std::to_string(recovery_ms.load() / 1000.0) + "\n";
  Counter(&out, "papr_engine_recovered_workflows", "Open workflows resumed by the last recovery.",
          recovered_workflows.load(), "gauge");
  Counter(&out, "papr_engine_commit_failures_total",
          "Workflow commits the store refused or lost (the execution is rebuilt from the store).",
          commit_failures.load());
  Counter(&out, "papr_engine_rebuilt_workflows_total",
          "Executions rebuilt from the store after a failed commit.", rebuilt_workflows.load());
  Counter(&out, "papr_engine_rebuilds_pending", "Executions waiting to be rebuilt.",
          rebuilds_pending.load(), "gauge");
  Counter(&out, "papr_engine_inbox_posted_total",
          "Starts and requests posted to the inbox of a shard another node owns (cluster mode).",
          inbox_posted.load());
  Counter(&out, "papr_engine_inbox_applied_total",
          "Posted starts and requests this node applied as its shard's owner (cluster mode).",
          inbox_applied.load());
  Counter(&out, "papr_engine_fencing_rejections_total",
          "Commits refused because this node no longer held the shard's lease (cluster mode).",
          fencing_rejections.load());
  return out;
}

}  // namespace papr::engine
