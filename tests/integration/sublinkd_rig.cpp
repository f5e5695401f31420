#include "integration/sublinkd_rig.h"

#include <cJSON.h>
#include <gtest/gtest.h>
#include "support/test_pki.h"
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

#ifndef SUBLINKD_PATH
#error "SUBLINKD_PATH must be defined by the build"
#endif
#ifndef SUBLINKCTL_PATH
#error "SUBLINKCTL_PATH must be defined by the build"
#endif

namespace sublink::test {

namespace {

// Debian's interpreter: it has python3-websockets and python3-cryptography.
constexpr const char* kPython = "/usr/bin/python3";

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool copy_file(const std::string& from, const std::string& to, mode_t mode) {
  std::ifstream in(from, std::ios::binary);
  std::ofstream out(to, std::ios::binary | std::ios::trunc);
  if (!in || !out) return false;
  out << in.rdbuf();
  out.close();
  return chmod(to.c_str(), mode) == 0;
}

std::string run_capture(const std::string& command) {
  std::string out;
  FILE* p = popen(command.c_str(), "r");
  if (p == nullptr) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

}  // namespace

Json Json::parse(const std::string& text) {
  Json j;
  cJSON* root = cJSON_Parse(text.c_str());
  if (root == nullptr) return j;
  j.root_ = std::shared_ptr<cJSON>(root, cJSON_Delete);
  j.node_ = root;
  return j;
}

Json Json::at(const std::string& path) const {
  Json j;
  const cJSON* n = node_;
  size_t start = 0;
  while (n != nullptr && start <= path.size()) {
    size_t dot = path.find('.', start);
    std::string name = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    n = cJSON_IsObject(n) ? cJSON_GetObjectItemCaseSensitive(n, name.c_str()) : nullptr;
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  if (n == nullptr) return j;
  j.root_ = root_;
  j.node_ = n;
  return j;
}

Json Json::item(size_t i) const {
  Json j;
  if (!cJSON_IsArray(node_)) return j;
  const cJSON* n = cJSON_GetArrayItem(node_, static_cast<int>(i));
  if (n == nullptr) return j;
  j.root_ = root_;
  j.node_ = n;
  return j;
}

size_t Json::size() const {
  return cJSON_IsArray(node_) || cJSON_IsObject(node_) ? static_cast<size_t>(cJSON_GetArraySize(node_)) : 0;
}
bool Json::is_null() const { return cJSON_IsNull(node_); }
bool Json::is_string() const { return cJSON_IsString(node_); }
bool Json::is_number() const { return cJSON_IsNumber(node_); }
bool Json::is_true() const { return cJSON_IsTrue(node_); }
std::string Json::str(const std::string& fallback) const {
  return cJSON_IsString(node_) ? std::string(node_->valuestring) : fallback;
}
int64_t Json::num(int64_t fallback) const {
  return cJSON_IsNumber(node_) ? static_cast<int64_t>(node_->valuedouble) : fallback;
}

std::string Json::text() const {
  if (node_ == nullptr) return "(absent)";
  char* s = cJSON_PrintUnformatted(node_);
  std::string out = s ? s : "";
  cJSON_free(s);
  return out;
}

std::vector<std::string> Json::keys() const {
  std::vector<std::string> out;
  if (!cJSON_IsObject(node_)) return out;
  for (const cJSON* c = node_->child; c != nullptr; c = c->next) out.emplace_back(c->string);
  return out;
}

std::vector<Json> json_lines(const std::string& text) {
  std::vector<Json> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) out.push_back(Json::parse(line));
  }
  return out;
}

std::string feature_list(const Json& features) {
  // A status may list features as [{name, qty}] or as {name: qty}.
  std::string out;
  auto add = [&out](const std::string& name, int64_t qty) {
    out += (out.empty() ? "" : ",") + name + "=" + std::to_string(qty);
  };
  for (size_t i = 0; i < features.size(); ++i) {
    if (Json f = features.item(i)) add(f.at("name").str(), f.at("qty").num());
  }
  for (const std::string& name : features.keys()) add(name, features.at(name).num());
  return out;
}

const std::string& rig_pki_dir() {
  const std::string& path = test_pki_dir();
  if (path.empty()) ADD_FAILURE() << "tests/pki/make_pki.sh failed";
  return path;
}

bool eventually(const std::function<bool()>& done, int timeout_ms) {
  auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!done()) {
    if (std::chrono::steady_clock::now() >= end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return true;
}

PeerServer::PeerServer(const std::string& dir, Options options) : options_(std::move(options)) {
  if (options_.ports.empty()) options_.ports.push_back(free_port());
  journal_path_ = dir + "/server-journal.jsonl";
  control_path_ = dir + "/server-control.jsonl";
  const std::string& pki = rig_pki_dir();
  std::vector<std::string> argv{kPython,
                                source_path("tests/peers/sublink1_server.py"),
                                "--cert", pki + "/server.crt",
                                "--key", pki + "/server.key",
                                "--ca", pki + "/ca.crt",
                                "--license-key", pki + "/license.key",
                                "--journal", journal_path_,
                                "--control", control_path_,
                                "--heartbeat-s", std::to_string(options_.heartbeat_s),
                                "--audit-s", std::to_string(options_.audit_s),
                                "--customer", options_.customer};
  for (int p : options_.ports) {
    argv.push_back("--port");
    argv.push_back(std::to_string(p));
  }
  for (auto& e : options_.entitle) {
    argv.push_back("--entitle");
    argv.push_back(e);
  }
  argv.insert(argv.end(), options_.extra_args.begin(), options_.extra_args.end());
  process_ = ChildProcess(argv, dir + "/server.log");
  for (int p : options_.ports) {
    EXPECT_TRUE(wait_for_port(p, 10000)) << "server did not listen on " << p << ":\n" << process_.log();
  }
}

void PeerServer::control(const std::string& json_object) {
  // One write of a whole line: the server only acts on complete lines.
  std::ofstream out(control_path_, std::ios::app);
  out << json_object << "\n";
  out.flush();
}

std::vector<Record> PeerServer::journal() const {
  std::vector<Record> out;
  std::istringstream in(slurp(journal_path_));
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    Json j = Json::parse(line);
    if (j) out.push_back(Record{j});
  }
  return out;
}

std::vector<Record> PeerServer::records(const std::string& kind, const std::string& type) const {
  std::vector<Record> out;
  for (auto& r : journal()) {
    if (r.is(kind, type)) out.push_back(r);
  }
  return out;
}

std::optional<Record> PeerServer::wait_for(const std::function<bool(const Record&)>& match, int timeout_ms) const {
  std::optional<Record> found;
  eventually(
      [&] {
        for (auto& r : journal()) {
          if (match(r)) {
            found = r;
            return true;
          }
        }
        return false;
      },
      timeout_ms);
  return found;
}

std::optional<Record> PeerServer::wait_message(const std::string& kind, const std::string& type, int64_t conn,
                                               int timeout_ms) const {
  return wait_for([&](const Record& r) { return r.is(kind, type) && (conn <= 0 || r.conn() == conn); },
                  timeout_ms);
}

std::optional<Record> PeerServer::command(const std::string& json_object, int timeout_ms) {
  size_t before = records("control_result").size();
  control(json_object);
  std::optional<Record> result;
  eventually(
      [&] {
        auto rs = records("control_result");
        if (rs.size() <= before) return false;
        result = rs[before];
        return true;
      },
      timeout_ms);
  return result;
}

std::string PeerServer::journal_text() const { return slurp(journal_path_); }

Daemon::Daemon(const std::string& dir, const Config& config) : dir_(dir), env_(config.env) {
  const std::string& pki = rig_pki_dir();
  EXPECT_TRUE(copy_file(pki + "/device.crt", dir + "/device.crt", 0644));
  EXPECT_TRUE(copy_file(pki + "/device.key", dir + "/device.key", 0600));
  EXPECT_TRUE(copy_file(pki + "/ca.crt", dir + "/ca.crt", 0644));
  mkdir((dir + "/state").c_str(), 0700);
  std::string ports;
  for (int p : config.ports) ports += (ports.empty() ? "" : ",") + std::to_string(p);
  std::ostringstream json;
  json << "{\n"
       << R"(  "server": "127.0.0.1", "ports": [)" << ports << "],\n"
       << R"(  "customer_id": "CUST-1", "system_id": "SYS-0001",)" << "\n"
       << R"(  "ca_file": ")" << dir << R"(/ca.crt", "cert_file": ")" << dir << R"(/device.crt",)" << "\n"
       << R"(  "key_file": ")" << dir << R"(/device.key", "license_key_file": ")" << pki << R"(/license.pub",)"
       << "\n"
       << R"(  "state_dir": ")" << dir << R"(/state", "features": )" << config.features << ",\n"
       << R"(  "connect_timeout_s": 2, "retry_min_s": )" << config.retry_min_s
       << R"(, "retry_max_s": )" << config.retry_max_s << ",\n"
       << R"(  "grace_period_s": )" << config.grace_period_s << R"(, "grace_alarm_delay_s": )"
       << config.grace_alarm_delay_s << R"(, "grace_alarm_interval_s": 3600, "checkpoint_s": )" << config.checkpoint_s
       << (config.extra.empty() ? "" : ",\n  " + config.extra) << "\n}\n";
  config_path_ = dir + "/sublinkd.json";
  std::ofstream(config_path_) << json.str();
  restart();
}

void Daemon::restart() {
  process_.stop();
  ++starts_;
  std::vector<std::string> argv;
  if (!env_.empty()) {
    argv.push_back("/usr/bin/env");
    argv.insert(argv.end(), env_.begin(), env_.end());
  }
  argv.insert(argv.end(), {SUBLINKD_PATH, "--config", config_path_});
  process_ = ChildProcess(argv, dir_ + "/sublinkd-" + std::to_string(starts_) + ".log");
}

Json Daemon::status() const {
  return Json::parse(
      run_capture(std::string("'") + SUBLINKCTL_PATH + "' -c '" + config_path_ + "' status --json 2>/dev/null"));
}

std::string Daemon::status_text() const {
  return run_capture(std::string("'") + SUBLINKCTL_PATH + "' -c '" + config_path_ + "' status 2>&1");
}

Json Daemon::wait_status(const std::function<bool(const Json&)>& done, int timeout_ms) const {
  Json last;
  eventually(
      [&] {
        last = status();
        return last && done(last);
      },
      timeout_ms);
  return last;
}

}  // namespace sublink::test
