#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <vector>

#include "common/status.h"
#include "storage/batch.h"
#include "storage/postgres/pg_pool.h"

namespace papr::storage::pg {

//! What the writes cost so far (PgStoreStats).
struct WriteGroupStats {
  std::atomic<int64_t> writes{0};       // Write calls
  std::atomic<int64_t> commits{0};      // transactions committed
  std::atomic<int64_t> round_trips{0};  // of transactions, failed ones included
  std::atomic<int64_t> statements{0};   // BEGIN and COMMIT included
  std::atomic<int64_t> rows{0};         // written by committed transactions
  std::atomic<int64_t> insert_conflicts{0};  // groups failed by a taken key, then re-run
};

// Client-side group commit (RocksDB's write group, over the pool): a writer whose batch finds
// a transaction slot free (max_leaders) runs it at once; batches that arrive while every slot
// is busy are queued, and the next writer to get one runs all queued batches (same fence, up
// to kMaxGroupOps ops) as one transaction in one round trip: one commit record and one WAL
// flush instead of one per batch. Their ops are applied in arrival order, as one collapsed
// batch (keys in order: no deadlocks between groups). A group that fails applied nothing;
// each member is then run alone for its own outcome. Batches with Inserts join groups (an
// engine transition almost always has one: a new execution's row, a memory's), though one
// taken key fails the whole group: so after a group fails on a taken key (as when a restart
// resumes work whose rows exist), the next kInsertsAloneAfterConflict batches with Inserts
// run alone, which keeps that churn from re-running every member of group after group.
// Connection loss (Unavailable) and an unknown COMMIT outcome are every member's.
// Thread-safe.
class PgWriteGroup {
 public:
  // At most `max_leaders` transactions in flight at once (the rest of the pool is left to
  // reads).
  PgWriteGroup(PgPool* pool, int max_leaders)
      : pool_(pool), max_leaders_(max_leaders < 1 ? 1 : max_leaders) {}

  // Applies `batch` atomically; the errors of Store::Write.
  Status Write(const Batch& batch);
  const WriteGroupStats& stats() const { return stats_; }

 private:
  struct Entry {
    const Batch* batch;
    Status status = Status::Ok();
    bool taken = false;  // by a leader; guarded by mu_
    bool done = false;   // status set; guarded by mu_
  };
  static constexpr size_t kMaxGroupOps = 20000;
  static constexpr int kInsertsAloneAfterConflict = 256;

  // The queued entries a leader runs next: the oldest and those after it with its fence.
  // REQUIRES: mu_ held.
  std::vector<Entry*> TakeGroup();
  void RunGroup(PgPool::Borrowed& borrowed, const std::vector<Entry*>& group);
  Status RunTransaction(PgPool::Borrowed& borrowed, const std::vector<Entry*>& group);

  PgPool* pool_;
  const int max_leaders_;
  WriteGroupStats stats_;
  std::mutex mu_;
  std::condition_variable changed_;
  std::deque<Entry*> queue_;  // not yet taken, in arrival order; guarded by mu_
  int leaders_ = 0;           // writers running (or getting a connection for) a group
  int inserts_alone_ = 0;     // batches with Inserts still to run alone; guarded by mu_
};

}  // namespace papr::storage::pg
