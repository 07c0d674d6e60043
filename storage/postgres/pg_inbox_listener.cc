#include "storage/postgres/pg_inbox_listener.h"

#include <libpq-fe.h>
#include <poll.h>

#include <cerrno>
#include <charconv>
#include <set>
#include <string_view>

#include "storage/postgres/pg_connection.h"
#include "storage/postgres/pg_sql.h"

namespace papr::storage::pg {
namespace {

// Adds the shards of a payload "3,17" to `out` (what does not parse is ignored).
void AddShards(std::string_view payload, std::set<uint32_t>* out) {
  while (!payload.empty()) {
    size_t comma = payload.find(',');
    std::string_view item = payload.substr(0, comma);
    uint32_t shard = 0;
    auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), shard);
    if (ec == std::errc() && end == item.data() + item.size()) out->insert(shard);
    if (comma == std::string_view::npos) break;
    payload.remove_prefix(comma + 1);
  }
}

// Adds the lines of a payload "id-1\nid-2" to `out`.
void AddLines(std::string_view payload, std::vector<std::string>* out) {
  while (!payload.empty()) {
    size_t end = payload.find('\n');
    if (end != 0) out->emplace_back(payload.substr(0, end));
    if (end == std::string_view::npos) break;
    payload.remove_prefix(end + 1);
  }
}

class PgInboxListener final : public InboxListener {
 public:
  explicit PgInboxListener(std::unique_ptr<PgConnection> conn) : conn_(std::move(conn)) {}

  Result<ClusterNotices> Wait(std::chrono::milliseconds timeout) override {
    std::set<uint32_t> shards;
    ClusterNotices notices;
    RETURN_IF_ERROR(Collect(&shards, &notices.closed));
    if (shards.empty() && notices.closed.empty()) {
      pollfd fd{PQsocket(conn_->raw()), POLLIN, 0};
      if (fd.fd < 0) return Status::Unavailable("the inbox listener lost its connection");
      int ready = ::poll(&fd, 1, static_cast<int>(timeout.count()));
      if (ready < 0 && errno != EINTR) return Status::IoError("poll of the inbox listener failed");
      if (ready > 0) RETURN_IF_ERROR(Collect(&shards, &notices.closed));
    }
    notices.inbox_shards.assign(shards.begin(), shards.end());
    return notices;
  }

 private:
  Status Collect(std::set<uint32_t>* shards, std::vector<std::string>* closed) {
    if (PQconsumeInput(conn_->raw()) != 1) {
      return Status::Unavailable(std::string("the inbox listener lost its connection: ") +
                                 PQerrorMessage(conn_->raw()));
    }
    while (PGnotify* notice = PQnotifies(conn_->raw())) {
      std::string_view payload = notice->extra != nullptr ? notice->extra : "";
      if (notice->relname != nullptr && std::string_view(notice->relname) == kClosedChannel) {
        AddLines(payload, closed);
      } else {
        AddShards(payload, shards);
      }
      PQfreemem(notice);
    }
    return Status::Ok();
  }

  std::unique_ptr<PgConnection> conn_;
};

}  // namespace

Result<std::unique_ptr<InboxListener>> ListenForInbox(const PgStoreOptions& options) {
  ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> conn, PgConnection::Connect(options));
  RETURN_IF_ERROR(conn->ExecSql(std::string("LISTEN ") + kInboxChannel));
  RETURN_IF_ERROR(conn->ExecSql(std::string("LISTEN ") + kClosedChannel));
  return std::unique_ptr<InboxListener>(std::make_unique<PgInboxListener>(std::move(conn)));
}

}  // namespace papr::storage::pg
