// counters: the additive counter pairs (Batch::AddCounters) of every table, striped by writer
// so that concurrent writers of one hot key (a user's usage) update different rows; a read
// sums the stripes.
#include "storage/postgres/pg_sql.h"

namespace papr::storage::pg {

const char* const kCountersAdd = "counters_add";
const char* const kCountersGet = "counters_get";
const char* const kCountersDelete = "counters_delete";

std::vector<std::string> CountersDdl() {
  return {
      "CREATE TABLE IF NOT EXISTS counters ("
      " tbl smallint NOT NULL,"  // the storage::Table
      " k bytea NOT NULL,"
      " stripe integer NOT NULL,"  // the writer's stripe
      " a bigint NOT NULL,"
      " b bigint NOT NULL,"
      " PRIMARY KEY (tbl, k, stripe))",
  };
}

std::vector<PreparedSql> CountersStatements() {
  return {
      {kCountersAdd,
       "INSERT INTO counters AS c (tbl, k, stripe, a, b)"
       " SELECT u.tbl, u.k, $1::int4, u.a, u.b"
       " FROM unnest($2::int2[], $3::bytea[], $4::int8[], $5::int8[]) AS u(tbl, k, a, b)"
       " ON CONFLICT (tbl, k, stripe) DO UPDATE SET a = c.a + EXCLUDED.a, b = c.b + EXCLUDED.b"},
      {kCountersGet,
       "SELECT coalesce(sum(a), 0)::int8, coalesce(sum(b), 0)::int8 FROM counters"
       " WHERE tbl = $1::int2 AND k = $2::bytea"},
      {kCountersDelete,
       "DELETE FROM counters c USING unnest($1::int2[], $2::bytea[]) AS u(tbl, k)"
       " WHERE c.tbl = u.tbl AND c.k = u.k"},
  };
}

}  // namespace papr::storage::pg
