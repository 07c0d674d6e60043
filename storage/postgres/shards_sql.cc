// shards: one row per shard, its fencing epoch (range_id) and lease. A fenced write first
// read-locks its shard's row (FOR SHARE) and compares range_id (Temporal's readLockShard): a
// new owner's range_id bump waits for every open fenced write, and every later write of the
// old owner sees the new value and aborts.
#include "storage/postgres/pg_sql.h"

namespace papr::storage::pg {

const char* const kShardFence = "shard_fence";
const char* const kShardAcquire = "shard_acquire";
const char* const kShardRenew = "shard_renew";
const char* const kShardRelease = "shard_release";
const char* const kShardsAll = "shards_all";
const char* const kInboxNotify = "inbox_notify";
const char* const kInboxChannel = "papr_inbox";
const char* const kClosedNotify = "closed_notify";
const char* const kClosedChannel = "papr_closed";
const char* const kFenceSqlState = "PF001";

std::vector<std::string> ShardsDdl() {
  return {
      "CREATE TABLE IF NOT EXISTS shards ("
      " shard_id integer PRIMARY KEY,"
      " range_id bigint NOT NULL,"
      " owner text,"
      " lease_expires timestamptz)",
      // Raises instead of returning a mismatch, so that the rest of the pipelined transaction
      // is skipped and nothing of it commits.
      "CREATE OR REPLACE FUNCTION papr_check_fence(s integer, r bigint) RETURNS void AS $$\n"
      "DECLARE current bigint;\n"
      "BEGIN\n"
      "  SELECT range_id INTO current FROM shards WHERE shard_id = s FOR SHARE;\n"
      "  IF current IS DISTINCT FROM r THEN\n"
      "    RAISE EXCEPTION 'shard % is at range_id %, the write was fenced at %', s, current, r\n"
      "      USING ERRCODE = 'PF001';\n"
      "  END IF;\n"
      "END $$ LANGUAGE plpgsql",
  };
}

std::vector<PreparedSql> ShardsStatements() {
  return {
      {kShardFence, "SELECT papr_check_fence($1::int4, $2::int8)"},
      {kShardAcquire,
       "INSERT INTO shards AS s (shard_id, range_id, owner, lease_expires)"
       " VALUES ($1::int4, 1, $2::text, now() + $3::int8 * interval '1 millisecond')"
       " ON CONFLICT (shard_id) DO UPDATE SET range_id = s.range_id + 1,"
       " owner = EXCLUDED.owner, lease_expires = EXCLUDED.lease_expires"
       " WHERE s.owner IS NULL OR s.owner = EXCLUDED.owner OR s.lease_expires <= now()"
       " RETURNING range_id"},
      {kShardRenew,
       "UPDATE shards SET lease_expires = now() + $3::int8 * interval '1 millisecond'"
       " WHERE shard_id = $1::int4 AND range_id = $2::int8 RETURNING 1"},
      {kInboxNotify, "SELECT pg_notify('papr_inbox', $1::text)"},
      {kClosedNotify, "SELECT pg_notify('papr_closed', $1::text)"},
      {kShardsAll,
       "SELECT shard_id::int8, range_id, coalesce(owner, ''),"
       " coalesce((extract(epoch FROM lease_expires - now()) * 1000)::int8, 0)"
       " FROM shards ORDER BY shard_id"},
      {kShardRelease,
       "UPDATE shards SET owner = NULL, lease_expires = NULL"
       " WHERE shard_id = $1::int4 AND range_id = $2::int8 RETURNING 1"},
  };
}

}  // namespace papr::storage::pg
