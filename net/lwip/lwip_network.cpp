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
    LwipNetwork& net = *s->owner;
    net.enter_callback(pcb);
    if (err != ERR_OK) {
      net.fail(*s, status_from_lwip(err, true));
      return net.after_callback(pcb);
    }
    s->connecting = false;
    if (net.events_) net.events_->on_connected(s->id);
    return net.after_callback(pcb);
  }

  static err_t received(void* arg, altcp_pcb* pcb, pbuf* p, err_t err) {
    auto* s = static_cast<Slot*>(arg);
    LwipNetwork& net = *s->owner;
    net.enter_callback(pcb);
    if (p == nullptr) {
      // The peer's FIN: nothing more will come, which the link treats as
      // the connection's end whatever stage it was in.
      net.fail(*s, Status(Reason::connection_closed, 0));
      return net.after_callback(pcb);
    }
    if (err != ERR_OK) {
      pbuf_free(p);
      net.fail(*s, status_from_lwip(err, s->connecting));
      return net.after_callback(pcb);
    }
    const SocketId id = s->id;
    const u16_t total = p->tot_len;
    bool open = true;
    for (pbuf* q = p; q != nullptr && open; q = q->next) {
      if (net.events_) net.events_->on_received(id, {static_cast<const uint8_t*>(q->payload), q->len});
      // The link may have closed the socket in the middle of the chain.
      open = s->used && s->pcb == pcb;
    }
    pbuf_free(p);
    if (open) altcp_recved(pcb, total);
    return net.after_callback(pcb);
  }

  static err_t sent(void* arg, altcp_pcb* pcb, u16_t /*length*/) {
    auto* s = static_cast<Slot*>(arg);
    LwipNetwork& net = *s->owner;
    if (!s->want_write) return ERR_OK;
    net.enter_callback(pcb);
    s->want_write = false;
    if (net.events_) net.events_->on_writable(s->id);
    return net.after_callback(pcb);
  }

  static void error(void* arg, err_t err) {
    // lwIP has freed the pcb already: forget it, then report.
    auto* s = static_cast<Slot*>(arg);
    LwipNetwork& net = *s->owner;
    const SocketId id = s->id;
    const Status status = status_from_lwip(err, s->connecting);
    *s = Slot{};
    s->owner = &net;
    if (net.events_) net.events_->on_socket_error(id, status);
  }

  static void dns(const char* /*name*/, const ip_addr_t* address, void* arg) {
    auto* net = static_cast<LwipNetwork*>(arg);
    net->dns_in_flight_ = false;
    if (address == nullptr || !IP_IS_V4(address)) {
      net->resolved(false, nullptr);
      return;
    }
    uint8_t bytes[4];
    std::memcpy(bytes, &ip_2_ip4(address)->addr, 4);  // already network order
    net->resolved(true, bytes);
  }
};

LwipNetwork::LwipNetwork() {
  for (auto& s : slots_) s.owner = this;
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

void LwipNetwork::resolve(std::string_view host) {
  resolved_ = AddressList{};
  IpAddress literal = IpAddress::parse(host);
  if (literal.family != 0) {
    resolve_pending_ = true;
    if (literal.family == 4) {
      resolved_.add(literal);
      resolve_status_ = Status::Ok();
    } else {
      resolve_status_ = Status(Reason::connect_unreachable, ERR_RTE);  // no IPv6 in this build
    }
    return;
  }
  char name[DNS_MAX_NAME_LENGTH];
  if (host.empty() || host.size() >= sizeof name) {
    resolve_pending_ = true;
    resolve_status_ = Status(Reason::dns_failed, ERR_ARG);
    return;
  }
  std::memcpy(name, host.data(), host.size());
  name[host.size()] = '\0';
  ip_addr_t address;
  err_t err = dns_gethostbyname_addrtype(name, &address, &LwipCallbacks::dns, this, LWIP_DNS_ADDRTYPE_IPV4);
  if (err == ERR_OK) {
    // In lwIP's cache: answered without a query.
    resolve_pending_ = true;
    resolved_.add(IpAddress{4, {}});
    std::memcpy(resolved_.items[0].bytes, &ip_2_ip4(&address)->addr, 4);
    resolve_status_ = Status::Ok();
  } else if (err == ERR_INPROGRESS) {
    dns_in_flight_ = true;
  } else {
    resolve_pending_ = true;
    resolve_status_ = Status(Reason::dns_failed, err);
  }
}

void LwipNetwork::resolved(bool found, const uint8_t* ipv4) {
  AddressList list;
  Status status(Reason::dns_failed, ERR_VAL);
  if (found) {
    IpAddress a;
    a.family = 4;
    std::memcpy(a.bytes, ipv4, 4);
    list.add(a);
    status = Status::Ok();
  }
  if (events_) events_->on_resolved(status, list);
}

void LwipNetwork::poll() {
  if (!resolve_pending_) return;
  resolve_pending_ = false;
  if (events_) events_->on_resolved(resolve_status_, resolved_);
}

Status LwipNetwork::open(SocketId id, const IpAddress& address, uint16_t port) {
  if (address.family != 4) return {Reason::connect_unreachable, ERR_RTE};
  Slot* slot = nullptr;
  for (auto& s : slots_) {
    if (!s.used) {
      slot = &s;
      break;
    }
  }
  if (slot == nullptr) return {Reason::out_of_memory, ERR_MEM};
  altcp_pcb* pcb = altcp_tcp_new_ip_type(IPADDR_TYPE_V4);
  if (pcb == nullptr) return {Reason::out_of_memory, ERR_MEM};
  *slot = Slot{this, true, true, false, id, pcb};
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
  return Status::Ok();
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
  s.owner = this;
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
  shut(s);
  if (events_) events_->on_socket_error(id, status);
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

size_t LwipNetwork::open_sockets() const {
  size_t n = 0;
  for (auto& s : slots_) n += s.used;
  return n;
}

}  // namespace sublink
