# lwIP 2.1, built from the Debian source package (fetched by
# toolchain/deps.sh arm) with the project's lwipopts.h (net/lwip/config):
# NO_SYS=1 (one super-loop or one RTOS task drives it), IPv4 with ARP,
# DHCP, DNS, raw/altcp TCP, UDP for DNS and SNTP. The board provides
# sys_now() and the Ethernet netif; net/lwip provides the other hooks
# lwipopts.h names (random numbers, the SNTP clock, assertions).

set(SUBLINK_LWIP_SRC "${CMAKE_SOURCE_DIR}/build/_deps/src/lwip" CACHE PATH
    "lwIP source tree (Debian source package)")
set(SUBLINK_LWIP_CONFIG_DIR "${CMAKE_SOURCE_DIR}/net/lwip/config" CACHE PATH
    "Folder holding lwipopts.h and arch/cc.h for this target")

if(NOT EXISTS ${SUBLINK_LWIP_SRC}/src/core/tcp.c)
  message(FATAL_ERROR "lwIP source not found in ${SUBLINK_LWIP_SRC}: run toolchain/deps.sh arm first")
endif()

if(NOT TARGET sublink_lwip)
  set(_lw ${SUBLINK_LWIP_SRC}/src)
  add_library(sublink_lwip STATIC
    ${_lw}/core/init.c ${_lw}/core/def.c ${_lw}/core/dns.c ${_lw}/core/inet_chksum.c
    ${_lw}/core/ip.c ${_lw}/core/mem.c ${_lw}/core/memp.c ${_lw}/core/netif.c
    ${_lw}/core/pbuf.c ${_lw}/core/raw.c ${_lw}/core/stats.c ${_lw}/core/sys.c
    ${_lw}/core/altcp.c ${_lw}/core/altcp_alloc.c ${_lw}/core/altcp_tcp.c
    ${_lw}/core/tcp.c ${_lw}/core/tcp_in.c ${_lw}/core/tcp_out.c
    ${_lw}/core/timeouts.c ${_lw}/core/udp.c
    ${_lw}/core/ipv4/dhcp.c ${_lw}/core/ipv4/etharp.c ${_lw}/core/ipv4/icmp.c
    ${_lw}/core/ipv4/ip4.c ${_lw}/core/ipv4/ip4_addr.c ${_lw}/core/ipv4/ip4_frag.c
    ${_lw}/netif/ethernet.c
    ${_lw}/apps/sntp/sntp.c)
  target_include_directories(sublink_lwip SYSTEM PUBLIC ${_lw}/include ${SUBLINK_LWIP_CONFIG_DIR})
  # Third-party code: its own warnings are not ours to fix.
  target_compile_options(sublink_lwip PRIVATE -w)
endif()
