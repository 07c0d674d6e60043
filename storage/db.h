#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace rocksdb {
class ColumnFamilyHandle;
class DB;
}  // namespace rocksdb

namespace papr::storage {

class Store;

//! The tables of the one RocksDB database; each is a column family. Never renumber: the
//! numeric value is not persisted, but names are (see TableName in db.cc).
enum class Table {
  kMeta = 0,         // schema version, per-user counters
  kMemories,         // user \0 memory_id -> MemoryRecord
  kPostings,         // retired (one key per posting, before search/ segments); kept so numbering stays
  kUserStats,        // user -> (doc_count, total_len), merge-added
  kUsage,            // user -> batch size usage counters
  kHistory,          // engine: workflow_id \0 last event_id(BE64) -> a page of events
  kExecutions,       // engine: workflow_id -> execution state (derived)
  kTimers,           // engine: fire_time(BE64) workflow_id \0 timer_id -> ""
  kVisibility,       // engine: status/type/start-time index
  kBlobs,            // engine: large inputs stored once, referenced by key
  kActivities,       // engine: workflow_id \0 BE64 activity_id -> activity outcome
  kIndexQueue,       // BE64 sequence -> memory not yet in the search index
  kSegments,         // search index: segments and their tombstones (search/)
  kInbox,            // cluster: requests for a shard's owner, written by any node (engine)
  kEndUsers,         // an API key's end users (/v1/user) and their external ids
  kCount,
};
const char* TableName(Table t);

//! Options for opening the database. Plain struct, one comment per field.
struct DbOptions {
  // Directory of the RocksDB database. Created if missing (unless read_only).
  std::string path;
  // Sync the WAL on every Write before it returns. With false a crash may lose the last
  // writes. Default: true.
  bool sync_writes = true;
  // Open read-only (engine-admin while no server runs). Default: false.
  bool read_only = false;
  // Open as a RocksDB secondary instance following a running primary; `secondary_path`
  // holds its own info logs. Default: empty (primary).
  std::string secondary_path;
  // Capacity of the block cache all tables share (data, index and filter blocks), in bytes.
  // Default: 64 MiB.
  size_t block_cache_bytes = size_t{64} << 20;
  // All memtables together, in bytes: past it the largest is flushed (and idle tables are
  // flushed so the WAL can be freed). Default: 128 MiB.
  size_t write_buffer_bytes = size_t{128} << 20;
};

//! The memory RocksDB is configured to hold at most, as RocksDB reports it (for tests and
//! metrics). Zero on a PostgreSQL-backed Db.
struct DbMemoryLimits {
  size_t block_cache_bytes = 0;
  size_t write_buffer_bytes = 0;
};

//! Get of each key in turn (`get(key)` -> Result<optional<string>>), in the order of `keys`:
//! the MultiGet of readers without a batched read.
template <typename GetOne>
Result<std::vector<std::optional<std::string>>> GetEachKey(const std::vector<std::string>& keys,
                                                          GetOne get) {
  std::vector<std::optional<std::string>> values;
  values.reserve(keys.size());
  for (const auto& key : keys) {
    ASSIGN_OR_RETURN(std::optional<std::string> value, get(key));
    values.push_back(std::move(value));
  }
  return values;
}

//! A set of writes applied atomically by Db::Write. Not thread-safe.
//! The fence of a batch: it applies only while shard `shard` is still at `range_id` (the
//! writer still owns the shard), else the whole batch fails with OwnershipLost.
struct Fence {
  uint32_t shard = 0;
  int64_t range_id = 0;
};

class WriteBatch {
 public:
  WriteBatch();
  ~WriteBatch();
  WriteBatch(WriteBatch&&) noexcept;
  WriteBatch& operator=(WriteBatch&&) noexcept;

  void Put(Table table, std::string_view key, std::string_view value);
  // Put-if-absent, as Batch::Insert: Db::Write fails the whole batch with AlreadyExists (and
  // applies nothing) when `key` exists before the batch or the batch inserts it twice. Of
  // concurrent Inserts of one key, from any number of Db instances on one store, exactly one
  // succeeds. (On RocksDB it is not atomic against a concurrent Put of the key: use Insert
  // for create-once keys, which nothing else writes before they exist.)
  void Insert(Table table, std::string_view key, std::string_view value);
  void Delete(Table table, std::string_view key);
  // Adds signed deltas to a pair of int64 counters (kUserStats, kUsage, kMeta counters).
  void AddCounters(Table table, std::string_view key, int64_t delta_a, int64_t delta_b);
  size_t Count() const;
  bool has_inserts() const;
  // Appends every write of `other` (applied after this batch's own, atomically with them),
  // and its fence when this batch has none.
  void Append(const WriteBatch& other);
  // The batch need not be synced on its own: a later synced write (which syncs the whole
  // shared WAL) makes it durable. For effects whose completion is recorded by such a write.
  void SetNoSync() { no_sync_ = true; }
  bool no_sync() const { return no_sync_; }
  // The batch applies only while the writer still owns `fence.shard` at its range_id (Store
  // Fence); OwnershipLost otherwise. On a Db over RocksDB directly there is one writer (the
  // LOCK file), and the fence is not checked.
  void SetFence(Fence fence) { fence_ = fence; }
  const std::optional<Fence>& fence() const { return fence_; }
  // Tells the other nodes of a cluster, once the batch commits, that the execution
  // `workflow_id` closed (PostgreSQL NOTIFY papr_closed; nothing on RocksDB), so a node
  // following it for `?wait=` or a stream looks at once instead of at its next poll.
  void AnnounceClosed(std::string_view workflow_id) { closed_.emplace_back(workflow_id); }
  const std::vector<std::string>& closed() const { return closed_; }
  size_t ByteSize() const;

 private:
  friend class Db;
  struct Rep;
  std::unique_ptr<Rep> rep_;
  bool no_sync_ = false;
  std::optional<Fence> fence_;
  std::vector<std::string> closed_;
};

//! Iterates a key range of one table in key order. Not thread-safe.
class Cursor {
 public:
  virtual ~Cursor() = default;
  virtual void Seek(std::string_view key) = 0;
  virtual bool Valid() const = 0;
  virtual void Next() = 0;
  virtual std::string_view key() const = 0;
  virtual std::string_view value() const = 0;
  virtual Status status() const = 0;
};

//! The embedded store: one RocksDB database with a column family per Table. Thread-safe.
//! Concurrent synced writes share fsyncs (RocksDB's write group). After a failed write the
//! database refuses every later write (LevelDB's bg_error): an acknowledged write is never
//! followed by a silently lost one. Only a no-space error is lifted, by TryResumeWrites (or,
//! after a read-only start on a full disk, TryReopenWritable).
class Db {
 public:
  static Result<std::unique_ptr<Db>> Open(const DbOptions& options);
  // A Db whose tables live in `store` (the PostgreSQL backend): every call goes to the store;
  // nothing latches (a store that is down answers Unavailable per call); RocksDB-only calls
  // (secondary catch-up, no-space recovery, RawForStore) are no-ops or refused.
  static Result<std::unique_ptr<Db>> OpenOnStore(std::unique_ptr<Store> store);
  ~Db();

  Status Write(WriteBatch& batch);
  Result<std::optional<std::string>> Get(Table table, std::string_view key) const;
  // Get of each key, in order; one round trip on a remote store (StoreReader::MultiGet).
  Result<std::vector<std::optional<std::string>>> MultiGet(
      Table table, const std::vector<std::string>& keys) const;
  // REQUIRES: the cursor is destroyed before the Db.
  std::unique_ptr<Cursor> NewCursor(Table table) const;
  // Calls fn(key, value) for each key starting with `prefix`, in order, until it returns false.
  Status ScanPrefix(Table table, std::string_view prefix,
                    const std::function<bool(std::string_view, std::string_view)>& fn) const;
  // The same for each key with start <= key < end (empty `end`: to the table's end).
  Status ScanRange(Table table, std::string_view start, std::string_view end,
                   const std::function<bool(std::string_view, std::string_view)>& fn) const;
  // Decodes a kUserStats/kUsage counter pair; absent -> {0,0}.
  Result<std::pair<int64_t, int64_t>> GetCounters(Table table, std::string_view key) const;
  // Secondary instances: catch up with the primary.
  Status TryCatchUpWithPrimary();
  // Ok while the database answers: a read on a Store (PostgreSQL may be down or unreachable);
  // always Ok on RocksDB, which is in-process.
  Status CheckReachable() const;
  // Approximate bytes on disk (for stats/metrics).
  uint64_t ApproximateDiskBytes() const;
  DbMemoryLimits MemoryLimits() const;
  const DbOptions& options() const { return options_; }
  // True once a write failed (e.g. disk full), or when the primary was opened read-only
  // because the disk was full: every write is refused (/readyz says not ready).
  bool writes_refused() const;
  // True while the database serves from a read-only instance because the disk was full when
  // it opened: reads are served, writes answer "no space" until TryReopenWritable succeeds.
  bool opened_read_only_for_no_space() const;
  // After a no-space write error: RocksDB's Resume(), a synced probe write and a flush of every
  // table (so no later write lands behind a torn WAL record), then writes are accepted again.
  // Other write errors stay latched until restart. Ok if writes were not refused.
  Status TryResumeWrites();
  // After a read-only start on a full disk: opens the database for writes (which fails while
  // the disk is still full) and makes it the one every later operation uses. Ok if the
  // database is not read-only for lack of space.
  Status TryReopenWritable();

  // The Store this Db was opened on (OpenOnStore); null on the embedded RocksDB database.
  // Cluster membership and shard leases are calls of the Store.
  Store* store() const;

  // For storage/rocksdb/ (snapshots and bounded scans of storage::Store) only. The handle is
  // null for a table absent from a read-only/secondary database.
  rocksdb::DB* RawForStore() const;
  rocksdb::ColumnFamilyHandle* HandleForStore(Table table) const;

  // Makes the next Write fail as if RocksDB had reported an I/O error (nothing is written),
  // which latches the database into refusing writes.
  void InjectWriteErrorForTest();
  // The same, as a no-space error (which TryResumeWrites may clear).
  void InjectNoSpaceErrorForTest();
  // Makes the next Write answer as a Store that lost its connection does, latching nothing:
  // `applied` false: Unavailable, nothing written; true: written, then UnknownOutcome.
  void InjectLostConnectionForTest(bool applied);

 private:
  struct Rep;
  explicit Db(DbOptions options);
  Status CheckSchemaVersion();
  static Result<std::unique_ptr<Db>> OpenReadOnlyForNoSpace(const DbOptions& options,
                                                          const Status& no_space);
  Status WriteRefusal() const;  // why Write refuses now; Ok when writes are accepted
  Status WriteToRocks(const WriteBatch& batch);
  // A batch with Inserts on RocksDB (db_insert.cc): checks and writes while holding its
  // inserted keys (KeyLocks: batches with other keys proceed and share a WAL sync).
  Status WriteWithInserts(const WriteBatch& batch);
  // The calls of a Db opened on a Store (db_on_store.cc).
  Status WriteToStore(const WriteBatch& batch);
  std::unique_ptr<Cursor> NewStoreCursor(Table table) const;
  Status ScanStoreRange(Table table, std::string_view start, std::string_view end,
                        const std::function<bool(std::string_view, std::string_view)>& fn) const;
  std::string write_error() const;
  DbOptions options_;
  std::unique_ptr<Rep> rep_;
};

}  // namespace papr::storage
