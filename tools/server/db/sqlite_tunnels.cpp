// SqliteDirectory's records of tunnel channels (the tunnels table): a row
// written when a channel opens and completed when it closes.
#include <sqlite3.h>

#include <limits>

#include "net/tunnel/tunnel_frame.h"
#include "tools/server/db/sqlite_directory.h"
#include "tools/server/db/sqlite_statement.h"

namespace sublink {

namespace {

constexpr uint64_t kMaxStoredCount = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());

}  // namespace

Result<int64_t> SqliteDirectory::tunnel_opened(const TunnelRecord& record) {
  if (record.channel < kTunnelMinChannel) return Status(Reason::invalid_argument, 1);
  if (record.service.empty() || record.service.size() > kTunnelMaxName) return Status(Reason::invalid_argument, 2);
  if (record.op.size() > kTunnelMaxName) return Status(Reason::invalid_argument, 3);
  SqliteStatement insert(statements_,
                         "INSERT INTO tunnels (system_id, channel, service, operator, opened) "
                         "VALUES (?1, ?2, ?3, ?4, ?5)");
  const Status s = insert.bind(1, record.system_id)
                       .bind(2, static_cast<int64_t>(record.channel))
                       .bind(3, record.service)
                       .bind(4, record.op)
                       .bind(5, record.opened)
                       .run();
  if (!s.ok()) return s;
  return static_cast<int64_t>(sqlite3_last_insert_rowid(db_));
}

Status SqliteDirectory::tunnel_closed(int64_t id, Millis at, uint64_t bytes_in, uint64_t bytes_out,
                                      std::string_view reason) {
  if (bytes_in > kMaxStoredCount || bytes_out > kMaxStoredCount) return Status(Reason::invalid_argument, 4);
  SqliteStatement update(statements_,
                         "UPDATE tunnels SET closed = ?2, bytes_in = ?3, bytes_out = ?4, reason = ?5 "
                         "WHERE id = ?1 AND closed IS NULL");
  const Status s = update.bind(1, id)
                       .bind(2, at)
                       .bind(3, static_cast<int64_t>(bytes_in))
                       .bind(4, static_cast<int64_t>(bytes_out))
                       .bind(5, reason)
                       .run();
  if (!s.ok()) return s;
  return sqlite3_changes(db_) > 0 ? Status::Ok() : Status(Reason::invalid_argument);
}

Result<std::vector<TunnelRecord>> SqliteDirectory::tunnels(std::string_view system_id) {
  std::vector<TunnelRecord> out;
  SqliteStatement select(statements_,
                         "SELECT system_id, channel, service, operator, opened, closed, bytes_in, bytes_out, "
                         "coalesce(reason, '') FROM tunnels WHERE coalesce(?1, '') = '' OR system_id = ?1 ORDER BY id");
  select.bind(1, system_id);
  for (;;) {
    Result<bool> row = select.step();
    if (!row.ok()) return row.status();
    if (!*row) return out;
    TunnelRecord r;
    r.system_id = select.column_text(0);
    r.channel = static_cast<uint16_t>(select.column_int(1));
    r.service = select.column_text(2);
    r.op = select.column_text(3);
    r.opened = select.column_int(4);
    r.closed = select.column_optional_int(5);
    r.bytes_in = static_cast<uint64_t>(select.column_int(6));
    r.bytes_out = static_cast<uint64_t>(select.column_int(7));
    r.reason = select.column_text(8);
    out.push_back(std::move(r));
  }
}

Result<int64_t> SqliteDirectory::close_abandoned_tunnels(Millis at) {
  SqliteStatement update(statements_, "UPDATE tunnels SET closed = ?1, reason = ?2 WHERE closed IS NULL");
  const Status s = update.bind(1, at).bind(2, kTunnelServerStopped).run();
  if (!s.ok()) return s;
  return static_cast<int64_t>(sqlite3_changes(db_));
}

}  // namespace sublink
