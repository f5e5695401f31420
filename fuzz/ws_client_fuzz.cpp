// The WebSocket client (net/websocket), the device role: the upgrade answer
// and the frame stream, fed in attacker-chosen chunk sizes. Built only with
// the host-fuzz preset. Checks beyond "no crash": events
// respect max_message_bytes, text events are valid UTF-8, and the link never
// reports anything after `closed`.
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string_view>

#include "net/websocket/utf8_validator.h"
#include "net/websocket/ws_client.h"

namespace {

class FixedRandom : public sublink::Random {
 public:
  sublink::Status fill(std::span<uint8_t> out) override {
    static constexpr char kNonce[] = "the sample nonce";
    for (auto& b : out) b = pos_ < 16 ? static_cast<uint8_t>(kNonce[pos_++]) : 0x5A;
    return sublink::Status::Ok();
  }

 private:
  size_t pos_ = 0;
};

constexpr std::string_view kOk =
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: sublink.v1\r\n\r\n";

void check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const bool raw_answer = data[0] & 1;  // fuzz the upgrade answer itself, or frames behind a valid one
  const size_t chunk = 1 + data[1] % 64;
  std::span<const uint8_t> input(data + 2, size - 2);

  FixedRandom random;
  sublink::WsClientConfig config;
  config.host = "fuzz.example";
  config.max_message_bytes = 1024;
  config.receive_buffer_bytes = 512;
  sublink::WsClient client(config, random);
  if (!client.start().ok()) std::abort();
  client.consume_output(client.output().size());

  sublink::WsEvent event;
  bool closed = false;
  auto drain = [&] {
    while (client.next_event(event)) {
      check(!closed);
      if (event.type == sublink::WsEventType::text) check(sublink::is_valid_utf8(event.data));
      if (event.type == sublink::WsEventType::text || event.type == sublink::WsEventType::binary) {
        check(event.data.size() <= config.max_message_bytes);
        (void)client.send_binary(event.data);  // exercise the send path with what came in
      }
      if (event.type == sublink::WsEventType::closed) closed = true;
      client.consume_output(client.output().size() / 2);  // leave some queued: output pressure
    }
  };
  if (!raw_answer) {
    client.feed(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(kOk.data()), kOk.size()));
    drain();
    check(client.state() == sublink::WsState::open);
  }
  while (!input.empty()) {
    const size_t n = input.size() < chunk ? input.size() : chunk;
    const size_t taken = client.feed(input.first(n));
    input = input.subspan(taken);
    drain();
    check(taken > 0);  // a full buffer always makes room once its events are taken
  }
  check(closed == (client.state() == sublink::WsState::closed));
  return 0;
}
