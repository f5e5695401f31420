// The reference server's database layout and its version. A new database
// gets the current schema; an existing one of an older version this build
// knows how to upgrade is upgraded in one transaction; any other layout is
// refused rather than guessed at.
#pragma once

#include <cstdint>

#include "hal/status.h"

struct sqlite3;

namespace sublink {

/// The layout this build reads and writes.
inline constexpr int64_t kSqliteSchemaVersion = 5;

/// Creates the tables of an empty database, or checks the version of an
/// existing one and upgrades it from an older known version:
/// invalid_argument (detail: the version found) when it is another;
/// io_error (detail: SQLite code) when SQLite fails.
Status ensure_sqlite_schema(sqlite3* db);

}  // namespace sublink
