// The two Directory implementations behind one test interface, so every
// behaviour a session relies on is checked against both: the in-memory
// directory of tests and the simulation, and the reference server's SQLite
// one. A backend registers records, reads back what was stored and can make
// its records unavailable, as a database that is down or locked would be.
#pragma once

#include <sqlite3.h>

#include <memory>
#include <string>
#include <vector>

#include "server_core/memory_directory.h"
#include "tools/server/db/sqlite_directory.h"

namespace sublink {

class MemoryBackend {
 public:
  Directory& directory() { return directory_; }
  void put_system(SystemRecord record) { directory_.put_system(std::move(record)); }
  void put_customer(const std::string& id) { directory_.put_customer(id); }
  void set_failing(bool failing) { directory_.set_failing(failing); }

  std::vector<RevocationRecord> revocations() {
    std::vector<RevocationRecord> out;
    for (const RevocationRecord& r : directory_.revocations()) out.push_back({r.system_id, r.serial, r.reason, r.at});
    return out;
  }
  std::vector<ConnectionHistory> connections() {
    std::vector<ConnectionHistory> out;
    for (const ConnectionHistory& c : directory_.connections()) out.push_back(c);
    return out;
  }
  std::vector<DeviceEvent> events(const std::string& system_id) { return directory_.events(system_id); }
  std::vector<AuditRecord> audits(const std::string& system_id) {
    std::vector<AuditRecord> out;
    for (const AuditRecord& a : directory_.audits()) {
      if (a.system_id == system_id) out.push_back(a);
    }
    return out;
  }
  size_t issued_count() { return directory_.issued().size(); }

 private:
  MemoryDirectory directory_;
};

class SqliteBackend {
 public:
  SqliteBackend();
  ~SqliteBackend();

  Directory& directory() { return *directory_; }
  SqliteDirectory& sqlite() { return *directory_; }
  void put_system(SystemRecord record);
  void put_customer(const std::string& id);
  /// Every call fails as a broken database's would (failing), or works again.
  void set_failing(bool failing);
  /// Closes the database and opens the same file again.
  void reopen();
  const std::string& path() const { return path_; }

  std::vector<RevocationRecord> revocations();
  std::vector<ConnectionHistory> connections();
  std::vector<DeviceEvent> events(const std::string& system_id);
  std::vector<AuditRecord> audits(const std::string& system_id);
  size_t issued_count();

 private:
  std::string dir_;
  std::string path_;
  std::unique_ptr<SqliteDirectory> directory_;
};

}  // namespace sublink
