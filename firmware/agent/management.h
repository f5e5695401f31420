// Management requests (PROTOCOL.md section 4, `request`): the server asks,
// the device answers on the same link. The methods are a table, one row
// per method of firmware/config's ManagementMethod (where their wire names
// are listed, once); a method the configuration does not allow is refused
// with not_allowed, one the agent does not know with unknown_method.
//
// Shaped like GraceClock: a request in, the answer (and what the method
// asks of the other services) out to the Outbox. It keeps no state of its
// own: the agent makes one for each request.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "firmware/agent/agent_status.h"
#include "firmware/agent/audit_service.h"
#include "firmware/agent/event_delivery.h"
#include "firmware/agent/license_service.h"
#include "firmware/agent/outbox.h"
#include "firmware/agent/agent_tunnels.h"
#include "firmware/config/device_config.h"
#include "firmware/protocol/server_messages.h"

namespace sublink {

/// Where `status.get` reads the status from (the agent).
class StatusSource {
 public:
  /// The section 7 status now.
  virtual AgentStatus snapshot() const = 0;

 protected:
  ~StatusSource() = default;
};

class Management {
 public:
  struct Parts {
    std::span<const std::string_view> allowed_methods;
    const StatusSource& status;
    LicenseService& license;
    AuditService& audit;
    const EventDelivery& events;
    Outbox& outbox;
    /// The device's tunnels; nullptr on a board without them (tunnels.list
    /// then answers an empty list).
    const AgentTunnels* tunnels = nullptr;
  };
  explicit Management(const Parts& parts) : p_(parts) {}

  /// Answers `request` number `id`.
  void on_request(const Request& request, int64_t id, Millis now);

 private:
  /// One method: answers request `id` (the outbox holds the answer).
  using Handler = void (Management::*)(const Request& request, int64_t id, Millis now);
  struct Method {
    Handler handle;
    /// params must be absent, null or an object (checked before handle);
    /// false: the method reads and checks its own.
    bool object_params;
  };
  static const Method kMethods[kManagementMethodCount];

  void status_get(const Request& request, int64_t id, Millis now);
  void license_refresh(const Request& request, int64_t id, Millis now);
  void audit_now(const Request& request, int64_t id, Millis now);
  void events_get(const Request& request, int64_t id, Millis now);
  /// tunnels.list: {channels: [...]}, the open channels.
  void tunnels_list(const Request& request, int64_t id, Millis now);

  bool allowed(std::string_view method) const;
  void answer_error(int64_t id, std::string_view code, std::string_view message);
  void answer_empty(int64_t id);

  Parts p_;
};

}  // namespace sublink
