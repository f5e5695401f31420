#include "net/posix/posix_lookups.h"

#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cstring>

namespace sublink {

namespace {

// One lookup's record. glibc keeps pointers to `request`, `name` and
// `hints` until the lookup ends, so the record stays put until then.
struct Lookup {
  enum class State : unsigned char { free, running, abandoned };
  State state = State::free;
  char name[kMaxPosixLookupName + 1] = {};
  addrinfo hints{};
  gaicb request{};
};

Lookup lookups[kMaxPosixLookups];
int wake_fd = -2;  // -2: not made yet

// Runs on a glibc thread when a lookup ends: only wakes the loop.
void lookup_ended(sigval) {
  const uint64_t one = 1;
  if (wake_fd >= 0) (void)!write(wake_fd, &one, sizeof one);
}

void free_record(Lookup& l) {
  if (l.request.ar_result) freeaddrinfo(l.request.ar_result);
  l = Lookup{};
}

// Frees abandoned records whose lookups ended.
void reap_abandoned() {
  for (Lookup& l : lookups) {
    if (l.state == Lookup::State::abandoned && gai_error(&l.request) != EAI_INPROGRESS) free_record(l);
  }
}

}  // namespace

int posix_lookup_wake_fd() {
  if (wake_fd == -2) wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  return wake_fd;
}

int posix_lookup_start(std::string_view name) {
  if (name.size() > kMaxPosixLookupName) return -1;
  reap_abandoned();
  for (size_t i = 0; i < kMaxPosixLookups; ++i) {
    Lookup& l = lookups[i];
    if (l.state != Lookup::State::free) continue;
    std::memcpy(l.name, name.data(), name.size());
    l.name[name.size()] = '\0';
    l.hints.ai_family = AF_UNSPEC;
    l.hints.ai_socktype = SOCK_STREAM;
    l.hints.ai_flags = AI_ADDRCONFIG;
    l.request.ar_name = l.name;
    l.request.ar_request = &l.hints;
    sigevent notify{};
    (void)posix_lookup_wake_fd();
    notify.sigev_notify = SIGEV_THREAD;
    notify.sigev_notify_function = lookup_ended;
    gaicb* list[1] = {&l.request};
    if (getaddrinfo_a(GAI_NOWAIT, list, 1, &notify) != 0) {
      l = Lookup{};
      return -1;
    }
    l.state = Lookup::State::running;
    return static_cast<int>(i);
  }
  return -1;
}

const char* posix_resolver_words(int32_t detail) {
  // EAI codes are negative in glibc; 0 or a positive detail is not one.
  return detail < 0 ? gai_strerror(detail) : nullptr;
}

bool posix_lookup_collect(int slot, Status& status, AddressList& addresses) {
  if (slot < 0 || static_cast<size_t>(slot) >= kMaxPosixLookups) return false;
  Lookup& l = lookups[slot];
  if (l.state != Lookup::State::running) return false;
  const int rc = gai_error(&l.request);
  if (rc == EAI_INPROGRESS) return false;
  addresses = AddressList{};
  if (rc != 0) {
    status = Status(Reason::dns_failed, rc);
    free_record(l);
    return true;
  }
  for (addrinfo* p = l.request.ar_result; p; p = p->ai_next) {
    IpAddress a;
    if (p->ai_family == AF_INET) {
      a.family = 4;
      std::memcpy(a.bytes, &reinterpret_cast<sockaddr_in*>(p->ai_addr)->sin_addr, 4);
    } else if (p->ai_family == AF_INET6) {
      a.family = 6;
      std::memcpy(a.bytes, &reinterpret_cast<sockaddr_in6*>(p->ai_addr)->sin6_addr, 16);
    } else {
      continue;
    }
    bool dup = false;
    for (size_t i = 0; i < addresses.count; ++i) dup |= addresses.items[i] == a;
    if (!dup) addresses.add(a);
  }
  status = addresses.count ? Status::Ok() : Status(Reason::dns_failed, EAI_NONAME);
  free_record(l);
  return true;
}

void posix_lookup_abandon(int slot) {
  if (slot < 0 || static_cast<size_t>(slot) >= kMaxPosixLookups) return;
  Lookup& l = lookups[slot];
  if (l.state != Lookup::State::running) return;
  // EAI_CANCELED: glibc never started it; EAI_ALLDONE: it has ended. Either
  // way glibc holds no pointer into the record any more.
  const int rc = gai_cancel(&l.request);
  if (rc == EAI_CANCELED || rc == EAI_ALLDONE) {
    free_record(l);
  } else {
    l.state = Lookup::State::abandoned;
  }
}

bool posix_lookups_running() {
  for (const Lookup& l : lookups) {
    if (l.state != Lookup::State::free) return true;
  }
  return false;
}

void posix_lookup_drain_wake() {
  uint64_t count;
  if (wake_fd >= 0) (void)!read(wake_fd, &count, sizeof count);
  reap_abandoned();
}

}  // namespace sublink
