/* lwIP options for sublink devices: NO_SYS=1 (one super-loop or one RTOS
 * task owns the whole stack, so no locks), IPv4 only, one Ethernet netif,
 * DHCP or a static address, DNS, SNTP, and TCP through the altcp API for
 * the link's few connections. Pools are sized for the link's needs: a
 * handful of parallel connection attempts (PROTOCOL.md section 1), one
 * established link, DNS and SNTP; never for a general-purpose host. */
#ifndef SUBLINK_LWIPOPTS_H
#define SUBLINK_LWIPOPTS_H

#include "lwip_hooks.h"

/* ---- System ------------------------------------------------------------- */
#define NO_SYS                      1
/* The NIC interrupt only raises a flag; lwIP runs in the loop alone. */
#define SYS_LIGHTWEIGHT_PROT        0
#define LWIP_TIMERS                 1
#define LWIP_SOCKET                 0
#define LWIP_NETCONN                0
#define LWIP_RAND()                 sublink_lwip_random()

/* ---- Memory: static pools, no malloc ---------------------------------------*/
#define MEM_LIBC_MALLOC             0
#define MEMP_MEM_MALLOC             0
#define MEM_ALIGNMENT               4
/* The heap holds outgoing TCP segments (TCP_WRITE_FLAG_COPY) and DHCP/DNS
 * packets: the send buffer of one link plus a connect attempt's SYN. */
#define MEM_SIZE                    (5 * 1024)
#define PBUF_POOL_SIZE              6
#define MEMP_NUM_PBUF               8
#define MEMP_NUM_UDP_PCB            3   /* DHCP, DNS, SNTP */
#define MEMP_NUM_TCP_PCB            4   /* parallel attempts of one round */
#define MEMP_NUM_TCP_PCB_LISTEN     0
#define MEMP_NUM_TCP_SEG            12
#define MEMP_NUM_ALTCP_PCB          MEMP_NUM_TCP_PCB
#define MEMP_NUM_SYS_TIMEOUT        (LWIP_NUM_SYS_TIMEOUT_INTERNAL + 1)
#define MEMP_NUM_REASSDATA          1
#define MEMP_NUM_FRAG_PBUF          2
#define ARP_TABLE_SIZE              4
#define ARP_QUEUEING                1
#define MEMP_NUM_ARP_QUEUE          4

/* ---- Protocols ---------------------------------------------------------- */
#define LWIP_IPV4                   1
#define LWIP_IPV6                   0
#define LWIP_ARP                    1
#define LWIP_ETHERNET               1
#define LWIP_ICMP                   1
#define LWIP_RAW                    0
#define LWIP_UDP                    1
#define LWIP_TCP                    1
#define LWIP_ALTCP                  1
#define LWIP_ALTCP_TLS              0   /* TLS is Mbed TLS above the SocketDriver */
#define LWIP_DHCP                   1
#define LWIP_AUTOIP                 0
#define LWIP_IGMP                   0
#define LWIP_DNS                    1
#define DNS_MAX_SERVERS             2
#define DNS_TABLE_SIZE              2
#define DNS_MAX_NAME_LENGTH         256
#define LWIP_NETIF_STATUS_CALLBACK  1
#define LWIP_NETIF_LINK_CALLBACK    1
#define LWIP_NETIF_HOSTNAME         0
#define LWIP_NETIF_API              0
#define LWIP_SINGLE_NETIF           1
#define IP_REASSEMBLY               1
#define IP_FRAG                     0   /* we never send more than the MTU */

/* ---- TCP ---------------------------------------------------------------- */
#define TCP_MSS                     1460
/* Three segments in flight each way: one 4 KiB TLS record per window,
 * which is what the device's Mbed TLS buffers hold anyway. */
#define TCP_WND                     (3 * TCP_MSS)
#define TCP_SND_BUF                 (3 * TCP_MSS)
#define TCP_SND_QUEUELEN            ((4 * (TCP_SND_BUF) + (TCP_MSS - 1)) / (TCP_MSS))
#define TCP_QUEUE_OOSEQ             0
#define LWIP_TCP_KEEPALIVE          0   /* the agent's heartbeats are the keepalive */
/* A connection attempt gives up after connect_timeout_s in the link, not
 * after lwIP's own SYN retries. */
#define TCP_SYNMAXRTX               6

/* ---- SNTP --------------------------------------------------------------- */
#define SNTP_SERVER_DNS             1
#define SNTP_MAX_SERVERS            1
#define SNTP_STARTUP_DELAY          0
#define SNTP_CHECK_RESPONSE         2   /* the answer must echo our request's timestamp */
#define SNTP_RECV_TIMEOUT           3000
#define SNTP_UPDATE_DELAY           3600000
#define SNTP_SET_SYSTEM_TIME_US(sec, us) sublink_lwip_sntp_time((uint32_t)(sec), (uint32_t)(us))
#define SNTP_GET_SYSTEM_TIME(sec, us) sublink_lwip_sntp_now(&(sec), &(us))

/* ---- Checks and statistics ---------------------------------------------- */
#define LWIP_STATS                  0
#define LWIP_DEBUG                  0
#define CHECKSUM_CHECK_IP           1
#define CHECKSUM_CHECK_TCP          1
#define CHECKSUM_CHECK_UDP          1

#endif
