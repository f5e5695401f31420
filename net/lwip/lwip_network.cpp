#include "net/lwip/lwip_network.h"

#include <cstring>

#include "lwip/altcp.h"
#include "lwip/altcp_tcp.h"
#include "lwip/dns.h"
#include "lwip/err.h"
#include "lwip/ip_addr.h"
#include "lwip/pbuf.h"

namespace sublink {

Status status_from_lwip(int8_t err, bool connecting) {
  switch (err) {
    case ERR_OK: return Status::Ok();
    case ERR_MEM:
    case ERR_BUF: return {Reason::out_of_memory, err};
    case ERR_RTE: return {Reason::connect_unreachable, err};
    // A RST while connecting is the answer "nothing listens here".
    case ERR_RST: return {connecting ? Reason::connect_refused : Reason::connection_reset, err};
    // lwIP aborts a connection whose retransmissions (SYN or data) ran out.
    case ERR_ABRT:
    case ERR_TIMEOUT: return {connecting ? Reason::connect_timeout : Reason::connection_reset, err};
    case ERR_CLSD: return {Reason::connection_closed, err};
    default: return {Reason::io_error, err};
  }
}

// lwIP calls these with its own types and the slot as argument; they
// forward to the network that owns the slot.
struct LwipCallbacks {
  using Slot = LwipNetwork::Slot;

  static err_t connected(void* arg, altcp_pcb* pcb, err_t err) {
    auto* s = static_cast<Slot*>(arg);
    LwipNetwork& net = *s->net;
    net.enter_callback(pcb);
    if (err != ERR_OK) {
      net.fail(*s, status_from_lwip(err, true));
      return net.after_callback(pcb);
    }
    s->connecting = false;
    s->owner->on_connected(s->id);
    return net.after_callback(pcb);
  }

  static err_t received(void* arg, altcp_pcb* pcb, pbuf* p, err_t err) {
    auto* s = static_cast<Slot*>(arg);
    LwipNetwork& net = *s->net;
    net.enter_callback(pcb);
    if (p == nullptr) {
      // The peer's FIN: nothing more will come. An owner that keeps the
      // connection half-open still sends (lwIP allows it in CLOSE_WAIT);
      // for the others (the link) it is the connection's end. An owner
      // that says no has left the socket alone.
      if (!s->owner->on_peer_finished(s->id)) net.fail(*s, Status(Reason::connection_closed, 0));
      return net.after_callback(pcb);
    }
    if (err != ERR_OK) {
      pbuf_free(p);
      net.fail(*s, status_from_lwip(err, s->connecting));
      return net.after_callback(pcb);
    }
    // Refused data stays with lwIP, which offers it again from its timer.
    if (s->paused) return net.after_callback(pcb) == ERR_ABRT ? ERR_ABRT : ERR_MEM;
    const SocketId id = s->id;
    SocketEvents* owner = s->owner;
    const u16_t total = p->tot_len;
    bool open = true;
    for (pbuf* q = p; q != nullptr && open; q = q->next) {
      owner->on_received(id, {static_cast<const uint8_t*>(q->payload), q->len});
      // The owner may have closed the socket in the middle of the chain.
      open = s->used && s->pcb == pcb;
    }
    pbuf_free(p);
    if (open) altcp_recved(pcb, total);
    return net.after_callback(pcb);
  }

  static err_t sent(void* arg, altcp_pcb* pcb, u16_t /*length*/) {
    auto* s = static_cast<Slot*>(arg);
    LwipNetwork& net = *s->net;
    if (!s->want_write) return ERR_OK;
    net.enter_callback(pcb);
    s->want_write = false;
    s->owner->on_writable(s->id);
    return net.after_callback(pcb);
  }

  static void error(void* arg, err_t err) {
    // lwIP has freed the pcb already: forget it, then report.
    auto* s = static_cast<Slot*>(arg);
    LwipNetwork& net = *s->net;
    const SocketId id = s->id;
    SocketEvents* owner = s->owner;
    const Status status = status_from_lwip(err, s->connecting);
    s->pcb = nullptr;  // nothing to unhook
    net.detach(*s);
    owner->on_socket_error(id, status);
  }

  static void dns(const char* /*name*/, const ip_addr_t* address, void* arg) {
    auto* lookup = static_cast<LwipNetwork::Lookup*>(arg);
    lookup->in_flight = false;
    if (lookup->id == 0) return;  // cancelled while lwIP had it
    if (address == nullptr || !IP_IS_V4(address)) {
      lookup->status = Status(Reason::dns_failed, ERR_VAL);
    } else {
      lookup->address.family = 4;
      std::memcpy(lookup->address.bytes, &ip_2_ip4(address)->addr, 4);  // already network order
      lookup->status = Status::Ok();
    }
    lookup->net->answer(*lookup);
  }
};

LwipNetwork::LwipNetwork() {
  for (auto& s : slots_) s.net = this;
  for (auto& l : lookups_) l.net = this;
}

LwipNetwork::~LwipNetwork() {
  for (auto& s : slots_) {
    if (s.used) {
      altcp_pcb* pcb = s.pcb;
      detach(s);
      altcp_abort(pcb);
    }
  }
}

Result<ResolveId> LwipNetwork::resolve(std::string_view host, SocketEvents& owner) {
  Lookup* lookup = nullptr;
  for (auto& l : lookups_) {
    // A cancelled lookup lwIP still holds keeps its record until lwIP answers.
    if (l.id == 0 && !l.in_flight) {
      lookup = &l;
      break;
    }
  }
  if (lookup == nullptr) return Status(Reason::out_of_memory, static_cast<int32_t>(kMaxLookups));
  // Every path below sets the status (and the address with an ok one).
  lookup->answered = false;
  lookup->id = next_lookup_++;
  lookup->owner = &owner;
  IpAddress literal = IpAddress::parse(host);
  if (literal.family != 0) {
    lookup->answered = true;
    if (literal.family == 4) {
      lookup->address = literal;
      lookup->status = Status::Ok();
    } else {
      lookup->status = Status(Reason::connect_unreachable, ERR_RTE);  // no IPv6 in this build
    }
    return lookup->id;
  }
  char name[DNS_MAX_NAME_LENGTH];
  if (host.empty() || host.size() >= sizeof name) {
    lookup->answered = true;
    lookup->status = Status(Reason::dns_failed, ERR_ARG);
    return lookup->id;
  }
  std::memcpy(name, host.data(), host.size());
  name[host.size()] = '\0';
  ip_addr_t address;
  err_t err = dns_gethostbyname_addrtype(name, &address, &LwipCallbacks::dns, lookup, LWIP_DNS_ADDRTYPE_IPV4);
  if (err == ERR_OK) {
    // In lwIP's cache: answered without a query.
    lookup->answered = true;
    lookup->address.family = 4;
    std::memcpy(lookup->address.bytes, &ip_2_ip4(&address)->addr, 4);
    lookup->status = Status::Ok();
  } else if (err == ERR_INPROGRESS) {
    lookup->in_flight = true;
  } else {
    lookup->answered = true;
    lookup->status = Status(Reason::dns_failed, err);
  }
  return lookup->id;
}

void LwipNetwork::cancel_resolve(ResolveId id) {
  if (id == 0) return;
  for (auto& l : lookups_) {
    if (l.id == id) l.id = 0;  // in_flight stays: lwIP's answer still comes to this record
  }
}

void LwipNetwork::answer(Lookup& lookup) {
  AddressList list;
  if (lookup.status.ok()) list.add(lookup.address);
  const ResolveId id = lookup.id;
  // Free the record before the owner hears: it may start the next lookup
  // (the owner and status are taken before the call runs).
  lookup.id = 0;
  lookup.owner->on_resolved(id, lookup.status, list);
}

void LwipNetwork::poll() {
  for (auto& l : lookups_) {
    if (l.id != 0 && l.answered) answer(l);
  }
}

Result<SocketId> LwipNetwork::open(const IpAddress& address, uint16_t port, SocketEvents& owner) {
  if (address.family != 4) return Status(Reason::connect_unreachable, ERR_RTE);
  Slot* slot = nullptr;
  for (auto& s : slots_) {
    if (!s.used) {
      slot = &s;
      break;
    }
  }
  if (slot == nullptr) return Status(Reason::out_of_memory, ERR_MEM);
  altcp_pcb* pcb = altcp_tcp_new_ip_type(IPADDR_TYPE_V4);
  if (pcb == nullptr) return Status(Reason::out_of_memory, ERR_MEM);
  const SocketId id = next_socket_++;
  *slot = Slot{this, &owner, true, true, false, false, id, pcb};
  altcp_arg(pcb, slot);
  altcp_recv(pcb, &LwipCallbacks::received);
  altcp_sent(pcb, &LwipCallbacks::sent);
  altcp_err(pcb, &LwipCallbacks::error);
  // Small request/answer messages on a slow link: do not wait for Nagle.
  altcp_nagle_disable(pcb);
  ip_addr_t to;
  IP_ADDR4(&to, address.bytes[0], address.bytes[1], address.bytes[2], address.bytes[3]);
  err_t err = altcp_connect(pcb, &to, port, &LwipCallbacks::connected);
  if (err != ERR_OK) {
    detach(*slot);
    altcp_abort(pcb);
    return status_from_lwip(err, true);
  }
  return id;
}

LwipNetwork::Slot* LwipNetwork::find(SocketId id) {
  for (auto& s : slots_) {
    if (s.used && s.id == id) return &s;
  }
  return nullptr;
}

void LwipNetwork::detach(Slot& s) {
  if (s.pcb != nullptr) {
    altcp_arg(s.pcb, nullptr);
    altcp_recv(s.pcb, nullptr);
    altcp_sent(s.pcb, nullptr);
    altcp_err(s.pcb, nullptr);
  }
  s = Slot{};
  s.net = this;
}

void LwipNetwork::shut(Slot& s) {
  altcp_pcb* pcb = s.pcb;
  detach(s);
  if (pcb == nullptr) return;
  // Without callbacks lwIP finishes the close on its own (received data is
  // dropped). When the FIN cannot be queued, a reset ends it at once.
  if (altcp_close(pcb) != ERR_OK) {
    altcp_abort(pcb);
    // Inside that pcb's own callback lwIP must hear ERR_ABRT back.
    if (pcb == in_callback_) aborted_ = true;
  }
}

void LwipNetwork::fail(Slot& s, Status status) {
  const SocketId id = s.id;
  SocketEvents* owner = s.owner;
  shut(s);
  owner->on_socket_error(id, status);
}

void LwipNetwork::enter_callback(const altcp_pcb* pcb) {
  in_callback_ = pcb;
  aborted_ = false;
}

int8_t LwipNetwork::after_callback(const altcp_pcb* pcb) {
  const bool aborted = aborted_ && in_callback_ == pcb;
  in_callback_ = nullptr;
  aborted_ = false;
  return aborted ? ERR_ABRT : ERR_OK;
}

Result<size_t> LwipNetwork::send(SocketId id, std::span<const uint8_t> bytes) {
  Slot* s = find(id);
  if (s == nullptr || s->connecting) return Status(Reason::invalid_argument, 0);
  if (bytes.empty()) return size_t{0};
  size_t room = altcp_sndbuf(s->pcb);
  size_t n = bytes.size() < room ? bytes.size() : room;
  if (n > 0xFFFF) n = 0xFFFF;
  err_t err = ERR_MEM;
  // Out of segments or heap: try a smaller piece before waiting for acks.
  while (n > 0) {
    err = altcp_write(s->pcb, bytes.data(), static_cast<u16_t>(n), TCP_WRITE_FLAG_COPY);
    if (err != ERR_MEM) break;
    n /= 2;
  }
  if (err != ERR_OK && err != ERR_MEM) return status_from_lwip(err, false);
  if (err == ERR_MEM) n = 0;
  if (n > 0) {
    err = altcp_output(s->pcb);
    if (err != ERR_OK && err != ERR_MEM) return status_from_lwip(err, false);
  }
  if (n < bytes.size()) s->want_write = true;
  return n;
}

void LwipNetwork::close(SocketId id) {
  if (Slot* s = find(id)) shut(*s);
}

void LwipNetwork::set_receiving(SocketId id, bool on) {
  if (Slot* s = find(id)) s->paused = !on;
}

void LwipNetwork::shutdown_send(SocketId id) {
  if (Slot* s = find(id); s != nullptr && !s->connecting) (void)altcp_shutdown(s->pcb, 0, 1);
}

size_t LwipNetwork::open_sockets() const {
  size_t n = 0;
  for (auto& s : slots_) n += s.used;
  return n;
}

}  // namespace sublink
