// sublink-server's subcommands that set up the database before (or while)
// it serves: init-db, add-customer, add-system, entitle.
#pragma once

#include "hal/status.h"
#include "tools/server/db/sqlite_directory.h"

namespace sublink {

/// Registers `record.system_id` under `record.customer_id` (adding the
/// customer when missing). Its entitlements are kept when it is registered
/// to that customer already; those in `record` are ignored.
Status register_system(SqliteDirectory& db, SystemRecord record);

/// True when `name` is one of the subcommands.
bool is_admin_command(const char* name);

/// Runs the subcommand argv[0] with its arguments; the exit status (0 done,
/// 1 the database failed, 2 bad usage). Messages go to stderr.
int run_admin_command(int argc, char** argv);

}  // namespace sublink
