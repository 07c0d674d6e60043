// Db::Write: refusals (read-only, latched after a failure, read-only for lack of space), the
// test faults, and the RocksDB write itself; a failed RocksDB write latches every later write
// off (see db.h). Batches with Inserts: db_insert.cc; on a Store: db_on_store.cc.
#include <mutex>
#include <string_view>

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include "common/log.h"
#include "storage/db.h"
#include "storage/internal/db_rep.h"
#include "storage/internal/write_batch_rep.h"

namespace papr::storage {
namespace {

using internal::FromRocks;
using internal::IsNoSpace;

rocksdb::Slice ToSlice(std::string_view s) { return rocksdb::Slice(s.data(), s.size()); }

}  // namespace

namespace {

// Translates our batch into RocksDB's, with the column families of `in`.
Status ToRocksBatch(const internal::DbInstance& in, std::string_view ops, rocksdb::WriteBatch* wb) {
  using internal::OpTag;
  return internal::ForEachOp(ops, [&](OpTag tag, Table table, std::string_view key,
                                      std::string_view value) {
    auto* cf = in.handle(table);
    if (cf == nullptr) return Status::Internal("write to a table that is not open");
    bool put = tag == OpTag::kPut || tag == OpTag::kInsert;  // inserts were checked absent
    rocksdb::Status s = put                    ? wb->Put(cf, ToSlice(key), ToSlice(value))
                        : tag == OpTag::kMerge ? wb->Merge(cf, ToSlice(key), ToSlice(value))
                                               : wb->Delete(cf, ToSlice(key));
    return s.ok() ? Status::Ok() : FromRocks(s, "building write batch");
  });
}

}  // namespace

Status Db::WriteRefusal() const {
  if (rep_->read_only_for_no_space.load(std::memory_order_acquire)) {
    return Status::IoError("no space left on device: the database at " + options_.path +
                           " was opened read-only on a full disk; writes resume once space "
                           "is freed");
  }
  if (options_.read_only || !options_.secondary_path.empty()) {
    return Status::FailedPrecondition("database at " + options_.path + " is opened read-only");
  }
  if (rep_->write_failed.load(std::memory_order_acquire)) {
    std::lock_guard<std::mutex> lock(rep_->error_mu);
    return Status::IoError("database refuses writes after an earlier failure: " +
                           rep_->write_error);
  }
  return Status::Ok();
}

Status Db::Write(WriteBatch& batch) {
  RETURN_IF_ERROR(WriteRefusal());
  if (batch.Count() == 0) return Status::Ok();
  // A test hook: a plain load on the hot path, the exchange only when one is armed.
  const int lost = rep_->inject_lost_connection.load(std::memory_order_relaxed) == Rep::kNoFault
                       ? Rep::kNoFault
                       : rep_->inject_lost_connection.exchange(Rep::kNoFault);
  if (lost == Rep::kLostBeforeCommit) {
    return Status::Unavailable("injected: connection to the store lost (test)");
  }
  Status s = rep_->store               ? WriteToStore(batch)
             : batch.has_inserts()     ? WriteWithInserts(batch)
                                       : WriteToRocks(batch);
  if (s.ok() && lost == Rep::kLostDuringCommit) {
    return Status::UnknownOutcome("injected: connection lost during COMMIT (test)");
  }
  return s;
}

Status Db::WriteToRocks(const WriteBatch& batch) {
  internal::DbInstance& in = rep_->current();
  rocksdb::WriteBatch wb(batch.ByteSize() + 64);
  RETURN_IF_ERROR(ToRocksBatch(in, batch.rep_->ops, &wb));
  rocksdb::WriteOptions wo;
  wo.sync = options_.sync_writes && !batch.no_sync();
  rocksdb::Status s;
  if (rep_->inject_write_error.exchange(false)) {
    s = rocksdb::Status::IOError("injected write error (test)");
  } else if (rep_->inject_no_space.exchange(false)) {
    s = rocksdb::Status::NoSpace("injected no-space error (test)");
  } else {
#if defined(__SANITIZE_THREAD__)
    // TSan build only (see tools/sanitizers/tsan.supp): concurrent writers would be merged
    // into RocksDB's shared group batch under atomics TSan cannot see, in frames it cannot
    // attribute to librocksdb (no frame pointers); one writer at a time keeps groups of one.
    std::lock_guard<std::mutex> one_writer(rep_->tsan_write_mu);
#endif
    s = in.db->Write(wo, &wb);
  }
  if (s.ok()) return Status::Ok();

  Status failed = FromRocks(s, "write to " + options_.path);
  std::lock_guard<std::mutex> lock(rep_->error_mu);
  if (!rep_->write_failed.exchange(true)) {
    rep_->write_error = failed.message();
    rep_->write_failed_no_space = IsNoSpace(s);
    log::Error("storage write failed; refusing all further writes",
               {{"error", failed.message()}});
  }
  return Status::IoError(failed.message());
}

}  // namespace papr::storage
