// What sublink-server does with the operator's commands (admin_request.h)
// arriving on its control socket: records changed in the database, messages
// pushed to linked devices, and the fault controls of the server loop. A
// command that waits for a device (request, revoke) is answered when the
// device's response arrives, the link ends, or its timeout passes; the loop
// goes on serving everything else meanwhile.
//
// Answers are one JSON object: {"ok":true, ...} or {"ok":false,"error":"..."}.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tools/server/admin_request.h"
#include "tools/server/admin_socket.h"
#include "tools/server/db/sqlite_directory.h"
#include "tools/server/server_context.h"
#include "tools/server/server_loop.h"
#include "tools/server/tunnel_forwards.h"

namespace sublink {

class AdminService final : public LoopExtension, private AdminRequestHandler, private ConnectionObserver {
 public:
  /// `loop`, `db`, `context` and `forwards` outlive the service; the
  /// service observes the connections of `context` until it is destroyed.
  AdminService(ServerLoop& loop, SqliteDirectory& db, ServerContext& context, TunnelForwards& forwards);
  ~AdminService() override;
  AdminService(const AdminService&) = delete;
  AdminService& operator=(const AdminService&) = delete;

  /// Listens on the control socket `path`; `error` says why not.
  Status listen(const std::string& path, std::string& error) { return socket_.listen(path, error); }

  // LoopExtension
  int watch_fd() const override { return socket_.fd(); }
  void on_ready(Millis now) override { socket_.on_ready(now); }
  Millis step(Millis now) override;

 private:
  /// A command waiting for a device's response.
  struct Wait {
    AdminClientId client = 0;
    DeviceConnection* connection = nullptr;
    int64_t request_id = 0;
    Millis deadline = kNever;
    int64_t timeout_s = 0;
    std::string system_id;
    std::string serial;  // revoke: the serial revoked
  };

  // AdminRequestHandler
  void on_request(AdminClientId client, std::string_view line, Millis now) override;
  // ConnectionObserver
  void on_response(DeviceConnection& connection, const DeviceResponse& response) override;
  void on_ended(DeviceConnection& connection) override;

  /// Runs `request`: the answer line, or "" when `client` waits for a device.
  std::string run(const AdminRequest& request, AdminClientId client, Millis now);
  std::string devices();
  std::string add_customer(const AdminRequest& request);
  std::string add_system(const AdminRequest& request);
  std::string entitle(const AdminRequest& request, Millis now);
  std::string revoke(const AdminRequest& request, AdminClientId client, Millis now);
  std::string disconnect(const AdminRequest& request, Millis now);
  std::string device_request(const AdminRequest& request, AdminClientId client, Millis now);
  std::string port(const AdminRequest& request);
  std::string drop(const AdminRequest& request, Millis now);
  std::string blackhole(const AdminRequest& request, Millis now);
  std::string clear_alarm(const AdminRequest& request, Millis now);
  std::string forward(const AdminRequest& request, Millis now);
  std::string tunnels(Millis now);

  /// The connection linking `system_id` that takes messages now; nullptr
  /// with `error` saying why not (not linked, or blackholed).
  DeviceConnection* served_link(const std::string& system_id, std::string& error);
  /// The database failed: the answer naming SQLite's message.
  std::string database_failed(Status s);
  void wait_for(AdminClientId client, DeviceConnection& connection, int64_t request_id, const AdminRequest& request,
                std::string serial, Millis now);
  /// Answers a finished wait (the device answered, the link ended or the
  /// time ran out).
  void finish(const Wait& wait, const DeviceResponse* response, std::string_view failure, Millis now);

  ServerLoop& loop_;
  SqliteDirectory& db_;
  ServerContext& context_;
  TunnelForwards& forwards_;
  AdminSocket socket_;
  std::vector<Wait> waits_;
};

}  // namespace sublink
