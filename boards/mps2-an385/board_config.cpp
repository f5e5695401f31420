#include "boards/mps2-an385/board_config.h"

#include <cJSON.h>

#include <memory>

#include "firmware/json/json_document.h"
#include "firmware/config/config_parser.h"
#include "firmware/json/json_writer.h"
#include "hal/decimal.h"
#include "net/address/ip_address.h"

namespace sublink::mps2 {

namespace {

// Largest agent part of the file written back for parse_device_config.
constexpr size_t kMaxDeviceJson = 4096;

ConfigError bad(std::string_view key, std::string_view problem) {
  ConfigError e = ConfigError::begin(Reason::invalid_argument);
  e.add("'").add(key).add("': ").add(problem);
  return e;
}

std::string_view string_of(const cJSON* item) {
  return cJSON_IsString(item) && item->valuestring ? std::string_view(item->valuestring) : std::string_view();
}

ConfigError parse_address(const cJSON* item, BoardConfig& board) {
  std::string_view text = string_of(item);
  if (text == "dhcp") {
    board.dhcp = true;
    return {};
  }
  const size_t slash = text.find('/');
  int prefix = -1;
  if (slash != std::string_view::npos && slash + 1 < text.size() && text.size() - slash <= 3) {
    prefix = 0;
    for (char c : text.substr(slash + 1)) prefix = (c >= '0' && c <= '9' && prefix >= 0) ? prefix * 10 + (c - '0') : -1;
  }
  if (prefix < 1 || prefix > 32 || !parse_ipv4(text.substr(0, slash), board.address)) {
    return bad("ip", "expected \"dhcp\" or \"A.B.C.D/NN\"");
  }
  const uint32_t mask = prefix == 32 ? 0xFFFFFFFFu : ~(0xFFFFFFFFu >> prefix);
  for (int i = 0; i < 4; ++i) board.netmask.bytes[i] = static_cast<uint8_t>(mask >> (24 - 8 * i));
  board.dhcp = false;
  return {};
}

// One board key; false in `known` when `name` is not a board key.
ConfigError parse_board_key(const cJSON* item, BoardConfig& board, bool& known) {
  const std::string_view name = item->string;
  known = true;
  if (name == "ip") return parse_address(item, board);
  if (name == "gateway") {
    if (!parse_ipv4(string_of(item), board.gateway)) return bad(name, "expected \"A.B.C.D\"");
    board.has_gateway = true;
    return {};
  }
  if (name == "dns") {
    if (!cJSON_IsArray(item)) return bad(name, "expected an array of \"A.B.C.D\"");
    board.dns_count = 0;
    for (const cJSON* s = item->child; s != nullptr; s = s->next) {
      if (board.dns_count == board.dns.size()) return bad(name, "at most 2 servers");
      if (!parse_ipv4(string_of(s), board.dns[board.dns_count])) return bad(name, "expected an array of \"A.B.C.D\"");
      ++board.dns_count;
    }
    return {};
  }
  if (name == "ntp") {
    if (string_of(item).empty() || !board.ntp.assign(string_of(item))) return bad(name, "expected a server name");
    return {};
  }
  if (name == "time_source") {
    if (string_of(item) == "sntp") board.time_source = TimeSource::sntp;
    else if (string_of(item) == "host") board.time_source = TimeSource::host;
    else return bad(name, "expected \"sntp\" or \"host\"");
    return {};
  }
  if (name == "flash_image") {
    if (string_of(item).empty() || !board.flash_image.assign(string_of(item))) return bad(name, "expected a path");
    return {};
  }
  if (name == "exit_on") {
    if (string_of(item) != "grace") return bad(name, "expected \"grace\"");
    board.exit_on = ExitOn::grace;
    return {};
  }
  if (name == "deadline_s") {
    if (!cJSON_IsNumber(item) || item->valuedouble < 1 || item->valuedouble > 86400.0 * 365) {
      return bad(name, "expected seconds, 1 or more");
    }
    board.deadline = static_cast<Millis>(item->valuedouble) * 1000;
    return {};
  }
  known = false;
  return {};
}

// Number text without printf: newlib-nano's has no floating point.
// Integers print exactly; anything else keeps six decimals, enough for the
// agent's parser to name it as not an integer.
void number_text(double value, char (&out)[40]) {
  size_t n = 0;
  if (value < 0) {
    out[n++] = '-';
    value = -value;
  }
  if (value > 9007199254740991.0) value = 9007199254740991.0;  // 2^53-1: the parser refuses it anyway
  const DecimalText whole = decimal(static_cast<uint64_t>(value));  // named: the loop outlives a temporary
  for (char c : whole.view()) out[n++] = c;
  const double fraction = value - static_cast<double>(static_cast<uint64_t>(value));
  if (fraction > 0) {
    out[n++] = '.';
    // Six digits with leading zeros: 0.05 is ".050000".
    const DecimalText micro = decimal(static_cast<uint64_t>(fraction * 1e6));
    for (size_t pad = micro.view().size(); pad < 6; ++pad) out[n++] = '0';
    for (char c : micro.view()) out[n++] = c;
  }
  out[n] = '\0';
}

// Writes a value of the parsed file back as JSON text. The project's writer
// rather than cJSON's printer, which would bring the C library's
// floating-point printf and scanf into the image for this one use.
void write_value(JsonWriter& w, const cJSON* item) {
  if (cJSON_IsObject(item) || cJSON_IsArray(item)) {
    const bool object = cJSON_IsObject(item);
    object ? w.begin_object() : w.begin_array();
    for (const cJSON* child = item->child; child != nullptr; child = child->next) {
      if (object) w.key(child->string);
      write_value(w, child);
    }
    object ? w.end_object() : w.end_array();
  } else if (cJSON_IsNumber(item)) {
    char text[40];
    number_text(item->valuedouble, text);
    w.raw(text);
  } else if (cJSON_IsString(item)) {
    w.string(item->valuestring);
  } else if (cJSON_IsBool(item)) {
    w.boolean(cJSON_IsTrue(item));
  } else {
    w.null();
  }
}

ConfigError split(cJSON* root, BoardConfig& board) {
  if (!cJSON_IsObject(root)) return bad("(top level)", "expected a JSON object");
  for (cJSON* item = root->child; item != nullptr;) {
    cJSON* next = item->next;
    bool known = false;
    ConfigError e = parse_board_key(item, board, known);
    if (!e.ok()) return e;
    if (known) cJSON_Delete(cJSON_DetachItemViaPointer(root, item));
    item = next;
  }
  if (board.flash_image.view().empty()) return bad("flash_image", "missing (required)");
  return {};
}

// The agent's keys (what split() left in `root`) as JSON text for
// parse_device_config, with state_dir added when the file has none: on the
// board the records live in the flash image, which is what it names.
ConfigError write_device_json(const cJSON* root, const BoardConfig& board, std::span<char> out) {
  JsonWriter w(out);
  w.begin_object();
  for (const cJSON* item = root->child; item != nullptr; item = item->next) {
    w.key(item->string);
    write_value(w, item);
  }
  if (!cJSON_HasObjectItem(root, "state_dir")) w.key("state_dir").string(board.flash_image.view());
  w.end_object();
  Result<size_t> written = w.finish();
  if (written.ok()) return {};
  if (written.status().reason() == Reason::invalid_argument) {
    return ConfigError::begin(Reason::invalid_argument).add("a string is not valid UTF-8");
  }
  return ConfigError::begin(Reason::invalid_argument).add("the agent's keys take more than 4 KB");
}

}  // namespace

bool parse_ipv4(std::string_view text, Ipv4& out) {
  IpAddress a = IpAddress::parse(text);
  if (a.family != 4 || text.empty() || text.front() == '[') return false;
  for (int i = 0; i < 4; ++i) out.bytes[i] = a.bytes[i];
  return true;
}

ConfigError parse_board_config(std::string_view json, BoardConfig& board, DeviceConfig& device) {
  board = BoardConfig{};
  board.ntp.assign(kDefaultNtpServer);
  // The project's one checked parser: a raw control character (a NUL that
  // would cut a value) is refused with its offset, as in the agent's keys.
  JsonResult<JsonDocument> doc = JsonDocument::parse(json);
  if (!doc.ok()) {
    char why[120];
    const size_t n = doc.error().describe(why);
    return ConfigError::begin(Reason::invalid_argument).add("not valid JSON: ").add(std::string_view(why, n));
  }
  cJSON* root = doc->mutable_root();
  ConfigError e = split(root, board);
  // Set-up time only: the heap block is reused once this returns.
  auto text = std::make_unique<char[]>(kMaxDeviceJson);
  if (e.ok()) e = write_device_json(root, board, {text.get(), kMaxDeviceJson});
  if (!e.ok()) return e;
  return parse_device_config(text.get(), device);
}

}  // namespace sublink::mps2
