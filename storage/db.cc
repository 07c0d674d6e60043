#include "storage/db.h"

#include <array>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <utility>
#include <vector>

#include <rocksdb/cache.h>
#include <rocksdb/convenience.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/env.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/transaction_log.h>
#include <rocksdb/write_batch.h>

#include "common/byte_codec.h"
#include "common/log.h"
#include "storage/internal/counter_pair.h"
#include "storage/internal/db_rep.h"
#include "storage/internal/write_batch_rep.h"
#include "storage/keys.h"

namespace papr::storage {
namespace {

constexpr uint64_t kMaxTotalWalBytes = 256 << 20;


rocksdb::Slice ToSlice(std::string_view s) { return rocksdb::Slice(s.data(), s.size()); }
std::string_view ToView(const rocksdb::Slice& s) { return std::string_view(s.data(), s.size()); }

}  // namespace

namespace internal {

Status FromRocks(const rocksdb::Status& s, std::string_view context) {
  if (s.ok()) return Status::Ok();
  std::string msg = std::string(context) + ": " + s.ToString();
  if (s.IsNotFound()) return Status::NotFound(std::move(msg));
  if (s.IsCorruption()) return Status::Corruption(std::move(msg));
  if (s.IsInvalidArgument()) return Status::InvalidArgument(std::move(msg));
  if (s.IsBusy() || s.IsTimedOut() || s.IsTryAgain()) return Status::Unavailable(std::move(msg));
  if (s.IsNotSupported()) return Status::FailedPrecondition(std::move(msg));
  return Status::IoError(std::move(msg));
}

// ENOSPC: RocksDB's subcode, or its message when a layer dropped the subcode.
bool IsNoSpace(const rocksdb::Status& s) {
  return s.IsNoSpace() || s.ToString().find("No space left") != std::string::npos;
}

}  // namespace internal

namespace {

using internal::FromRocks;
using internal::IsNoSpace;

// RocksDB reports a held LOCK file as an IOError naming ".../LOCK" ("While lock file" from
// another process, "lock hold by current process" from this one).
bool IsLockError(const rocksdb::Status& s) {
  return s.IsIOError() && s.ToString().find("/LOCK") != std::string::npos;
}


Status OpenError(const rocksdb::Status& s, const std::string& path) {
  if (IsLockError(s)) {
    return Status::FailedPrecondition("data directory " + path +
                                      " is in use by another process (is a server already "
                                      "running?): " +
                                      s.ToString());
  }
  return FromRocks(s, "cannot open database at " + path);
}

bool WantsBloomFilter(Table t) {
  switch (t) {
    case Table::kMeta:
    case Table::kMemories:
    case Table::kUserStats:
    case Table::kUsage:
    case Table::kExecutions:
    case Table::kBlobs:
      return true;
    default:
      return false;  // range-scanned tables
  }
}

bool WantsCounterMerge(Table t) {
  return t == Table::kMeta || t == Table::kUserStats || t == Table::kUsage;
}

rocksdb::CompressionType PickCompression() {
  auto supported = rocksdb::GetSupportedCompressions();
  for (auto want : {rocksdb::kLZ4Compression, rocksdb::kSnappyCompression}) {
    for (auto have : supported) {
      if (have == want) return want;
    }
  }
  return rocksdb::kNoCompression;
}

rocksdb::ColumnFamilyOptions TableOptions(Table t, const std::shared_ptr<rocksdb::Cache>& cache,
                                          rocksdb::CompressionType compression) {
  rocksdb::ColumnFamilyOptions cf;
  rocksdb::BlockBasedTableOptions bbt;
  bbt.block_cache = cache;
  bbt.cache_index_and_filter_blocks = true;
  bbt.pin_l0_filter_and_index_blocks_in_cache = true;
  if (WantsBloomFilter(t)) {
    bbt.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    bbt.whole_key_filtering = true;
  }
  cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(bbt));
  cf.compression = compression;
  if (WantsCounterMerge(t)) cf.merge_operator = internal::NewCounterPairAddOperator();
  return cf;
}

//! Sends RocksDB's own diagnostics (warnings and worse) to our structured log instead of the
//! `LOG` file in the data directory: that file shares the disk, and on a full disk RocksDB's
//! failing writes to it trip an assertion in Debian's build instead of returning an error.
class ForwardingLogger final : public rocksdb::Logger {
 public:
  ForwardingLogger() : rocksdb::Logger(rocksdb::InfoLogLevel::WARN_LEVEL) {}
  using rocksdb::Logger::Logv;
  void Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) override {
    if (level < GetInfoLogLevel()) return;
    char buf[1024];
    std::vsnprintf(buf, sizeof(buf), format, ap);
    // RocksDB's warnings repeat what our Status already says (e.g. an Open failure): debug.
    log::Write(level >= rocksdb::InfoLogLevel::ERROR_LEVEL ? log::Level::kError : log::Level::kDebug,
               "rocksdb", {{"message", buf}});
  }
  void Logv(const char* format, va_list ap) override {
    Logv(rocksdb::InfoLogLevel::INFO_LEVEL, format, ap);
  }
};

rocksdb::DBOptions BaseOptions(const DbOptions& options) {
  rocksdb::DBOptions db;
  db.IncreaseParallelism(2);  // sized for a 2-core machine
  db.max_background_jobs = 2;
  db.create_if_missing = true;
  db.create_missing_column_families = true;
  db.db_write_buffer_size = options.write_buffer_bytes;
  db.max_total_wal_size = kMaxTotalWalBytes;
  db.keep_log_file_num = 4;
  db.info_log = std::make_shared<ForwardingLogger>();
  db.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  db.max_log_file_size = 8 << 20;
  if (!options.secondary_path.empty()) db.max_open_files = -1;  // required by secondaries
  return db;
}

}  // namespace

const char* TableName(Table t) {
  switch (t) {
    case Table::kMeta:
      return rocksdb::kDefaultColumnFamilyName.c_str();
    case Table::kMemories:
      return "memories";
    case Table::kPostings:
      return "postings";
    case Table::kUserStats:
      return "user_stats";
    case Table::kUsage:
      return "usage";
    case Table::kHistory:
      return "history";
    case Table::kExecutions:
      return "executions";
    case Table::kTimers:
      return "timers";
    case Table::kVisibility:
      return "visibility";
    case Table::kBlobs:
      return "blobs";
    case Table::kActivities:
      return "activities";
    case Table::kIndexQueue:
      return "index_queue";
    case Table::kSegments:
      return "segments";
    case Table::kInbox:
      return "inbox";
    case Table::kEndUsers:
      return "end_users";
    case Table::kCount:
      break;
  }
  return "invalid";
}

// ---------------------------------------------------------------------------------------------
// Cursor

namespace {

//! A Cursor over one column family, wrapping a RocksDB iterator.
class RocksCursor : public Cursor {
 public:
  explicit RocksCursor(rocksdb::Iterator* it) : it_(it) {}
  void Seek(std::string_view key) override { it_->Seek(ToSlice(key)); }
  bool Valid() const override { return it_->Valid(); }
  void Next() override { it_->Next(); }
  std::string_view key() const override { return ToView(it_->key()); }
  std::string_view value() const override { return ToView(it_->value()); }
  Status status() const override { return FromRocks(it_->status(), "cursor"); }

 private:
  std::unique_ptr<rocksdb::Iterator> it_;
};

//! The cursor of a table that does not exist in a read-only/secondary database.
class EmptyCursor : public Cursor {
 public:
  void Seek(std::string_view) override {}
  bool Valid() const override { return false; }
  void Next() override {}
  std::string_view key() const override { return {}; }
  std::string_view value() const override { return {}; }
  Status status() const override { return Status::Ok(); }
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// Db

namespace internal {

DbInstance::~DbInstance() {
  if (db == nullptr) return;
  for (auto* h : owned) db->DestroyColumnFamilyHandle(h).PermitUncheckedError();
  db->Close().PermitUncheckedError();
}

}  // namespace internal

Db::Db(DbOptions options) : options_(std::move(options)), rep_(std::make_unique<Rep>()) {}

Db::~Db() = default;

namespace {

// Names of the tables to open: all of them for a primary (missing ones are created), only the
// existing ones for read-only and secondary instances.
Result<std::vector<Table>> TablesToOpen(const DbOptions& options,
                                        const rocksdb::DBOptions& db_options) {
  std::vector<Table> tables;
  bool primary = !options.read_only && options.secondary_path.empty();
  std::vector<std::string> existing;
  if (!primary) {
    auto s = rocksdb::DB::ListColumnFamilies(db_options, options.path, &existing);
    if (!s.ok()) return OpenError(s, options.path);
  }
  for (size_t i = 0; i < internal::kTableCount; ++i) {
    auto t = static_cast<Table>(i);
    bool found = primary;
    for (const auto& name : existing) found = found || name == TableName(t);
    if (found) tables.push_back(t);
  }
  return tables;
}

Status PrepareDirectories(const DbOptions& options) {
  if (options.path.empty()) return Status::InvalidArgument("database path is empty");
  std::error_code ec;
  bool primary = !options.read_only && options.secondary_path.empty();
  if (!primary && !std::filesystem::exists(std::filesystem::path(options.path) / "CURRENT", ec)) {
    return Status::NotFound("no database at " + options.path);
  }
  if (!options.secondary_path.empty()) {
    std::filesystem::create_directories(options.secondary_path, ec);
    if (ec) {
      return Status::IoError("cannot create secondary directory " + options.secondary_path + ": " +
                             ec.message());
    }
  } else if (!options.read_only) {
    std::filesystem::create_directories(options.path, ec);
    if (ec) {
      return Status::IoError("cannot create data directory " + options.path + ": " + ec.message());
    }
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<internal::DbInstance>> internal::OpenInstance(
    const DbOptions& options, const std::shared_ptr<rocksdb::Cache>& cache, bool* no_space) {
  rocksdb::DBOptions db_options = BaseOptions(options);
  ASSIGN_OR_RETURN(std::vector<Table> tables, TablesToOpen(options, db_options));
  auto compression = PickCompression();
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (Table t : tables) {
    descriptors.emplace_back(TableName(t), TableOptions(t, cache, compression));
  }
  auto instance = std::make_unique<DbInstance>();
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s;
  rocksdb::Options base(db_options, rocksdb::ColumnFamilyOptions());
  if (!options.secondary_path.empty()) {
    s = rocksdb::DB::OpenAsSecondary(base, options.path, options.secondary_path, descriptors,
                                     &instance->owned, &raw);
  } else if (options.read_only) {
    s = rocksdb::DB::OpenForReadOnly(base, options.path, descriptors, &instance->owned, &raw);
  } else {
    s = rocksdb::DB::Open(base, options.path, descriptors, &instance->owned, &raw);
    if (no_space != nullptr) *no_space = IsNoSpace(s);
  }
  if (!s.ok()) return OpenError(s, options.path);
  instance->db.reset(raw);
  for (size_t i = 0; i < tables.size(); ++i) {
    instance->handles[static_cast<size_t>(tables[i])] = instance->owned[i];
  }
  return instance;
}

Result<std::unique_ptr<Db>> Db::Open(const DbOptions& options) {
  RETURN_IF_ERROR(PrepareDirectories(options));
  std::unique_ptr<Db> db(new Db(options));
  db->rep_->cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  bool no_space = false;
  auto instance = internal::OpenInstance(options, db->rep_->cache, &no_space);
  // Open writes a new MANIFEST, OPTIONS file and WAL: on a full disk serve reads only.
  if (!instance.ok() && no_space) return OpenReadOnlyForNoSpace(options, instance.status());
  if (!instance.ok()) return instance.status();
  db->rep_->Install(std::move(*instance));
  RETURN_IF_ERROR(db->CheckSchemaVersion());
  return db;
}

// A new database is stamped with kSchemaVersion; an existing one must carry it.
Status Db::CheckSchemaVersion() {
  ASSIGN_OR_RETURN(std::optional<std::string> version, Get(Table::kMeta, MetaSchemaVersionKey()));
  if (version.has_value()) {
    if (*version == internal::kSchemaVersion) return Status::Ok();
    return Status::FailedPrecondition("database at " + options_.path + " has schema version " +
                                      *version + ", this build supports " + internal::kSchemaVersion);
  }
  if (options_.read_only || !options_.secondary_path.empty()) return Status::Ok();
  WriteBatch batch;
  batch.Put(Table::kMeta, MetaSchemaVersionKey(), internal::kSchemaVersion);
  return Write(batch);
}

rocksdb::DB* Db::RawForStore() const { return rep_->store ? nullptr : rep_->current().db.get(); }
rocksdb::ColumnFamilyHandle* Db::HandleForStore(Table table) const {
  return rep_->store ? nullptr : rep_->current().handle(table);
}

Result<std::optional<std::string>> Db::Get(Table table, std::string_view key) const {
  if (rep_->store) return rep_->store->Get(table, key);
  internal::DbInstance& in = rep_->current();
  auto* cf = in.handle(table);
  if (cf == nullptr) return std::optional<std::string>();
  std::string value;
  rocksdb::Status s = in.db->Get(rocksdb::ReadOptions(), cf, ToSlice(key), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return FromRocks(s, std::string("get from ") + TableName(table));
  return std::optional<std::string>(std::move(value));
}

Result<std::vector<std::optional<std::string>>> Db::MultiGet(
    Table table, const std::vector<std::string>& keys) const {
  if (rep_->store) return rep_->store->MultiGet(table, keys);
  return GetEachKey(keys, [&](const std::string& key) { return Get(table, key); });
}

std::unique_ptr<Cursor> Db::NewCursor(Table table) const {
  if (rep_->store) return NewStoreCursor(table);
  internal::DbInstance& in = rep_->current();
  auto* cf = in.handle(table);
  if (cf == nullptr) return std::make_unique<EmptyCursor>();
  return std::make_unique<RocksCursor>(in.db->NewIterator(rocksdb::ReadOptions(), cf));
}

Status Db::ScanPrefix(Table table, std::string_view prefix,
                      const std::function<bool(std::string_view, std::string_view)>& fn) const {
  return ScanRange(table, prefix, PrefixSuccessor(prefix), fn);
}

Status Db::ScanRange(Table table, std::string_view start, std::string_view end,
                     const std::function<bool(std::string_view, std::string_view)>& fn) const {
  if (rep_->store) return ScanStoreRange(table, start, end, fn);
  internal::DbInstance& in = rep_->current();
  auto* cf = in.handle(table);
  if (cf == nullptr) return Status::Ok();
  // The upper bound lets RocksDB stop at the range's end without touching later keys
  // (and the tombstones there).
  rocksdb::Slice upper_slice = ToSlice(end);
  rocksdb::ReadOptions ro;
  if (!end.empty()) ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(in.db->NewIterator(ro, cf));
  for (it->Seek(ToSlice(start)); it->Valid(); it->Next()) {
    if (!fn(ToView(it->key()), ToView(it->value()))) break;
  }
  return FromRocks(it->status(), std::string("scan of ") + TableName(table));
}

Result<std::pair<int64_t, int64_t>> Db::GetCounters(Table table, std::string_view key) const {
  if (rep_->store) return rep_->store->GetCounters(table, key);
  ASSIGN_OR_RETURN(std::optional<std::string> value, Get(table, key));
  std::pair<int64_t, int64_t> counters{0, 0};
  if (!value.has_value()) return counters;
  if (!internal::DecodeCounterPair(*value, &counters.first, &counters.second)) {
    return Status::Corruption(std::string("malformed counter pair in ") + TableName(table));
  }
  return counters;
}

Status Db::TryCatchUpWithPrimary() {
  if (options_.secondary_path.empty()) {
    return Status::FailedPrecondition("TryCatchUpWithPrimary on a non-secondary database");
  }
  return FromRocks(rep_->current().db->TryCatchUpWithPrimary(), "catching up with primary");
}

DbMemoryLimits Db::MemoryLimits() const {
  if (rep_->store || rep_->cache == nullptr) return {};
  return {rep_->cache->GetCapacity(), rep_->current().db->GetDBOptions().db_write_buffer_size};
}

uint64_t Db::ApproximateDiskBytes() const {
  if (rep_->store) return 0;  // the database server's own disk
  internal::DbInstance& in = rep_->current();
  uint64_t sst = 0;
  if (!in.db->GetAggregatedIntProperty(rocksdb::DB::Properties::kTotalSstFilesSize, &sst)) {
    sst = 0;
  }
  uint64_t wal = 0;
  rocksdb::VectorLogPtr files;
  if (options_.secondary_path.empty() && !options_.read_only && !opened_read_only_for_no_space() &&
      in.db->GetSortedWalFiles(files).ok()) {
    for (const auto& f : files) wal += f->SizeFileBytes();
  }
  return sst + wal;
}

}  // namespace papr::storage
