#include "tools/server/db/sqlite_statement.h"

#include <sqlite3.h>

#include <string>

namespace sublink {

Status sqlite_failure(int code) { return Status(Reason::io_error, code); }

SqliteStatement::SqliteStatement(sqlite3* db, std::string_view sql) : db_(db) {
  const int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt_, nullptr);
  if (rc != SQLITE_OK) status_ = sqlite_failure(rc);
}

SqliteStatement::SqliteStatement(SqliteStatementCache& cache, std::string_view sql) : db_(cache.db_) {
  SqliteStatementCache::Entry& entry = cache.entries_[std::string(sql)];
  if (entry.in_use) {
    const int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt_, nullptr);
    if (rc != SQLITE_OK) status_ = sqlite_failure(rc);
    return;
  }
  if (entry.stmt == nullptr) {
    const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                                      &entry.stmt, nullptr);
    if (rc != SQLITE_OK) {
      status_ = sqlite_failure(rc);
      return;
    }
  }
  stmt_ = entry.stmt;
  kept_ = &entry;
  entry.in_use = true;
}

SqliteStatement::~SqliteStatement() {
  if (kept_ == nullptr) {
    sqlite3_finalize(stmt_);
    return;
  }
  // Reset also ends a read the statement left open half-way through its rows.
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  kept_->in_use = false;
}

void SqliteStatementCache::finalize_all() {
  for (auto& [sql, entry] : entries_) sqlite3_finalize(entry.stmt);
  entries_.clear();
}

SqliteStatement& SqliteStatement::bind(int index, int64_t value) {
  if (status_.ok()) {
    const int rc = sqlite3_bind_int64(stmt_, index, value);
    if (rc != SQLITE_OK) status_ = sqlite_failure(rc);
  }
  return *this;
}

SqliteStatement& SqliteStatement::bind(int index, std::string_view text) {
  if (status_.ok()) {
    // SQLITE_TRANSIENT: the caller's view may not outlive the statement.
    const int rc = sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
    if (rc != SQLITE_OK) status_ = sqlite_failure(rc);
  }
  return *this;
}

SqliteStatement& SqliteStatement::bind(int index, std::optional<int64_t> value) {
  if (value) return bind(index, *value);
  if (status_.ok()) {
    const int rc = sqlite3_bind_null(stmt_, index);
    if (rc != SQLITE_OK) status_ = sqlite_failure(rc);
  }
  return *this;
}

Result<bool> SqliteStatement::step() {
  if (!status_.ok()) return status_;
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  status_ = sqlite_failure(rc);
  return status_;
}

Status SqliteStatement::run() {
  for (;;) {
    Result<bool> row = step();
    if (!row.ok()) return row.status();
    if (!*row) return Status::Ok();
  }
}

int64_t SqliteStatement::column_int(int column) const { return sqlite3_column_int64(stmt_, column); }

std::optional<int64_t> SqliteStatement::column_optional_int(int column) const {
  if (sqlite3_column_type(stmt_, column) == SQLITE_NULL) return std::nullopt;
  return sqlite3_column_int64(stmt_, column);
}

std::string SqliteStatement::column_text(int column) const {
  const unsigned char* text = sqlite3_column_text(stmt_, column);
  if (text == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(text), static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
}

Status sqlite_exec(sqlite3* db, std::string_view sql) {
  const std::string text(sql);  // sqlite3_exec wants a terminated string
  const int rc = sqlite3_exec(db, text.c_str(), nullptr, nullptr, nullptr);
  return rc == SQLITE_OK ? Status::Ok() : sqlite_failure(rc);
}

}  // namespace sublink

namespace sublink {

SqliteTransaction::SqliteTransaction(sqlite3* db) : db_(db) {
  status_ = sqlite_exec(db_, "BEGIN IMMEDIATE");
  open_ = status_.ok();
}

SqliteTransaction::~SqliteTransaction() {
  // Nowhere to report a failed ROLLBACK from a destructor; SQLite rolls back
  // an open transaction itself when the connection closes.
  if (open_) (void)sqlite_exec(db_, "ROLLBACK");
}

Status SqliteTransaction::commit() {
  if (!open_) return status_.ok() ? Status(Reason::invalid_argument) : status_;
  const Status s = sqlite_exec(db_, "COMMIT");
  if (s.ok()) open_ = false;
  return s;
}

}  // namespace sublink
