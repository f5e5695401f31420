#include "boards/host/doctor/dns_checks.h"

#include <netdb.h>

#include "boards/host/doctor/address_text.h"
#include "net/posix/posix_network.h"

namespace sublink {

namespace {

// Takes the answer PosixNetwork delivers for one resolve().
class Collector final : public SocketEvents {
 public:
  bool done = false;
  Status status;
  AddressList addresses;
  void on_resolved(ResolveId, Status s, const AddressList& a) override {
    done = true;
    status = s;
    addresses = a;
  }
  void on_connected(SocketId) override {}
  void on_received(SocketId, std::span<const uint8_t>) override {}
  void on_writable(SocketId) override {}
  void on_socket_error(SocketId, Status) override {}
};

std::string failure_text(const NameLookup& l) {
  return gai_strerror(l.status.detail());
}

std::string resolver_text(const Resolvers& r) {
  if (r.servers.empty()) return "the DNS servers";
  return "the DNS servers " + join_list(r.servers) + " (from " + r.source + ")";
}

CheckLine lookup_line(const std::string& what, const NameLookup& l) {
  if (l.literal) return pass_line("dns", what + " " + l.name + " is an IP address: no DNS needed");
  CheckLine line = pass_line("dns", what + " " + l.name + " resolves to " + join_list(l.addresses));
  for (const std::string& a : l.addresses) line.fact("address", a);
  return line;
}

}  // namespace

NameLookup resolve_name(std::string_view host) {
  NameLookup out;
  out.name = std::string(host);
  out.literal = IpAddress::parse(host).family != 0;
  PosixNetwork net;
  Collector collector;
  const Result<ResolveId> lookup = net.resolve(host, collector);
  // The doctor waits for the answer: it has nothing else to serve meanwhile.
  while (lookup.ok() && !collector.done) net.wait(-1);
  out.status = collector.done ? collector.status : Status(Reason::dns_failed, EAI_FAIL);
  for (size_t i = 0; i < collector.addresses.count; ++i) out.addresses.push_back(ip_text(collector.addresses.items[i]));
  return out;
}

std::vector<CheckLine> judge_dns(const NameLookup& server, const NameLookup* proxy, const Resolvers& resolvers) {
  std::vector<CheckLine> lines;
  std::string allow = "make sure " + resolver_text(resolvers) + " answer, and allow UDP and TCP 53 to them";
  if (proxy != nullptr) {
    if (proxy->status.ok()) {
      lines.push_back(lookup_line("the proxy", *proxy));
    } else {
      lines.push_back(fail_line("dns", "the proxy " + proxy->name + " does not resolve (" + failure_text(*proxy) + ")",
                                allow + "; or check the host in `proxy`"));
    }
    // The proxy resolves the server's name; here it is only for the record.
    if (server.status.ok()) {
      lines.push_back(lookup_line("the server", server));
    } else {
      lines.push_back(pass_line("dns", "the server " + server.name +
                                           " does not resolve here; the proxy resolves it for CONNECT"));
    }
    return lines;
  }
  if (server.status.ok()) {
    lines.push_back(lookup_line("the server", server));
  } else {
    lines.push_back(fail_line("dns",
                              "the server " + server.name + " does not resolve (" + failure_text(server) + ")",
                              allow + "; or check the name in `server`"));
  }
  return lines;
}

}  // namespace sublink
