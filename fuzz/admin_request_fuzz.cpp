// The server's admin requests (tools/server/admin_request): the control
// socket's request line ({"args": [...]}) and the command words it carries,
// or, with the first input byte odd, words straight from a command line
// (the rest of the input split at NUL bytes).
//
// Invariants: words read from a line are what admin_request_line writes for
// them (the line round-trips); a refused command is explained in one line
// (no control characters: the error is printed to the operator's terminal
// and logged); an accepted one holds only values within the stated ranges
// (port 1..65535, --timeout 1..3600, --retry-after 0..2592000, non-empty
// identifiers, PARAMS_JSON one JSON value).
#include <string>
#include <vector>

#include "firmware/json/json_document.h"
#include "fuzz/fuzz_check.h"
#include "tools/server/admin_request.h"

using namespace sublink;
using sublink::fuzz::check;

namespace {

bool one_line(const std::string& text) {
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return false;
  }
  return true;
}

void check_command(const std::vector<std::string>& words) {
  AdminRequest request;
  std::string error;
  if (!parse_admin_words(words, request, error)) {
    check(!error.empty() && one_line(error));
    return;
  }
  check(request.timeout_s >= 1 && request.timeout_s <= 3600);
  if (request.retry_after_s) check(*request.retry_after_s >= 0 && *request.retry_after_s <= 30 * 86400);
  switch (request.command) {
    case AdminCommand::devices: break;
    case AdminCommand::add_customer: check(!request.customer_id.empty() && !request.name.empty()); break;
    case AdminCommand::add_system: check(!request.system_id.empty() && !request.customer_id.empty()); break;
    case AdminCommand::entitle: check(!request.system_id.empty() && !request.feature.empty()); break;
    case AdminCommand::revoke: check(!request.system_id.empty() && !request.reason.empty()); break;
    case AdminCommand::request:
      check(!request.system_id.empty() && !request.method.empty());
      if (!request.params_json.empty()) check(JsonDocument::parse(request.params_json).ok());
      break;
    case AdminCommand::port: check(request.port >= 1); break;
    case AdminCommand::disconnect:
    case AdminCommand::drop:
    case AdminCommand::blackhole:
    case AdminCommand::clear_alarm: check(!request.system_id.empty()); break;
    case AdminCommand::tunnels: break;
    case AdminCommand::forward: {
      // Only a loopback IP literal is ever listened on.
      ListenAddress again;
      std::string problem;
      check(parse_listen_address(listen_address_text(request.listen), again, problem) &&
            again.host == request.listen.host && again.port == request.listen.port);
      check(request.op.size() <= 255);
      if (request.close) {
        check(request.system_id.empty() && request.service.empty());
      } else {
        check(!request.system_id.empty() && !request.service.empty() && request.service.size() <= 255);
      }
      break;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string_view rest = sublink::fuzz::as_text(data + 1, size - 1);
  std::vector<std::string> words;
  if (data[0] & 1) {
    size_t start = 0;
    for (size_t i = 0; i <= rest.size(); ++i) {
      if (i == rest.size() || rest[i] == '\0') {
        words.emplace_back(rest.substr(start, i - start));
        start = i + 1;
      }
    }
    check_command(words);
    return 0;
  }
  std::string error;
  if (!admin_request_words(rest, words, error)) {
    check(!error.empty() && one_line(error));
    return 0;
  }
  Result<std::string> line = admin_request_line(words);
  check(line.ok());
  std::vector<std::string> again;
  check(admin_request_words(*line, again, error) && again == words);
  check_command(words);
  return 0;
}
