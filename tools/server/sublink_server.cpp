// sublink-server: the reference server of sublink/1 for many devices at once.
// See --help.
#include <signal.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "hal/posix/system_random.h"
#include "tools/server/admin_commands.h"
#include "tools/server/db/sqlite_directory.h"
#include "tools/server/server_loop.h"
#include "tools/server/server_options.h"

using namespace sublink;

namespace {

const char kUsage[] =
    "usage: sublink-server --db FILE --ca DEVICE_CA --cert CERT --key KEY --license-key KEY\n"
    "                      [--port P]... [--bind ADDRESS] [--heartbeat-s N] [--audit-s N]\n"
    "                      [--max-connections N] [--kid NAME] [--verbose]\n"
    "       sublink-server init-db | add-customer | add-system | entitle ...  (run one for its usage)\n"
    "\n"
    "Serves sublink/1 devices: TLS 1.2 with device certificates verified against\n"
    "DEVICE_CA (the certificate's CN must be the system_id the device claims),\n"
    "WebSocket on /sublink/v1, licenses signed with the ES256 key --license-key.\n"
    "Customers, systems and entitlements come from the SQLite database FILE, which\n"
    "also keeps every license issued, audit, event (once per seq) and connection.\n"
    "\n"
    "  --port P            listen on port P (repeatable; default 443 and 8443)\n"
    "  --bind ADDRESS      IPv4 or IPv6 address to listen on (default 0.0.0.0)\n"
    "  --heartbeat-s N     heartbeat interval told to devices (default 60)\n"
    "  --audit-s N         audit interval told to devices (default 86400)\n"
    "  --max-connections N devices served at once; more are closed (default 16384,\n"
    "                      lowered to what the open file limit allows)\n"
    "  --kid NAME          key id in license_grant (default sublink-1)\n"
    "  -v, --verbose       also log every received message\n"
    "\n"
    "Logs go to stderr with sd-daemon level prefixes. SIGTERM or SIGINT close every\n"
    "link (1001) and exit 0. Exit status: 78 when a file or the database stops the\n"
    "start, 1 when a port cannot be opened, 2 for bad usage.\n";

constexpr int kExitConfig = 78;
// Descriptors the server needs besides one per connection: listeners, the
// database and its journal, the signalfd, epoll, the log.
constexpr size_t kReservedDescriptors = 64;

// Raises the soft limit on open files to the hard limit (a fleet needs one
// descriptor per device; the usual soft limit of 1024 would stop it there)
// and returns how many connections the limit allows.
size_t raise_descriptor_limit(StderrLog& log) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return SIZE_MAX;
  if (limit.rlim_cur < limit.rlim_max) {
    const rlim_t was = limit.rlim_cur;
    limit.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0) {
      log.write(LogLevel::warning, "cannot raise the open file limit from %llu to %llu: %s",
                static_cast<unsigned long long>(was), static_cast<unsigned long long>(limit.rlim_max),
                strerror(errno));
      limit.rlim_cur = was;
    }
  }
  if (limit.rlim_cur == RLIM_INFINITY) return SIZE_MAX;
  return limit.rlim_cur > kReservedDescriptors ? static_cast<size_t>(limit.rlim_cur) - kReservedDescriptors : 1;
}

bool read_file(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream text;
  text << in.rdbuf();
  out = text.str();
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && is_admin_command(argv[1])) return run_admin_command(argc - 1, argv + 1);
  if (argc >= 2 && (std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0)) {
    fputs(kUsage, stdout);
    return 0;
  }
  ServeOptions options;
  std::string error;
  if (!parse_serve_options(argc - 1, argv + 1, options, error)) {
    fprintf(stderr, "sublink-server: %s (see --help)\n", error.c_str());
    return 2;
  }
  StderrLog log(options.verbose ? LogLevel::debug : LogLevel::info, "sublink-server");

  // Signals are read on the poll loop: blocked before anything starts.
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigprocmask(SIG_BLOCK, &mask, nullptr);
  signal(SIGPIPE, SIG_IGN);
  const int signal_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
  if (signal_fd < 0) {
    log.write(LogLevel::error, "cannot watch for signals: %s", strerror(errno));
    return 1;
  }

  std::string ca, cert, key, license_key;
  for (const auto& [path, text] : {std::pair<const std::string&, std::string&>{options.ca, ca},
                                   {options.cert, cert},
                                   {options.key, key},
                                   {options.license_key, license_key}}) {
    if (!read_file(path, text)) {
      log.write(LogLevel::error, "cannot read %s: %s", path.c_str(), strerror(errno));
      return kExitConfig;
    }
  }

  SystemRandom random;
  TlsServerConfig tls;
  Status s = tls.load({cert, key, {}, ca}, random);
  if (!s.ok()) {
    log.write(LogLevel::error, "cannot use --cert/--key/--ca: %s (Mbed TLS %d)", reason_name(s.reason()), s.detail());
    return kExitConfig;
  }
  LicenseSigner signer(random);
  s = signer.load_private_key(license_key);
  if (!s.ok()) {
    log.write(LogLevel::error, "--license-key %s: not an unencrypted EC P-256 private key (%s)",
              options.license_key.c_str(), reason_name(s.reason()));
    return kExitConfig;
  }
  Result<std::unique_ptr<SqliteDirectory>> db = SqliteDirectory::open(options.db, 1000);
  if (!db.ok()) {
    log.write(LogLevel::error, "database %s: %s (%d)", options.db.c_str(), reason_name(db.status().reason()),
              db.status().detail());
    return kExitConfig;
  }

  ServerContext context{tls, WsServerConfig{}, SessionSettings{}, **db, signer, log};
  context.session.heartbeat_s = options.heartbeat_s;
  context.session.audit_s = options.audit_s;
  context.session.kid = options.kid;
  size_t max_connections = options.max_connections;
  const size_t descriptor_room = raise_descriptor_limit(log);
  if (descriptor_room < max_connections) {
    log.write(LogLevel::warning, "the open file limit allows %zu connections, not %zu (raise the hard limit: "
              "ulimit -Hn, or LimitNOFILE= in the service unit)", descriptor_room, max_connections);
    max_connections = descriptor_room;
  }
  ServerLoop loop(context, max_connections);
  std::string ports;
  for (uint16_t port : options.ports) {
    s = loop.listen(options.bind, port);
    if (!s.ok()) {
      log.write(LogLevel::error, "cannot listen on %s port %u: %s", options.bind.c_str(), static_cast<unsigned>(port),
                s.reason() == Reason::invalid_argument ? "not an IP address" : strerror(s.detail()));
      return 1;
    }
    ports += (ports.empty() ? "" : ",") + std::to_string(port);
  }
  log.write(LogLevel::notice, "serving on %s ports %s (database %s, heartbeat %llds, audit %llds)",
            options.bind.c_str(), ports.c_str(), options.db.c_str(), static_cast<long long>(options.heartbeat_s),
            static_cast<long long>(options.audit_s));
  s = loop.run(signal_fd);
  close(signal_fd);
  if (!s.ok()) {
    log.write(LogLevel::error, "cannot watch the sockets: %s", strerror(s.detail()));
    return 1;
  }
  log.write(LogLevel::notice, "stopped");
  return 0;
}
