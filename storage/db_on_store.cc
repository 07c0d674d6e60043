// A Db whose tables live in a storage::Store (the PostgreSQL backend): Db's API for the engine,
// the memory store and the search index, translated to Store calls. Writes map one to one
// (a WriteBatch is one Store::Write, atomic; its Inserts are the store's), reads are Store reads, cursors page through
// Store::Scan. Nothing latches here: a database that is down answers Unavailable per call
// and the store reconnects by itself.

#include <algorithm>
#include <utility>

#include "common/byte_codec.h"
#include "storage/internal/counter_pair.h"
#include "storage/internal/db_rep.h"
#include "storage/internal/write_batch_rep.h"
#include "storage/keys.h"
#include "storage/store.h"

namespace papr::storage {
namespace {

// An unbounded cursor's pages grow from kFirstPageRows to kMaxPageRows: it usually stops at the
// end of one short prefix (the engine's history and activity reads), and a first page of 512
// rows read and shipped hundreds of the next prefixes' rows for nothing. A bounded one (a
// range scan) reads whole pages from the start.
constexpr size_t kFirstPageRows = 32;
constexpr size_t kMaxPageRows = 512;

//! A Cursor over a Store table, up to `end` (empty: the table's end): pages of Store::Scan,
//! each a read of its own, doubling in size up to kMaxPageRows.
class StoreCursor final : public Cursor {
 public:
  StoreCursor(const Store& store, Table table, std::string end = "")
      : store_(store), table_(table), end_(std::move(end)),
        first_page_rows_(end_.empty() ? kFirstPageRows : kMaxPageRows) {}
  void Seek(std::string_view key) override {
    page_rows_ = first_page_rows_;
    Load(std::string(key));
  }
  bool Valid() const override { return status_.ok() && at_ < page_.rows.size(); }
  void Next() override {
    if (++at_ < page_.rows.size() || !page_.resume_key) return;
    std::string resume = *page_.resume_key;
    Load(std::move(resume));
  }
  std::string_view key() const override { return page_.rows[at_].first; }
  std::string_view value() const override { return page_.rows[at_].second; }
  Status status() const override { return status_; }

 private:
  void Load(std::string start) {
    at_ = 0;
    auto page = store_.Scan(table_, start, end_, page_rows_);
    page_rows_ = std::min(kMaxPageRows, page_rows_ * 2);
    if (!page.ok()) {
      status_ = page.status();
      page_ = ScanPage{};
      return;
    }
    page_ = std::move(page).value();
  }

  const Store& store_;
  Table table_;
  std::string end_;
  size_t first_page_rows_;
  ScanPage page_;
  size_t at_ = 0;
  size_t page_rows_ = kMaxPageRows;
  Status status_ = Status::Ok();
};

// Our batch's records (tag, table, key[, value]) as Store ops.
Status ToStoreBatch(const WriteBatch& batch, std::string_view ops, Batch* out) {
  using internal::OpTag;
  RETURN_IF_ERROR(internal::ForEachOp(ops, [&](OpTag tag, Table table, std::string_view key,
                                               std::string_view value) {
    if (tag == OpTag::kPut) {
      out->Put(table, key, value);
    } else if (tag == OpTag::kInsert) {
      out->Insert(table, key, value);
    } else if (tag == OpTag::kDelete) {
      out->Delete(table, key);
    } else {
      int64_t a = 0;
      int64_t b = 0;
      if (!internal::DecodeCounterPair(value, &a, &b)) {
        return Status::Internal("malformed counter delta in write batch");
      }
      out->AddCounters(table, key, a, b);
    }
    return Status::Ok();
  }));
  if (batch.no_sync()) out->SetNoSync();
  if (batch.fence().has_value()) out->SetFence(*batch.fence());
  for (const std::string& id : batch.closed()) out->AnnounceClosed(id);
  return Status::Ok();
}

}  // namespace

Store* Db::store() const { return rep_->store.get(); }

Result<std::unique_ptr<Db>> Db::OpenOnStore(std::unique_ptr<Store> store) {
  DbOptions options;
  options.path = std::string(store->BackendName()) + " store";
  std::unique_ptr<Db> db(new Db(options));
  db->rep_->store = std::move(store);
  return db;
}

Status Db::WriteToStore(const WriteBatch& batch) {
  Batch out;
  RETURN_IF_ERROR(ToStoreBatch(batch, batch.rep_->ops, &out));
  return rep_->store->Write(out);
}

std::unique_ptr<Cursor> Db::NewStoreCursor(Table table) const {
  return std::make_unique<StoreCursor>(*rep_->store, table);
}

Status Db::ScanStoreRange(Table table, std::string_view start, std::string_view end,
                          const std::function<bool(std::string_view, std::string_view)>& fn) const {
  StoreCursor cursor(*rep_->store, table, std::string(end));
  for (cursor.Seek(start); cursor.Valid(); cursor.Next()) {
    if (!fn(cursor.key(), cursor.value())) break;
  }
  return cursor.status();
}

Status Db::CheckReachable() const {
  if (!rep_->store) return Status::Ok();
  return rep_->store->Get(Table::kMeta, MetaSchemaVersionKey()).status();
}

}  // namespace papr::storage
