#pragma once

// Every RocksDB key layout of papr-server, in one place. Each Table (storage/db.h) is its own
// column family, so keys carry no table tag byte. Grammar notation: `a '\0' b` is a then a
// NUL byte then b; BE64 is an 8-byte big-endian unsigned integer, so that RocksDB's bytewise
// order is numeric order. Variable-length string parts that are followed by another part
// (user_id, term, workflow_id) must not contain '\0': the encoders' callers validate this
// (MemoryStore rejects such ids; Tokenize never produces NUL). Never change a layout in place:
// add a new table or a new tag and migrate.
//
//   kMeta        '\x01' name                         -> bytes (system scalars, e.g. schema)
//                '\x02' counter_name '\0' user_id    -> counter pair (merge-added)
//                '\x03' max_name '\0' user_id '\0' BE64(~value) -> "" (a per-user maximum as a
//                grow-only set of values: the first key of the prefix holds the largest)
//   kMemories    user_id '\0' memory_id              -> EncodeMemoryRecord bytes
//   kPostings    retired: user_id '\0' term '\0' memory_id -> varint tf, varint doc_len (one
//                key per posting; replaced by search/ segments, rows deleted on upgrade)
//   kUserStats   user_id                             -> counter pair (doc_count, total_len)
//   kUsage       user_id                             -> counter pair (batches, memories)
//   kHistory     workflow_id '\0' BE64 last_event_id -> a page of events (engine/history_rows.h;
//                rows written before pages hold one event, keyed by its id)
//   kExecutions  workflow_id                         -> execution state bytes (engine)
//   kTimers      BE64 fire_ms workflow_id '\0' timer_id -> "" (engine)
//   kVisibility  status(1 byte) BE64 start_ms workflow_id -> summary bytes (engine)
//   kBlobs       workflow_id '\0' blob_name          -> blob bytes (engine)
//                0xF0 owner '\0' BE64(~start_ms) workflow_id -> "" (owner index, newest first)
//   kActivities  workflow_id '\0' BE64 activity_id   -> activity record (engine)
//   kIndexQueue  BE64 sequence                       -> lp user_id, lp memory_id (a stored
//                memory the search index has not taken in yet; deleted when it has), or
//                that and 'D' tombstone bytes (a deletion for the index writer), or that and
//                'H' content sha256 hex (index the memory only while its content has this hash)
//   kSegments    user_id '\0' hex(scope) '\0' 'S' BE64 segment_id -> segment bytes (search/)
//                user_id '\0' hex(scope) '\0' 'T' BE64 segment_id BE32 doc -> tombstone bytes
//   kInbox       BE16 shard 'S' workflow_id        -> a start for the shard's owner (engine/inbox_rows.h)
//                BE16 shard 'R' workflow_id '\0' request_id -> a cancel, terminate or signal
//   kEndUsers    owner '\0' 'u' end_user_id         -> EndUserRecord (storage/end_user_store.h)
//                owner '\0' 'x' external_id         -> end_user_id
//   scope is the memory's external_user_id ("" when none), hex-encoded so it holds no NUL;
//   lp is a varint length then the bytes.
//
// A counter pair is the value format of Db's counter merge operator: two 8-byte little-endian
// two's-complement int64 (see db.cc).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace papr::storage {

// ---- kMeta
// Key of the schema version scalar (value: decimal text, currently "1").
std::string MetaSchemaVersionKey();
// Key of the cluster's shard count, fixed when the database is first used as a cluster
// (value: decimal text).
std::string MetaClusterShardsKey();
// A per-user counter pair kept in kMeta under a named counter.
std::string MetaCounterKey(std::string_view counter_name, std::string_view user_id);
// A per-user maximum: raising it to `value` puts this key. Any number of writers may raise it
// at once (no read-modify-write); the maximum is the value of the first key of the prefix.
std::string MetaMaxKey(std::string_view max_name, std::string_view user_id, uint64_t value);
std::string MetaMaxPrefix(std::string_view max_name, std::string_view user_id);
// The value of a MetaMaxKey under `prefix`; false for any other key.
bool DecodeMetaMaxKey(std::string_view key, std::string_view prefix, uint64_t* value);

// ---- kMemories
std::string MemoryKey(std::string_view user_id, std::string_view memory_id);
// Prefix of all of a user's memory keys.
std::string MemoryUserPrefix(std::string_view user_id);
// Splits at the first '\0'. False when the key has no separator.
bool DecodeMemoryKey(std::string_view key, std::string_view* user_id, std::string_view* memory_id);

// ---- kIndexQueue
std::string IndexQueueKey(uint64_t sequence);
bool DecodeIndexQueueKey(std::string_view key, uint64_t* sequence);
// `content_hash` (optional): the stored memory is taken in only while its content_hash is this
// one (a later update queues its own row), so a row never indexes content that came after it.
std::string EncodeIndexQueueValue(std::string_view user_id, std::string_view memory_id,
                                  std::string_view content_hash = {});
// A deletion's row: the memory (this content of it) is gone; `tombstone` is search's encoding.
std::string EncodeIndexQueueDeletion(std::string_view user_id, std::string_view memory_id,
                                     std::string_view tombstone);
// Either row; `*tombstone` (optional) is set for a deletion's row, cleared for a memory's;
// `*content_hash` (optional) is the memory row's hash, "" when it has none.
bool DecodeIndexQueueValue(std::string_view value, std::string* user_id, std::string* memory_id,
                           std::optional<std::string>* tombstone = nullptr,
                           std::string* content_hash = nullptr);

// ---- kSegments
//! The parts of a kSegments key. `doc` is meaningful for tombstones only.
struct SegmentKeyParts {
  std::string user_id;
  std::string scope;
  bool tombstone = false;
  uint64_t segment_id = 0;
  uint32_t doc = 0;
};
std::string SegmentKey(std::string_view user_id, std::string_view scope, uint64_t segment_id);
std::string SegmentTombstoneKey(std::string_view user_id, std::string_view scope,
                                uint64_t segment_id, uint32_t doc);
// Prefix of every segment and tombstone of the user (all scopes).
std::string SegmentUserPrefix(std::string_view user_id);
bool DecodeSegmentKey(std::string_view key, SegmentKeyParts* parts);
// Key of the search index format marker in kMeta (value: decimal text).
std::string MetaSearchIndexVersionKey();
// Cluster mode: the search catalog's change log (value: search/catalog_log.h), its newest
// version (value: decimal text), and the queue sequence prefixes nodes have claimed.
std::string MetaSearchLogKey(uint64_t version);
std::string MetaSearchLogHeadKey();
std::string MetaSearchSequencePrefixKey(uint32_t prefix);

// ---- kUserStats / kUsage
std::string UserStatsKey(std::string_view user_id);
std::string UsageKey(std::string_view user_id);

// ---- kHistory (engine)
std::string HistoryKey(std::string_view workflow_id, uint64_t event_id);
// Prefix of all events of one workflow, in event_id order.
std::string HistoryPrefix(std::string_view workflow_id);
bool DecodeHistoryKey(std::string_view key, std::string_view* workflow_id, uint64_t* event_id);

// ---- kExecutions (engine)
std::string ExecutionKey(std::string_view workflow_id);

// ---- kTimers (engine): scanning from the start yields timers in fire order.
std::string TimerKey(uint64_t fire_ms, std::string_view workflow_id, std::string_view timer_id);
// Seek target / exclusive upper bound for all timers firing before `fire_ms`.
std::string TimerFireTimePrefix(uint64_t fire_ms);
bool DecodeTimerKey(std::string_view key, uint64_t* fire_ms, std::string_view* workflow_id,
                    std::string_view* timer_id);

// ---- kVisibility (engine): by status, then start time, then id.
std::string VisibilityKey(uint8_t status, uint64_t start_ms, std::string_view workflow_id);
std::string VisibilityStatusPrefix(uint8_t status);
bool DecodeVisibilityKey(std::string_view key, uint8_t* status, uint64_t* start_ms,
                         std::string_view* workflow_id);

// ---- kBlobs (engine): owned by a workflow so retention deletes them with it.
std::string BlobKey(std::string_view workflow_id, std::string_view blob_name);
std::string BlobPrefix(std::string_view workflow_id);
bool DecodeBlobKey(std::string_view key, std::string_view* workflow_id,
                   std::string_view* blob_name);

// ---- kActivities (engine): outcome rows of one workflow's activities, in id order.
std::string ActivityKey(std::string_view workflow_id, uint64_t activity_id);
std::string ActivityPrefix(std::string_view workflow_id);
bool DecodeActivityKey(std::string_view key, std::string_view* workflow_id, uint64_t* activity_id);

// ---- kInbox (engine, cluster mode): requests posted by a node for the owner of a shard.
std::string InboxStartKey(uint32_t shard, std::string_view workflow_id);
// All of one shard's starts, in workflow id order.
std::string InboxStartPrefix(uint32_t shard);
// A request (cancel, terminate, signal) for an execution of `shard`; `request_id` makes
// each one its own row.
std::string InboxRequestKey(uint32_t shard, std::string_view workflow_id,
                            std::string_view request_id);
std::string InboxRequestPrefix(uint32_t shard);
// The workflow id of an InboxRequestKey; false for any other key.
bool DecodeInboxRequestKey(std::string_view key, std::string_view* workflow_id);

// ---- kVisibility owner index (engine): tag byte 0xF0 (never a status byte), then
// owner '\0' BE64(~start_ms) workflow_id, so a prefix scan lists an owner's executions newest
// first.
std::string OwnerIndexKey(std::string_view owner, uint64_t start_ms, std::string_view workflow_id);
std::string OwnerIndexPrefix(std::string_view owner);
bool DecodeOwnerIndexKey(std::string_view key, std::string_view* owner, uint64_t* start_ms,
                         std::string_view* workflow_id);

// ---- Helpers
// The smallest key greater than every key starting with `prefix` (an exclusive upper bound
// for a prefix scan); empty when none exists (prefix is all 0xff bytes, or empty).
std::string PrefixSuccessor(std::string_view prefix);

}  // namespace papr::storage
