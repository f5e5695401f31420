// sublink-server: the reference server of sublink/1 for many devices at once.
// See --help.
#include <signal.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "hal/posix/system_random.h"
#include "tools/server/admin_cli.h"
#include "tools/server/admin_commands.h"
#include "tools/server/admin_service.h"
#include "tools/server/db/sqlite_directory.h"
#include "tools/server/server_loop.h"
#include "tools/server/tunnel_forwards.h"
#include "tools/server/server_credentials.h"
#include "tools/server/server_options.h"
#include "linux_util/files/text_file.h"

using namespace sublink;

namespace {

const char kUsage[] =
    "NAME\n"
    "    sublink-server - the reference sublink/1 subscription server\n"
    "\n"
    "SYNOPSIS\n"
    "    sublink-server --db FILE --ca DEVICE_CA --cert CERT --key KEY\n"
    "                   --license-key KEY [OPTIONS]\n"
    "    sublink-server init-db|add-customer|add-system|entitle --db FILE ...\n"
    "    sublink-server admin (--control PATH | --db FILE) COMMAND ...\n"
    "\n"
    "DESCRIPTION\n"
    "    Serves sublink/1 devices, many at once: TLS 1.2 with device certificates\n"
    "    verified against DEVICE_CA (the certificate's CN must be the system_id the\n"
    "    device claims), WebSocket on /sublink/v1, licenses signed with the ES256\n"
    "    key --license-key. Customers, systems and entitlements come from the\n"
    "    SQLite database FILE, which also keeps every license issued, audit, event\n"
    "    (once per seq), connection and tunnel channel.\n"
    "\n"
    "    While it runs, an operator lists devices, changes entitlements and pushes\n"
    "    licenses, revokes, sends disconnect or management requests, forwards a\n"
    "    loopback port to a device's service through the device's own link (like\n"
    "    ssh -L), and injects faults (a port stopped or stalled, a link dropped or\n"
    "    blackholed) through its control socket: see 'sublink-server admin --help'.\n"
    "\n"
    "    Logs go to stderr with sd-daemon level prefixes.\n"
    "\n"
    "OPTIONS\n"
    "    --db FILE            the SQLite database (made by init-db)\n"
    "    --ca DEVICE_CA       CA that device certificates must chain to (PEM)\n"
    "    --cert CERT          server certificate chain (PEM)\n"
    "    --key KEY            server private key (PEM)\n"
    "    --license-key KEY    EC P-256 private key that signs licenses (PEM)\n"
    "    --port P             listen on port P (repeatable; default 443 and 8443)\n"
    "    --bind ADDRESS       IPv4 or IPv6 address to listen on (default 0.0.0.0)\n"
    "    --control PATH       the operator's control socket (default:\n"
    "                         sublink-server.sock in the folder of FILE)\n"
    "    --heartbeat-s N      heartbeat interval told to devices (default 60)\n"
    "    --audit-s N          audit interval told to devices (default 86400)\n"
    "    --max-connections N  devices served at once; more are closed (default\n"
    "                         16384, lowered to what the open file limit allows)\n"
    "    --kid NAME           key id in license_grant (default sublink-1)\n"
    "    --duplicate-identity flag|refuse\n"
    "                         one system has one link: a newer link replaces the\n"
    "                         older (disconnect 'replaced'). When two instances of\n"
    "                         a system take turns more than 3 times within an hour\n"
    "                         (a cloned appliance), a duplicate_identity alarm is\n"
    "                         recorded and shown by 'admin devices'; flag (default)\n"
    "                         keeps serving the newer link, refuse refuses both\n"
    "                         (error duplicate_identity) until 'admin clear-alarm'.\n"
    "                         A reconnect of the same instance never counts.\n"
    "    --replaced-retry-s N retry_after_s of disconnect 'replaced' (default 60)\n"
    "    -v, --verbose        also log every received message\n"
    "    -h, --help           print this help and exit\n"
    "        --version        print the version and exit\n"
    "\n"
    "COMMANDS\n"
    "    These work on the database itself, with or without a running server (a\n"
    "    running one sees the change at its next lookup):\n"
    "    The others need a database init-db made, and validate as 'admin' does:\n"
    "    no empty id, name or feature, QTY 0 to 4294967295.\n"
    "    init-db --db FILE\n"
    "        Create the database and its tables (the only command that creates one).\n"
    "    add-customer --db FILE CUSTOMER_ID [NAME]\n"
    "        Add a customer (NAME: its display name).\n"
    "    add-system --db FILE --customer CUSTOMER_ID [--until UTC_MS]\n"
    "               [--suspended] SYSTEM_ID\n"
    "        Register a system of an existing customer (its entitlements are kept\n"
    "        when it exists).\n"
    "    entitle --db FILE SYSTEM_ID FEATURE QTY\n"
    "        Set what the system is entitled to of FEATURE.\n"
    "    admin ...\n"
    "        Commands against the running server, which also reach linked\n"
    "        devices: see 'sublink-server admin --help'.\n"
    "\n"
    "FILES\n"
    "    FILE\n"
    "        The database: customers, systems, entitlements, and every license\n"
    "        issued, revocation, audit, event and connection.\n"
    "    sublink-server.sock\n"
    "        The control socket (mode 0600), created at start in the folder of FILE\n"
    "        unless --control names another, and removed at exit.\n"
    "\n"
    "EXIT STATUS\n"
    "    0   stopped by SIGTERM or SIGINT (every link closed with 1001)\n"
    "    1   a port or the control socket cannot be opened, or the loop failed\n"
    "    2   bad usage\n"
    "    78  a file or the database stops the start\n"
    "\n"
    "EXAMPLES\n"
    "    sublink-server init-db --db server.db\n"
    "    sublink-server add-customer --db server.db CUST-1 'Example Telephony'\n"
    "    sublink-server add-system --db server.db --customer CUST-1 SYS-0001\n"
    "    sublink-server entitle --db server.db SYS-0001 seats 10\n"
    "    sublink-server --db server.db --ca ca.crt --cert server.crt \\\n"
    "        --key server.key --license-key license.key --port 8443\n"
    "    sublink-server admin --db server.db devices\n";

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

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::strcmp(argv[1], "admin") == 0) return run_admin_cli(argc - 1, argv + 1);
  if (argc >= 2 && is_admin_command(argv[1])) return run_admin_command(argc - 1, argv + 1);
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
      fputs(kUsage, stdout);
      return 0;
    }
    if (std::strcmp(argv[i], "--version") == 0) {
      printf("sublink-server %s\n", SUBLINK_VERSION);
      return 0;
    }
  }
  ServeOptions options;
  std::string error;
  if (!parse_serve_options(argc - 1, argv + 1, options, error)) {
    fprintf(stderr, "sublink-server: %s\ntry 'sublink-server --help'\n", error.c_str());
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
  struct NamedFile {
    const char* option;
    const std::string& path;
    std::string& text;
  };
  for (const NamedFile& f : {NamedFile{"--ca", options.ca, ca}, NamedFile{"--cert", options.cert, cert},
                             NamedFile{"--key", options.key, key},
                             NamedFile{"--license-key", options.license_key, license_key}}) {
    if (const TextFileError e = read_text_file(f.path, f.text); !e.ok()) {
      log.write(LogLevel::error, "%s '%s'%s", f.option, f.path.c_str(), e.why.c_str());
      return kExitConfig;
    }
  }

  if (const std::string problem = server_credentials_problem(
          {options.cert, cert, options.key, key, options.ca, ca});
      !problem.empty()) {
    log.write(LogLevel::error, "%s", problem.c_str());
    return kExitConfig;
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
  std::string why;
  Result<std::unique_ptr<SqliteDirectory>> db =
      SqliteDirectory::open(options.db, 1000, SqliteDirectory::OpenMode::existing, &why);
  if (!db.ok()) {
    // Only init-db makes a database: a mistyped --db must not start a
    // server on an empty fleet.
    const bool missing = access(options.db.c_str(), F_OK) != 0 && errno == ENOENT;
    log.write(LogLevel::error, "--db '%s': %s (SQLite %d)%s%s%s", options.db.c_str(), why.c_str(),
              db.status().detail(), missing ? "; make it with 'sublink-server init-db --db " : "",
              missing ? options.db.c_str() : "", missing ? "'" : "");
    return kExitConfig;
  }

  IdentityRegistry identities(IdentitySettings{options.duplicate_identity, 3600 * 1000, 3});
  ServerContext context{tls, WsServerConfig{}, SessionSettings{}, **db, signer, identities, log};
  context.session.heartbeat_s = options.heartbeat_s;
  context.session.replaced_retry_s = options.replaced_retry_s;
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
  TunnelForwards forwards(loop, **db, context);
  s = forwards.start();
  if (!s.ok()) {
    log.write(LogLevel::error, "tunnel forwards: cannot create an epoll set: %s", strerror(s.detail()));
    return 1;
  }
  loop.add_extension(forwards);
  AdminService admin(loop, **db, context, forwards);
  s = admin.listen(options.control, error);
  if (!s.ok()) {
    log.write(LogLevel::error, "control socket: %s", error.c_str());
    return 1;
  }
  loop.add_extension(admin);
  // Channels a previous run left open (it stopped without closing them); only
  // now, with the control socket held, is no other server using them.
  Result<int64_t> abandoned = (*db)->close_abandoned_tunnels(server_now());
  if (abandoned.ok() && *abandoned > 0) {
    log.write(LogLevel::notice, "%lld tunnel channels left open by the previous run recorded as %s",
              static_cast<long long>(*abandoned), std::string(kTunnelServerStopped).c_str());
  }
  // The ports open last: a client that finds one open finds the control socket
  // too, and a second server sharing the control socket binds no port.
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
  log.write(LogLevel::notice,
            "serving on %s ports %s (database %s, control %s, heartbeat %llds, audit %llds, duplicate identity: %s)",
            options.bind.c_str(), ports.c_str(), options.db.c_str(), options.control.c_str(),
            static_cast<long long>(options.heartbeat_s), static_cast<long long>(options.audit_s),
            std::string(duplicate_identity_policy_name(options.duplicate_identity)).c_str());
  s = loop.run(signal_fd);
  close(signal_fd);
  if (!s.ok()) {
    log.write(LogLevel::error, "cannot watch the sockets: %s", strerror(s.detail()));
    return 1;
  }
  log.write(LogLevel::notice, "stopped");
  return 0;
}
