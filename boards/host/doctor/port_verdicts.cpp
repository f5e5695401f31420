#include "boards/host/doctor/port_verdicts.h"

#include <algorithm>
#include <cstdio>
#include <string>

#include "boards/host/doctor/address_text.h"

namespace sublink {

namespace {

std::string str(std::string_view v) { return std::string(v); }
std::string num(int64_t v) { return std::to_string(v); }

const char* alert_name(int alert) {
  switch (alert) {
    case 10: return "unexpected_message";
    case 20: return "bad_record_mac";
    case 40: return "handshake_failure";
    case 42: return "bad_certificate";
    case 43: return "unsupported_certificate";
    case 44: return "certificate_revoked";
    case 45: return "certificate_expired";
    case 46: return "certificate_unknown";
    case 47: return "illegal_parameter";
    case 48: return "unknown_ca";
    case 49: return "access_denied";
    case 50: return "decode_error";
    case 51: return "decrypt_error";
    case 70: return "protocol_version";
    case 71: return "insufficient_security";
    case 80: return "internal_error";
    case 112: return "unrecognized_name";
    case 116: return "certificate_required";
    default: return "alert";
  }
}

// An alert by which a server turns down the certificate we presented.
bool rejects_our_certificate(int alert) {
  return alert == 42 || alert == 43 || alert == 44 || alert == 45 || alert == 46 || alert == 48 || alert == 49 ||
         alert == 116;
}

bool is_certificate_problem(Reason r) {
  return r == Reason::cert_unknown_ca || r == Reason::cert_expired || r == Reason::cert_not_yet_valid ||
         r == Reason::cert_name_mismatch || r == Reason::cert_invalid;
}

// Everything one port's lines need to say where things went.
struct PortView {
  const DeviceConfig& config;
  const PortProbe& probe;
  const AttemptRecord* best;  // furthest attempt, or null
  std::string server;         // `server`
  std::string target;         // "server:port"
  std::string addresses;      // where TCP went: "a, b" (server or proxy)
  std::string proxy;          // "host:port" of the proxy, "" without

  bool tcp() const { return best && best->tcp; }
  bool tunnel() const { return best && (best->tunnel || !probe.via_proxy) && best->tcp; }
  bool tls() const { return best && best->tls; }
  bool upgraded() const { return best && best->upgraded; }
  Status why() const { return best ? best->failure : Status(Reason::dns_failed); }
  std::string detail() const { return best && !best->text.empty() ? " (" + best->text + ")" : ""; }
};

PortView view_of(const DeviceConfig& config, const PortProbe& p) {
  PortView v{config, p, p.furthest(), str(config.server.view()), host_port_text(config.server.view(), p.port), "", ""};
  std::vector<std::string> addrs;
  for (const AttemptRecord& a : p.attempts) {
    std::string t = ip_text(a.address);
    if (std::find(addrs.begin(), addrs.end(), t) == addrs.end()) addrs.push_back(t);
  }
  v.addresses = join_list(addrs);
  if (config.has_proxy) v.proxy = host_port_text(config.proxy.host(), config.proxy.port());
  return v;
}

std::string seconds_text(Millis ms) { return num(ms / 1000) + " s"; }

// The outbound rule to the server for this port (or to the proxy).
std::string tcp_rule(const PortView& v) {
  if (v.config.has_proxy) {
    return "allow TCP " + num(v.config.proxy.port()) + " to the proxy " +
           (v.addresses.empty() ? str(v.config.proxy.host()) : v.addresses);
  }
  return "allow TCP " + num(v.probe.port) + " to " + (v.addresses.empty() ? v.server : v.addresses);
}

CheckLine tcp_line(const PortView& v) {
  const PortProbe& p = v.probe;
  const DeviceConfig& c = v.config;
  CheckLine line;
  if (!p.resolve_status.ok() && p.attempts.empty()) {
    std::string name = c.has_proxy ? "the proxy " + str(c.proxy.host()) : "the server " + v.server;
    line = fail_line("tcp", "port " + num(p.port) + ": " + name + " does not resolve, nothing to connect to",
                     "see the DNS check");
  } else if (!v.tcp()) {
    Status why = v.why();
    std::string how = why.reason() == Reason::connect_refused ? "connection refused"
                      : why.reason() == Reason::connect_timeout
                          ? "no answer within " + seconds_text(c.connect_timeout) + " (dropped)"
                      : why.reason() == Reason::connect_unreachable ? "network unreachable"
                                                                    : std::string(reason_name(why.reason()));
    std::string fix = tcp_rule(v);
    if (why.reason() == Reason::connect_unreachable) fix = "check the default route and gateway, then " + fix;
    if (c.has_proxy) {
      line = fail_line("tcp",
                       "port " + num(p.port) + ": TCP to the proxy " + v.proxy + " (" + v.addresses + "): " + how,
                       fix + "; check `proxy`");
    } else {
      line = fail_line("tcp", "TCP " + num(p.port) + " to " + v.server +
                                  (v.addresses == v.server ? "" : " (" + v.addresses + ")") + ": " + how,
                       fix);
    }
    line.fact("reason", reason_name(why.reason()));
  } else if (c.has_proxy && !v.tunnel()) {
    Status why = v.why();
    std::string allow = "allow CONNECT to " + v.target + " on the proxy";
    if (why.reason() == Reason::proxy_status) {
      line = fail_line("tcp",
                       "port " + num(p.port) + ": the proxy " + v.proxy + " refused CONNECT " + v.target + " with " +
                           num(why.detail()),
                       allow);
      line.fact("proxy_status", why.detail());
    } else if (why.reason() == Reason::proxy_auth_required) {
      line = fail_line("tcp", "port " + num(p.port) + ": the proxy " + v.proxy + " wants authentication (" +
                                  num(why.detail()) + ")",
                       "put the proxy user and password into `proxy` (http://user:password@host:port)");
      line.fact("proxy_status", why.detail());
    } else if (why.reason() == Reason::proxy_bad_response) {
      line = fail_line("tcp", "port " + num(p.port) + ": " + v.proxy + " did not answer CONNECT with HTTP",
                       "`proxy` must name an HTTP proxy that supports CONNECT");
    } else {
      line = fail_line("tcp",
                       "port " + num(p.port) + ": the proxy " + v.proxy + " did not open a tunnel to " + v.target +
                           " (" + reason_name(why.reason()) + ")",
                       allow);
    }
    line.fact("reason", reason_name(why.reason()));
  } else if (c.has_proxy) {
    line = pass_line("tcp", "port " + num(p.port) + ": the proxy " + v.proxy + " opened a tunnel to " + v.target);
  } else {
    line = pass_line("tcp", "TCP " + num(p.port) + " to " + v.server +
                                (v.addresses == v.server ? "" : " (" + ip_text(v.best->address) + ")") + " connects");
  }
  line.port = p.port;
  return line;
}

// The port whose server certificate chained to ca_file, if any.
const PortProbe* verified_elsewhere(const std::vector<PortProbe>& probes, const PortProbe& self) {
  for (const PortProbe& p : probes) {
    const AttemptRecord* r = p.furthest();
    if (&p != &self && r && r->tls) return &p;
  }
  return nullptr;
}

CheckLine tls_line(const PortView& v, const std::vector<PortProbe>& probes) {
  const PortProbe& p = v.probe;
  const std::string port = num(p.port);
  CheckLine line;
  if (v.tls()) {
    line = pass_line("tls", "TLS 1.2 on port " + port + ": the server certificate chains to ca_file and names " +
                                v.server + "; the device certificate is accepted");
    line.port = p.port;
    return line;
  }
  Status why = v.why();
  Reason r = why.reason();
  const PortProbe* good = verified_elsewhere(probes, p);
  std::string exempt = "exempt " + v.target + " from TLS inspection on the firewall or proxy";
  bool certificate_trouble =
      is_certificate_problem(r) || (r == Reason::tls_alert && rejects_our_certificate(why.detail()));
  if (good != nullptr && certificate_trouble) {
    const AttemptRecord& shown = *v.best;
    std::string fault = r == Reason::cert_unknown_ca    ? std::string("is not from the CA in ca_file")
                        : r == Reason::cert_name_mismatch ? "does not name " + v.server
                                                          : std::string("is not the server's");
    std::string what;
    if (!is_certificate_problem(r)) {
      what = "TLS inspection on port " + port + ": something there rejects the device certificate (TLS alert " +
             num(why.detail()) + " " + alert_name(why.detail()) + ")";
    } else if (shown.presented_issuer.empty()) {
      what = "TLS inspection on port " + port + ": the certificate presented there " + fault + v.detail();
    } else {
      // The issuer's name tells the operator which appliance intercepts.
      what = "port " + port + " presents a certificate for " + shown.presented_subject + " issued by " +
             shown.presented_issuer + ", which " + fault + v.detail() + ": TLS inspection";
    }
    line = fail_line("tls", what + ", while port " + num(good->port) + " reaches the real server",
                     exempt + " (port " + num(good->port) + " works meanwhile)");
    line.fact("inspection", "yes");
    if (!shown.presented_issuer.empty()) {
      line.fact("presented_subject", shown.presented_subject);
      line.fact("presented_issuer", shown.presented_issuer);
    }
  } else if (r == Reason::cert_unknown_ca) {
    line = fail_line("tls", "port " + port + ": the server certificate is not from the CA in ca_file" + v.detail(),
                     "ca_file must hold the subscription server's CA; if a firewall or proxy inspects TLS, " + exempt);
  } else if (r == Reason::cert_expired || r == Reason::cert_not_yet_valid) {
    line = fail_line("tls",
                     "port " + port + ": the server certificate is " +
                         (r == Reason::cert_expired ? "expired" : "not valid yet") + " by this device's clock",
                     "check the clock (see the clock check); if it is right, the server's certificate must be "
                     "renewed by its operator");
  } else if (r == Reason::cert_name_mismatch) {
    line = fail_line("tls", "port " + port + ": the server certificate does not name " + v.server + v.detail(),
                     "`server` must be the name the server's certificate was issued for");
  } else if (r == Reason::tls_alert && rejects_our_certificate(why.detail())) {
    line = fail_line("tls",
                     "port " + port + ": the server rejected the device certificate (TLS alert " + num(why.detail()) +
                         " " + alert_name(why.detail()) + ")",
                     "cert_file must be the certificate issued to system_id " + str(v.config.system_id.view()) +
                         " by the vendor's device CA; ask the vendor whether it is registered or revoked");
  } else if (r == Reason::tls_alert) {
    line = fail_line("tls",
                     "port " + port + ": the server ended the handshake (TLS alert " + num(why.detail()) + " " +
                         alert_name(why.detail()) + ")",
                     "the server and the device share no cipher suite or setting: ask the vendor (the device "
                     "offers TLS 1.2, ECDHE with AES-GCM or ChaCha20-Poly1305)");
  } else if (r == Reason::tls_version) {
    line = fail_line("tls", "port " + port + ": the peer does not speak TLS 1.2",
                     "something else answers on port " + port + " (a middlebox or another service): " + exempt);
  } else if (r == Reason::connect_timeout) {
    line = fail_line("tls", "port " + port + ": TCP connects but the TLS handshake gets no answer within " +
                                seconds_text(v.config.connect_timeout),
                     "a firewall holds TLS after letting TCP through (inspection or an IPS): " + exempt);
  } else if (r == Reason::connection_closed || r == Reason::connection_reset) {
    line = fail_line("tls", "port " + port + ": the connection was " +
                                (r == Reason::connection_reset ? "reset" : "closed") + " during the TLS handshake",
                     "a firewall with protocol inspection, or a service that is not the TLS server, is on port " +
                         port + ": " + exempt);
  } else {
    line = fail_line("tls", "port " + port + ": TLS failed: " + reason_name(r) + v.detail(), reason_hint(r));
  }
  line.fact("reason", reason_name(r));
  line.port = p.port;
  return line;
}

CheckLine websocket_line(const PortView& v) {
  const PortProbe& p = v.probe;
  const std::string port = num(p.port);
  CheckLine line;
  Status why = v.why();
  Reason r = why.reason();
  const std::string system = str(v.config.system_id.view());
  const std::string customer = str(v.config.customer_id.view());
  if (v.upgraded()) {
    line = pass_line("websocket", "WebSocket upgrade on port " + port + ": 101 with subprotocol sublink.v1");
  } else if (r == Reason::upgrade_unauthorized) {
    line = fail_line("websocket",
                     "port " + port + ": the server refused the device (HTTP " + num(why.detail()) + ")",
                     "have system_id " + system + " registered for customer " + customer + " on the server");
  } else if (r == Reason::upgrade_unavailable) {
    line = fail_line("websocket", "port " + port + ": the server is unavailable (HTTP 503)",
                     "retry later: the server is busy or in maintenance");
  } else if (r == Reason::upgrade_status) {
    line = fail_line("websocket",
                     "port " + port + ": the upgrade was answered with HTTP " + num(why.detail()) + ", not 101",
                     "something on port " + port + " is not the sublink server or does not pass WebSocket "
                     "upgrades (a reverse proxy or web filter): exempt " + v.target);
  } else if (r == Reason::upgrade_invalid) {
    line = fail_line("websocket", "port " + port + ": the upgrade answer is invalid (Accept key or subprotocol)",
                     "a proxy rewrites the upgrade, or the server is not a sublink/1 server");
  } else if (r == Reason::connect_timeout) {
    line = fail_line("websocket", "port " + port + ": no answer to the upgrade within " +
                                      seconds_text(v.config.connect_timeout),
                     "the server is overloaded, or a middlebox holds the traffic: exempt " + v.target);
  } else {
    line = fail_line("websocket", "port " + port + ": the upgrade failed: " + reason_name(r) + v.detail(),
                     reason_hint(r));
  }
  if (!v.upgraded()) line.fact("reason", reason_name(r));
  line.port = p.port;
  return line;
}

std::string refusal_fix(const PortView& v) {
  const std::string& code = v.probe.refusal_code;
  const std::string system = str(v.config.system_id.view());
  const std::string customer = str(v.config.customer_id.view());
  if (code == "unknown_customer") return "customer_id " + customer + " is unknown to the server: check it";
  if (code == "system_mismatch") {
    return "the server has no system " + system + " for customer " + customer +
           ": check system_id and customer_id, or have the system registered";
  }
  if (code == "unsupported_proto") return "the server does not speak sublink/1: check `server`";
  if (code == "busy") return "the server is busy: retry later";
  return "ask the server's operator what '" + code + "' means";
}

CheckLine hello_line(const PortView& v) {
  const PortProbe& p = v.probe;
  const std::string port = num(p.port);
  CheckLine line;
  switch (p.hello) {
    case HelloOutcome::welcomed: {
      char offset[32];
      // Rounded to a tenth first, so a few ms behind reads "+0.0 s", not "-0.0 s".
      int64_t tenths = (p.server_offset_ms + (p.server_offset_ms < 0 ? -50 : 50)) / 100;
      std::snprintf(offset, sizeof offset, "%+.1f s", static_cast<double>(tenths) / 10.0);
      line = pass_line("hello", "hello on port " + port + ": welcome (heartbeat every " + num(p.heartbeat_s) +
                                    " s; server clock " + offset + " from ours)");
      line.fact("server_offset_ms", p.server_offset_ms);
      break;
    }
    case HelloOutcome::refused:
      line = fail_line("hello",
                       "port " + port + ": the server refused hello: " + p.refusal_code +
                           (p.refusal_message.empty() ? "" : " (" + p.refusal_message + ")"),
                       refusal_fix(v));
      line.fact("code", p.refusal_code);
      break;
    case HelloOutcome::no_answer:
      line = fail_line("hello", "port " + port + ": no answer to hello",
                       "the server does not speak sublink/1 there, or it is overloaded");
      break;
    case HelloOutcome::closed:
    case HelloOutcome::not_tried:
      line = fail_line("hello",
                       "port " + port + ": the link closed before welcome (" + reason_name(p.down_why.reason()) + ")",
                       reason_hint(p.down_why.reason()));
      break;
  }
  line.port = p.port;
  return line;
}

CheckLine rtt_line(const PortProbe& p) {
  const std::string port = num(p.port);
  CheckLine line;
  if (p.rtt_us.empty()) {
    line = warn_line("rtt", "port " + port + ": no heartbeat was answered",
                     "the server does not answer heartbeats: the link will be dropped as dead");
  } else {
    int64_t median = median_us(p.rtt_us);
    std::string what = "port " + port + ": round trip " + duration_us_text(median) + " (median of " +
                       num(static_cast<int64_t>(p.rtt_us.size())) + " heartbeats; appliances need at most 200 ms)";
    line = median <= kMaxRoundTripUs
               ? pass_line("rtt", what)
               : warn_line("rtt", what,
                           "management traffic will be sluggish: check the uplink's latency (satellite, a congested "
                           "VPN or proxy)");
    line.fact("rtt_us", median);
  }
  line.port = p.port;
  return line;
}

CheckLine throughput_line(const PortProbe& p) {
  const std::string port = num(p.port);
  CheckLine line;
  int64_t bps = throughput_bits_per_second(p);
  if (bps < 0) {
    line = warn_line("throughput", "port " + port + ": WebSocket pings were not answered",
                     "a middlebox swallows WebSocket control frames: exempt the server from inspection");
  } else {
    std::string what = "port " + port + ": throughput " + rate_text(bps) + " (" +
                       num(p.pong_bytes / 1024) + " KiB echoed by pings; appliances need 128 kbit/s)";
    line = bps >= kMinThroughputBitsPerSecond
               ? pass_line("throughput", what)
               : warn_line("throughput", what,
                           "tunnelled management sessions will stall: raise the uplink's bandwidth or the "
                           "proxy's limit for this device");
    line.fact("bits_per_second", bps);
  }
  line.port = p.port;
  return line;
}

}  // namespace

int64_t median_us(std::vector<int64_t> samples) {
  std::sort(samples.begin(), samples.end());
  size_t n = samples.size();
  return n % 2 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2;
}

int64_t throughput_bits_per_second(const PortProbe& p) {
  constexpr int64_t kPing = 125;
  if (p.pong_bytes < 2 * kPing) return -1;
  // From the first pong on, the pipe is full: pongs arrive at the rate of
  // the slowest hop. The first one's bytes arrived before the span began.
  int64_t span = std::max<int64_t>(p.pong_span_us, 1);
  return (p.pong_bytes - kPing) * 8 * 1000000 / span;
}

std::string duration_us_text(int64_t us) {
  char text[32];
  if (us < 1000) std::snprintf(text, sizeof text, "%.2f ms", static_cast<double>(us) / 1000.0);
  else if (us < 1000000) std::snprintf(text, sizeof text, "%.1f ms", static_cast<double>(us) / 1000.0);
  else std::snprintf(text, sizeof text, "%.2f s", static_cast<double>(us) / 1e6);
  return text;
}

std::string rate_text(int64_t bps) {
  char text[32];
  if (bps < 1000000) std::snprintf(text, sizeof text, "%lld kbit/s", static_cast<long long>(bps / 1000));
  else if (bps < 1000000000) std::snprintf(text, sizeof text, "%.1f Mbit/s", static_cast<double>(bps) / 1e6);
  else std::snprintf(text, sizeof text, "%.1f Gbit/s", static_cast<double>(bps) / 1e9);
  return text;
}

PortVerdicts judge_ports(const DeviceConfig& config, const std::vector<PortProbe>& probes) {
  PortVerdicts out;
  std::vector<PortView> views;
  for (const PortProbe& p : probes) views.push_back(view_of(config, p));
  std::vector<bool> alive(views.size(), true);
  // One stage at a time, for every port still alive, so the report reads
  // in check order.
  for (size_t i = 0; i < views.size(); ++i) {
    CheckLine l = tcp_line(views[i]);
    alive[i] = l.verdict != Verdict::fail;
    out.lines.push_back(std::move(l));
  }
  for (size_t i = 0; i < views.size(); ++i) {
    if (!alive[i]) continue;
    CheckLine l = tls_line(views[i], probes);
    alive[i] = l.verdict != Verdict::fail;
    out.lines.push_back(std::move(l));
  }
  for (size_t i = 0; i < views.size(); ++i) {
    if (!alive[i]) continue;
    CheckLine l = websocket_line(views[i]);
    alive[i] = l.verdict != Verdict::fail;
    out.lines.push_back(std::move(l));
  }
  for (size_t i = 0; i < views.size(); ++i) {
    if (!alive[i]) continue;
    CheckLine l = hello_line(views[i]);
    alive[i] = l.verdict != Verdict::fail;
    out.lines.push_back(std::move(l));
    if (alive[i]) out.working_ports.push_back(probes[i].port);
  }
  for (size_t i = 0; i < views.size(); ++i) {
    if (alive[i]) out.lines.push_back(rtt_line(probes[i]));
  }
  for (size_t i = 0; i < views.size(); ++i) {
    if (alive[i]) out.lines.push_back(throughput_line(probes[i]));
  }
  return out;
}

}  // namespace sublink
