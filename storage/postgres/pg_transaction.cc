#include "storage/postgres/pg_transaction.h"

#include <libpq-fe.h>

#include <cstring>
#include <string>
#include <string_view>

#include "storage/postgres/pg_sql.h"

namespace papr::storage::pg {
namespace {

//! Queues the pipeline's statements; remembers whether COMMIT was queued (from then on a lost
//! connection leaves the outcome unknown).
class PipelineSender {
 public:
  explicit PipelineSender(pg_conn* conn) : conn_(conn) {}

  bool SendSql(const char* sql) {
    ++sent_;
    return PQsendQueryParams(conn_, sql, 0, nullptr, nullptr, nullptr, nullptr, 1) == 1;
  }
  bool SendPrepared(const std::string& name, const PgParams& p) {
    ++sent_;
    return PQsendQueryPrepared(conn_, name.c_str(), p.count(), p.values(), p.lengths(),
                               p.formats(), 1) == 1;
  }
  bool SendCommitAndSync() {
    commit_queued_ = true;
    return SendSql("COMMIT") && PQpipelineSync(conn_) == 1;
  }
  int sent() const { return sent_; }
  bool commit_queued() const { return commit_queued_; }

 private:
  pg_conn* conn_;
  int sent_ = 0;
  bool commit_queued_ = false;
};

bool SendAll(PipelineSender& sender, const std::optional<Fence>& fence, bool no_sync,
             const std::vector<StatementCall>& calls) {
  if (!sender.SendSql("BEGIN")) return false;
  if (no_sync && !sender.SendSql("SET LOCAL synchronous_commit = off")) return false;
  if (fence.has_value()) {
    PgParams params;
    params.Int4(static_cast<int32_t>(fence->shard)).Int8(fence->range_id);
    if (!sender.SendPrepared(kShardFence, params)) return false;
  }
  for (const StatementCall& call : calls) {
    if (!sender.SendPrepared(call.statement, call.params)) return false;
  }
  return sender.SendCommitAndSync();
}

//! The results of the pipeline, in order: the first error, and whether COMMIT succeeded.
struct PipelineOutcome {
  Status first_error = Status::Ok();
  bool commit_failed_uncertainly = false;  // COMMIT's own error says the session ended
  bool committed = false;
  bool connection_lost = false;
};

// An error of COMMIT itself that ends the session (terminated, shut down, connection failure)
// leaves its outcome open: a backend terminated while waiting for its commit record to
// replicate has committed locally. Other errors of COMMIT (a deferred constraint) abort.
bool EndsSession(const pg_result* result) {
  const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE);
  if (state == nullptr) return true;
  std::string_view code(state);
  return code.starts_with("57P") || code.starts_with("08");
}

PipelineOutcome ReadResults(PgConnection& conn, int statements) {
  PipelineOutcome out;
  for (int i = 0; i < statements; ++i) {
    PgResult result(PQgetResult(conn.raw()));
    if (result == nullptr || !conn.connection_ok()) {
      out.connection_lost = true;
      return out;
    }
    ExecStatusType status = PQresultStatus(result.get());
    if (status == PGRES_FATAL_ERROR && out.first_error.ok()) {
      out.first_error = StatusFromResult(result.get(), conn.connection_ok(), "write");
      out.commit_failed_uncertainly = i == statements - 1 && EndsSession(result.get());
    }
    if (!conn.connection_ok()) {
      out.connection_lost = true;
      return out;
    }
    if (i == statements - 1 && status == PGRES_COMMAND_OK) {
      out.committed = std::strcmp(PQcmdStatus(result.get()), "COMMIT") == 0;
    }
    PgResult end(PQgetResult(conn.raw()));  // the NULL closing each statement's results
  }
  PgResult sync(PQgetResult(conn.raw()));  // PGRES_PIPELINE_SYNC
  out.connection_lost = sync == nullptr || !conn.connection_ok();
  return out;
}

Status Finish(PgConnection& conn, const PipelineOutcome& out, bool commit_sent) {
  if (out.commit_failed_uncertainly || (out.connection_lost && out.first_error.ok())) {
    if (!commit_sent) return Status::Unavailable("postgres connection lost before COMMIT");
    return Status::UnknownOutcome(
        "postgres connection lost during COMMIT: the write may or may not be applied; re-read");
  }
  if (conn.connection_ok()) PQexitPipelineMode(conn.raw());
  if (!out.first_error.ok()) {
    if (conn.connection_ok()) conn.ExecSql("ROLLBACK").IgnoreError();  // unusable otherwise
    return out.first_error;
  }
  if (!out.committed) return Status::Internal("COMMIT did not commit");
  return Status::Ok();
}

}  // namespace

Status RunPipelinedTransaction(PgConnection& conn, const std::optional<Fence>& fence,
                               bool no_sync, const std::vector<StatementCall>& calls,
                               TransactionCost* cost) {
  if (PQenterPipelineMode(conn.raw()) != 1) {
    return Status::Unavailable("postgres connection not ready for a pipeline");
  }
  PipelineSender sender(conn.raw());
  bool sent = SendAll(sender, fence, no_sync, calls);
  if (!sent && !sender.commit_queued()) {
    return Status::Unavailable("postgres connection lost before COMMIT was sent");
  }
  PipelineOutcome out = ReadResults(conn, sender.sent());
  cost->round_trips += 1;
  cost->statements += sender.sent();
  return Finish(conn, out, sender.commit_queued());
}

}  // namespace papr::storage::pg
