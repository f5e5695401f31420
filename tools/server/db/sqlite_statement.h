// One prepared SQLite statement with its database, as values instead of
// return codes: every SQLite failure becomes Status(io_error, sqlite code),
// and the database keeps the message for the log. Host code only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "hal/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace sublink {

/// A failed SQLite call: io_error with the SQLite result code as detail.
Status sqlite_failure(int code);

/// The prepared statements of one database, kept for reuse: preparing
/// (parsing and planning) costs more than running most of the server's
/// statements, and a fleet runs the same few thousands of times a minute.
/// Must be finalized before the database is closed.
class SqliteStatementCache {
 public:
  explicit SqliteStatementCache(sqlite3* db) : db_(db) {}
  ~SqliteStatementCache() { finalize_all(); }
  SqliteStatementCache(const SqliteStatementCache&) = delete;
  SqliteStatementCache& operator=(const SqliteStatementCache&) = delete;

  /// Finalizes every kept statement (none may be in use).
  void finalize_all();

 private:
  friend class SqliteStatement;
  struct Entry {
    sqlite3_stmt* stmt = nullptr;
    bool in_use = false;
  };
  sqlite3* db_;
  std::unordered_map<std::string, Entry> entries_;  // by SQL text; nodes stay put
};

class SqliteStatement {
 public:
  /// Prepares `sql` on `db`; check status() before use.
  SqliteStatement(sqlite3* db, std::string_view sql);
  /// The same, with the statement kept in `cache` for the next use (a
  /// fresh one when the kept one is in use further up the stack). The
  /// statement is reset, and its bindings cleared, when this goes.
  SqliteStatement(SqliteStatementCache& cache, std::string_view sql);
  ~SqliteStatement();
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;

  /// Why preparing or the latest bind/step failed; ok otherwise.
  Status status() const { return status_; }

  /// Binds parameter `index` (1-based). A failure sticks in status().
  SqliteStatement& bind(int index, int64_t value);
  SqliteStatement& bind(int index, std::string_view text);
  SqliteStatement& bind(int index, std::optional<int64_t> value);

  /// Runs one step: true with a row to read, false when done.
  Result<bool> step();
  /// Runs a statement that returns no rows to completion.
  Status run();

  int64_t column_int(int column) const;
  std::optional<int64_t> column_optional_int(int column) const;
  std::string column_text(int column) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  SqliteStatementCache::Entry* kept_ = nullptr;  // the cache's entry, when borrowed
  Status status_;
};

/// Runs `sql` (one or more statements, no parameters, no rows wanted).
Status sqlite_exec(sqlite3* db, std::string_view sql);

}  // namespace sublink

namespace sublink {

/// A write transaction that rolls back unless committed, so every early
/// return on a failure leaves the database as it was.
class SqliteTransaction {
 public:
  /// Begins (BEGIN IMMEDIATE: the write lock is taken now, not half-way).
  explicit SqliteTransaction(sqlite3* db);
  ~SqliteTransaction();
  SqliteTransaction(const SqliteTransaction&) = delete;
  SqliteTransaction& operator=(const SqliteTransaction&) = delete;

  /// Why BEGIN failed; ok when the transaction is open.
  Status status() const { return status_; }
  Status commit();

 private:
  sqlite3* db_;
  Status status_;
  bool open_ = false;
};

}  // namespace sublink
