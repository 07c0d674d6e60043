// A full disk: the read-only start, resuming writes after a no-space error, and reopening a
// read-only start for writes once space returns (both driven by storage::WriteResumer).

#include <rocksdb/write_batch.h>

#include "common/log.h"
#include "storage/internal/db_rep.h"
#include "storage/keys.h"

namespace papr::storage {

using internal::FromRocks;

Result<std::unique_ptr<Db>> Db::OpenReadOnlyForNoSpace(const DbOptions& options,
                                                       const Status& no_space) {
  DbOptions read_only = options;
  read_only.read_only = true;
  auto db = Open(read_only);
  if (!db.ok()) return no_space;  // e.g. no database yet
  (*db)->options_ = options;  // what TryReopenWritable opens once space returns
  (*db)->rep_->read_only_for_no_space.store(true, std::memory_order_release);
  log::Error("disk full: database opened read-only; reads are served, writes are refused "
             "until space returns",
             {{"path", options.path}, {"error", no_space.message()}});
  return db;
}

Status Db::TryReopenWritable() {
  std::lock_guard<std::mutex> lock(rep_->reopen_mu);
  if (!rep_->read_only_for_no_space.load(std::memory_order_acquire)) return Status::Ok();
  ASSIGN_OR_RETURN(std::unique_ptr<internal::DbInstance> writable,
                   internal::OpenInstance(options_, rep_->cache, nullptr));
  // Live instance first, then the flag: a write that sees the flag clear uses the new one.
  rep_->Install(std::move(writable));
  rep_->read_only_for_no_space.store(false, std::memory_order_release);
  log::Info("disk space is back: database reopened for writes", {{"path", options_.path}});
  return Status::Ok();
}

Status Db::TryResumeWrites() {
  if (!rep_->write_failed.load(std::memory_order_acquire)) return Status::Ok();
  if (!rep_->write_failed_no_space.load()) {
    return Status::FailedPrecondition("writes stay refused until a restart: " + write_error());
  }
  internal::DbInstance& in = rep_->current();
  RETURN_IF_ERROR(FromRocks(in.db->Resume(), "resuming after a no-space error"));
  // A synced write, then every memtable flushed: the WAL that may end in a torn record of the
  // failed write is no longer needed, and later writes go to a new one.
  rocksdb::WriteBatch probe;
  auto* meta = in.handle(Table::kMeta);
  RETURN_IF_ERROR(FromRocks(probe.Put(meta, MetaSchemaVersionKey(), internal::kSchemaVersion),
                            "probe"));
  rocksdb::WriteOptions wo;
  wo.sync = true;
  RETURN_IF_ERROR(FromRocks(in.db->Write(wo, &probe), "probe write after no-space error"));
  rocksdb::FlushOptions fo;
  fo.wait = true;
  fo.allow_write_stall = true;
  RETURN_IF_ERROR(FromRocks(in.db->Flush(fo, in.owned), "flush after no-space error"));
  std::lock_guard<std::mutex> lock(rep_->error_mu);
  rep_->write_failed_no_space = false;
  rep_->write_failed.store(false, std::memory_order_release);
  log::Info("disk space is back: storage accepts writes again",
            {{"earlier_error", rep_->write_error}});
  rep_->write_error.clear();
  return Status::Ok();
}

void Db::InjectWriteErrorForTest() { rep_->inject_write_error.store(true); }
void Db::InjectNoSpaceErrorForTest() { rep_->inject_no_space.store(true); }
void Db::InjectLostConnectionForTest(bool applied) {
  rep_->inject_lost_connection.store(applied ? Rep::kLostDuringCommit : Rep::kLostBeforeCommit);
}

std::string Db::write_error() const {
  std::lock_guard<std::mutex> lock(rep_->error_mu);
  return rep_->write_error;
}

bool Db::writes_refused() const {
  return rep_->read_only_for_no_space.load(std::memory_order_acquire) ||
         rep_->write_failed.load(std::memory_order_acquire);
}

bool Db::opened_read_only_for_no_space() const {
  return rep_->read_only_for_no_space.load(std::memory_order_acquire);
}

}  // namespace papr::storage
