// Name lookups off the event loop, with glibc's getaddrinfo_a: the same
// resolver as getaddrinfo (nsswitch.conf, /etc/hosts, resolv.conf and its
// RES_OPTIONS), run by glibc's own worker threads. A lookup ends by telling
// the loop through a wake-up descriptor it polls; the loop then collects the
// answer. Nothing here blocks.
//
// The lookups live in one table for the process, not in a PosixNetwork: a
// lookup glibc has already started cannot be cancelled, and glibc writes
// its answer into the lookup's record whenever it finishes. An abandoned
// lookup keeps its record until then and frees it on a later collect().
//
// Driving it (the event loop's thread only):
//   int slot = posix_lookup_start("example.net");  // -1: every record in use
//   poll posix_lookup_wake_fd() for input, then posix_lookup_drain_wake();
//   if (posix_lookup_collect(slot, status, addresses)) ... answered, record freed
//   posix_lookup_abandon(slot);                     // nobody wants the answer
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "hal/status.h"
#include "net/link/socket_driver.h"

namespace sublink {

/// Lookups under way at once in the process (abandoned ones included).
inline constexpr size_t kMaxPosixLookups = 8;

/// The longest name a lookup takes: a DNS name's bound (RFC 1035 3.1).
inline constexpr size_t kMaxPosixLookupName = 255;

/// Starts resolving `name` (not an IP literal; up to kMaxPosixLookupName
/// bytes). Returns the lookup's record, or -1 when every record is in use
/// or the name is too long (answer dns_failed then).
int posix_lookup_start(std::string_view name);

/// Moves the answer of lookup `slot` into `status` and `addresses` and frees
/// the record when the lookup has ended: true then. False while it runs.
bool posix_lookup_collect(int slot, Status& status, AddressList& addresses);

/// Nobody waits for lookup `slot` any more: it is cancelled, or, if glibc
/// already runs it, its record is freed once it ends.
void posix_lookup_abandon(int slot);

/// The resolver's own words for the detail of a dns_failed answer (glibc's
/// gai_strerror, "Name or service not known"); nullptr for a detail no
/// lookup gives.
const char* posix_resolver_words(int32_t detail);

/// True while any lookup runs (abandoned ones included).
bool posix_lookups_running();

/// A descriptor that becomes readable when a lookup ends; -1 if none could
/// be made (then the loop must poll with a short timeout while lookups run).
int posix_lookup_wake_fd();
/// Empties the wake-up descriptor and frees the records of abandoned
/// lookups that ended.
void posix_lookup_drain_wake();

}  // namespace sublink
