// The operator's command words as `sublink-server admin` and the server
// both parse them, and the request line that carries them.
#include "tools/server/admin_request.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sublink {
namespace {

AdminRequest parse_ok(std::vector<std::string> words) {
  AdminRequest r;
  std::string error;
  EXPECT_TRUE(parse_admin_words(words, r, error)) << error;
  return r;
}

std::string parse_error(std::vector<std::string> words) {
  AdminRequest r;
  std::string error;
  EXPECT_FALSE(parse_admin_words(words, r, error)) << words[0];
  return error;
}

TEST(AdminRequestTest, EveryCommandTakesItsArguments) {
  AdminRequest r = parse_ok({"entitle", "SYS-1", "seats", "4294967295"});
  EXPECT_EQ(r.command, AdminCommand::entitle);
  EXPECT_EQ(r.system_id, "SYS-1");
  EXPECT_EQ(r.feature, "seats");
  EXPECT_EQ(r.qty, 4294967295u);

  r = parse_ok({"add-customer", "CUST-1", "Example Telephony"});
  EXPECT_EQ(r.customer_id, "CUST-1");
  EXPECT_EQ(r.name, "Example Telephony");
  r = parse_ok({"add-system", "SYS-1", "CUST-1"});
  EXPECT_EQ(r.system_id, "SYS-1");
  EXPECT_EQ(r.customer_id, "CUST-1");

  r = parse_ok({"revoke", "SYS-1"});
  EXPECT_EQ(r.reason, "revoked") << "a reason by default";
  EXPECT_EQ(r.timeout_s, 10);
  r = parse_ok({"revoke", "SYS-1", "fraud", "--timeout", "3"});
  EXPECT_EQ(r.reason, "fraud");
  EXPECT_EQ(r.timeout_s, 3);

  r = parse_ok({"disconnect", "SYS-1"});
  EXPECT_FALSE(r.retry_after_s.has_value());
  r = parse_ok({"disconnect", "--retry-after", "30", "SYS-1"});
  EXPECT_EQ(r.retry_after_s, 30) << "options go anywhere after the command";
  EXPECT_EQ(r.system_id, "SYS-1");

  r = parse_ok({"request", "SYS-1", "tunnel.open", R"({"service":"web"})"});
  EXPECT_EQ(r.method, "tunnel.open");
  EXPECT_EQ(r.params_json, R"({"service":"web"})");
  r = parse_ok({"request", "SYS-1", "status.get"});
  EXPECT_TRUE(r.params_json.empty());

  r = parse_ok({"port", "8443", "stall"});
  EXPECT_EQ(r.port, 8443);
  EXPECT_EQ(r.port_action, PortAction::stall);
  EXPECT_EQ(parse_ok({"port", "443", "normal"}).port_action, PortAction::normal);
  EXPECT_EQ(parse_ok({"port", "443", "start"}).port_action, PortAction::start);
  EXPECT_EQ(parse_ok({"port", "443", "stop"}).port_action, PortAction::stop);

  EXPECT_TRUE(parse_ok({"blackhole", "SYS-1", "on"}).on);
  EXPECT_FALSE(parse_ok({"blackhole", "SYS-1", "off"}).on);
  EXPECT_EQ(parse_ok({"drop", "SYS-1"}).command, AdminCommand::drop);
  EXPECT_TRUE(parse_ok({"devices", "--json"}).json);
  EXPECT_FALSE(parse_ok({"devices"}).json);
}

TEST(AdminRequestTest, MistakesAreNamed) {
  EXPECT_EQ(parse_error({"frobnicate"}), "unknown command 'frobnicate'");
  EXPECT_EQ(parse_error({"entitle", "SYS-1", "seats"}), "entitle: missing arguments");
  EXPECT_EQ(parse_error({"drop", "SYS-1", "SYS-2"}), "drop: too many arguments");
  EXPECT_NE(parse_error({"entitle", "SYS-1", "seats", "-1"}).find("QTY must be a whole number"), std::string::npos);
  EXPECT_NE(parse_error({"entitle", "SYS-1", "seats", "4294967296"}).find("QTY"), std::string::npos);
  EXPECT_NE(parse_error({"port", "0", "stop"}).find("PORT must be a port number"), std::string::npos);
  EXPECT_NE(parse_error({"port", "443", "pause"}).find("stop, start, stall or normal"), std::string::npos);
  EXPECT_NE(parse_error({"blackhole", "SYS-1", "yes"}).find("on or off"), std::string::npos);
  EXPECT_NE(parse_error({"request", "SYS-1", "x", "{oops"}).find("not JSON"), std::string::npos);
  EXPECT_NE(parse_error({"disconnect", "SYS-1", "--retry-after"}).find("--retry-after needs"), std::string::npos);
  EXPECT_NE(parse_error({"request", "SYS-1", "x", "--timeout", "0"}).find("--timeout needs"), std::string::npos);
  EXPECT_EQ(parse_error({"devices", "--retry-after", "5"}), "devices: unknown option '--retry-after'")
      << "an option belongs to its commands";
  EXPECT_EQ(parse_error({"drop", ""}), "drop: an argument is empty");
  EXPECT_EQ(parse_error({}), "no command given");
}

// Found by fuzz/admin_request_fuzz.cpp: a word with a newline or an escape
// sequence (from the control socket's JSON "\n" / "\u001b", or a shell
// argument) was copied into the error as is, so the one-line error the
// operator's terminal and the server's log get split into lines or drove
// the terminal. Words are shown with control characters as \xNN.
TEST(AdminRequestTest, ErrorsShowControlCharactersEscapedOnOneLine) {
  EXPECT_EQ(parse_error({"drop\nSYS-1"}), "unknown command 'drop\\x0aSYS-1'");
  EXPECT_EQ(parse_error({"port", "443", "stop\x1b[2J"}),
            "port: the action is stop, start, stall or normal, not 'stop\\x1b[2J'");
  EXPECT_EQ(parse_error({"devices", "--x\r"}), "devices: unknown option '--x\\x0d'");
  EXPECT_EQ(parse_error({"entitle", "SYS-1", "seats", "1\x7f"}),
            "entitle: QTY must be a whole number from 0 to 4294967295, not '1\\x7f'");
  EXPECT_EQ(parse_error({"blackhole", "SYS-1", "a\\b"}), "blackhole: say on or off, not 'a\\\\b'");
  // Numbers are digits only: a blank or a line break before one was skipped.
  EXPECT_EQ(parse_error({"port", "\n443", "stop"}), "port: PORT must be a port number, not '\\x0a443'");
  EXPECT_NE(parse_error({"port", " 443", "stop"}).find("PORT must be a port number"), std::string::npos);
  EXPECT_NE(parse_error({"entitle", "SYS-1", "seats", "\t5"}).find("QTY"), std::string::npos);
  EXPECT_NE(parse_error({"disconnect", "SYS-1", "--retry-after", " 5"}).find("--retry-after needs"), std::string::npos);
  for (const std::string& error : {parse_error({"port", "\n1", "stop"}), parse_error({"request", "S", "m", "{\n"})}) {
    EXPECT_EQ(error.find_first_of("\n\r\x1b"), std::string::npos) << error;
  }
}

TEST(AdminRequestTest, TheRequestLineCarriesTheWordsExactly) {
  const std::vector<std::string> words{"request", "SYS-1", "x", R"({"a":"b \"c\"\n"})", "--timeout", "5"};
  Result<std::string> line = admin_request_line(words);
  ASSERT_TRUE(line.ok());
  EXPECT_EQ(line->find('\n'), std::string::npos) << "one line";
  std::vector<std::string> back;
  std::string error;
  ASSERT_TRUE(admin_request_words(*line, back, error)) << error;
  EXPECT_EQ(back, words);

  EXPECT_FALSE(admin_request_line(std::vector<std::string>{"drop", "\xff"}).ok()) << "not UTF-8";
  EXPECT_FALSE(admin_request_words("drop SYS-1", back, error));
  EXPECT_FALSE(admin_request_words(R"({"args":"drop"})", back, error));
  EXPECT_FALSE(admin_request_words(R"({"args":["drop",1]})", back, error));
}

TEST(AdminRequestTest, ARawControlCharacterInTheRequestIsRefusedNotCut) {
  // "SYS-1" NUL "X" must not become a command on SYS-1.
  std::vector<std::string> back;
  std::string error;
  EXPECT_FALSE(admin_request_words(std::string("{\"args\":[\"drop\",\"SYS-1\0X\"]}", 27), back, error));
  EXPECT_EQ(error, "the request is not JSON: raw control character 0x00 at byte 22 (JSON needs it escaped)");
  EXPECT_FALSE(admin_request_words("{\"args\":[\"drop\",\"SYS-1\n\"]}", back, error));
  EXPECT_NE(error.find("raw control character 0x0a"), std::string::npos) << error;
  // Escaped by the client's writer, a NUL is still refused, not cut.
  const std::vector<std::string> words{"drop", std::string("SYS-1\0X", 7)};
  Result<std::string> line = admin_request_line(words);
  ASSERT_TRUE(line.ok());
  EXPECT_FALSE(admin_request_words(*line, back, error));
  EXPECT_NE(error.find("\\u0000"), std::string::npos) << error;
  // And a PARAMS_JSON with a raw control character is not JSON.
  EXPECT_NE(parse_error({"request", "SYS-1", "x", "{\"a\":\"b\tc\"}"}).find("raw control character 0x09"),
            std::string::npos);
}

// Found by fuzz/admin_request_fuzz.cpp: a request line whose strings were
// not UTF-8 was taken, and its words could not be written back as a request
// line (nor into a message to a device).
TEST(AdminRequestTest, ARequestThatIsNotUtf8IsRefused) {
  std::vector<std::string> words;
  std::string error;
  EXPECT_FALSE(admin_request_words("{\"args\":[\"port\",\"84\xcf\xcc\"]}", words, error));
  EXPECT_EQ(error, "the request is not valid UTF-8");
  EXPECT_TRUE(admin_request_words("{\"args\":[\"drop\",\"SYS-\xc3\xa9\"]}", words, error)) << error;
  EXPECT_EQ(words, (std::vector<std::string>{"drop", "SYS-\xc3\xa9"}));
}

TEST(AdminRequestTest, ForwardNamesTheDeviceServiceAndALoopbackPort) {
  AdminRequest r = parse_ok({"forward", "SYS-1", "http", "--listen", "127.0.0.1:8080", "--operator", "alice"});
  EXPECT_EQ(r.command, AdminCommand::forward);
  EXPECT_EQ(r.system_id, "SYS-1");
  EXPECT_EQ(r.service, "http");
  EXPECT_EQ(r.listen.host, "127.0.0.1");
  EXPECT_EQ(r.listen.port, 8080);
  EXPECT_EQ(r.op, "alice");
  EXPECT_FALSE(r.close);
  r = parse_ok({"forward", "--listen", "[::1]:0", "SYS-1", "ssh"});
  EXPECT_EQ(r.listen.host, "::1");
  EXPECT_EQ(r.listen.port, 0) << "0: the kernel chooses, the answer names it";
  EXPECT_EQ(r.op, "") << "no operator named";
  EXPECT_EQ(listen_address_text(r.listen), "[::1]:0");
  EXPECT_EQ(parse_ok({"forward", "SYS-1", "http", "--listen", "127.0.0.2:1"}).listen.host, "127.0.0.2");
  EXPECT_EQ(parse_ok({"forward", "SYS-1", "http", "--listen", "127.0.0.1:1", "--operator", std::string(255, 'o')})
                .op.size(),
            255u);
  EXPECT_EQ(parse_ok({"forward", "SYS-1", std::string(255, 's'), "--listen", "127.0.0.1:1"}).service.size(), 255u);

  r = parse_ok({"forward", "--close", "127.0.0.1:8080"});
  EXPECT_TRUE(r.close);
  EXPECT_EQ(listen_address_text(r.listen), "127.0.0.1:8080");

  EXPECT_EQ(parse_ok({"tunnels"}).command, AdminCommand::tunnels);
  EXPECT_TRUE(parse_ok({"tunnels", "--json"}).json);
}

TEST(AdminRequestTest, AForwardThatCannotBeIsRefusedWithItsReason) {
  EXPECT_NE(parse_error({"forward", "SYS-1", "http"}).find("say where to listen"), std::string::npos);
  EXPECT_NE(parse_error({"forward", "SYS-1", "--listen", "127.0.0.1:80"}).find("say SYSTEM_ID and SERVICE"),
            std::string::npos);
  EXPECT_NE(parse_error({"forward", "SYS-1", "http", "--listen", "0.0.0.0:80"}).find("loopback only"),
            std::string::npos)
      << "an open port on every interface would hand the device to anyone";
  EXPECT_NE(parse_error({"forward", "SYS-1", "http", "--listen", "[::]:80"}).find("loopback only"), std::string::npos);
  EXPECT_NE(parse_error({"forward", "SYS-1", "http", "--listen", "localhost:80"}).find("an IP literal"),
            std::string::npos);
  EXPECT_NE(parse_error({"forward", "SYS-1", "http", "--listen", "::1:80"}).find("an IP literal"), std::string::npos)
      << "IPv6 goes in brackets";
  EXPECT_NE(parse_error({"forward", "SYS-1", "http", "--listen", "127.0.0.1:65536"}).find("0 to 65535"),
            std::string::npos);
  EXPECT_NE(parse_error({"forward", "SYS-1", "http", "--listen", "8080"}).find("ADDR:PORT"), std::string::npos);
  EXPECT_NE(parse_error({"forward", "SYS-1", "http", "--listen"}).find("--listen needs ADDR:PORT"), std::string::npos);
  EXPECT_NE(parse_error({"forward", "SYS-1", std::string(256, 's'), "--listen", "127.0.0.1:1"}).find("255"),
            std::string::npos);
  EXPECT_NE(parse_error({"forward", "SYS-1", "http", "--listen", "127.0.0.1:1", "--operator", std::string(256, 'o')})
                .find("at most 255"),
            std::string::npos);
  EXPECT_NE(parse_error({"forward", "SYS-1", "http", "--listen", "127.0.0.1:1", "--close", "127.0.0.1:1"})
                .find("once"),
            std::string::npos);
  EXPECT_NE(parse_error({"forward", "--close", "127.0.0.1:1", "SYS-1"}).find("takes nothing else"), std::string::npos);
  EXPECT_EQ(parse_error({"forward", "SYS-1", "http", "x", "--listen", "127.0.0.1:1"}), "forward: too many arguments");
  EXPECT_EQ(parse_error({"tunnels", "SYS-1"}), "tunnels: too many arguments");
  EXPECT_EQ(parse_error({"devices", "--operator", "x"}), "devices: unknown option '--operator'");
}

TEST(AdminRequestTest, TheDefaultSocketSitsNextToTheDatabase) {
  EXPECT_EQ(default_control_path("/var/lib/sublink-server/server.db"), "/var/lib/sublink-server/sublink-server.sock");
  EXPECT_EQ(default_control_path("server.db"), "sublink-server.sock");
}

}  // namespace
}  // namespace sublink
