// What every device connection of the reference server shares: the TLS and
// WebSocket configuration, the session settings, the records, the license
// signer and the log. Owned by main; outlives every connection.
#pragma once

#include <cstddef>
#include <functional>

#include "linux_util/log/stderr_log.h"
#include "net/tls/tls_server.h"
#include "net/websocket/ws_server.h"
#include "server_core/directory.h"
#include "server_core/license_signer.h"
#include "server_core/server_session.h"
#include "server_core/server_tunnel.h"

namespace sublink {

class DeviceConnection;

/// Told what happens on connections that the operator waits on: a device's
/// answer to a request, and the end of a connection (no answer will come).
class ConnectionObserver {
 public:
  virtual ~ConnectionObserver() = default;
  virtual void on_response(DeviceConnection& connection, const DeviceResponse& response) = 0;
  /// The connection ended; `connection` is still valid during the call.
  virtual void on_ended(DeviceConnection& connection) = 0;
};

struct ServerContext {
  TlsServerConfig& tls;
  WsServerConfig ws;
  SessionSettings session;
  Directory& directory;
  LicenseSigner& signer;
  /// Which session links each system (PROTOCOL.md section 4, identity).
  IdentityRegistry& identities;
  StderrLog& log;
  /// Bytes of session messages a connection may hold while the device does
  /// not read them; beyond that the device is too slow and is dropped.
  size_t max_pending_bytes = 256 * 1024;
  /// The operator's control, when it listens (nullptr: nobody).
  ConnectionObserver* observer = nullptr;
  /// A connection's session produced output outside the connection's own
  /// calls (another connection's hello replaced it): the loop services it
  /// once the current work is done. Set by the loop.
  std::function<void(DeviceConnection&)> wake = nullptr;
  /// Hears about the tunnel channels of every link (the operator's
  /// forwards); nullptr: nobody forwards, and no link gets tunnels.
  ServerTunnelObserver* tunnel_observer = nullptr;
  /// What one link's tunnels may take.
  ServerTunnelLimits tunnel_limits{};
};

}  // namespace sublink
