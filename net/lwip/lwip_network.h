// lwIP backend of SocketDriver: TCP through the altcp API, names through
// lwIP's DNS client, for boards that run lwIP with NO_SYS=1 (a super-loop
// or one RTOS task owning the stack). The layers above do not know it is
// here; it mirrors net/posix/posix_network.h.
//
// Threading: every call, and every lwIP callback that ends up here, must
// come from the one context that runs lwIP (the loop that feeds the netif
// and calls sys_check_timeouts). Events reach each socket's and lookup's
// owner from inside lwIP's callbacks, except resolve answers known at once
// (IP literals, cached names), which wait for the next poll() so an owner
// is never re-entered from its own resolve() call. Any number of owners
// share the network, up to kMaxSockets sockets and kMaxLookups lookups.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "net/link/socket_driver.h"

struct altcp_pcb;

namespace sublink {

class LwipNetwork final : public SocketDriver {
 public:
  /// Sockets open at once: the link's parallel attempts of one round.
  static constexpr size_t kMaxSockets = 4;
  /// Lookups under way at once (a cancelled one lwIP still holds counts
  /// until lwIP answers it).
  static constexpr size_t kMaxLookups = 2;

  LwipNetwork();
  /// Aborts every socket still open.
  ~LwipNetwork() override;
  LwipNetwork(const LwipNetwork&) = delete;
  LwipNetwork& operator=(const LwipNetwork&) = delete;

  /// An IP literal answers at the next poll(); a name goes to lwIP's DNS
  /// client (the servers set with dns_setserver) and answers when it does:
  /// dns_failed when the name does not resolve or the query times out.
  /// IPv4 only: lwIP is built without IPv6.
  [[nodiscard]] Result<ResolveId> resolve(std::string_view host, SocketEvents& owner) override;
  /// lwIP cannot withdraw a query: its answer is dropped when it comes.
  void cancel_resolve(ResolveId id) override;
  /// Starts a TCP connection (Nagle off: small request/answer messages).
  /// out_of_memory when kMaxSockets are open or lwIP has no PCB left;
  /// connect_unreachable for an IPv6 address or no route.
  [[nodiscard]] Result<SocketId> open(const IpAddress& address, uint16_t port, SocketEvents& owner) override;
  /// Queues what fits lwIP's send buffer and pushes it out; the rest waits
  /// for on_writable, which follows once the peer acknowledged data.
  [[nodiscard]] Result<size_t> send(SocketId id, std::span<const uint8_t> bytes) override;
  /// Closes gracefully (FIN), or aborts (RST) when lwIP has no memory for
  /// the FIN. No events follow for `id`.
  void close(SocketId id) override;
  /// Stopped: lwIP's received callback refuses the data (ERR_MEM), lwIP
  /// keeps it and offers it again from its timer; the window it holds
  /// closes TCP's. A pbuf chain being delivered is delivered whole.
  void set_receiving(SocketId id, bool on) override;
  void shutdown_send(SocketId id) override;

  /// Delivers answers that were known at once. Call from the loop, after
  /// feeding the netif and before polling the link.
  void poll();

  /// Number of sockets currently open (for tests and leak checks).
  size_t open_sockets() const;

 private:
  // lwIP's per-connection argument: the slot, which knows its network.
  struct Slot {
    LwipNetwork* net = nullptr;
    SocketEvents* owner = nullptr;  // who opened it
    bool used = false;
    bool connecting = false;
    bool want_write = false;
    bool paused = false;  // set_receiving(false)
    SocketId id = 0;
    altcp_pcb* pcb = nullptr;
  };

  Slot* find(SocketId id);
  // Unhooks the pcb from lwIP's callbacks and frees the slot.
  void detach(Slot& s);
  // Closes the pcb (abort when lwIP cannot queue the FIN), then detaches.
  void shut(Slot& s);
  // Releases the slot and reports `status` for it.
  void fail(Slot& s, Status status);
  // Brackets every lwIP callback that may reach the link: what it returns
  // is ERR_ABRT when the link had its pcb aborted inside.
  void enter_callback(const altcp_pcb* pcb);
  int8_t after_callback(const altcp_pcb* pcb);
  // lwIP's per-lookup argument. lwIP answers with one address at most.
  struct Lookup {
    LwipNetwork* net = nullptr;
    SocketEvents* owner = nullptr;
    ResolveId id = 0;        // 0: free, or cancelled while in_flight
    bool answered = false;   // status/address hold the answer for poll()
    bool in_flight = false;  // lwIP's DNS holds this record
    Status status;
    IpAddress address;
  };
  // Hands a lookup's answer to its owner and frees the record.
  void answer(Lookup& lookup);

  // lwIP's callbacks, with lwIP's types (lwip_network.cpp).
  friend struct LwipCallbacks;

  std::array<Slot, kMaxSockets> slots_{};
  std::array<Lookup, kMaxLookups> lookups_{};
  // Ids count up from 1 and are not wrapped back: at one socket a second,
  // 2^32 of them last 136 years.
  SocketId next_socket_ = 1;
  ResolveId next_lookup_ = 1;
  // The pcb whose callback is running, and whether it was aborted there.
  const altcp_pcb* in_callback_ = nullptr;
  bool aborted_ = false;
};

/// Maps an lwIP err_t to a named Reason; `connecting` tells a refused or
/// timed-out connect from a reset or dropped established connection.
Status status_from_lwip(int8_t err, bool connecting);

}  // namespace sublink
