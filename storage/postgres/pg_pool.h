#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

#include "common/result.h"
#include "storage/postgres/pg_connection.h"
#include "storage/postgres/pg_options.h"

namespace papr::storage::pg {

//! A fixed number of connection slots. A caller borrows one slot at a time; a slot whose
//! connection died (server restarted, connection terminated) is reconnected by the next
//! borrower, so the store recovers by itself once the server is back. Thread-safe.
class PgPool {
 public:
  explicit PgPool(PgStoreOptions options);
  ~PgPool();

  //! A borrowed connection, returned to the pool on destruction. `slot` is stable for the
  //! pool's life (the counters' stripe of the writer).
  class Borrowed {
   public:
    Borrowed(PgPool* pool, int slot) : pool_(pool), slot_(slot) {}
    Borrowed(Borrowed&& other) noexcept;
    Borrowed& operator=(Borrowed&&) = delete;
    ~Borrowed();
    PgConnection& conn() { return *pool_->conns_[slot_]; }
    int slot() const { return slot_; }

   private:
    PgPool* pool_;
    int slot_;
  };

  // Waits (up to the statement timeout) for a free slot and hands it out connected and
  // healthy. Unavailable when the server cannot be reached; ResourceExhausted when every
  // slot stays busy.
  Result<Borrowed> Borrow();
  const PgStoreOptions& options() const { return options_; }

 private:
  Result<int> TakeSlot();
  void Return(int slot);
  Status EnsureConnected(int slot);

  const PgStoreOptions options_;
  std::mutex mu_;
  std::condition_variable freed_;
  std::vector<int> free_slots_;                       // guarded by mu_
  std::vector<std::unique_ptr<PgConnection>> conns_;  // slot i owned by its borrower
};

}  // namespace papr::storage::pg
