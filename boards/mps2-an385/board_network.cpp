#include "boards/mps2-an385/board_network.h"

#include "boards/mps2-an385/console.h"
#include "boards/mps2-an385/semihosting.h"
#include "lwip/apps/sntp.h"
#include "lwip/dhcp.h"
#include "lwip/dns.h"
#include "lwip/init.h"
#include "lwip/ip4_addr.h"
#include "lwip/timeouts.h"

namespace sublink::mps2 {

namespace {

ip4_addr_t to_lwip(const Ipv4& a) {
  ip4_addr_t out;
  IP4_ADDR(&out, a.bytes[0], a.bytes[1], a.bytes[2], a.bytes[3]);
  return out;
}

}  // namespace

bool BoardNetwork::start(const BoardConfig& config, SntpWallClock& clock) {
  config_ = &config;
  clock_ = &clock;
  lwip_init();
  if (!nic_.start(netif_)) return false;
  ConsoleLine line;
  line.add("nic lan9118 mac ");
  static const char kHex[] = "0123456789abcdef";
  for (int i = 0; i < 6; ++i) {
    char h[3] = {kHex[nic_.mac()[i] >> 4], kHex[nic_.mac()[i] & 15], ':'};
    line.add(std::string_view(h, i < 5 ? 3 : 2));
  }
  line.emit();

  const std::string_view ntp = config.ntp.view();
  for (size_t i = 0; i < ntp.size(); ++i) ntp_name_[i] = ntp[i];
  apply_dns();
  if (config.time_source == TimeSource::host) {
    // The debugger host's clock: it tells the time, it is not a trusted
    // source (a real board's RTC plays this part).
    clock.set(static_cast<Millis>(semihosting::host_time()) * 1000, false);
    console_line("time source host clock (semihosting), untrusted");
  }
  if (config.dhcp) {
    dhcp_start(&netif_);
  } else {
    ip4_addr_t address = to_lwip(config.address);
    ip4_addr_t mask = to_lwip(config.netmask);
    ip4_addr_t gateway = config.has_gateway ? to_lwip(config.gateway) : ip4_addr_t{0};
    netif_set_addr(&netif_, &address, &mask, &gateway);
  }
  return true;
}

void BoardNetwork::apply_dns() {
  if (config_->dns_count > 0) {
    for (size_t i = 0; i < DNS_MAX_SERVERS; ++i) {
      ip_addr_t server = IPADDR4_INIT(0);
      if (i < config_->dns_count) ip_addr_copy_from_ip4(server, to_lwip(config_->dns[i]));
      dns_setserver(static_cast<u8_t>(i), &server);
    }
    return;
  }
  if (ip_addr_isany(dns_getserver(0))) {
    ip_addr_t fallback;
    ip_addr_copy_from_ip4(fallback, to_lwip(kFallbackDns));
    dns_setserver(0, &fallback);
  }
}

void BoardNetwork::on_address() {
  address_reported_ = true;
  // DHCP has just set its DNS servers (or none): configured ones win.
  apply_dns();
  const uint32_t a = ip4_addr_get_u32(netif_ip4_addr(&netif_));
  const uint8_t bytes[4] = {static_cast<uint8_t>(a), static_cast<uint8_t>(a >> 8), static_cast<uint8_t>(a >> 16),
                            static_cast<uint8_t>(a >> 24)};
  ConsoleLine().add("ip ").add_ipv4(bytes).emit();
  if (config_->time_source == TimeSource::sntp) {
    sntp_setoperatingmode(SNTP_OPMODE_POLL);
    sntp_setservername(0, ntp_name_);
    sntp_init();
    ConsoleLine().add("sntp server ").add(config_->ntp.view()).emit();
  }
}

void BoardNetwork::poll() {
  nic_.poll(netif_);
  sys_check_timeouts();
  if (!address_reported_ && !ip4_addr_isany_val(*netif_ip4_addr(&netif_))) on_address();
  if (clock_->answers() != answers_reported_) {
    answers_reported_ = clock_->answers();
    WallTime t = clock_->now();
    if (answers_reported_ == 1) ConsoleLine().add("time synced ").add_utc(t.utc_ms).emit();
  }
}

Millis BoardNetwork::sleep_ms(Millis limit) const {
  const u32_t next = sys_timeouts_sleeptime();
  if (next == SYS_TIMEOUTS_SLEEPTIME_INFINITE || static_cast<Millis>(next) > limit) return limit;
  return static_cast<Millis>(next);
}

bool BoardNetwork::time_known() const { return clock_ != nullptr && clock_->is_set(); }

}  // namespace sublink::mps2
