// Helpers shared by the scenario tests: a world built on the test PKI, and
// views of what the device stored and what reached the server.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "boards/sim/sim_scenarios.h"
#include "boards/sim/sim_world.h"

namespace sublink::test {

/// The standard world setup (PROTOCOL defaults) on the test PKI.
SimWorldSetup scenario_setup(uint64_t seed = 1);

/// Events of `kind` in the device's durable event record, oldest first.
std::vector<Event> stored_of(SimWorld& world, EventKind kind);

/// What the application behind the server received, in seq order.
const std::vector<DeviceEvent>& server_events(SimWorld& world);
/// Their kinds, in order.
std::vector<std::string> server_kinds(SimWorld& world);
/// How many of them are of `kind`.
size_t server_count(SimWorld& world, std::string_view kind);

/// Every event the device stored durably reached the application, once:
/// the server holds each of them under its seq, its seqs only grow, and an
/// event sent again (a lost event_ack) is byte for byte the one stored
/// under its seq (a seq is never reused for another event).
::testing::AssertionResult delivered_exactly_once(SimWorld& world);

/// The whole timeline, for failure messages.
std::string timeline_text(SimWorld& world);

}  // namespace sublink::test
