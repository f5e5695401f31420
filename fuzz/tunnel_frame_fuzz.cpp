// Tunnel frames (net/tunnel/tunnel_frame, PROTOCOL.md section 6) as either
// end reads them from a binary WebSocket message, and one channel's flow
// control fed the frames that parse.
//
// Invariants: a frame that parses lies within section 6's limits (channel
// 1..65535, DATA 1..16384 bytes, names and text in bounds) and, when it can
// be written (its credit in 1..2^31-1), writes back to the very same bytes;
// the only frames that parse but cannot be written carry a credit outside
// that range. Fed to TunnelCredit, the receiver never counts more than it
// granted and the sender never has more than 2^31-1 unspent.
#include <cstring>
#include <vector>

#include "fuzz/fuzz_check.h"
#include "net/tunnel/tunnel_credit.h"
#include "net/tunnel/tunnel_frame.h"

using namespace sublink;
using sublink::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  TunnelCredit channel(4096);
  channel.on_peer_window(4096);
  // The input is a sequence of messages, each prefixed by a 2-byte length.
  size_t at = 0;
  while (at + 2 <= size) {
    const size_t length = (size_t{data[at]} << 8 | data[at + 1]) % (kTunnelMaxFrameBytes + 2);
    at += 2;
    const size_t n = length < size - at ? length : size - at;
    const std::span<const uint8_t> message(data + at, n);
    at += n;
    Result<TunnelFrame> f = parse_tunnel_frame(message);
    if (!f.ok()) {
      check(f.status().reason() == Reason::protocol_violation);
      continue;
    }
    check(f->channel >= kTunnelMinChannel);
    check(f->type != TunnelFrameType::data || (!f->payload.empty() && f->payload.size() <= kTunnelMaxData));
    check(f->service.size() <= kTunnelMaxName && f->text.size() <= kTunnelMaxName);
    check(f->type != TunnelFrameType::open || !f->service.empty());
    std::vector<uint8_t> out(kTunnelMaxFrameBytes);
    Result<size_t> written = write_tunnel_frame(*f, out);
    const bool credit_type = f->type == TunnelFrameType::window || f->type == TunnelFrameType::open ||
                             f->type == TunnelFrameType::open_ok;
    if (written.ok()) {
      check(*written == n && std::memcmp(out.data(), message.data(), n) == 0);
    } else {
      check(credit_type && (f->credit == 0 || f->credit > kTunnelMaxCredit));
    }
    if (f->type == TunnelFrameType::data) {
      const uint64_t before = channel.bytes_received();
      if (channel.on_received(f->payload.size()).ok()) {
        check(channel.bytes_received() == before + f->payload.size());
        (void)channel.on_passed_on(f->payload.size() / 2);
      } else {
        check(channel.bytes_received() == before);
      }
      check(channel.held() <= channel.receive_window());
    } else if (f->type == TunnelFrameType::window) {
      if (channel.on_window(f->credit).ok()) check(channel.sendable() <= kTunnelMaxCredit);
      channel.on_sent(channel.sendable() / 3);
    }
  }
  return 0;
}
