#include "storage/postgres/pg_batch_sql.h"

#include <array>
#include <map>
#include <set>
#include <string_view>
#include <utility>

#include "storage/postgres/pg_sql.h"

namespace papr::storage::pg {
namespace {

constexpr size_t kTableCount = static_cast<size_t>(Table::kCount);

//! What the batch leaves a key at: its final value (or deletion), and whether an Insert
//! asserted it was absent before the batch.
struct KeyOutcome {
  bool deleted = false;
  bool inserted = false;
  std::string_view value;
  int batch = -1;  // the last batch of the group that wrote the key (-1: none yet)
};

//! A counter key's net effect: whether the batch deleted it before adding the deltas.
struct CounterOutcome {
  bool delete_first = false;
  bool added = false;
  int64_t a = 0;
  int64_t b = 0;
};

using CounterKey = std::pair<int16_t, std::string_view>;

//! The collapsed batch: per table and key, and per counter key.
struct Outcomes {
  std::array<std::map<std::string_view, KeyOutcome>, kTableCount> keys;
  std::map<CounterKey, CounterOutcome> counters;
};

// Tables whose keys may hold counters (RocksDB merges counters in these column families).
bool HoldsCounters(Table t) {
  return t == Table::kMeta || t == Table::kUserStats || t == Table::kUsage;
}

// Adds the ops of the group's batch number `index` to `out`.
Status Collapse(const Batch& batch, int index, Outcomes* out) {
  for (const Batch::Op& op : batch.ops()) {
    auto t = static_cast<size_t>(op.table);
    if (t >= kTableCount) return Status::InvalidArgument("write to an unknown table");
    CounterKey counter_key{static_cast<int16_t>(op.table), op.key};
    switch (op.kind) {
      case Batch::OpKind::kInsert: {
        KeyOutcome& key = out->keys[t][op.key];
        if (key.inserted) {
          return Status::AlreadyExists(std::string("key inserted twice into ") +
                                       TableName(op.table));
        }
        // An Insert checks the key before the transaction, not after an earlier batch's write
        // of it: such a group fails, and its batches run one by one.
        if (key.batch >= 0 && key.batch < index) {
          return Status::AlreadyExists(std::string("key of an Insert written by an earlier "
                                                   "batch of the group into ") +
                                       TableName(op.table));
        }
        key = KeyOutcome{false, true, op.value, index};
        break;
      }
      case Batch::OpKind::kPut: {
        KeyOutcome& key = out->keys[t][op.key];
        key.deleted = false;
        key.value = op.value;
        key.batch = index;
        break;
      }
      case Batch::OpKind::kDelete: {
        KeyOutcome& key = out->keys[t][op.key];
        key.deleted = true;
        key.batch = index;
        if (HoldsCounters(op.table)) out->counters[counter_key] = CounterOutcome{true};
        break;
      }
      case Batch::OpKind::kAddCounters: {
        CounterOutcome& c = out->counters[counter_key];
        c.added = true;
        // Unsigned: wraps instead of signed-overflow UB (RocksDB's merge wraps too).
        c.a = static_cast<int64_t>(static_cast<uint64_t>(c.a) + static_cast<uint64_t>(op.delta_a));
        c.b = static_cast<int64_t>(static_cast<uint64_t>(c.b) + static_cast<uint64_t>(op.delta_b));
        break;
      }
    }
  }
  return Status::Ok();
}

void AddKvStatement(KvOp op, Table table, const std::vector<std::string_view>& keys,
                    const std::vector<std::string_view>* values,
                    std::vector<StatementCall>* calls) {
  if (keys.empty()) return;
  StatementCall call{KvStatementName(op, table), {}, keys.size()};
  call.params.ByteaArray(keys);
  if (values != nullptr) call.params.ByteaArray(*values);
  calls->push_back(std::move(call));
}

void AddTableStatements(Table table, const std::map<std::string_view, KeyOutcome>& keys,
                        std::vector<StatementCall>* calls) {
  std::vector<std::string_view> insert_keys, insert_values, upsert_keys, upsert_values, deletes;
  for (const auto& [key, outcome] : keys) {
    if (outcome.inserted) {
      insert_keys.push_back(key);
      insert_values.push_back(outcome.value);
    } else if (!outcome.deleted) {
      upsert_keys.push_back(key);
      upsert_values.push_back(outcome.value);
    }
    if (outcome.deleted) deletes.push_back(key);
  }
  AddKvStatement(KvOp::kInsert, table, insert_keys, &insert_values, calls);
  AddKvStatement(KvOp::kUpsert, table, upsert_keys, &upsert_values, calls);
  AddKvStatement(KvOp::kDelete, table, deletes, nullptr, calls);
}

void AddCounterStatements(const std::map<CounterKey, CounterOutcome>& counters, int stripe,
                          std::vector<StatementCall>* calls) {
  std::vector<int16_t> del_tables, add_tables;
  std::vector<std::string_view> del_keys, add_keys;
  std::vector<int64_t> as, bs;
  for (const auto& [key, c] : counters) {
    if (c.delete_first) {
      del_tables.push_back(key.first);
      del_keys.push_back(key.second);
    }
    if (!c.added) continue;
    add_tables.push_back(key.first);
    add_keys.push_back(key.second);
    as.push_back(c.a);
    bs.push_back(c.b);
  }
  if (!del_keys.empty()) {
    StatementCall call{kCountersDelete, {}, del_keys.size()};
    call.params.Int2Array(del_tables).ByteaArray(del_keys);
    calls->push_back(std::move(call));
  }
  if (!add_keys.empty()) {
    StatementCall call{kCountersAdd, {}, add_keys.size()};
    call.params.Int4(stripe).Int2Array(add_tables).ByteaArray(add_keys).Int8Array(as).Int8Array(bs);
    calls->push_back(std::move(call));
  }
}

// Inbox rows written: a notice naming their shards, delivered when the transaction commits.
void AddInboxNotice(const std::map<std::string_view, KeyOutcome>& inbox,
                    std::vector<StatementCall>* calls) {
  std::set<uint32_t> shards;
  for (const auto& [key, outcome] : inbox) {
    if (outcome.deleted || key.size() < 2) continue;
    shards.insert((static_cast<uint8_t>(key[0]) << 8) | static_cast<uint8_t>(key[1]));
  }
  if (shards.empty()) return;
  std::string payload;
  for (uint32_t shard : shards) payload += (payload.empty() ? "" : ",") + std::to_string(shard);
  StatementCall call{kInboxNotify, {}, 0};
  call.params.Bytes(payload);
  calls->push_back(std::move(call));
}

// Executions the batches close: notices of their ids, one a line, each payload under
// PostgreSQL's 8,000-byte limit.
void AddClosedNotices(const std::vector<const Batch*>& batches, std::vector<StatementCall>* calls) {
  constexpr size_t kMaxPayload = 7000;
  std::string payload;
  auto flush = [&] {
    if (payload.empty()) return;
    StatementCall call{kClosedNotify, {}, 0};
    call.params.Bytes(payload);
    calls->push_back(std::move(call));
    payload.clear();
  };
  for (const Batch* batch : batches) {
    for (const std::string& id : batch->closed()) {
      if (id.empty() || id.size() > kMaxPayload || id.find('\n') != std::string::npos) continue;
      if (payload.size() + id.size() + 1 > kMaxPayload) flush();
      payload += (payload.empty() ? "" : "\n") + id;
    }
  }
  flush();
}

}  // namespace

Result<std::vector<StatementCall>> CompileBatch(const Batch& batch, int stripe) {
  return CompileBatches({&batch}, stripe);
}

Result<std::vector<StatementCall>> CompileBatches(const std::vector<const Batch*>& batches,
                                                  int stripe) {
  Outcomes outcomes;
  for (size_t i = 0; i < batches.size(); ++i) {
    RETURN_IF_ERROR(Collapse(*batches[i], static_cast<int>(i), &outcomes));
  }
  std::vector<StatementCall> calls;
  for (size_t t = 0; t < kTableCount; ++t) {
    AddTableStatements(static_cast<Table>(t), outcomes.keys[t], &calls);
  }
  AddCounterStatements(outcomes.counters, stripe, &calls);
  AddInboxNotice(outcomes.keys[static_cast<size_t>(Table::kInbox)], &calls);
  AddClosedNotices(batches, &calls);
  return calls;
}

}  // namespace papr::storage::pg
