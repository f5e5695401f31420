#include "firmware/config/config_parser.h"

#include <cJSON.h>

#include <algorithm>
#include <array>

#include <cmath>
#include <memory>

#include "firmware/json/json_document.h"
#include "firmware/json/json_reader.h"
#include "hal/decimal.h"
#include "net/address/host_port.h"

namespace sublink {

namespace {

constexpr int64_t kMaxFeatureQty = UINT32_MAX;
constexpr int64_t kMinMessageBytes = 256;
constexpr int64_t kMaxMessageBytes = int64_t{16} << 20;
// A tunnel channel's receive window: at least a few TCP segments, at most
// 4 MiB (64 channels of it stay within 256 MiB).
constexpr int64_t kMinTunnelWindow = 512;
constexpr int64_t kMaxTunnelWindow = 4 * 1024 * 1024;

enum class Key : uint8_t {
  server,
  customer_id,
  system_id,
  ca_file,
  cert_file,
  key_file,
  license_key_file,
  state_dir,
  ports,
  proxy,
  features,
  services,
  management_methods,
  connect_timeout_s,
  stagger_ms,
  retry_min_s,
  retry_max_s,
  grace_period_s,
  grace_alarm_delay_s,
  grace_alarm_interval_s,
  checkpoint_s,
  violation_retry_s,
  grace_checkpoint_s,
  ntp_wait_s,
  max_message_bytes,
  max_channels,
  tunnel_window_bytes,
  tunnel_idle_s,
  ntp,
  log_level,
};

struct KeySpec {
  std::string_view name;
  bool required;
};

// In the order of Key; required keys first, so the first missing one
// reported is the first a reader of PROTOCOL.md would write.
constexpr KeySpec kKeys[] = {
    {"server", true},
    {"customer_id", true},
    {"system_id", true},
    {"ca_file", true},
    {"cert_file", true},
    {"key_file", true},
    {"license_key_file", true},
    {"state_dir", true},
    {"ports", false},
    {"proxy", false},
    {"features", false},
    {"services", false},
    {"management_methods", false},
    {"connect_timeout_s", false},
    {"stagger_ms", false},
    {"retry_min_s", false},
    {"retry_max_s", false},
    {"grace_period_s", false},
    {"grace_alarm_delay_s", false},
    {"grace_alarm_interval_s", false},
    {"checkpoint_s", false},
    {"violation_retry_s", false},
    {"grace_checkpoint_s", false},
    {"ntp_wait_s", false},
    {"max_message_bytes", false},
    {"max_channels", false},
    {"tunnel_window_bytes", false},
    {"tunnel_idle_s", false},
    {"ntp", false},
    {"log_level", false},
};
constexpr size_t kKeyCount = sizeof kKeys / sizeof kKeys[0];

bool find_key(std::string_view name, Key& key) {
  for (size_t i = 0; i < kKeyCount; ++i) {
    if (kKeys[i].name == name) {
      key = static_cast<Key>(i);
      return true;
    }
  }
  return false;
}

// Where a value sits, as the error names it: "ports[1]", "features[0].qty",
// "services.ssh". Names from the file are user input: control characters
// become '?' so the error stays one line.
class Path {
 public:
  explicit Path(std::string_view key) { append(key); }
  Path index(size_t i) const {
    Path p = *this;
    p.append("[");
    p.append(decimal(i).view());
    p.append("]");
    return p;
  }
  Path member(std::string_view name) const {
    Path p = *this;
    p.append(".");
    p.append(name);
    return p;
  }
  std::string_view view() const { return {text_, size_}; }

 private:
  void append(std::string_view s) {
    for (char c : s) {
      if (size_ + 1 >= sizeof text_) return;
      auto u = static_cast<unsigned char>(c);
      text_[size_++] = (u < 0x20 || u == 0x7f || c == '\'') ? '?' : c;
    }
  }
  char text_[96] = {};
  size_t size_ = 0;
};

bool printable(std::string_view s) {
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return false;
  }
  return true;
}

class Parser {
 public:
  explicit Parser(DeviceConfig& config) : c_(config) {}

  ConfigError run(const cJSON* root);

 private:
  // "config: 'PATH': " — the caller adds the problem.
  ConfigError& at(const Path& p) {
    error_ = ConfigError::begin(Reason::invalid_argument);
    return error_.add("'").add(p.view()).add("': ");
  }
  void add_value(const cJSON* item);
  bool expected(const Path& p, std::string_view what, const cJSON* item) {
    at(p).add("expected ").add(what).add(", got ");
    add_value(item);
    return false;
  }

  bool read_int(const cJSON* item, const Path& p, int64_t min, int64_t max, std::string_view unit, int64_t& out);
  bool read_seconds(const cJSON* item, const Path& p, Millis& out);
  template <size_t N>
  bool read_string(const cJSON* item, const Path& p, BoundedString<N>& out);

  bool parse_key(Key key, const cJSON* item);
  bool parse_server(const cJSON* item, const Path& p);
  bool parse_ports(const cJSON* item, const Path& p);
  bool parse_proxy(const cJSON* item, const Path& p);
  bool parse_log_level(const cJSON* item, const Path& p);
  bool parse_features(const cJSON* item, const Path& p);
  bool parse_feature(const cJSON* item, const Path& p, ConfiguredFeature& out);
  bool parse_services(const cJSON* item, const Path& p);
  bool parse_endpoint(std::string_view text, const Path& p, uint16_t default_port,
                      BoundedString<kMaxServiceHost>& host, uint16_t& port);
  bool parse_ntp(const cJSON* item, const Path& p);
  bool parse_methods(const cJSON* item, const Path& p);
  bool check_together();

  DeviceConfig& c_;
  ConfigError error_;
};

void Parser::add_value(const cJSON* item) {
  switch (json_type_of(item)) {
    case JsonType::missing: error_.add("nothing"); return;
    case JsonType::null: error_.add("null"); return;
    case JsonType::boolean: error_.add(cJSON_IsTrue(item) ? "true" : "false"); return;
    case JsonType::integer: error_.add_int(static_cast<int64_t>(item->valuedouble)); return;
    case JsonType::number: {
      double v = item->valuedouble;
      bool integral = std::isfinite(v) && std::trunc(v) == v;
      error_.add(integral ? "a number beyond 2^53" : "a non-integer number");
      return;
    }
    case JsonType::string: error_.add_quoted(item->valuestring); return;
    case JsonType::array: error_.add("an array"); return;
    case JsonType::object: error_.add("an object"); return;
  }
}

bool Parser::read_int(const cJSON* item, const Path& p, int64_t min, int64_t max, std::string_view unit,
                      int64_t& out) {
  JsonType type = json_type_of(item);
  int64_t v = type == JsonType::integer ? static_cast<int64_t>(item->valuedouble) : 0;
  if (type != JsonType::integer || v < min || v > max) {
    at(p).add("expected integer ").add_int(min).add("..").add_int(max).add(unit).add(", got ");
    add_value(item);
    return false;
  }
  out = v;
  return true;
}

bool Parser::read_seconds(const cJSON* item, const Path& p, Millis& out) {
  int64_t s = 0;
  if (!read_int(item, p, 1, kMaxConfigSeconds, " (seconds)", s)) return false;
  out = s * kSecondMs;
  return true;
}

template <size_t N>
bool Parser::read_string(const cJSON* item, const Path& p, BoundedString<N>& out) {
  if (json_type_of(item) != JsonType::string) return expected(p, "string", item);
  std::string_view s(item->valuestring);
  if (s.empty()) {
    at(p).add("must not be empty");
    return false;
  }
  if (s.size() > N) {
    at(p).add("too long (").add_int(static_cast<int64_t>(s.size())).add(" bytes, at most ").add_int(N).add(")");
    return false;
  }
  if (!printable(s)) {
    at(p).add("contains a control character: ").add_quoted(s);
    return false;
  }
  out.assign(s);
  return true;
}

bool Parser::parse_server(const cJSON* item, const Path& p) {
  if (!read_string(item, p, c_.server)) return false;
  std::string_view s = c_.server.view();
  if (s.find("://") != std::string_view::npos || s.find('/') != std::string_view::npos) {
    at(p).add("expected a host name or IP address, not a URL, got ").add_quoted(s);
    return false;
  }
  for (char ch : s) {
    if (ch == ' ' || ch == '@') {
      at(p).add("expected a host name or IP address, got ").add_quoted(s);
      return false;
    }
  }
  return true;
}

bool Parser::parse_ports(const cJSON* item, const Path& p) {
  if (json_type_of(item) != JsonType::array) return expected(p, "array of 1..8 ports", item);
  int count = cJSON_GetArraySize(item);
  if (count < 1 || count > static_cast<int>(ConnectConfig::kMaxPorts)) {
    at(p).add("expected 1..").add_int(ConnectConfig::kMaxPorts).add(" ports, got ").add_int(count);
    return false;
  }
  c_.port_count = 0;
  size_t i = 0;
  for (const cJSON* e = item->child; e != nullptr; e = e->next, ++i) {
    int64_t port = 0;
    if (!read_int(e, p.index(i), 1, 65535, "", port)) return false;
    for (size_t j = 0; j < c_.port_count; ++j) {
      if (c_.ports[j] == port) {
        at(p.index(i)).add("port ").add_int(port).add(" is listed twice");
        return false;
      }
    }
    c_.ports[c_.port_count++] = static_cast<uint16_t>(port);
  }
  return true;
}

bool Parser::parse_log_level(const cJSON* item, const Path& p) {
  if (json_type_of(item) != JsonType::string) return expected(p, "string (one of critical, error, warning, notice, info, debug)", item);
  for (size_t i = 0; i < kLogLevelNameCount; ++i) {
    if (kLogLevelNames[i].name == std::string_view(item->valuestring)) {
      c_.log_level = kLogLevelNames[i].severity;
      return true;
    }
  }
  at(p).add("unknown level ").add_quoted(item->valuestring).add(" (critical, error, warning, notice, info or debug)");
  return false;
}

bool Parser::parse_proxy(const cJSON* item, const Path& p) {
  if (json_type_of(item) == JsonType::null) return true;  // null: no proxy
  if (json_type_of(item) != JsonType::string) return expected(p, "string http://[user:password@]host:port or null", item);
  std::string_view url(item->valuestring);
  if (url.size() > kMaxConfigProxy) {
    at(p).add("too long (").add_int(static_cast<int64_t>(url.size())).add(" bytes, at most ").add_int(kMaxConfigProxy).add(")");
    return false;
  }
  Result<ProxyUrl> parsed = parse_proxy_url(url);
  if (!parsed.ok()) {
    // The value is not echoed: it may hold the proxy password.
    at(p).add(proxy_url_error_text(parsed.status().detail()));
    return false;
  }
  c_.proxy = *parsed;
  c_.has_proxy = true;
  return true;
}

bool Parser::parse_feature(const cJSON* item, const Path& p, ConfiguredFeature& out) {
  if (json_type_of(item) != JsonType::object) return expected(p, "object {\"name\", \"qty\"}", item);
  const cJSON* name = nullptr;
  const cJSON* qty = nullptr;
  for (const cJSON* m = item->child; m != nullptr; m = m->next) {
    std::string_view key(m->string);
    const cJSON** slot = key == "name" ? &name : key == "qty" ? &qty : nullptr;
    if (slot == nullptr) {
      at(p.member(key)).add("unknown key (a feature has \"name\" and \"qty\")");
      return false;
    }
    if (*slot != nullptr) {
      at(p.member(key)).add("given twice");
      return false;
    }
    *slot = m;
  }
  if (name == nullptr) return expected(p.member("name"), "string (required)", nullptr);
  if (qty == nullptr) return expected(p.member("qty"), "integer (required)", nullptr);
  int64_t q = 0;
  if (!read_string(name, p.member("name"), out.name) || !read_int(qty, p.member("qty"), 1, kMaxFeatureQty, "", q)) {
    return false;
  }
  out.qty = static_cast<uint32_t>(q);
  return true;
}

bool Parser::parse_features(const cJSON* item, const Path& p) {
  if (json_type_of(item) != JsonType::array) return expected(p, "array of {\"name\", \"qty\"}", item);
  int count = cJSON_GetArraySize(item);
  if (count > static_cast<int>(kMaxConfigFeatures)) {
    at(p).add("at most ").add_int(kMaxConfigFeatures).add(" features, got ").add_int(count);
    return false;
  }
  c_.feature_count = 0;
  size_t i = 0;
  for (const cJSON* e = item->child; e != nullptr; e = e->next, ++i) {
    ConfiguredFeature& f = c_.features[c_.feature_count];
    if (!parse_feature(e, p.index(i), f)) return false;
    for (size_t j = 0; j < c_.feature_count; ++j) {
      if (c_.features[j].name == f.name.view()) {
        at(p.index(i).member("name")).add_quoted(f.name.view()).add(" is listed twice");
        return false;
      }
    }
    ++c_.feature_count;
  }
  return true;
}

// `default_port` 0: the port is required; otherwise "host" (or "[v6]")
// alone means that port.
bool Parser::parse_endpoint(std::string_view text, const Path& p, uint16_t default_port,
                            BoundedString<kMaxServiceHost>& host, uint16_t& port) {
  // One host:port grammar for the whole agent, shared with the proxy URL.
  // Text longer than the longest host, its brackets and a port (with
  // leading zeros) is refused whole, without naming a part.
  const bool fits = text.size() <= kMaxServiceHost + 10;
  const Result<HostPort> parsed = fits ? parse_host_port(text, default_port) : Result<HostPort>(Reason::invalid_argument);
  if (!parsed.ok() || parsed->host.size() > kMaxServiceHost) {
    const char* why = "";
    if (!parsed.ok()) {
      switch (static_cast<HostPortError>(parsed.status().detail())) {
        case HostPortError::host: why = ", the host is not a valid name or IP literal"; break;
        case HostPortError::port_missing: why = ", the port is missing"; break;
        case HostPortError::port_invalid: why = ", the port is not a number"; break;
        case HostPortError::port_range: why = ", the port is outside 1..65535"; break;
        case HostPortError::url_part: break;
      }
    }
    at(p).add(default_port != 0 ? "expected \"host\" or \"host:port\"" : "expected \"host:port\"").add(why);
    error_.add(", got ").add_quoted(text);
    return false;
  }
  host.assign(parsed->host);
  port = parsed->port;
  return true;
}

bool Parser::parse_services(const cJSON* item, const Path& p) {
  if (json_type_of(item) != JsonType::object) return expected(p, "object {NAME: \"host:port\"}", item);
  int count = cJSON_GetArraySize(item);
  if (count > static_cast<int>(kMaxConfigServices)) {
    at(p).add("at most ").add_int(kMaxConfigServices).add(" services, got ").add_int(count);
    return false;
  }
  c_.service_count = 0;
  for (const cJSON* m = item->child; m != nullptr; m = m->next) {
    std::string_view name(m->string);
    Path here = p.member(name);
    ServiceEndpoint& s = c_.services[c_.service_count];
    if (name.empty() || name.size() > kMaxServiceName || !printable(name)) {
      at(here).add("a service name has 1..").add_int(kMaxServiceName).add(" printable characters");
      return false;
    }
    if (c_.find_service(name) != nullptr) {
      at(here).add("given twice");
      return false;
    }
    if (json_type_of(m) != JsonType::string) return expected(here, "string \"host:port\"", m);
    if (!parse_endpoint(m->valuestring, here, 0, s.host, s.port)) return false;
    s.name.assign(name);
    ++c_.service_count;
  }
  return true;
}

bool Parser::parse_ntp(const cJSON* item, const Path& p) {
  if (json_type_of(item) != JsonType::array) return expected(p, "array of \"host\" or \"host:port\"", item);
  int count = cJSON_GetArraySize(item);
  if (count > static_cast<int>(kMaxConfigNtpServers)) {
    at(p).add("at most ").add_int(kMaxConfigNtpServers).add(" NTP servers, got ").add_int(count);
    return false;
  }
  c_.ntp_count = 0;
  size_t i = 0;
  for (const cJSON* e = item->child; e != nullptr; e = e->next, ++i) {
    if (json_type_of(e) != JsonType::string) return expected(p.index(i), "string \"host\" or \"host:port\"", e);
    NtpServer& s = c_.ntp[c_.ntp_count];
    if (!parse_endpoint(e->valuestring, p.index(i), kNtpPort, s.host, s.port)) return false;
    ++c_.ntp_count;
  }
  return true;
}

bool Parser::parse_methods(const cJSON* item, const Path& p) {
  if (json_type_of(item) != JsonType::array) return expected(p, "array of method names", item);
  c_.management_methods = 0;
  size_t i = 0;
  for (const cJSON* e = item->child; e != nullptr; e = e->next, ++i) {
    if (json_type_of(e) != JsonType::string) return expected(p.index(i), "method name string", e);
    ManagementMethod m{};
    const std::string_view name = e->valuestring;
    if (std::find(std::begin(kRemovedManagementMethods), std::end(kRemovedManagementMethods), name) !=
        std::end(kRemovedManagementMethods)) {
      at(p.index(i)).add_quoted(name).add(
          " is no longer a method: tunnels are opened with binary frames (PROTOCOL.md section 6) to the "
          "configured `services`; remove it (\"tunnels.list\" lists open channels)");
      return false;
    }
    if (!find_management_method(e->valuestring, m)) {
      at(p.index(i)).add("unknown method ").add_quoted(e->valuestring).add(" (known: ");
      for (size_t k = 0; k < kManagementMethodCount; ++k) {
        error_.add(k == 0 ? "" : ", ").add(management_method_name(static_cast<ManagementMethod>(k)));
      }
      error_.add(")");
      return false;
    }
    c_.management_methods = static_cast<uint8_t>(c_.management_methods | (1u << static_cast<uint8_t>(m)));
  }
  return true;
}

bool Parser::parse_key(Key key, const cJSON* item) {
  Path p(kKeys[static_cast<size_t>(key)].name);
  int64_t n = 0;
  switch (key) {
    case Key::server: return parse_server(item, p);
    case Key::customer_id: return read_string(item, p, c_.customer_id);
    case Key::system_id: return read_string(item, p, c_.system_id);
    case Key::ca_file: return read_string(item, p, c_.ca_file);
    case Key::cert_file: return read_string(item, p, c_.cert_file);
    case Key::key_file: return read_string(item, p, c_.key_file);
    case Key::license_key_file: return read_string(item, p, c_.license_key_file);
    case Key::state_dir: return read_string(item, p, c_.state_dir);
    case Key::ports: return parse_ports(item, p);
    case Key::proxy: return parse_proxy(item, p);
    case Key::features: return parse_features(item, p);
    case Key::services: return parse_services(item, p);
    case Key::management_methods: return parse_methods(item, p);
    case Key::connect_timeout_s: return read_seconds(item, p, c_.connect_timeout);
    case Key::stagger_ms:
      if (!read_int(item, p, 0, kMaxConfigSeconds * kSecondMs, " (milliseconds)", n)) return false;
      c_.stagger = n;
      return true;
    case Key::retry_min_s: return read_seconds(item, p, c_.retry_min);
    case Key::retry_max_s: return read_seconds(item, p, c_.retry_max);
    case Key::grace_period_s: return read_seconds(item, p, c_.grace_period);
    case Key::grace_alarm_delay_s: return read_seconds(item, p, c_.grace_alarm_delay);
    case Key::grace_alarm_interval_s: return read_seconds(item, p, c_.grace_alarm_interval);
    case Key::checkpoint_s: return read_seconds(item, p, c_.checkpoint);
    case Key::violation_retry_s: return read_seconds(item, p, c_.violation_retry);
    case Key::grace_checkpoint_s: return read_seconds(item, p, c_.grace_checkpoint);
    case Key::ntp_wait_s: {
      // 0 is allowed: link at once on the build time (PROTOCOL.md section 2).
      int64_t s = 0;
      if (!read_int(item, p, 0, kMaxNtpWaitSeconds, " (seconds)", s)) return false;
      c_.ntp_wait = s * kSecondMs;
      return true;
    }
    case Key::max_message_bytes:
      if (!read_int(item, p, kMinMessageBytes, kMaxMessageBytes, " (bytes)", n)) return false;
      c_.max_message_bytes = static_cast<uint32_t>(n);
      return true;
    case Key::max_channels:
      if (!read_int(item, p, 1, kMaxTunnelChannels, "", n)) return false;
      c_.max_channels = static_cast<uint32_t>(n);
      return true;
    case Key::tunnel_window_bytes:
      if (!read_int(item, p, kMinTunnelWindow, kMaxTunnelWindow, " (bytes)", n)) return false;
      c_.tunnel_window_bytes = static_cast<uint32_t>(n);
      return true;
    case Key::tunnel_idle_s: return read_seconds(item, p, c_.tunnel_idle);
    case Key::ntp: return parse_ntp(item, p);
    case Key::log_level: return parse_log_level(item, p);
  }
  return false;
}

bool Parser::check_together() {
  if (c_.retry_min > c_.retry_max) {
    at(Path("retry_min_s")).add_int(c_.retry_min / kSecondMs).add(" is above 'retry_max_s' (").add_int(c_.retry_max / kSecondMs).add(")");
    return false;
  }
  if (c_.grace_alarm_delay > c_.grace_period) {
    at(Path("grace_alarm_delay_s"))
        .add_int(c_.grace_alarm_delay / kSecondMs)
        .add(" is above 'grace_period_s' (")
        .add_int(c_.grace_period / kSecondMs)
        .add("): the alarm would never be raised");
    return false;
  }
  return true;
}

ConfigError Parser::run(const cJSON* root) {
  if (json_type_of(root) != JsonType::object) {
    error_ = ConfigError::begin(Reason::invalid_argument);
    error_.add("expected a JSON object at the top level, got ");
    add_value(root);
    return error_;
  }
  bool seen[kKeyCount] = {};
  for (const cJSON* item = root->child; item != nullptr; item = item->next) {
    Key key{};
    if (!find_key(item->string, key)) {
      at(Path(item->string)).add("unknown key");
      return error_;
    }
    auto k = static_cast<size_t>(key);
    if (seen[k]) {
      at(Path(item->string)).add("given twice");
      return error_;
    }
    seen[k] = true;
    if (!parse_key(key, item)) return error_;
  }
  for (size_t k = 0; k < kKeyCount; ++k) {
    if (kKeys[k].required && !seen[k]) {
      at(Path(kKeys[k].name)).add("missing (required)");
      return error_;
    }
  }
  check_together();
  return error_;
}

// Line and column (from 1) of byte `offset`, for an editor's go-to-line.
void add_position(ConfigError& e, std::string_view text, size_t offset) {
  int64_t line = 1;
  int64_t column = 1;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  e.add("line ").add_int(line).add(", column ").add_int(column);
}

}  // namespace

ConfigError parse_device_config(std::string_view json, DeviceConfig& config) {
  // In place: a temporary DeviceConfig would cost kilobytes of device stack.
  std::destroy_at(&config);
  std::construct_at(&config);
  JsonResult<JsonDocument> doc = JsonDocument::parse(json);
  if (!doc.ok()) {
    const JsonError& je = doc.error();
    switch (je.problem) {
      case JsonProblem::no_memory: {
        ConfigError e = ConfigError::begin(Reason::out_of_memory);
        e.add("the file does not fit the ").add_int(je.status.detail()).add("-byte JSON arena");
        return e;
      }
      case JsonProblem::too_deep: {
        ConfigError e = ConfigError::begin(Reason::invalid_argument);
        e.add("JSON nested deeper than ").add_int(kMaxJsonDepth).add(" levels");
        return e;
      }
      case JsonProblem::nul_in_string: {
        ConfigError e = ConfigError::begin(Reason::invalid_argument);
        e.add("a string holds \\u0000");
        return e;
      }
      case JsonProblem::control_char: {
        // A value cut at a NUL or holding a raw control byte would be read
        // as something else than what the file seems to say: refused.
        static constexpr char kHex[] = "0123456789abcdef";
        const char hex[5] = {'0', 'x', kHex[(je.byte >> 4) & 0xf], kHex[je.byte & 0xf], '\0'};
        ConfigError e = ConfigError::begin(Reason::invalid_argument);
        e.add("a raw control character (").add(hex).add(", must be escaped) at ");
        add_position(e, json, static_cast<size_t>(je.status.detail() < 0 ? 0 : je.status.detail()));
        return e;
      }
      default: {
        ConfigError e = ConfigError::begin(Reason::invalid_argument);
        e.add("not valid JSON at ");
        add_position(e, json, static_cast<size_t>(je.status.detail() < 0 ? 0 : je.status.detail()));
        return e;
      }
    }
  }
  Parser parser(config);
  return parser.run(doc->root());
}

std::span<const DeviceConfigKey> device_config_keys() {
  static constexpr auto kList = [] {
    std::array<DeviceConfigKey, kKeyCount> list{};
    for (size_t i = 0; i < kKeyCount; ++i) list[i] = {kKeys[i].name, kKeys[i].required};
    return list;
  }();
  return kList;
}

}  // namespace sublink
