// The tunnel channel table (net/tunnel/tunnel_mux, PROTOCOL.md section 6)
// fed any sequence of binary messages from a peer, while its owner accepts,
// refuses, passes on and writes as the input's bytes say.
//
// Invariants: a message the codec refuses is a link error and nothing else
// is; every frame the table writes parses; no channel holds more than
// max(window, 4096) received bytes or more than send_queue bytes to send;
// DATA written never exceeds what the channel was granted; the table never
// has more live channels than max_channels.
#include <vector>

#include "fuzz/fuzz_check.h"
#include "net/tunnel/tunnel_mux.h"

using namespace sublink;
using sublink::fuzz::check;

namespace {

class Owner : public TunnelMuxListener {
 public:
  void on_tunnel_open(TunnelSlot slot, const TunnelFrame& open) override {
    if (open.service.size() % 3 == 0) {
      mux->reset(slot, TunnelReset::unknown_service);
    } else if (open.service.size() % 3 == 1) {
      mux->accept(slot);
    }  // else: accepted later, or never (the connect is still going)
  }
  void on_tunnel_accepted(TunnelSlot) override {}
  void on_tunnel_readable(TunnelSlot) override {}
  void on_tunnel_closed(TunnelSlot, const TunnelClosed& c) override { check(c.reason_name() != nullptr); }
  TunnelMux* mux = nullptr;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const TunnelMuxLimits limits{.max_channels = 3, .window = 2048, .send_queue = 1024, .idle_ms = 50};
  std::vector<TunnelChannel> slots(limits.max_channels);
  std::vector<uint8_t> buffer(TunnelMux::buffer_bytes(limits));
  Owner owner;
  TunnelMux mux(limits, slots, buffer, owner);
  owner.mux = &mux;
  std::vector<uint8_t> out(kTunnelMaxFrameBytes);
  const std::vector<uint8_t> local(1500, 0x42);
  Millis now = 0;
  // The input is a sequence of: 1 byte of owner actions, a 2-byte length,
  // a message.
  size_t at = 0;
  while (at + 3 <= size) {
    const uint8_t act = data[at];
    const size_t length = (size_t{data[at + 1]} << 8 | data[at + 2]) % (kTunnelMaxFrameBytes + 2);
    at += 3;
    const size_t n = length < size - at ? length : size - at;
    const std::span<const uint8_t> message(data + at, n);
    at += n;
    now += act & 0x0F;
    mux.tick(now);
    const Status s = mux.receive(message);
    check(s.ok() == parse_tunnel_frame(message).ok());
    if (!s.ok() && (act & 0x10)) mux.on_link_down();
    for (TunnelSlot slot = 0; slot < mux.capacity(); ++slot) {
      if (act & 0x20) mux.accept(slot);
      if (act & 0x40) mux.consume(slot, mux.readable(slot).size());
      if (act & 0x80) (void)mux.write(slot, local);
      if ((act & 0x30) == 0x30) mux.finish(slot);
      check(mux.held(slot) <= 4096 && mux.queued(slot) <= limits.send_queue);
    }
    check(mux.live_count() <= limits.max_channels);
    for (int frames = 0; frames < 8; ++frames) {
      const size_t len = mux.next_frame(out);
      if (len == 0) break;
      Result<TunnelFrame> f = parse_tunnel_frame(std::span<const uint8_t>(out.data(), len));
      check(f.ok());
    }
  }
  return 0;
}
