#include "net/connect/connect_policy.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <vector>

namespace sublink {
namespace {

using Kind = ConnectAction::Kind;

// Deterministic, well-mixed bytes (xorshift64*), so jitter statistics are
// reproducible from run to run.
class SeededRandom : public Random {
 public:
  explicit SeededRandom(uint64_t seed) : state_(seed) {}
  Status fill(std::span<uint8_t> out) override {
    for (auto& b : out) {
      state_ ^= state_ >> 12;
      state_ ^= state_ << 25;
      state_ ^= state_ >> 27;
      b = static_cast<uint8_t>((state_ * 2685821657736338717ULL) >> 56);
    }
    return Status::Ok();
  }

 private:
  uint64_t state_;
};

// Jitter always 0: the wait is exactly the server's floor (or 0).
class ZeroRandom : public Random {
 public:
  Status fill(std::span<uint8_t> out) override {
    std::fill(out.begin(), out.end(), uint8_t{0});
    return Status::Ok();
  }
};

ConnectConfig config_with(Millis stagger, Millis timeout = 5000) {
  ConnectConfig c;
  c.stagger_ms = stagger;
  c.connect_timeout_ms = timeout;
  return c;
}

// Expects exactly one action at `now`, then nothing more.
ConnectAction only_action(ConnectPolicy& p, Millis now) {
  ConnectAction a = p.poll(now);
  EXPECT_NE(a.kind, Kind::nothing) << "at " << now;
  EXPECT_EQ(p.poll(now).kind, Kind::nothing) << "more than one action at " << now;
  return a;
}

void expect_start(const ConnectAction& a, size_t address, uint16_t port) {
  EXPECT_EQ(a.kind, Kind::start_attempt);
  EXPECT_EQ(a.address_index, address);
  EXPECT_EQ(a.port, port);
  EXPECT_NE(a.attempt, 0u);
}

// Runs rounds that fail at once (no address resolved) and returns the wait
// chosen after the last of them.
Millis wait_after_failed_rounds(ConnectPolicy& p, int rounds, Millis now = 0) {
  Millis wait = -1;
  for (int i = 0; i < rounds; ++i) {
    p.start_round(now, 0);
    ConnectAction a = p.poll(now);
    EXPECT_EQ(a.kind, Kind::round_failed);
    wait = a.retry_at - now;
    now = a.retry_at;
  }
  return wait;
}

TEST(ConnectPolicy, PortsAlternateInConfiguredOrderAddressMajor) {
  SeededRandom rng(1);
  ConnectPolicy p(config_with(0), rng);
  p.start_round(0, 2);
  const std::pair<size_t, uint16_t> expected[] = {{0, 443}, {0, 8443}, {1, 443}, {1, 8443}};
  Millis now = 0;
  for (auto [address, port] : expected) {
    ConnectAction a = only_action(p, now);
    expect_start(a, address, port);
    now += 7;
    p.on_attempt_failed(a.attempt, Status(Reason::connect_refused), now);
  }
  ConnectAction failed = p.poll(now);
  EXPECT_EQ(failed.kind, Kind::round_failed);
  EXPECT_EQ(failed.why.reason(), Reason::connect_refused);
  EXPECT_EQ(p.state(), ConnectPolicy::State::waiting);
}

TEST(ConnectPolicy, ConfiguredPortOrderIsKept) {
  SeededRandom rng(1);
  ConnectConfig c = config_with(0);
  c.ports = {8443, 443, 80};
  c.port_count = 3;
  ConnectPolicy p(c, rng);
  p.start_round(0, 1);
  for (uint16_t port : {8443, 443, 80}) {
    ConnectAction a = only_action(p, 0);
    expect_start(a, 0, port);
    p.on_attempt_failed(a.attempt, Status(Reason::connect_refused), 0);
  }
  EXPECT_EQ(p.poll(0).kind, Kind::round_failed);
}

TEST(ConnectPolicy, StaggerStartsTheNextPortExactlyAfterStaggerMs) {
  SeededRandom rng(1);
  ConnectPolicy p(config_with(300), rng);
  p.start_round(1000, 1);
  ConnectAction first = only_action(p, 1000);
  expect_start(first, 0, 443);
  EXPECT_EQ(p.next_deadline(), 1300);
  EXPECT_EQ(p.poll(1299).kind, Kind::nothing);
  ConnectAction second = only_action(p, 1300);
  expect_start(second, 0, 8443);
  EXPECT_NE(second.attempt, first.attempt);
  // No candidate left: the next thing is the first attempt's own deadline.
  EXPECT_EQ(p.next_deadline(), 6000);
}

TEST(ConnectPolicy, AnAbandonedRoundStartsTimesOutAndFailsNothingAndTheNextRoundStartsAfresh) {
  SeededRandom rng(1);
  ConnectPolicy p(config_with(300), rng);
  p.start_round(1000, 1);
  expect_start(only_action(p, 1000), 0, 443);
  p.abandon_round();
  EXPECT_EQ(p.state(), ConnectPolicy::State::idle);
  EXPECT_EQ(p.next_deadline(), kNever) << "no stagger start, no attempt deadline, no round failure is due";
  EXPECT_EQ(p.poll(1300).kind, Kind::nothing) << "8443 does not start after the round was abandoned";
  EXPECT_EQ(p.poll(60'000).kind, Kind::nothing) << "the abandoned 443 attempt does not time out";
  EXPECT_EQ(p.failed_rounds(), 0u) << "an abandoned round is not a failed one";
  p.start_round(70'000, 1);
  expect_start(only_action(p, 70'000), 0, 443);
  p.abandon_round();
  p.abandon_round();  // twice, or while idle: nothing
  EXPECT_EQ(p.state(), ConnectPolicy::State::idle);
}

TEST(ConnectPolicy, ParallelAttemptKeepsTheFirstAliveWithItsOwnTimeout) {
  SeededRandom rng(1);
  ConnectPolicy p(config_with(300), rng);
  p.start_round(0, 1);
  ConnectAction first = only_action(p, 0);
  ConnectAction second = only_action(p, 300);
  EXPECT_EQ(p.poll(4999).kind, Kind::nothing);
  ConnectAction t1 = only_action(p, 5000);
  EXPECT_EQ(t1.kind, Kind::abort_attempt);
  EXPECT_EQ(t1.attempt, first.attempt);
  EXPECT_EQ(t1.why.reason(), Reason::connect_timeout);
  EXPECT_EQ(p.next_deadline(), 5300);
  EXPECT_EQ(p.poll(5299).kind, Kind::nothing);
  ConnectAction t2 = p.poll(5300);
  EXPECT_EQ(t2.kind, Kind::abort_attempt);
  EXPECT_EQ(t2.attempt, second.attempt);
  ConnectAction failed = p.poll(5300);
  EXPECT_EQ(failed.kind, Kind::round_failed);
  EXPECT_EQ(failed.why.reason(), Reason::connect_timeout);
}

TEST(ConnectPolicy, FirstAttemptCanStillWinAfterTheSecondStarted) {
  SeededRandom rng(1);
  ConnectPolicy p(config_with(300), rng);
  p.start_round(0, 1);
  ConnectAction first = only_action(p, 0);
  ConnectAction second = only_action(p, 300);
  EXPECT_TRUE(p.on_attempt_succeeded(first.attempt, 450));
  EXPECT_EQ(p.state(), ConnectPolicy::State::connected);
  ConnectAction abort = only_action(p, 450);
  EXPECT_EQ(abort.kind, Kind::abort_attempt);
  EXPECT_EQ(abort.attempt, second.attempt);
  EXPECT_TRUE(abort.why.ok()) << "superseded, not failed";
  EXPECT_EQ(p.next_deadline(), kNever);
  // The loser completing later is not accepted: the driver must close it.
  EXPECT_FALSE(p.on_attempt_succeeded(second.attempt, 460));
}

TEST(ConnectPolicy, RefusalFailsOverAtOnceWithoutWaitingForTheStagger) {
  SeededRandom rng(1);
  ConnectPolicy p(config_with(300), rng);
  p.start_round(0, 1);
  ConnectAction first = only_action(p, 0);
  p.on_attempt_failed(first.attempt, Status(Reason::connect_refused), 12);
  EXPECT_EQ(p.next_deadline(), 12);
  expect_start(only_action(p, 12), 0, 8443);
}

TEST(ConnectPolicy, FailureOfAnOlderAttemptStartsTheNextCandidateAtOnce) {
  SeededRandom rng(1);
  ConnectPolicy p(config_with(300), rng);
  p.start_round(0, 2);
  ConnectAction a = only_action(p, 0);
  only_action(p, 300);  // 0:8443, pending
  // A TLS failure on 443 (say a middlebox presenting another certificate)
  // fails that attempt only; the round goes on with the next candidate.
  p.on_attempt_failed(a.attempt, Status(Reason::cert_unknown_ca), 420);
  expect_start(only_action(p, 420), 1, 443);
  EXPECT_EQ(p.next_deadline(), 720);
  expect_start(only_action(p, 720), 1, 8443);
  EXPECT_EQ(p.state(), ConnectPolicy::State::connecting);
}

// The scenario the stagger exists for: a firewall silently drops 443 and
// 8443 answers in 40 ms. A driver loop in virtual time must be up at
// stagger + 40 ms, not after the 5 s timeout of 443.
TEST(ConnectPolicy, SilentlyDroppedPortCostsOnlyTheStagger) {
  SeededRandom rng(1);
  ConnectPolicy p(ConnectConfig{}, rng);
  p.start_round(0, 1);
  AttemptId on_8443 = 0;
  Millis answer_at = kNever;
  Millis now = 0;
  while (p.state() == ConnectPolicy::State::connecting && now < 60000) {
    for (ConnectAction a = p.poll(now); a.kind != Kind::nothing; a = p.poll(now)) {
      if (a.kind == Kind::start_attempt && a.port == 8443) {
        on_8443 = a.attempt;
        answer_at = now + 40;
      }
    }
    now = std::min(p.next_deadline(), answer_at);
    if (now == answer_at) {
      ASSERT_TRUE(p.on_attempt_succeeded(on_8443, now));
    }
  }
  EXPECT_EQ(p.state(), ConnectPolicy::State::connected);
  EXPECT_EQ(now, 340);
  ConnectAction abort = p.poll(now);
  EXPECT_EQ(abort.kind, Kind::abort_attempt) << "the attempt on 443 is closed";
}

// One attempt in flight at most: the stagger does not start 8443 beside
// 443; 8443 starts the moment 443 fails, and its deadline is its own.
TEST(ConnectPolicy, AtMaxPendingTheNextAttemptWaitsForOneToFail) {
  SeededRandom rng(1);
  ConnectConfig c = config_with(300);
  c.max_pending = 1;
  ConnectPolicy p(c, rng);
  p.start_round(0, 1);
  ConnectAction first = only_action(p, 0);
  expect_start(first, 0, 443);
  EXPECT_EQ(p.next_deadline(), 5000) << "no stagger start while the slot is taken";
  EXPECT_EQ(p.poll(300).kind, Kind::nothing);
  p.on_attempt_failed(first.attempt, Status(Reason::connect_refused), 1200);
  ConnectAction second = only_action(p, 1200);
  expect_start(second, 0, 8443);
  EXPECT_EQ(p.next_deadline(), 6200);
}

TEST(ConnectPolicy, StaggerZeroIsStrictlySequential) {
  SeededRandom rng(1);
  ConnectPolicy p(config_with(0), rng);
  p.start_round(0, 1);
  ConnectAction first = only_action(p, 0);
  EXPECT_EQ(p.next_deadline(), 5000);
  EXPECT_EQ(p.poll(300).kind, Kind::nothing);
  EXPECT_EQ(p.poll(4999).kind, Kind::nothing);
  ConnectAction t = p.poll(5000);
  EXPECT_EQ(t.kind, Kind::abort_attempt);
  EXPECT_EQ(t.attempt, first.attempt);
  ConnectAction second = only_action(p, 5000);
  expect_start(second, 0, 8443);
  EXPECT_EQ(p.next_deadline(), 10000);
  p.on_attempt_failed(second.attempt, Status(Reason::tls_alert, 42), 6000);
  ConnectAction failed = only_action(p, 6000);
  EXPECT_EQ(failed.kind, Kind::round_failed);
  EXPECT_EQ(failed.why, Status(Reason::tls_alert, 42));
}

TEST(ConnectPolicy, ManyAddressesUseEveryCandidateOnceWithStaggeredStarts) {
  SeededRandom rng(1);
  ConnectConfig c = config_with(250, 100000);
  ConnectPolicy p(c, rng);
  p.start_round(0, 3);
  std::vector<std::pair<size_t, uint16_t>> seen;
  for (Millis t = 0; t <= 1250; t += 250) {
    ConnectAction a = only_action(p, t);
    ASSERT_EQ(a.kind, Kind::start_attempt) << t;
    seen.emplace_back(a.address_index, a.port);
  }
  std::vector<std::pair<size_t, uint16_t>> expected = {{0, 443}, {0, 8443}, {1, 443},
                                                       {1, 8443}, {2, 443}, {2, 8443}};
  EXPECT_EQ(seen, expected);
  EXPECT_EQ(p.poll(1500).kind, Kind::nothing) << "every candidate is tried once per round";
}

TEST(ConnectPolicy, AddressesBeyondTheLimitAreIgnored) {
  SeededRandom rng(1);
  ConnectConfig c = config_with(0);
  c.port_count = 1;
  ConnectPolicy p(c, rng);
  p.start_round(0, 100);
  size_t started = 0;
  for (;;) {
    ConnectAction a = p.poll(0);
    if (a.kind != Kind::start_attempt) {
      EXPECT_EQ(a.kind, Kind::round_failed);
      break;
    }
    ++started;
    p.on_attempt_failed(a.attempt, Status(Reason::connect_refused), 0);
  }
  EXPECT_EQ(started, ConnectPolicy::kMaxAddresses);
}

TEST(ConnectPolicy, NoResolvedAddressFailsTheRoundAsDnsFailure) {
  SeededRandom rng(1);
  ConnectPolicy p(ConnectConfig{}, rng);
  p.start_round(50, 0);
  EXPECT_EQ(p.next_deadline(), 50);
  ConnectAction a = only_action(p, 50);
  EXPECT_EQ(a.kind, Kind::round_failed);
  EXPECT_EQ(a.why.reason(), Reason::dns_failed);
  EXPECT_GE(a.retry_at, 50);
  EXPECT_LE(a.retry_at, 1050);
  EXPECT_EQ(p.retry_at(), a.retry_at);
  EXPECT_EQ(p.next_deadline(), a.retry_at);
}

TEST(ConnectPolicy, BackoffBoundDoublesPerFailedRoundUpToTheCap) {
  SeededRandom rng(7);
  ConnectConfig c;
  c.retry_min_ms = 1000;
  c.retry_max_ms = 8000;
  const Millis bounds[] = {1000, 2000, 4000, 8000, 8000, 8000};
  for (int k = 0; k < 6; ++k) {
    Millis max_wait = 0;
    for (int sample = 0; sample < 300; ++sample) {
      ConnectPolicy p(c, rng);
      Millis w = wait_after_failed_rounds(p, k + 1);
      ASSERT_GE(w, 0);
      ASSERT_LE(w, bounds[k]) << "round " << k + 1;
      max_wait = std::max(max_wait, w);
    }
    // The bound is reached in practice: above 90% of it, and so above the
    // previous round's bound once doubling has started.
    EXPECT_GT(max_wait, bounds[k] * 9 / 10) << "round " << k + 1;
  }
}

TEST(ConnectPolicy, BackoffReachesTheDefaultCapOfFiveMinutes) {
  SeededRandom rng(3);
  ConnectPolicy p(ConnectConfig{}, rng);
  wait_after_failed_rounds(p, 40);  // far past the doubling range: no overflow
  Millis max_wait = 0;
  for (int i = 0; i < 200; ++i) {
    Millis w = wait_after_failed_rounds(p, 1);
    ASSERT_LE(w, 300000);
    max_wait = std::max(max_wait, w);
  }
  EXPECT_GT(max_wait, 256000) << "capped at retry_max, not at the last power of two below it";
}

TEST(ConnectPolicy, JitterVariesAndIsSpreadOverTheWholeRange) {
  SeededRandom rng(11);
  ConnectConfig c;
  c.retry_min_ms = 1000;
  std::set<Millis> distinct;
  int quarter[4] = {};
  double sum = 0;
  const int n = 4000;
  for (int i = 0; i < n; ++i) {
    ConnectPolicy p(c, rng);
    Millis w = wait_after_failed_rounds(p, 1);
    ASSERT_GE(w, 0);
    ASSERT_LE(w, 1000);
    distinct.insert(w);
    quarter[std::min<Millis>(w / 250, 3)]++;
    sum += static_cast<double>(w);
  }
  EXPECT_GT(distinct.size(), 900u);
  for (int q : quarter) {
    EXPECT_GT(q, n / 4 - n / 20);
    EXPECT_LT(q, n / 4 + n / 20);
  }
  EXPECT_NEAR(sum / n, 500.0, 20.0);
}

TEST(ConnectPolicy, ServerFloorRaisesTheNextWaitOnlyOnce) {
  ZeroRandom zero;
  ConnectPolicy p(ConnectConfig{}, zero);
  p.set_retry_floor(120000);
  EXPECT_EQ(wait_after_failed_rounds(p, 1, 1000), 120000);
  EXPECT_EQ(wait_after_failed_rounds(p, 1, 1000), 0) << "the floor applies to one wait";
}

TEST(ConnectPolicy, FloorBelowTheJitterDoesNotShortenIt) {
  SeededRandom rng(5);
  ConnectConfig c;
  c.retry_min_ms = 10000;
  int above_floor = 0;
  for (int i = 0; i < 200; ++i) {
    ConnectPolicy p(c, rng);
    p.set_retry_floor(3000);
    Millis w = wait_after_failed_rounds(p, 1);
    ASSERT_GE(w, 3000);
    ASSERT_LE(w, 10000);
    if (w > 3000) ++above_floor;
  }
  EXPECT_GT(above_floor, 100);
}

TEST(ConnectPolicy, DisconnectFloorAppliesToTheWaitAfterTheLinkGoesDown) {
  ZeroRandom zero;
  ConnectPolicy p(ConnectConfig{}, zero);
  p.start_round(0, 1);
  ConnectAction a = only_action(p, 0);
  ASSERT_TRUE(p.on_attempt_succeeded(a.attempt, 100));
  p.set_retry_floor(60000);  // disconnect.retry_after_s = 60
  EXPECT_EQ(p.on_link_down(5000), 65000);
  EXPECT_EQ(p.state(), ConnectPolicy::State::waiting);
  EXPECT_EQ(p.next_deadline(), 65000);
}

TEST(ConnectPolicy, WelcomeResetsTheBackoffAndTheLinkLossWaitsAtMostRetryMin) {
  SeededRandom rng(9);
  ConnectConfig c;
  c.retry_min_ms = 1000;
  for (int i = 0; i < 100; ++i) {
    ConnectPolicy p(c, rng);
    wait_after_failed_rounds(p, 6);
    ASSERT_EQ(p.failed_rounds(), 6u);
    p.start_round(0, 1);
    ConnectAction a = p.poll(0);
    ASSERT_TRUE(p.on_attempt_succeeded(a.attempt, 10));
    EXPECT_EQ(p.failed_rounds(), 6u) << "an open link is not yet accepted";
    EXPECT_FALSE(p.link_accepted());
    p.on_link_accepted();
    EXPECT_TRUE(p.link_accepted());
    EXPECT_EQ(p.failed_rounds(), 0u);
    Millis retry = p.on_link_down(20);
    ASSERT_GE(retry, 20);
    ASSERT_LE(retry, 1020) << "bounded by retry_min again";
  }
}

// Opens a link on a fresh round at `now` and lets the server refuse it (it
// goes down without on_link_accepted); returns the wait chosen.
Millis wait_after_refused_link(ConnectPolicy& p, Millis now) {
  p.start_round(now, 1);
  ConnectAction a = p.poll(now);
  EXPECT_EQ(a.kind, Kind::start_attempt);
  EXPECT_TRUE(p.on_attempt_succeeded(a.attempt, now + 50));
  return p.on_link_down(now + 100) - (now + 100);
}

TEST(ConnectPolicy, RefusedLinksKeepDoublingTheBackoffUpToTheCap) {
  // PROTOCOL.md 1.5: a link the server refuses (error, 1008, a close before
  // welcome) counts as a failed round; only welcome resets the backoff.
  SeededRandom rng(13);
  ConnectConfig c;
  c.retry_min_ms = 1000;
  c.retry_max_ms = 16000;
  const Millis bounds[] = {1000, 2000, 4000, 8000, 16000, 16000, 16000};
  Millis max_wait[7] = {};
  for (int sample = 0; sample < 300; ++sample) {
    ConnectPolicy p(c, rng);
    Millis now = 0;
    for (int k = 0; k < 7; ++k) {
      Millis w = wait_after_refused_link(p, now);
      ASSERT_GE(w, 0);
      ASSERT_LE(w, bounds[k]) << "refusal " << k + 1;
      max_wait[k] = std::max(max_wait[k], w);
      now += 100 + w;
    }
    EXPECT_EQ(p.failed_rounds(), 7u);
  }
  for (int k = 0; k < 7; ++k) EXPECT_GT(max_wait[k], bounds[k] * 9 / 10) << "refusal " << k + 1;
}

TEST(ConnectPolicy, RefusalsAndFailedRoundsShareOneBackoff) {
  SeededRandom rng(17);
  ConnectConfig c;
  c.retry_min_ms = 1000;
  c.retry_max_ms = 300000;
  for (int i = 0; i < 100; ++i) {
    ConnectPolicy p(c, rng);
    wait_after_failed_rounds(p, 3);           // bounds 1, 2, 4 s
    Millis w = wait_after_refused_link(p, 0);  // the fourth: bound 8 s
    ASSERT_LE(w, 8000);
    ASSERT_LE(wait_after_failed_rounds(p, 1), 16000);
    EXPECT_EQ(p.failed_rounds(), 5u);
  }
}

TEST(ConnectPolicy, AcceptanceIsForgottenWhenTheLinkGoesDown) {
  // A welcome on one link does not make the next link accepted: a server
  // that welcomed once and then refuses is backed off again.
  ZeroRandom zero;
  ConnectConfig c;
  ConnectPolicy p(c, zero);
  p.start_round(0, 1);
  ConnectAction a = p.poll(0);
  ASSERT_TRUE(p.on_attempt_succeeded(a.attempt, 10));
  p.on_link_accepted();
  p.on_link_down(20);
  EXPECT_EQ(p.failed_rounds(), 1u);
  EXPECT_FALSE(p.link_accepted());
  wait_after_refused_link(p, 30);
  wait_after_refused_link(p, 300);
  EXPECT_EQ(p.failed_rounds(), 3u);
}

TEST(ConnectPolicy, ResetBackoffByHand) {
  SeededRandom rng(9);
  ConnectConfig c;
  c.retry_min_ms = 1000;
  for (int i = 0; i < 100; ++i) {
    ConnectPolicy p(c, rng);
    wait_after_failed_rounds(p, 6);
    p.reset_backoff();
    ASSERT_LE(wait_after_failed_rounds(p, 1), 1000);
  }
}

TEST(ConnectPolicy, ReportsAboutAttemptsThatAreGoneAreIgnored) {
  SeededRandom rng(1);
  ConnectPolicy p(config_with(0, 1000), rng);
  p.start_round(0, 1);
  ConnectAction first = only_action(p, 0);
  EXPECT_EQ(p.poll(1000).kind, Kind::abort_attempt);  // timed out
  ConnectAction second = only_action(p, 1000);
  // A late failure of the timed-out attempt must not start a third attempt
  // in parallel nor count twice.
  p.on_attempt_failed(first.attempt, Status(Reason::connect_refused), 1001);
  EXPECT_EQ(p.poll(1001).kind, Kind::nothing);
  EXPECT_FALSE(p.on_attempt_succeeded(first.attempt, 1002));
  EXPECT_FALSE(p.on_attempt_succeeded(12345, 1002));
  EXPECT_TRUE(p.on_attempt_succeeded(second.attempt, 1003));
}

TEST(ConnectPolicy, NewRoundAbortsAttemptsOfTheOldOneAndIgnoresTheirReports) {
  SeededRandom rng(1);
  ConnectPolicy p(config_with(300), rng);
  p.start_round(0, 1);
  ConnectAction a = only_action(p, 0);
  ConnectAction b = only_action(p, 300);
  p.start_round(400, 1);
  std::set<AttemptId> aborted;
  for (int i = 0; i < 2; ++i) {
    ConnectAction x = p.poll(400);
    ASSERT_EQ(x.kind, Kind::abort_attempt);
    aborted.insert(x.attempt);
  }
  EXPECT_EQ(aborted, (std::set<AttemptId>{a.attempt, b.attempt}));
  ConnectAction fresh = only_action(p, 400);
  expect_start(fresh, 0, 443);
  EXPECT_NE(fresh.attempt, a.attempt);
  EXPECT_NE(fresh.attempt, b.attempt);
  EXPECT_FALSE(p.on_attempt_succeeded(a.attempt, 410));
  EXPECT_EQ(p.state(), ConnectPolicy::State::connecting);
}

TEST(ConnectPolicy, TimesFarBeyond32BitsKeepExactMillisecondTiming) {
  SeededRandom rng(1);
  ConnectPolicy p(config_with(300), rng);
  const Millis t0 = (Millis{1} << 45) + 123;  // > 1000 years of uptime
  p.start_round(t0, 1);
  ConnectAction first = only_action(p, t0);
  EXPECT_EQ(p.next_deadline(), t0 + 300);
  EXPECT_EQ(p.poll(t0 + 299).kind, Kind::nothing);
  expect_start(only_action(p, t0 + 300), 0, 8443);
  EXPECT_EQ(p.poll(t0 + 4999).kind, Kind::nothing);
  ConnectAction t = p.poll(t0 + 5000);
  EXPECT_EQ(t.kind, Kind::abort_attempt);
  EXPECT_EQ(t.attempt, first.attempt);
}

TEST(ConnectPolicy, DeadlinesNearTheEndOfTimeSaturateInsteadOfWrapping) {
  SeededRandom rng(1);
  ConnectConfig c = config_with(300);
  c.retry_max_ms = 300000;
  ConnectPolicy p(c, rng);
  const Millis t0 = kNever - 100;
  p.start_round(t0, 1);
  expect_start(only_action(p, t0), 0, 443);
  EXPECT_EQ(p.poll(t0 + 50).kind, Kind::nothing) << "a wrapped deadline would time out at once";
  EXPECT_EQ(p.next_deadline(), kNever);
  p.start_round(t0, 0);
  p.poll(t0);  // abort of the old attempt
  ConnectAction failed = p.poll(t0);
  ASSERT_EQ(failed.kind, Kind::round_failed);
  EXPECT_GE(failed.retry_at, t0);
}

}  // namespace
}  // namespace sublink
