// sublink-server's subcommands that set up the database before (or while)
// it serves: init-db, add-customer, add-system, entitle.
#pragma once

namespace sublink {

/// True when `name` is one of the subcommands.
bool is_admin_command(const char* name);

/// Runs the subcommand argv[0] with its arguments; the exit status (0 done,
/// 1 the database failed, 2 bad usage). Messages go to stderr.
int run_admin_command(int argc, char** argv);

}  // namespace sublink
