#include "boards/host/doctor/sntp_query.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "boards/host/doctor/address_text.h"
#include "hal/posix/system_clock.h"

namespace sublink {

namespace {

Millis monotonic_ms() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<Millis>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// One request to one address; true with `out.sample` filled on a valid answer.
bool ask(const addrinfo& a, int timeout_ms, SntpQueryResult& out) {
  int fd = ::socket(a.ai_family, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP);
  if (fd < 0) {
    out.problem = std::string("cannot open a UDP socket: ") + std::strerror(errno);
    return false;
  }
  // connect: the kernel then hands us only datagrams from that address, and
  // an ICMP port unreachable comes back as ECONNREFUSED.
  if (::connect(fd, a.ai_addr, a.ai_addrlen) != 0) {
    out.problem = std::string("cannot reach: ") + std::strerror(errno);
    ::close(fd);
    return false;
  }
  uint8_t request[kSntpPacketBytes];
  Millis sent = system_utc_ms();
  build_sntp_request(request, sent);
  if (::send(fd, request, sizeof request, 0) != static_cast<ssize_t>(sizeof request)) {
    out.problem = std::string("cannot send: ") + std::strerror(errno);
    ::close(fd);
    return false;
  }
  Millis deadline = monotonic_ms() + timeout_ms;
  bool ok = false;
  out.problem = "no answer within " + std::to_string(timeout_ms) + " ms";
  for (;;) {
    Millis left = deadline - monotonic_ms();
    if (left <= 0) break;
    pollfd p{fd, POLLIN, 0};
    int n = ::poll(&p, 1, static_cast<int>(left));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    uint8_t answer[512];
    ssize_t got = ::recv(fd, answer, sizeof answer, 0);
    Millis received = system_utc_ms();
    if (got < 0) {
      if (errno == EINTR) continue;
      out.problem = errno == ECONNREFUSED ? "port unreachable (nothing serves NTP there)"
                                          : std::string("receive failed: ") + std::strerror(errno);
      break;
    }
    char kiss[5];
    SntpProblem problem = parse_sntp_answer({answer, static_cast<size_t>(got)}, sent, received, out.sample, kiss);
    if (problem == SntpProblem::none) {
      ok = true;
      break;
    }
    out.problem = std::string(sntp_problem_text(problem));
    if (problem == SntpProblem::kiss_of_death) out.problem += std::string(" ") + kiss;
    // A stray or stale datagram: keep waiting for ours until the deadline.
    if (problem != SntpProblem::not_our_request) break;
  }
  ::close(fd);
  return ok;
}

}  // namespace

SntpQueryResult query_sntp(const std::string& host, uint16_t port, int timeout_ms) {
  SntpQueryResult out;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_flags = AI_ADDRCONFIG;
  addrinfo* list = nullptr;
  std::string service = std::to_string(port);
  int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &list);
  if (rc != 0) {
    out.resolve_error = ::gai_strerror(rc);
    return out;
  }
  out.resolved = true;
  for (addrinfo* a = list; a != nullptr; a = a->ai_next) out.addresses.push_back(sockaddr_text(*a->ai_addr));
  size_t asked = 0;
  for (addrinfo* a = list; a != nullptr && asked < 4; a = a->ai_next, ++asked) {
    if (ask(*a, timeout_ms, out)) {
      out.answered = true;
      out.answered_by = sockaddr_text(*a->ai_addr);
      out.problem.clear();
      break;
    }
  }
  ::freeaddrinfo(list);
  return out;
}

}  // namespace sublink
