// The mps2-an385 image: boots, reads its configuration and credentials from
// the debugger host, and runs the agent over lwIP in one super-loop that
// sleeps (WFI) until SysTick or the NIC interrupt. See README.md for the
// configuration, the console lines and the exit statuses.
#include <algorithm>
#include <optional>

#include "boards/mps2-an385/agent_loop.h"
#include "boards/mps2-an385/board_config.h"
#include "boards/mps2-an385/board_exit.h"
#include "boards/mps2-an385/board_network.h"
#include "boards/mps2-an385/board_tunnels.h"
#include "boards/mps2-an385/cmsdk_uart.h"
#include "boards/mps2-an385/console.h"
#include "boards/mps2-an385/heap_monitor.h"
#include "boards/mps2-an385/host_files.h"
#include "boards/mps2-an385/semihosting.h"
#include "boards/mps2-an385/semihosting_nor_flash.h"
#include "boards/mps2-an385/stack_monitor.h"
#include "boards/mps2-an385/systick_clock.h"
#include "boards/mps2-an385/test_entropy.h"
#include "firmware/agent/device_settings.h"
#include "firmware/json/json_arena.h"
#include "firmware/license/license_key.h"
#include "lwip/init.h"
#include "hal/flash/flash_record_store.h"
#include "net/lwip/lwip_hooks.h"
#include "net/lwip/lwip_network.h"
#include "net/tls/tls_arena.h"
#include "net/tls/tls_client.h"
#include "net/tls/certificate_date_clock.h"
#include "net/tls/tls_time.h"

extern "C" uint8_t __nor_flash_start[];
extern "C" uint8_t __nor_flash_end[];

using namespace sublink;
using namespace sublink::mps2;

namespace {

// Mbed TLS: the parsed credentials and kept sessions, plus the handshakes
// of the parallel attempts the link allows (kParallelAttempts), each with
// 4 KiB records in and out. Measured (tls_arena_peak, tests/mps2 with both
// attempts overlapping): 25.0 KiB at most, 14.4 KiB with one; 32 KiB leaves
// 28% for servers with RSA chains, which parse and verify larger keys.
constexpr size_t kTlsArenaBytes = 32 * 1024;
// cJSON: a message parsed, and the license inside a grant while it is
// checked. Measured (json_arena_peak) 9.3 KiB for a grant of 32 features
// with 31-character names, the most a license holds; 12 KiB leaves room for
// the longest identifiers. A larger document fails to parse (refused).
constexpr size_t kJsonArenaBytes = 12 * 1024;
// Every connection attempt holds WebSocket buffers on the heap: input and
// the message being assembled of this size (a license grant, at most 2 KiB
// of license in base64, fits with room to spare), output sized for the
// largest message the agent writes (Agent::kOutputBytes).
constexpr uint32_t kMaxMessageBytes = 4096;
// One connection attempt at a time: the ports are tried in turn (the next
// when one fails or times out), and only one set of TLS queues, WebSocket
// buffers and Mbed TLS handshake state is ever live: 8 KiB of heap and 8 KiB
// of the TLS arena less at peak than with two.
constexpr size_t kParallelAttempts = 1;
constexpr size_t kMaxHostFile = 16 * 1024;
constexpr size_t kEventCapacity = 32;

// The records' flash: 4 KiB sectors, one sector per A/B slot.
constexpr NorGeometry kNorGeometry{4096, 4, 32};
// Six records (license .. identity) of 12 sectors; the rest is spare.
constexpr FlashLayout kFlashLayout{0, 6, 4096 - 32};

alignas(8) uint8_t g_tls_memory[kTlsArenaBytes];
alignas(8) uint8_t g_json_memory[kJsonArenaBytes];

// Large objects live in static storage (not on the 16 KiB stack) and are
// built in order once the configuration is known.
DeviceConfig g_device;
BoardConfig g_board;
DeviceSettings g_settings;
LicenseKey g_license_key;
std::optional<TlsClientConfig> g_tls;
LwipNetwork g_sockets;
BoardNetwork g_network;
std::optional<AgentLoop> g_loop;

[[noreturn]] void config_failure(std::string_view what, std::string_view detail = {}) {
  ConsoleLine line;
  line.add("config: ").add(what);
  if (!detail.empty()) line.add(" ").add(detail);
  line.emit();
  board_exit(kExitConfig, "config");
}

void read_credential(std::string_view key, std::string_view path, HostFile& out) {
  Status s = read_host_file(path, kMaxHostFile, out);
  if (!s.ok()) {
    ConsoleLine().add("config: '").add(key).add("' ").add(path).add(": cannot read").emit();
    board_exit(kExitConfig, "config");
  }
}

// The configuration file's path: the second semihosting argument
// (arg=sublink-mps2,arg=/abs/path/board.json).
std::string_view config_path(char (&cmdline)[512]) {
  const int n = semihosting::command_line(cmdline);
  if (n < 0) config_failure("no semihosting command line (run QEMU with -semihosting-config enable=on,...)");
  std::string_view line(cmdline, static_cast<size_t>(n));
  const size_t space = line.find(' ');
  if (space == std::string_view::npos) config_failure("usage: arg=sublink-mps2,arg=/abs/path/board.json");
  std::string_view path = line.substr(space + 1);
  const size_t end = path.find(' ');
  return end == std::string_view::npos ? path : path.substr(0, end);
}

void sleep_until(MonotonicClock& clock, Millis deadline) {
  // Interrupts off between the check and WFI, so a frame that arrives in
  // between still ends the sleep (WFI wakes on a pending interrupt).
  while (true) {
    __asm__ volatile("cpsid i" ::: "memory");
    if (Lan9118::frames_pending() || clock.now_ms() >= deadline) {
      __asm__ volatile("cpsie i" ::: "memory");
      return;
    }
    __asm__ volatile("wfi\n cpsie i" ::: "memory");
  }
}

}  // namespace

extern "C" void sublink_lwip_assert(const char* what, const char* file, int line) {
  ConsoleLine().add("lwip assertion ").add(what).add(" at ").add(file).add(":").add_int(line).emit();
  board_exit(kExitFault, "lwip assertion");
}

int main() {
  uart_init();
  SysTickClock clock;
  console_line("sublink " SUBLINK_VERSION " on mps2-an385 (Cortex-M3, LAN9118, lwIP " LWIP_VERSION_STRING ")");
  console_line("WARNING: INSECURE TEST ENTROPY - this image has no hardware random source; never ship it");
  InsecureTestEntropy entropy;
  install_lwip_random(&entropy);

  TlsArena tls_arena(g_tls_memory);
  JsonArena json_arena(g_json_memory);
  json_arena.install();

  char cmdline[512];
  const std::string_view path = config_path(cmdline);
  {
    HostFile file;
    if (!read_host_file(path, kMaxHostFile, file).ok()) config_failure("cannot read", path);
    ConfigError e = parse_board_config(file.view(), g_board, g_device);
    if (!e.ok()) config_failure(e.message());
  }
  if (g_device.max_message_bytes > kMaxMessageBytes) {
    g_device.max_message_bytes = kMaxMessageBytes;
    ConsoleLine().add("max_message_bytes lowered to ").add_uint(kMaxMessageBytes).add(" on this board").emit();
  }

  SemihostingNorFlash flash({__nor_flash_start, static_cast<size_t>(__nor_flash_end - __nor_flash_start)},
                            kNorGeometry);
  bool created = false;
  if (!flash.attach_image(g_board.flash_image.view(), created).ok()) {
    ConsoleLine().add("flash image ").add(g_board.flash_image.view()).add(": cannot open or write").emit();
    board_exit(kExitStorage, "flash image");
  }
  ConsoleLine().add("flash image ").add(g_board.flash_image.view()).add(created ? " (new, erased)" : " (loaded)").emit();
  FlashRecordStore storage(flash, kFlashLayout);
  if (!storage.layout_status().ok()) board_exit(kExitStorage, "flash layout");

  {
    HostFile ca, cert, key, license_key;
    read_credential("ca_file", g_device.ca_file.view(), ca);
    read_credential("cert_file", g_device.cert_file.view(), cert);
    read_credential("key_file", g_device.key_file.view(), key);
    read_credential("license_key_file", g_device.license_key_file.view(), license_key);
    Status key_status = g_license_key.load(license_key.view());
    if (!key_status.ok()) {
      ConsoleLine()
          .add("config: 'license_key_file' is not an EC P-256 public key (Mbed TLS ")
          .add_int(key_status.detail())
          .add(")")
          .emit();
      board_exit(kExitConfig, "config");
    }
    TlsClientCredentials creds;
    creds.trust_anchors_pem = ca.view();
    creds.certificate_chain_pem = cert.view();
    creds.private_key_pem = key.view();
    creds.max_fragment_length = 4096;  // the device's Mbed TLS records are 4 KiB
    g_tls.emplace();
    Status s = g_tls->load(creds, entropy);
    if (!s.ok()) config_failure("cannot use the certificate, key or CA files:", reason_name(s.reason()));
    if (g_tls->device_common_name() != g_device.system_id.view()) {
      config_failure("system_id differs from the device certificate's CN", g_tls->device_common_name());
    }
  }

  SntpWallClock wall(clock);
  install_lwip_sntp_clock(&wall);
  // Until SNTP answers: the server's time from welcome, else the build time.
  CertificateDateClock dates(wall, clock);
  install_tls_certificate_clock(&dates);

  derive_device_settings(g_device, g_settings);
  g_settings.agent.fw = "mps2-an385";
  g_settings.agent.agent_version = SUBLINK_VERSION;
  g_settings.agent.event_capacity = kEventCapacity;
  g_settings.agent.log = {&AgentLoop::log_to_console, nullptr};
  g_settings.agent.certificate_clock = &dates;
  g_settings.link.user_agent = "sublink/" SUBLINK_VERSION;
  g_settings.link.max_parallel_attempts = kParallelAttempts;
  g_settings.link.max_send_message_bytes = Agent::kOutputBytes;
  {
    std::string_view problem;
    if (!configure_board_tunnels(g_device, g_settings, problem)) config_failure(problem);
  }

  if (!g_network.start(g_board, wall)) board_exit(kExitConfig, "no network interface");
  g_loop.emplace(AgentParts{g_board, g_settings, *g_tls, entropy, storage, clock, wall, g_license_key, g_network,
                            g_sockets});
  Status s = g_loop->boot(clock.now_ms());
  if (!s.ok()) ConsoleLine().add("storage: ").add(reason_name(s.reason())).add(", started with safe defaults").emit();
  ConsoleLine()
      .add("ready: heap ")
      .add_uint(heap_used_bytes())
      .add(" of ")
      .add_uint(heap_size_bytes())
      .add(" bytes, stack ")
      .add_uint(stack_size_bytes())
      .emit();
  {
    const TunnelSettings& tunnels = g_settings.agent.tunnels;
    ConsoleLine line;
    line.add("tunnels: ").add_uint(tunnels.max_channels).add(" channels, window ").add_uint(tunnels.window);
    line.add(", services");
    for (std::string_view name : g_settings.agent.service_names) line.add(" ").add(name);
    line.emit();
  }
  ConsoleLine().add("tunnel_memory ").add_uint(board_tunnel_memory(g_settings, AgentLoop::status_page_bytes())).emit();

  for (;;) {
    const Millis now = clock.now_ms();
    const Millis next = g_loop->step(now);
    int status = 0;
    std::string_view why;
    if (g_loop->finished(clock.now_ms(), status, why)) {
      g_loop->shutdown(clock.now_ms());
      ConsoleLine().add("json_arena_peak ").add_uint(json_arena.high_water()).emit();
      board_exit(status, why);
    }
    sleep_until(clock, std::max(next, now));
  }
}
