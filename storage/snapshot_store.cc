#include "storage/snapshot_store.h"

#include <string>
#include <utility>

namespace papr::storage {
namespace {

Status ReadOnly(const char* what) {
  return Status::FailedPrecondition(std::string(what) +
                                    " refused: this store is a read-only snapshot");
}

//! A snapshot of its own snapshot: the same reads (NewSnapshot of a SnapshotStore).
class SharedSnapshot final : public StoreSnapshot {
 public:
  explicit SharedSnapshot(const StoreSnapshot& of) : of_(of) {}
  Result<std::optional<std::string>> Get(Table table, std::string_view key) const override {
    return of_.Get(table, key);
  }
  Result<ScanPage> Scan(Table table, std::string_view start, std::string_view end,
                        size_t limit) const override {
    return of_.Scan(table, start, end, limit);
  }
  Result<std::pair<int64_t, int64_t>> GetCounters(Table table,
                                                  std::string_view key) const override {
    return of_.GetCounters(table, key);
  }
  Result<std::vector<ShardStatus>> ListShards() const override { return of_.ListShards(); }
  Result<std::vector<NodeStatus>> ListNodes() const override { return of_.ListNodes(); }

 private:
  const StoreSnapshot& of_;
};

class SnapshotStore final : public Store {
 public:
  SnapshotStore(std::unique_ptr<Store> store, std::unique_ptr<StoreSnapshot> snapshot)
      : store_(std::move(store)), snapshot_(std::move(snapshot)) {}
  ~SnapshotStore() override { snapshot_.reset(); }  // before its store

  Status Write(const Batch&) override { return ReadOnly("write"); }
  Result<std::optional<std::string>> Get(Table table, std::string_view key) const override {
    return snapshot_->Get(table, key);
  }
  Result<ScanPage> Scan(Table table, std::string_view start, std::string_view end,
                        size_t limit) const override {
    return snapshot_->Scan(table, start, end, limit);
  }
  Result<std::pair<int64_t, int64_t>> GetCounters(Table table,
                                                  std::string_view key) const override {
    return snapshot_->GetCounters(table, key);
  }
  Result<std::unique_ptr<StoreSnapshot>> NewSnapshot() const override {
    return std::unique_ptr<StoreSnapshot>(std::make_unique<SharedSnapshot>(*snapshot_));
  }
  Result<ShardLease> AcquireShard(uint32_t, std::string_view, std::chrono::milliseconds) override {
    return ReadOnly("acquiring a shard");
  }
  Status RenewShard(const ShardLease&, std::chrono::milliseconds) override {
    return ReadOnly("renewing a shard");
  }
  Status ReleaseShard(const ShardLease&) override { return ReadOnly("releasing a shard"); }
  Result<std::vector<ShardStatus>> ListShards() const override { return snapshot_->ListShards(); }
  Result<std::vector<NodeStatus>> ListNodes() const override { return snapshot_->ListNodes(); }
  const char* BackendName() const override { return store_->BackendName(); }

 private:
  std::unique_ptr<Store> store_;
  std::unique_ptr<StoreSnapshot> snapshot_;
};

}  // namespace

Result<std::unique_ptr<Store>> OpenSnapshotStore(std::unique_ptr<Store> store) {
  ASSIGN_OR_RETURN(std::unique_ptr<StoreSnapshot> snapshot, store->NewSnapshot());
  return std::unique_ptr<Store>(std::make_unique<SnapshotStore>(std::move(store),
                                                                std::move(snapshot)));
}

}  // namespace papr::storage
