#include "tools/demo/demo_rig.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tools/server/db/sqlite_directory.h"

namespace sublink::demo {

namespace fs = std::filesystem;

namespace {

// How long sublinkd and sublink-server get after SIGTERM to store their state
// and close their links before SIGKILL.
constexpr int kStopGraceMs = 5000;

void sleep_ms(int ms) {
  timespec t{ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&t, nullptr);
}

// The first line of a command's complaint, for an error message.
std::string first_line(const CommandResult& r) {
  const std::string& text = r.err.empty() ? r.out : r.err;
  std::string line = text.substr(0, text.find('\n'));
  return line.empty() ? "exit " + std::to_string(r.exit_code) : line;
}

// Files of an earlier run that would change this one's story (state_dir
// with its license and grace account, the database, the logs the
// narrator follows). The PKI stays: make_pki.sh reuses it.
const char* const kRunFiles[] = {"state",        "fleet.db",   "fleet.db-wal", "fleet.db-shm", "sublinkd.json",
                                 "sublinkd.log", "watch.log",  "server-1.log", "server-2.log", "sublink-server.sock",
                                 "site",         "page.log"};

}  // namespace

DemoRig::DemoRig(DemoSettings settings) : settings_(std::move(settings)) {
  agent_log_ = std::make_unique<LineFollower>(settings_.work_dir + "/sublinkd.log");
  server_log_ = std::make_unique<LineFollower>(settings_.work_dir + "/server-1.log");
  watch_ = std::make_unique<LineFollower>(settings_.work_dir + "/watch.log");
}

DemoRig::~DemoRig() {
  agent_.stop(kStopGraceMs);
  watcher_.stop(kStopGraceMs);
  server_.stop(kStopGraceMs);
}

bool DemoRig::prepare(std::string& error) {
  for (const char* program : {"sublinkd", "sublinkctl", "sublink-server"}) {
    if (access(bin(program).c_str(), X_OK) != 0) {
      error = bin(program) + ": " + strerror(errno) + " (build it, or point --bin at the directory that has it)";
      return false;
    }
  }
  std::error_code ec;
  fs::create_directories(settings_.work_dir, ec);
  if (ec) {
    error = settings_.work_dir + ": " + ec.message();
    return false;
  }
  for (const char* name : kRunFiles) {
    fs::remove_all(settings_.work_dir + "/" + name, ec);
    if (ec) {
      error = "cannot remove " + settings_.work_dir + "/" + name + ": " + ec.message();
      return false;
    }
  }
  CommandResult pki_made =
      run_command({"/bin/sh", settings_.make_pki, settings_.work_dir + "/pki", settings_.system_id}, 120000);
  if (pki_made.exit_code != 0) {
    error = "demo PKI (" + settings_.make_pki + "): " + first_line(pki_made);
    return false;
  }
  if (!make_database(error)) return false;
  ports_[0] = free_loopback_port();
  ports_[1] = free_loopback_port();
  page_port_ = free_loopback_port();
  if (ports_[0] == 0 || ports_[1] == 0 || page_port_ == 0 || ports_[0] == ports_[1] || page_port_ == ports_[0] ||
      page_port_ == ports_[1]) {
    error = "no three free TCP ports on 127.0.0.1";
    return false;
  }
  if (!write_config(error)) return false;
  // The agent refuses a state_dir others can enter (its socket is there).
  if (mkdir((settings_.work_dir + "/state").c_str(), 0700) != 0) {
    error = settings_.work_dir + "/state: " + strerror(errno);
    return false;
  }
  return true;
}

bool DemoRig::make_database(std::string& error) {
  const std::string server = bin("sublink-server");
  const std::string db = db_path();
  std::vector<std::vector<std::string>> commands = {
      {server, "init-db", "--db", db},
      {server, "add-customer", "--db", db, settings_.customer_id},
      {server, "add-system", "--db", db, "--customer", settings_.customer_id, settings_.system_id},
  };
  for (const FeatureQty& f : settings_.entitled) {
    commands.push_back({server, "entitle", "--db", db, settings_.system_id, f.name, std::to_string(f.qty)});
  }
  for (const std::vector<std::string>& c : commands) {
    CommandResult r = run_command(c);
    if (r.exit_code != 0) {
      error = "sublink-server " + c[1] + ": " + first_line(r);
      return false;
    }
  }
  return true;
}

bool DemoRig::write_config(std::string& error) {
  std::string features;
  for (const FeatureQty& f : settings_.entitled) {
    features += std::string(features.empty() ? "" : ", ") + "{\"name\": \"" + f.name +
                "\", \"qty\": " + std::to_string(f.qty) + "}";
  }
  std::ofstream out(config_path());
  out << "{\n"
      << "  \"server\": \"localhost\",\n"
      << "  \"ports\": [" << ports_[0] << ", " << ports_[1] << "],\n"
      << "  \"customer_id\": \"" << settings_.customer_id << "\",\n"
      << "  \"system_id\": \"" << settings_.system_id << "\",\n"
      << "  \"ca_file\": \"" << pki("ca.crt") << "\",\n"
      << "  \"cert_file\": \"" << pki("device.crt") << "\",\n"
      << "  \"key_file\": \"" << pki("device.key") << "\",\n"
      << "  \"license_key_file\": \"" << pki("license.pub") << "\",\n"
      << "  \"state_dir\": \"" << settings_.work_dir << "/state\",\n"
      << "  \"features\": [" << features << "],\n"
      << "  \"retry_min_s\": 1,\n"
      << "  \"retry_max_s\": 2,\n"
      << "  \"grace_period_s\": " << settings_.grace_period_s << ",\n"
      << "  \"grace_alarm_delay_s\": " << settings_.grace_alarm_delay_s << ",\n"
      << "  \"grace_alarm_interval_s\": " << settings_.grace_alarm_interval_s << ",\n"
      << "  \"checkpoint_s\": 10,\n"
      << "  \"services\": {\"web\": \"127.0.0.1:" << page_port_ << "\"}\n"
      << "}\n";
  out.close();
  if (!out) {
    error = "cannot write " + config_path();
    return false;
  }
  return true;
}

bool DemoRig::start_server(std::string& error) {
  const std::string log = settings_.work_dir + "/server-" + std::to_string(++server_starts_) + ".log";
  server_log_ = std::make_unique<LineFollower>(log);
  server_ = ChildProcess({bin("sublink-server"), "--db", db_path(), "--ca", pki("ca.crt"), "--cert", pki("server.crt"),
                          "--key", pki("server.key"), "--license-key", pki("license.key"), "--bind", "127.0.0.1",
                          "--port", std::to_string(ports_[0]), "--port", std::to_string(ports_[1]), "--heartbeat-s",
                          std::to_string(settings_.heartbeat_s), "--audit-s", std::to_string(settings_.audit_s),
                          "--control", control_path(), "--verbose"},
                         log, ChildLog::append);
  for (int waited = 0; waited < 10000; waited += 50) {
    server_log_->poll();
    if (server_log_->find(0, "serving on")) return true;
    if (!server_.running()) {
      server_log_->poll();
      error = "sublink-server stopped at start (" + describe_wait_status(server_.exit_status()) + "): " +
              (server_log_->size() ? server_log_->lines().back() : std::string("no output"));
      return false;
    }
    sleep_ms(50);
  }
  error = "sublink-server did not say 'serving on' within 10 s (see " + log + ")";
  return false;
}

int DemoRig::stop_server() { return server_.stop(kStopGraceMs); }

bool DemoRig::start_agent(std::string& error) {
  agent_ = ChildProcess({bin("sublinkd"), "--config", config_path()}, agent_log_->path(), ChildLog::append);
  for (int waited = 0; waited < 10000; waited += 100) {
    if (!agent_.running()) {
      agent_log_->poll();
      error = "sublinkd stopped at start (" + describe_wait_status(agent_.exit_status()) + "): " +
              (agent_log_->size() ? agent_log_->lines().back() : std::string("no output"));
      return false;
    }
    if (status()) {
      watcher_ = ChildProcess({bin("sublinkctl"), "-c", config_path(), "watch"}, watch_->path(), ChildLog::append);
      return true;
    }
    sleep_ms(100);
  }
  error = "sublinkd's control socket did not answer within 10 s (see " + agent_log_->path() + ")";
  return false;
}

bool DemoRig::start_appliance_page(std::string& error) {
  const std::string site = settings_.work_dir + "/site";
  fs::create_directories(site);
  std::ofstream page(site + "/index.html");
  page << "<!doctype html><title>" << settings_.system_id << "</title><h1>" << page_marker()
       << "</h1><p>Reached through the subscription link: the appliance opens no port.</p>\n";
  page.close();
  page_ = ChildProcess({"/usr/bin/python3", "-m", "http.server", std::to_string(page_port_), "--bind", "127.0.0.1",
                        "--directory", site},
                       settings_.work_dir + "/page.log", ChildLog::append);
  for (int waited = 0; waited < 10000; waited += 100) {
    if (!page_.running()) {
      error = "the appliance's page (python3 -m http.server) stopped at start (see " + settings_.work_dir +
              "/page.log)";
      return false;
    }
    if (run_command({"/usr/bin/curl", "-s", "-o", "/dev/null", "http://127.0.0.1:" + std::to_string(page_port_) + "/"})
            .exit_code == 0) {
      return true;
    }
    sleep_ms(100);
  }
  error = "the appliance's page did not answer within 10 s";
  return false;
}

std::vector<int> DemoRig::listening_ports(pid_t pid) {
  // The socket inodes the process holds, then which of them /proc/net/tcp
  // and tcp6 list in state 0A (LISTEN).
  std::vector<std::string> inodes;
  std::error_code ec;
  for (const fs::directory_entry& fd : fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec)) {
    const std::string target = fs::read_symlink(fd.path(), ec).string();
    if (target.rfind("socket:[", 0) == 0) inodes.push_back(target.substr(8, target.size() - 9));
  }
  std::vector<int> ports;
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(table);
    std::string line;
    std::getline(in, line);  // the header
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string slot, local, remote, state, queues, timer, retransmits, uid, timeout, inode;
      fields >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid >> timeout >> inode;
      if (state != "0A" || std::find(inodes.begin(), inodes.end(), inode) == inodes.end()) continue;
      ports.push_back(std::stoi(local.substr(local.find(':') + 1), nullptr, 16));
    }
  }
  return ports;
}

void DemoRig::pump() {
  agent_log_->poll();
  server_log_->poll();
  watch_->poll();
}

CommandResult DemoRig::admin(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {bin("sublink-server"), "admin", "--control", control_path()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_command(argv);
}

std::optional<AgentStatusView> DemoRig::status() {
  CommandResult r = run_command({bin("sublinkctl"), "-c", config_path(), "status", "--json"});
  if (r.exit_code != 0) return std::nullopt;
  return parse_agent_status(r.out);
}

std::optional<bool> DemoRig::feature_on(const std::string& name) {
  CommandResult r = run_command({bin("sublinkctl"), "-c", config_path(), "feature", name});
  if (r.exit_code == 0) return true;
  if (r.exit_code == 1) return false;
  return std::nullopt;
}

bool DemoRig::report_usage(const std::string& name, int count) {
  return run_command({bin("sublinkctl"), "-c", config_path(), "usage", name, std::to_string(count)}).exit_code == 0;
}

std::optional<ServerDeviceView> DemoRig::server_device(std::string& error) {
  CommandResult r = admin({"devices", "--json"});
  if (r.exit_code != 0) {
    error = "admin devices: " + first_line(r);
    return std::nullopt;
  }
  std::optional<ServerDeviceView> d = find_server_device(r.out, settings_.system_id);
  if (!d) error = "admin devices does not list " + settings_.system_id;
  return d;
}

std::vector<DeviceEvent> DemoRig::stored_events() {
  Result<std::unique_ptr<SqliteDirectory>> db = SqliteDirectory::open(db_path(), 2000);
  if (!db.ok()) return {};
  Result<std::vector<DeviceEvent>> events = (*db)->events(settings_.system_id);
  return events.ok() ? *events : std::vector<DeviceEvent>{};
}

std::vector<AuditRecord> DemoRig::stored_audits() {
  Result<std::unique_ptr<SqliteDirectory>> db = SqliteDirectory::open(db_path(), 2000);
  if (!db.ok()) return {};
  Result<std::vector<AuditRecord>> audits = (*db)->audits(settings_.system_id);
  return audits.ok() ? *audits : std::vector<AuditRecord>{};
}

int free_loopback_port() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  close(fd);
  return port;
}

}  // namespace sublink::demo
