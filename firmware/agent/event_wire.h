// A queued Event (firmware/events) as the protocol codec writes it: the
// envelope (seq, time, kind) plus the payload fields the kind uses, with
// names the server reads (severity, days_left, detail, serial, reason, ...).
#pragma once

#include <array>

#include "firmware/events/event.h"
#include "firmware/protocol/device_messages.h"

namespace sublink {

struct WireEvent {
  EventMessage message;
  std::array<EventAttribute, 7> attributes{};
};

/// Fills `out` from `event`; `out.message` points into `event` and `out`,
/// so both must stay where they are while it is used.
void to_wire_event(const Event& event, WireEvent& out);

}  // namespace sublink
