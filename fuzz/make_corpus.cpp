// Writes the seed corpus of every fuzz target (fuzz/corpus/<target>/) from
// the real encoders: the messages the server and the device build, the
// records the agent stores, a flash image written by the record store, the
// frames both WebSocket roles send. Run after changing a format:
//   build/host-fuzz/bin/fuzz_make_corpus fuzz/corpus boards/host/sublink.sample.json
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "boards/host/doctor/sntp_packet.h"
#include "firmware/agent/boot_counter.h"
#include "firmware/agent/device_instance.h"
#include "firmware/agent/usage_tracker.h"
#include "firmware/events/event_queue.h"
#include "firmware/grace/grace_record.h"
#include "firmware/license/license_record.h"
#include "firmware/protocol/device_messages.h"
#include "firmware/protocol/server_messages.h"
#include "hal/flash/flash_record_store.h"
#include "hal/flash/sim_nor_flash.h"
#include "hal/sim/deterministic_random.h"
#include "net/tunnel/tunnel_frame.h"
#include "net/websocket/ws_frame.h"
#include "tools/server/admin_request.h"
#include "server_core/base64url_encode.h"
#include "server_core/license_json.h"
#include "server_core/license_signer.h"
#include "server_core/json_text.h"

using namespace sublink;
namespace fs = std::filesystem;

namespace {

fs::path g_root;
bool g_failed = false;

using Bytes = std::vector<uint8_t>;

Bytes bytes_of(std::string_view s) { return Bytes(s.begin(), s.end()); }
Bytes cat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

void seed(const char* target, const std::string& name, const Bytes& content) {
  const fs::path dir = g_root / target;
  fs::create_directories(dir);
  std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(content.data()), static_cast<std::streamsize>(content.size()));
  if (!out) {
    std::fprintf(stderr, "fuzz_make_corpus: cannot write %s/%s\n", target, name.c_str());
    g_failed = true;
  }
}

void seed_text(const char* target, const std::string& name, const Result<std::string>& text) {
  if (!text.ok()) {
    std::fprintf(stderr, "fuzz_make_corpus: %s/%s: the encoder refused\n", target, name.c_str());
    g_failed = true;
    return;
  }
  seed(target, name, bytes_of(*text));
}

// A record target's seed: sealed by the target (CRC and length set from
// the bytes, so mutations reach the fields) and as stored.
void seed_record(const char* target, const std::string& name, const Bytes& record) {
  seed(target, name, cat({0x03}, record));
  seed(target, name + "_as_stored", cat({0x00}, record));
}

template <class Build>
Result<std::string> device_message(Build&& build) {
  char buffer[4096];
  Result<size_t> n = build(std::span<char>(buffer));
  if (!n.ok()) return n.status();
  return std::string(buffer, *n);
}

void server_messages(const SignedGrant& grant) {
  const char* t = "server_messages";
  auto answer = [](int64_t re) { return Envelope{std::nullopt, re}; };
  auto request = [](int64_t id) { return Envelope{id, std::nullopt}; };
  seed_text(t, "welcome",
            message_text(answer(1), Welcome{1'700'000'000'000, 60, 86400, JsonValue::of_text(R"("{\"node\":\"a\"}")")}));
  seed_text(t, "heartbeat_ack", message_text(answer(2), HeartbeatAck{1'700'000'060'000}));
  seed_text(t, "license_grant", message_text(answer(3), LicenseGrant{grant.license, grant.sig, "ES256", "k1"}));
  seed_text(t, "license_denied", message_text(answer(3), LicenseDenied{"not_entitled", "no seats"}));
  seed_text(t, "license_revoke", message_text(request(7), LicenseRevoke{"L-1", "contract ended"}));
  seed_text(t, "audit_ack_ok", message_text(answer(4), AuditAck{false, JsonValue::of_text("[]")}));
  seed_text(t, "audit_ack_overuse",
            message_text(answer(4), AuditAck{true, JsonValue::of_text(R"([{"name":"trunks","peak":40,"licensed":30}])")}));
  seed_text(t, "event_ack", message_text(answer(5), EventAck{std::string_view("0123456789abcdef"), 12}));
  seed_text(t, "event_ack_legacy", message_text(answer(5), EventAck{std::nullopt, 3}));
  seed_text(t, "request", message_text(request(8), Request{"status.get", JsonValue::of_text("{\"verbose\":true}")}));
  seed_text(t, "disconnect", message_text(Envelope{}, Disconnect{"maintenance", 30}));
  seed_text(t, "error", message_text(answer(1), ServerError{"unauthorized", "unknown system", 600}));
}

void device_messages() {
  const char* t = "device_messages";
  const std::string_view services[] = {"web", "ssh"};
  HelloMessage hello{"C-42", "SYS-7", "0.1.0", "fw-1", "primary", 3, "0123456789abcdef",
                     std::string_view("00112233aabbccdd"), 1'700'000'000'000, "grace", 3600,
                     std::string_view("L-1"), services};
  seed_text(t, "hello", device_message([&](std::span<char> out) { return build_hello(out, 1, hello); }));
  seed_text(t, "heartbeat", device_message([&](std::span<char> out) { return build_heartbeat(out, 2, 5, 300); }));
  const FeatureRequest features[] = {{"trunks", 30}, {"recording", 1}};
  seed_text(t, "license_request",
            device_message([&](std::span<char> out) { return build_license_request(out, 3, features); }));
  const FeatureUsage usage[] = {{"trunks", 12, 20}};
  LicenseAudit audit{"L-1", 1'700'000'000'000, 1'700'086'400'000, usage};
  seed_text(t, "license_audit", device_message([&](std::span<char> out) { return build_license_audit(out, 4, audit); }));
  const EventAttribute attributes[] = {EventAttribute::of("days_left", 12), EventAttribute::of("severity", "major")};
  const EventMessage events[] = {{1, 1'700'000'000'000, "grace_started", {}}, {2, std::nullopt, "grace_alarm", attributes}};
  seed_text(t, "event", device_message([&](std::span<char> out) {
              return build_event_batch(out, 5, std::string_view("0123456789abcdef"), events);
            }));
  seed_text(t, "response_error",
            device_message([&](std::span<char> out) { return build_response_error(out, 9, "not_allowed", "no"); }));
  seed_text(t, "response_ok", device_message([&](std::span<char> out) {
              return build_response_ok(out, 9, [](JsonWriter& w) { w.begin_object().key("state").string("licensed").end_object(); });
            }));
}

// The license payloads, for a verifier that trusts the fuzz target's key
// (the target signs whatever payload it is given).
void license_grant(const std::string& license_json) {
  seed("license_grant", "licensed_held", cat({0x03}, bytes_of(license_json)));
  seed("license_grant", "licensed_first", cat({0x01}, bytes_of(license_json)));
  seed("license_grant", "no_server_time", cat({0x00}, bytes_of(license_json)));
}

void records(const SignedLicense& license) {
  EventQueue queue(8);
  if (!queue.start_stream(0x0123'4567'89ab'cdefull).ok()) g_failed = true;
  queue.push(EventKind::link_up, Severity::info, 1'700'000'000'000);
  EventPayload alarm;
  alarm.days_left = 12;
  alarm.set_text("L-1");
  queue.push(EventKind::grace_alarm, Severity::major, std::nullopt, alarm);
  Bytes events(queue.serialized_size());
  if (!queue.serialize(events).ok()) g_failed = true;
  seed_record("record_events", "two_events", events);
  for (int i = 0; i < 10; ++i) queue.push(EventKind::link_down, Severity::warning, 1'700'000'000'000 + i);
  Bytes folded(queue.serialized_size());
  if (!queue.serialize(folded).ok()) g_failed = true;
  seed_record("record_events", "summarised", folded);

  GraceRecord grace;
  grace.state = LicenseState::grace;
  grace.license_held = true;
  grace.alarm_active = true;
  grace.elapsed_ms = 3'600'000;
  grace.unmeasured_ms = 60'000;
  grace.alarms_raised = 2;
  grace.utc_ms = 1'700'000'000'000;
  grace.wall_ms = 1'700'000'000'500;
  const GraceRecordBytes g = encode_grace_record(grace);
  seed_record("record_grace", "in_grace", Bytes(g.begin(), g.end()));
  const GraceRecordBytes fresh = encode_grace_record(GraceRecord{});
  seed_record("record_grace", "unlicensed", Bytes(fresh.begin(), fresh.end()));

  const FeatureRequest features[] = {{"trunks", 30}, {"recording", 1}};
  UsageTracker tracker;
  tracker.configure(features);
  tracker.start_period(1'700'000'000'000);
  (void)tracker.report("trunks", 12);
  uint8_t usage[kMaxUsageRecordBytes];
  Result<size_t> n = tracker.encode(usage);
  if (!n.ok()) g_failed = true;
  seed_record("record_usage", "two_features", Bytes(usage, usage + (n.ok() ? *n : 0)));

  const BootRecordBytes boot = encode_boot_record(42);
  seed_record("record_boot", "boot_42", Bytes(boot.begin(), boot.end()));
  const IdentityRecordBytes identity = encode_identity_record(0x0011'2233'aabb'ccddull);
  seed_record("record_identity", "instance", Bytes(identity.begin(), identity.end()));

  uint8_t record[kMaxLicenseRecordBytes];
  Result<size_t> size = write_license_record(license, record);
  if (!size.ok()) g_failed = true;
  seed("record_license", "license", Bytes(record, record + (size.ok() ? *size : 0)));
  Result<size_t> revoked = write_license_record(license, record, true);
  if (!revoked.ok()) g_failed = true;
  seed("record_license", "revoked", Bytes(record, record + (revoked.ok() ? *revoked : 0)));
}

// An image written by the record store with the fuzz target's geometry,
// followed by the write the target replays (record, length, cut, value).
void flash_store() {
  SimNorFlash flash(NorGeometry{256, 4, 6});
  FlashRecordStore store(flash, FlashLayout{0, 3, 96});
  for (uint8_t round = 0; round < 4; ++round) {
    for (uint8_t id = 0; id < 3; ++id) {
      Bytes value(10 + id * 20 + round, static_cast<uint8_t>(round * 16 + id));
      if (!store.write(static_cast<RecordId>(id), value).ok()) g_failed = true;
    }
  }
  Bytes image(flash.raw().begin(), flash.raw().end());
  seed("flash_store", "written", cat(image, {1, 40, 7, 'n', 'e', 'w'}));
  seed("flash_store", "erased", cat(Bytes(image.size(), 0xFF), {0, 5, 3, 'a'}));
}

void file_storage() {
  // Commands: a cut run (command, cut lo, cut hi, writes, then id/len/seed per write), a damaged file.
  seed("file_storage", "cut_runs", {0x00, 200, 0, 3, 0, 10, 1, 1, 20, 2, 3, 5, 3, 0x01, 60, 0, 2, 4, 8, 9, 1, 64, 2});
  seed("file_storage", "damaged_file", {0x00, 255, 255, 2, 1, 30, 5, 1, 31, 6, 0x03, 1, 24, 'S', 'L', 'F', 'S', 1, 0});
}

Bytes server_frame(WsOpcode opcode, std::string_view payload, bool fin = true) {
  uint8_t header[kWsMaxHeaderBytes];
  const size_t n = write_ws_server_frame_header(header, opcode, fin, payload.size());
  return cat(Bytes(header, header + n), bytes_of(payload));
}

Bytes client_frame(WsOpcode opcode, std::string_view payload, bool fin = true) {
  uint8_t header[kWsMaxHeaderBytes];
  const uint8_t mask[4] = {0x12, 0x34, 0x56, 0x78};
  const size_t n = write_ws_frame_header(header, opcode, fin, payload.size(), mask);
  Bytes out(header, header + n);
  for (size_t i = 0; i < payload.size(); ++i) out.push_back(static_cast<uint8_t>(payload[i] ^ mask[i % 4]));
  return out;
}

void websocket() {
  const Bytes close = {0x03, 0xe8, 'b', 'y', 'e'};
  const std::string close_text(close.begin(), close.end());
  // ws_client: mode byte (even: frames behind a valid 101), chunk byte, bytes.
  seed("ws_client", "frames", cat({0x00, 0x10}, cat(server_frame(WsOpcode::text, "{\"type\":\"welcome\"}"),
                                                    cat(server_frame(WsOpcode::ping, "p"),
                                                        server_frame(WsOpcode::close, close_text)))));
  seed("ws_client", "fragmented", cat({0x00, 0x03}, cat(server_frame(WsOpcode::text, "hel", false),
                                                        server_frame(WsOpcode::continuation, "lo"))));
  seed("ws_client", "answer", cat({0x01, 0x20}, bytes_of("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                                                         "Connection: Upgrade\r\nSec-WebSocket-Accept: "
                                                         "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: "
                                                         "sublink.v1\r\n\r\n")));
  // ws_server: mode byte (bit 0 set: the raw request; else frames behind a valid one, chunk from the rest).
  seed("ws_server", "frames", cat({0x20}, cat(client_frame(WsOpcode::text, "{\"type\":\"hello\"}"),
                                              cat(client_frame(WsOpcode::ping, "p"),
                                                  client_frame(WsOpcode::close, close_text)))));
  seed("ws_server", "request", cat({0x41}, bytes_of("GET /sublink/v1 HTTP/1.1\r\nHost: fuzz.example\r\nUpgrade: "
                                                    "websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: "
                                                    "dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                                                    "Sec-WebSocket-Protocol: sublink.v1\r\n\r\n") ));
}

void http_connect() {
  seed("http_connect", "established", bytes_of("HTTP/1.1 200 Connection established\r\nVia: proxy\r\n\r\n\x16\x03\x01"));
  seed("http_connect", "auth", bytes_of("HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\n\r\n"));
  seed("http_connect", "bad_gateway", bytes_of("HTTP/1.0 502 Bad Gateway\r\n\r\n"));
  seed("http_connect", "url", bytes_of("http://user:p%40ss@[::1]:3128/"));
}

// status_page: chunk byte, the reply's room in 16-byte units, FIN bit, then
// the operator's request.
void status_page() {
  seed("status_page", "get", cat({0x07, 0xff, 0x00}, bytes_of("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: */*\r\n\r\n")));
  seed("status_page", "post_small_room", cat({0x3f, 0x02, 0x00}, bytes_of("POST / HTTP/1.0\r\nContent-Length: 2\r\n\r\nab")));
  seed("status_page", "cut_by_fin", cat({0x01, 0x40, 0x01}, bytes_of("GET / HTTP/1.0\r\nX: y")));
}

// A sequence of tunnel frames, each behind its 2-byte length (the fuzz
// target's input): one conversation of a channel, every type once.
void tunnel_frame() {
  const uint8_t request[] = {'G', 'E', 'T', ' ', '/', ' ', 'H', 'T', 'T', 'P', '/', '1', '.', '0', '\r', '\n', '\r', '\n'};
  Bytes all;
  for (const TunnelFrame& f : {TunnelFrame::open(1, 65536, "web", "ops@vendor"), TunnelFrame::data(1, request),
                               TunnelFrame::open_ok(1, 4096), TunnelFrame::window(1, 2048), TunnelFrame::fin(1),
                               TunnelFrame::rst(2, TunnelReset::connect_refused, "127.0.0.1:80: refused")}) {
    uint8_t out[kTunnelMaxFrameBytes];
    Result<size_t> n = write_tunnel_frame(f, out);
    if (!n.ok()) {
      g_failed = true;
      return;
    }
    all.push_back(static_cast<uint8_t>(*n >> 8));
    all.push_back(static_cast<uint8_t>(*n));
    all.insert(all.end(), out, out + *n);
  }
  seed("tunnel_frame", "conversation", all);
}

// The channel table's input: before each message one byte of the owner's
// actions (low nibble: milliseconds passing; 0x40 pass bytes on, 0x80
// write local bytes, 0x20 accept) and the 2-byte length. A channel opened
// with early data, passed on, answered, window renewed, half-closed each way.
void tunnel_mux() {
  const uint8_t request[] = {'G', 'E', 'T', ' ', '/', ' ', 'H', 'T', 'T', 'P', '/', '1', '.', '0', '\r', '\n', '\r', '\n'};
  const std::pair<uint8_t, TunnelFrame> steps[] = {
      {0x01, TunnelFrame::open(1, 4096, "ab", "ops@vendor")}, {0x41, TunnelFrame::data(1, request)},
      {0xC1, TunnelFrame::window(1, 2048)},                    {0x41, TunnelFrame::fin(1)},
      {0x01, TunnelFrame::open(2, 4096, "abc")},               {0x01, TunnelFrame::rst(2, TunnelReset::local_reset)}};
  Bytes all;
  for (const auto& [act, f] : steps) {
    uint8_t out[kTunnelMaxFrameBytes];
    Result<size_t> n = write_tunnel_frame(f, out);
    if (!n.ok()) {
      g_failed = true;
      return;
    }
    all.push_back(act);
    all.push_back(static_cast<uint8_t>(*n >> 8));
    all.push_back(static_cast<uint8_t>(*n));
    all.insert(all.end(), out, out + *n);
  }
  seed("tunnel_mux", "channel", all);
}

void sntp() {
  const Millis sent = 1'700'000'000'000;
  Bytes input;
  for (int i = 7; i >= 0; --i) input.push_back(static_cast<uint8_t>(static_cast<uint64_t>(sent) >> (8 * i)));
  input.push_back(0x15);  // echo our request; received 70 ms later
  uint8_t packet[kSntpPacketBytes] = {};
  packet[0] = (0 << 6) | (4 << 3) | 4;
  packet[1] = 2;
  auto put = [&](size_t at, uint64_t v) {
    for (size_t i = 0; i < 8; ++i) packet[at + i] = static_cast<uint8_t>(v >> (56 - 8 * i));
  };
  put(24, ntp_timestamp_from_utc_ms(sent));
  put(32, ntp_timestamp_from_utc_ms(sent + 30));
  put(40, ntp_timestamp_from_utc_ms(sent + 31));
  seed("sntp", "answer", cat(input, Bytes(packet, packet + sizeof(packet))));
  packet[1] = 0;
  std::memcpy(packet + 12, "RATE", 4);
  seed("sntp", "kiss_of_death", cat(input, Bytes(packet, packet + sizeof(packet))));
}

void admin_request() {
  const std::vector<std::vector<std::string>> commands = {
      {"devices", "--json"},
      {"add-customer", "C-42", "Example Telecom"},
      {"add-system", "SYS-7", "C-42"},
      {"entitle", "SYS-7", "trunks", "30"},
      {"revoke", "SYS-7", "contract ended", "--timeout", "5"},
      {"disconnect", "SYS-7", "--retry-after", "60"},
      {"request", "SYS-7", "status.get", "{\"verbose\":true}"},
      {"port", "8443", "stall"},
      {"blackhole", "SYS-7", "on"},
      {"clear-alarm", "SYS-7"},
  };
  for (const auto& words : commands) {
    Result<std::string> line = admin_request_line(words);
    seed_text("admin_request", "line_" + words[0], line.ok() ? Result<std::string>(" " + *line) : line);
    std::string joined = "\x01";
    for (size_t i = 0; i < words.size(); ++i) joined += (i ? std::string(1, '\0') : std::string()) + words[i];
    seed("admin_request", "words_" + words[0], bytes_of(joined));
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: fuzz_make_corpus CORPUS_DIR SAMPLE_CONFIG\n");
    return 2;
  }
  g_root = argv[1];

  DeterministicRandom entropy(7);
  LicenseSigner signer(entropy);
  if (!signer.generate().ok()) return 1;
  LicenseContent content{"L-1", "C-42", "SYS-7", 1'700'000'000'000, 1'690'000'000'000, 1'800'000'000'000,
                         {{"trunks", 30}, {"recording", 1}}};
  Result<SignedGrant> grant = signer.sign_license(content);
  Result<Es256Signature> signature = grant.ok() ? signer.sign(grant->license_json) : Result<Es256Signature>(grant.status());
  if (!grant.ok() || !signature.ok()) return 1;
  SignedLicense license;
  std::memcpy(license.bytes.data(), grant->license_json.data(), grant->license_json.size());
  license.size = grant->license_json.size();
  license.signature = *signature;

  server_messages(*grant);
  device_messages();
  license_grant(grant->license_json);
  seed("base64url", "license", bytes_of(grant->license));
  seed("base64url", "sig", bytes_of(grant->sig));
  seed("base64url", "short", bytes_of("AQI"));
  std::ifstream sample(argv[2], std::ios::binary);
  seed("config", "sample", Bytes(std::istreambuf_iterator<char>(sample), std::istreambuf_iterator<char>()));
  seed("config", "minimal", bytes_of("{\"server\":\"sub.example.com\",\"customer_id\":\"C-42\",\"system_id\":\"SYS-7\","
                                     "\"ca_file\":\"/etc/sublink/ca.crt\",\"cert_file\":\"/etc/sublink/device.crt\","
                                     "\"key_file\":\"/etc/sublink/device.key\",\"license_key_file\":"
                                     "\"/etc/sublink/license.pub\",\"state_dir\":\"/var/lib/sublink\","
                                     "\"proxy\":\"http://u:p@proxy:3128\",\"ports\":[443,8443],"
                                     "\"features\":[{\"name\":\"trunks\",\"qty\":30}],"
                                     "\"services\":{\"web\":\"127.0.0.1:80\"},\"ntp\":[\"[::1]:123\"]}"));
  records(license);
  flash_store();
  file_storage();
  websocket();
  http_connect();
  status_page();
  sntp();
  tunnel_frame();
  tunnel_mux();
  admin_request();
  return g_failed ? 1 : 0;
}
