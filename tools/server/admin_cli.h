// `sublink-server admin`: the operator's command line against a running
// server's control socket (admin_request.h for the commands, admin_service.h
// for what the server does).
#pragma once

namespace sublink {

/// Runs `sublink-server admin ARGS...`; argv[0] is "admin". The exit status:
/// 0 done, 1 the server refused or failed, 2 bad usage, 3 the server is not
/// running or its socket cannot be reached.
int run_admin_cli(int argc, char** argv);

}  // namespace sublink
