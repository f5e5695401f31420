// bench_server_links: how many idle device links one sublink-server holds,
// what each costs it in memory, and how fast it takes a fleet on. See
// --help. Speed and memory never fail it; links that do not come up or do
// not stay up (heartbeats answered) do.
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <arpa/inet.h>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench/server_links/device_certificate_issuer.h"
#include "bench/support/bench_machine.h"
#include "bench/server_links/device_link.h"
#include "bench/server_links/floor_measurements.h"
#include "bench/server_links/load_client.h"
#include "bench/server_links/process_stats.h"
#include "hal/posix/system_random.h"
#include "support/process.h"
#include "tools/server/db/sqlite_directory.h"
#include "linux_util/files/text_file.h"

using namespace sublink;

namespace {

const char kHelp[] =
    "NAME\n"
    "    bench_server_links - idle device links held by one sublink-server\n"
    "\n"
    "SYNOPSIS\n"
    "    bench_server_links --server PATH [--links N] [--concurrency N]\n"
    "                       [--heartbeat-s S] [--hold-s S] [--setup-timeout-s S]\n"
    "                       [--json FILE]\n"
    "\n"
    "DESCRIPTION\n"
    "    Starts the sublink-server at PATH on a free loopback port with a fresh\n"
    "    test PKI (tests/pki/make_pki.sh) and a database registering N systems,\n"
    "    each entitled to one feature; the server inherits a soft limit of 1024\n"
    "    open files and has to raise it itself. A load client in this process\n"
    "    (one epoll loop, non-blocking sockets, Mbed TLS and the project's\n"
    "    WebSocket client) then opens N mutually authenticated TLS 1.2 WebSocket\n"
    "    links, each as its own system with its own certificate (CN = system_id,\n"
    "    issued in-process from the test CA), sends hello and a license request,\n"
    "    and counts the link up once welcome and the license grant arrived. It\n"
    "    holds every link idle for the hold period, heartbeats going at the\n"
    "    server's interval, and reports in one run:\n"
    "      - links held: up at the end of the hold, every heartbeat answered;\n"
    "      - server memory per link: the growth of the server's resident set\n"
    "        from before the first link to the end of the hold, divided by N,\n"
    "        against the floor of an idle Mbed TLS server session measured here;\n"
    "      - links taken on per second during the ramp-up (TLS handshake,\n"
    "        upgrade, hello, license signed), against this machine's ECDSA P-256\n"
    "        signing rate measured here, by wall time and by the server's CPU time.\n"
    "\n"
    "OPTIONS\n"
    "    --server PATH        the sublink-server program (required)\n"
    "    --links N            links to open and hold (default 10000)\n"
    "    --concurrency N      links being set up at once (default 64)\n"
    "    --heartbeat-s S      heartbeat interval the server tells devices\n"
    "                         (default 15)\n"
    "    --hold-s S           how long every link is held after the ramp-up\n"
    "                         (default 2 heartbeats + 1 s)\n"
    "    --setup-timeout-s S  a link not up this long after its start has failed\n"
    "                         (default 120)\n"
    "    --json FILE          writes the figures for bench/report.py\n"
    "    -h, --help           this text\n"
    "\n"
    "FILES\n"
    "    /tmp/sublink-test-*  the PKI, database and server log of a run, removed\n"
    "                         at exit\n"
    "\n"
    "EXIT STATUS\n"
    "    0 every link came up and was held; 1 some did not, or the server failed;\n"
    "    2 bad usage or the run could not be set up.\n"
    "\n"
    "EXAMPLES\n"
    "    bench_server_links --server build/host/bin/sublink-server\n"
    "    bench_server_links --server build/host/bin/sublink-server --links 2000 \\\n"
    "        --heartbeat-s 5\n";

constexpr const char* kCustomer = "BENCH-CUSTOMER";
constexpr const char* kFeature = "sip_trunks";
constexpr uint32_t kQuantity = 8;
// Descriptors this process needs besides one per link.
constexpr rlim_t kReservedDescriptors = 64;
// The soft limit on open files the server inherits.
constexpr rlim_t kInheritedSoftLimit = 1024;
// Idle server TLS sessions the memory floor is measured on.
constexpr size_t kFloorSessions = 32;
constexpr Millis kSignBudgetMs = 1000;
constexpr int kServerStartMs = 15000;
// After the links drop, how long the server may take to record their ends.
constexpr Millis kServerSettleMs = 120000;

struct Options {
  std::string server;
  size_t links = 10000;
  size_t concurrency = 64;
  int64_t heartbeat_s = 15;
  int64_t hold_s = -1;
  int64_t setup_timeout_s = 120;
  std::string json;
};

int usage_error(const std::string& problem) {
  std::fprintf(stderr, "bench_server_links: %s\ntry 'bench_server_links --help'\n", problem.c_str());
  return 2;
}

bool parse_count(const char* text, int64_t min, int64_t max, int64_t& out) {
  char* end = nullptr;
  const long long v = std::strtoll(text, &end, 10);
  if (end == text || *end != '\0' || v < min || v > max) return false;
  out = v;
  return true;
}

// 0 parsed, 1 --help printed, 2 bad usage (already reported).
int parse_options(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::fputs(kHelp, stdout);
      return 1;
    }
    if (i + 1 >= argc) return usage_error("unknown option or missing value: '" + a + "'"), 2;
    const char* value = argv[++i];
    int64_t n = 0;
    if (a == "--server") {
      o.server = value;
    } else if (a == "--links" && parse_count(value, 1, 1000000, n)) {
      o.links = static_cast<size_t>(n);
    } else if (a == "--concurrency" && parse_count(value, 1, 100000, n)) {
      o.concurrency = static_cast<size_t>(n);
    } else if (a == "--heartbeat-s" && parse_count(value, 1, 86400, n)) {
      o.heartbeat_s = n;
    } else if (a == "--hold-s" && parse_count(value, 0, 86400, n)) {
      o.hold_s = n;
    } else if (a == "--setup-timeout-s" && parse_count(value, 1, 86400, n)) {
      o.setup_timeout_s = n;
    } else if (a == "--json") {
      o.json = value;
    } else {
      return usage_error("bad option or value: '" + a + " " + value + "'"), 2;
    }
  }
  if (o.server.empty()) return usage_error("--server PATH is required"), 2;
  if (o.hold_s < 0) o.hold_s = 2 * o.heartbeat_s + 1;
  return 0;
}

// Raises this process's open file limit to its hard limit; false when even
// that leaves no room for `links` sockets.
bool raise_descriptor_limit(size_t links, rlim_t& limit_out) {
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0) getrlimit(RLIMIT_NOFILE, &limit);
  }
  limit_out = limit.rlim_cur;
  return limit.rlim_cur == RLIM_INFINITY || limit.rlim_cur >= links + kReservedDescriptors;
}

std::string system_id(size_t index) {
  char id[32];
  std::snprintf(id, sizeof(id), "BENCH-%06zu", index + 1);
  return id;
}

double mib(double bytes) { return bytes / (1024.0 * 1024.0); }

// The last `lines` lines of `text`, for a failure report.
std::string tail(const std::string& text, size_t lines) {
  size_t at = text.size();
  for (size_t n = 0; n <= lines && at > 0; ++n) {
    const size_t nl = text.rfind('\n', at - 1);
    if (nl == std::string::npos) return text;
    at = nl;
  }
  return text.substr(at + 1);
}

// Waits until the server's CPU time stops growing (it has handled what the
// dropped links left it) or `limit_ms` passed.
void wait_until_quiet(pid_t pid, Millis limit_ms) {
  const Millis end = monotonic_ms() + limit_ms;
  Result<double> last = cpu_seconds(pid);
  while (last.ok() && monotonic_ms() < end) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    const Result<double> now = cpu_seconds(pid);
    if (!now.ok() || *now - *last < 0.01) return;
    last = now;
  }
}

// "20000 (hard 20000)": the soft and hard open file limits of process `pid`
// from /proc/PID/limits.
std::string open_file_limit(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/limits");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Max open files", 0) != 0) continue;
    std::istringstream fields(line.substr(std::strlen("Max open files")));
    std::string soft, hard;
    fields >> soft >> hard;
    return soft + " (hard " + hard + ")";
  }
  return "unknown";
}

struct Credentials {
  std::string ca_cert, ca_key, server_cert, server_key, device_cert, device_key;
};

}  // namespace

int main(int argc, char** argv) {
  Options options;
  if (const int parsed = parse_options(argc, argv, options); parsed != 0) return parsed == 1 ? 0 : 2;
  rlim_t descriptor_limit = 0;
  if (!raise_descriptor_limit(options.links, descriptor_limit)) {
    std::fprintf(stderr, "bench_server_links: the open file limit (%llu, hard) leaves no room for %zu links\n",
                 static_cast<unsigned long long>(descriptor_limit), options.links);
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);

  // ---- Set-up: PKI, floors, database, certificates -------------------------------
  test::TempDir dir;
  const std::string pki = dir.file("pki");
  if (test::run_command("sh '" + test::source_path("tests/pki/make_pki.sh") + "' '" + pki + "' >/dev/null 2>&1") !=
      0) {
    std::fprintf(stderr, "bench_server_links: tests/pki/make_pki.sh failed\n");
    return 2;
  }
  Credentials pem;
  for (const auto& [name, text] : {std::pair<const char*, std::string*>{"ca.crt", &pem.ca_cert},
                                   {"ca.key", &pem.ca_key},
                                   {"server.crt", &pem.server_cert},
                                   {"server.key", &pem.server_key},
                                   {"device.crt", &pem.device_cert},
                                   {"device.key", &pem.device_key}}) {
    const TextFileError e = read_text_file(pki + "/" + name, *text);
    if (!e.ok() || text->empty()) {
      std::fprintf(stderr, "bench_server_links: '%s/%s'%s\n", pki.c_str(), name, e.ok() ? " is empty" : e.why.c_str());
      return 2;
    }
  }
  SystemRandom system_random;
  TlsRandom tls_random;
  DeviceCertificateIssuer issuer;
  Status s = tls_random.seed(system_random);
  if (s.ok()) s = issuer.load(pem.ca_cert, pem.ca_key, pem.device_key, tls_random);
  if (!s.ok()) {
    std::fprintf(stderr, "bench_server_links: cannot load the test CA: %s (%d)\n", reason_name(s.reason()),
                 s.detail());
    return 2;
  }

  const std::string machine = bench::machine_json();
  std::printf("bench_server_links: %zu links, %zu set up at once, heartbeat %llds, hold %llds\n", options.links,
              options.concurrency, static_cast<long long>(options.heartbeat_s),
              static_cast<long long>(options.hold_s));
  std::fflush(stdout);
  const Result<SignRate> sign_rate = measure_ecdsa_sign_rate(issuer.device_key(), tls_random, kSignBudgetMs);
  const Result<TlsSessionFloor> floor = measure_idle_tls_session(
      {pem.ca_cert, pem.server_cert, pem.server_key, pem.device_cert, pem.device_key}, system_random,
      kFloorSessions);
  if (!sign_rate.ok() || !floor.ok()) {
    const Status why = sign_rate.ok() ? floor.status() : sign_rate.status();
    std::fprintf(stderr, "bench_server_links: measuring the floors failed: %s (%d)\n", reason_name(why.reason()),
                 why.detail());
    return 2;
  }

  const std::string db_path = dir.file("server.db");
  Millis t0 = monotonic_ms();
  {
    Result<std::unique_ptr<SqliteDirectory>> db = SqliteDirectory::open(db_path);
    s = db.ok() ? (*db)->put_customer(kCustomer) : db.status();
    for (size_t i = 0; i < options.links && s.ok(); ++i) {
      s = (*db)->put_system({kCustomer, system_id(i), {{kFeature, kQuantity}}});
    }
    if (!s.ok()) {
      std::fprintf(stderr, "bench_server_links: cannot register the systems in %s: %s (%d)\n", db_path.c_str(),
                   reason_name(s.reason()), s.detail());
      return 2;
    }
  }
  const Millis register_ms = monotonic_ms() - t0;

  const int port = test::free_port();
  FleetSetup fleet;
  fleet.server.sin_family = AF_INET;
  fleet.server.sin_port = htons(static_cast<uint16_t>(port));
  fleet.server.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  fleet.trust_anchors = &issuer.ca_certificate();
  fleet.device_key = &issuer.device_key();
  fleet.tls_random = &tls_random;
  fleet.random = &system_random;
  const std::string host = "127.0.0.1:" + std::to_string(port);
  fleet.ws.host = host;
  // Server messages are small; a device keeps its own buffers to its needs.
  fleet.ws.max_message_bytes = 4096;
  fleet.ws.max_send_message_bytes = 512;  // hello is the longest
  fleet.ws.receive_buffer_bytes = 1024;
  fleet.customer_id = kCustomer;
  fleet.feature = kFeature;
  fleet.quantity = kQuantity;
  LoadClient client(fleet, options.concurrency, options.setup_timeout_s * 1000);
  s = client.open();
  t0 = monotonic_ms();
  for (size_t i = 0; i < options.links && s.ok(); ++i) {
    Result<std::vector<uint8_t>> certificate = issuer.issue(system_id(i), 0x10000 + i);
    s = certificate.ok() ? client.add_device(system_id(i), *certificate) : certificate.status();
  }
  if (!s.ok()) {
    std::fprintf(stderr, "bench_server_links: cannot make the devices: %s (%d)\n", reason_name(s.reason()),
                 s.detail());
    return 2;
  }
  const Millis issue_ms = monotonic_ms() - t0;

  // ---- The server ---------------------------------------------------------------------
  const std::string server_log = dir.file("server.log");
  // The server starts with the usual soft limit of 1024 open files, as from
  // a login shell, so a fleet larger than that proves it raises the limit
  // itself.
  rlimit own_limit{};
  getrlimit(RLIMIT_NOFILE, &own_limit);
  rlimit child_limit = own_limit;
  child_limit.rlim_cur = std::min<rlim_t>(kInheritedSoftLimit, own_limit.rlim_max);
  setrlimit(RLIMIT_NOFILE, &child_limit);
  test::ChildProcess server({options.server, "--db", db_path, "--ca", pki + "/ca.crt", "--cert",
                             pki + "/server.crt", "--key", pki + "/server.key", "--license-key",
                             pki + "/license.key", "--bind", "127.0.0.1", "--port", std::to_string(port),
                             "--heartbeat-s", std::to_string(options.heartbeat_s), "--max-connections",
                             std::to_string(options.links + 100)},
                            server_log);
  setrlimit(RLIMIT_NOFILE, &own_limit);
  if (!test::wait_for_port(port, kServerStartMs)) {
    std::fprintf(stderr, "bench_server_links: the server did not start listening; its log:\n%s\n",
                 tail(server.log(), 20).c_str());
    return 2;
  }
  const pid_t pid = server.pid();
  std::printf("server: open file limit %s at start (%llu inherited)\n", open_file_limit(pid).c_str(),
              static_cast<unsigned long long>(child_limit.rlim_cur));
  const Result<size_t> rss_idle = resident_bytes(pid);
  const Result<double> cpu_idle = cpu_seconds(pid);

  // ---- Ramp-up and hold -----------------------------------------------------------
  std::printf("set-up: %zu systems registered in %.1f s, %zu certificates issued in %.1f s\n", options.links,
              register_ms / 1000.0, options.links, issue_ms / 1000.0);
  std::printf("ramp-up: opening %zu links ...\n", options.links);
  std::fflush(stdout);
  const Result<size_t> client_before = resident_bytes(getpid());
  const RampResult ramp = client.ramp([&](const RampResult& so_far) {
    const Result<double> cpu = cpu_seconds(pid);
    std::printf("  %zu up, %zu failed after %.0f s (server CPU %.1f s)\n", so_far.up, so_far.failed,
                (monotonic_ms() - so_far.first_start) / 1000.0, cpu.ok() ? *cpu : 0.0);
    std::fflush(stdout);
  });
  const Result<double> cpu_ramped = cpu_seconds(pid);
  const Result<size_t> rss_ramped = resident_bytes(pid);
  const double ramp_s = static_cast<double>(std::max<Millis>(ramp.last_up - ramp.first_start, 1)) / 1000.0;
  std::printf("ramp-up: %zu up, %zu failed, in %.1f s; holding %llds ...\n", ramp.up, ramp.failed, ramp_s,
              static_cast<long long>(options.hold_s));
  std::fflush(stdout);
  const HoldResult held = client.hold(options.hold_s * 1000, options.heartbeat_s * 1000);
  const Result<size_t> rss_held = resident_bytes(pid);
  const Result<double> cpu_held = cpu_seconds(pid);
  const Result<size_t> rss_peak = peak_resident_bytes(pid);
  const Result<size_t> client_peak = peak_resident_bytes(getpid());
  const Result<size_t> client_held = resident_bytes(getpid());
  const bool server_alive = server.running();
  const std::map<std::string, size_t> failures = client.failures();

  client.close_all();
  if (server_alive) wait_until_quiet(pid, kServerSettleMs);
  // The server closes every link (up to 2 s for their close handshakes)
  // before it exits: with thousands of links on a loaded machine that takes
  // longer than a test process's usual 2 s.
  const int server_status = server_alive ? server.stop(30000) : -1;
  const bool server_ok = server_alive && WIFEXITED(server_status) && WEXITSTATUS(server_status) == 0;

  // ---- Report ---------------------------------------------------------------------
  const double n = static_cast<double>(options.links);
  // The figures for bench/report.py, as "name": value pairs.
  std::string figures;
  auto figure = [&figures](const char* name, double value) {
    char text[96];
    std::snprintf(text, sizeof text, ", \"%s\": %.4g", name, value);
    figures += text;
  };
  figure("links", n);
  figure("links_held", static_cast<double>(held.up_at_end));
  figure("heartbeat_s", static_cast<double>(options.heartbeat_s));
  figure("hold_s", static_cast<double>(options.hold_s));
  std::printf("\nlinks held: %zu of %zu up after %llds idle (%zu lost in the hold, %zu with an unanswered "
              "heartbeat; heartbeats %llu sent, %llu answered in the hold)\n",
              held.up_at_end, options.links, static_cast<long long>(options.hold_s), held.lost,
              held.unanswered_links, static_cast<unsigned long long>(held.heartbeats_sent),
              static_cast<unsigned long long>(held.heartbeats_answered));
  if (rss_idle.ok() && rss_held.ok()) {
    const double per_link = (static_cast<double>(*rss_held) - static_cast<double>(*rss_idle)) / n;
    const double floor_bytes = static_cast<double>(floor->bytes_per_session());
    std::printf("server memory: %.1f MiB idle, %.1f MiB after the ramp-up, %.1f MiB after the hold (peak %.1f MiB)\n",
                mib(*rss_idle), mib(rss_ramped.ok() ? *rss_ramped : 0), mib(*rss_held),
                mib(rss_peak.ok() ? *rss_peak : 0));
    std::printf("memory per link: %.1f KiB resident vs floor %.1f KiB (an idle Mbed TLS server session: "
                "%zu B context + %zu B heap, of which %zu B record buffers) = %.2f x the floor\n",
                per_link / 1024, floor_bytes / 1024, floor->context_bytes, floor->heap_bytes,
                floor->record_buffer_bytes, per_link / floor_bytes);
    figure("memory_per_link_kib", per_link / 1024);
    figure("memory_floor_kib", floor_bytes / 1024);
  }
  const double links_per_s = static_cast<double>(ramp.up) / ramp_s;
  std::printf("ramp-up rate: %.0f links/s (TLS handshake + upgrade + hello + signed license) vs %.0f ECDSA P-256 "
              "signatures/s by wall time = %.3f\n",
              links_per_s, sign_rate->per_wall_second, links_per_s / sign_rate->per_wall_second);
  figure("ramp_links_per_wall_s", links_per_s);
  figure("signatures_per_wall_s", sign_rate->per_wall_second);
  if (cpu_idle.ok() && cpu_ramped.ok() && ramp.up > 0) {
    const double server_cpu = *cpu_ramped - *cpu_idle;
    const double per_cpu_s = static_cast<double>(ramp.up) / std::max(server_cpu, 0.001);
    std::printf("server CPU: %.1f s for the ramp-up = %.2f ms per link = %.0f links per CPU-second vs %.0f "
                "signatures per CPU-second = %.3f (a link costs the server %.1f signatures)\n",
                server_cpu, 1000 * server_cpu / ramp.up, per_cpu_s, sign_rate->per_cpu_second,
                per_cpu_s / sign_rate->per_cpu_second, sign_rate->per_cpu_second / per_cpu_s);
    // The floor a link cannot go below with this Mbed TLS: its bare server
    // handshake plus the license grant's signature, both measured here.
    const double floor_s = floor->server_handshake_cpu_s + 1 / sign_rate->per_cpu_second;
    std::printf("server CPU floor: %.2f ms per link (Mbed TLS's server handshake %.2f ms + one license signature "
                "%.2f ms) = %.1f signatures; a link costs %.2f x the floor\n",
                1000 * floor_s, 1000 * floor->server_handshake_cpu_s, 1000 / sign_rate->per_cpu_second,
                floor_s * sign_rate->per_cpu_second, (server_cpu / ramp.up) / floor_s);
    figure("server_cpu_ms_per_link", 1000 * server_cpu / ramp.up);
    figure("links_per_cpu_s", per_cpu_s);
    figure("signatures_per_cpu_s", sign_rate->per_cpu_second);
    figure("links_per_signature", per_cpu_s / sign_rate->per_cpu_second);
    figure("floor_ms_per_link", 1000 * floor_s);
    figure("floor_handshake_ms", 1000 * floor->server_handshake_cpu_s);
    figure("floor_signatures_per_link", floor_s * sign_rate->per_cpu_second);
  }
  if (cpu_ramped.ok() && cpu_held.ok() && held.heartbeats_answered > 0) {
    const double hold_cpu = *cpu_held - *cpu_ramped;
    std::printf("holding: server CPU %.1f s over the %llds hold (+ drain) = %.1f%% of a core, %.0f us per "
                "heartbeat answered\n",
                hold_cpu, static_cast<long long>(options.hold_s),
                100 * hold_cpu / static_cast<double>(std::max<int64_t>(options.hold_s, 1)),
                1e6 * hold_cpu / static_cast<double>(held.heartbeats_answered));
    figure("hold_cpu_percent", 100 * hold_cpu / static_cast<double>(std::max<int64_t>(options.hold_s, 1)));
  }
  if (client_before.ok() && client_held.ok() && client_peak.ok()) {
    std::printf("load client: %.1f MiB resident holding the links (%.1f KiB per link), peak %.1f MiB\n",
                mib(*client_held),
                (static_cast<double>(*client_held) - static_cast<double>(*client_before)) / n / 1024,
                mib(*client_peak));
  }
  std::printf("server exit: %s\n", !server_alive ? "DIED during the run"
                                   : server_ok   ? "0 after SIGTERM"
                                                 : "FAILED after SIGTERM");
  for (const auto& [why, count] : failures) std::printf("  %zu link(s) failed: %s\n", count, why.c_str());

  const bool ok = held.up_at_end == options.links && held.unanswered_links == 0 && server_ok;
  if (!ok) std::printf("server log (end):\n%s\n", tail(server.log(), 15).c_str());
  if (!options.json.empty()) {
    std::FILE* f = std::fopen(options.json.c_str(), "w");
    if (f == nullptr) {
      std::perror(options.json.c_str());
      return 2;
    }
    std::fprintf(f, "{\"benchmark\": \"server_links\", \"machine\": %s%s, \"ok\": %s}\n", machine.c_str(),
                 figures.c_str(), ok ? "true" : "false");
    std::fclose(f);
  }
  std::printf("%s\n", ok ? "PASS: every link came up and was held" : "FAIL: not every link came up and was held");
  return ok ? 0 : 1;
}
