#include "storage/write_resumer.h"

#include "common/log.h"
#include "storage/db.h"

namespace papr::storage {

WriteResumer::WriteResumer(Db* db, std::chrono::milliseconds interval,
                           std::function<void()> on_reopened)
    : db_(db),
      interval_(interval),
      on_reopened_(std::move(on_reopened)),
      thread_([this] { Loop(); }) {}

WriteResumer::~WriteResumer() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

Status WriteResumer::Probe() {
  if (!db_->opened_read_only_for_no_space()) return db_->TryResumeWrites();
  RETURN_IF_ERROR(db_->TryReopenWritable());
  if (on_reopened_) on_reopened_();
  return Status::Ok();
}

void WriteResumer::Loop() {
  bool logged = false;  // one warning per latched period, not one per probe
  std::unique_lock<std::mutex> lock(mu_);
  while (!cv_.wait_for(lock, interval_, [this] { return stopping_; })) {
    if (!db_->writes_refused()) {
      logged = false;
      continue;
    }
    lock.unlock();
    Status s = Probe();
    lock.lock();
    if (s.ok()) {
      logged = false;
    } else if (!logged) {
      log::Warn("storage still refuses writes; probing again", {{"error", s.message()}});
      logged = true;
    }
  }
}

}  // namespace papr::storage
