#include "server_db/directory_backends.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>

namespace sublink {

namespace {

template <class T>
T value_or_fail(Result<T> result) {
  EXPECT_TRUE(result.ok()) << "SQLite failure " << result.status().detail();
  return result.ok() ? std::move(*result) : T{};
}

}  // namespace

SqliteBackend::SqliteBackend() {
  char dir[] = "/tmp/sublink-db-XXXXXX";
  if (mkdtemp(dir) != nullptr) dir_ = dir;
  path_ = dir_ + "/server.db";
  reopen();
}

SqliteBackend::~SqliteBackend() {
  directory_.reset();
  for (const char* suffix : {"", "-journal", "-wal", "-shm"}) std::remove((path_ + suffix).c_str());
  if (!dir_.empty()) rmdir(dir_.c_str());
}

void SqliteBackend::reopen() {
  directory_.reset();
  Result<std::unique_ptr<SqliteDirectory>> opened = SqliteDirectory::open(path_);
  EXPECT_TRUE(opened.ok()) << "open " << path_ << ": " << opened.status().detail();
  if (opened.ok()) directory_ = std::move(*opened);
}

void SqliteBackend::put_system(SystemRecord record) { EXPECT_TRUE(directory_->put_system(record).ok()); }

void SqliteBackend::put_customer(const std::string& id) { EXPECT_TRUE(directory_->put_customer(id).ok()); }

void SqliteBackend::set_failing(bool failing) { directory_->fail_every_call(failing); }

std::vector<RevocationRecord> SqliteBackend::revocations() { return value_or_fail(directory_->revocations()); }
std::vector<ConnectionHistory> SqliteBackend::connections() { return value_or_fail(directory_->connections()); }
std::vector<DeviceEvent> SqliteBackend::events(const std::string& system_id) {
  return value_or_fail(directory_->events(system_id));
}
std::vector<AuditRecord> SqliteBackend::audits(const std::string& system_id) {
  return value_or_fail(directory_->audits(system_id));
}
size_t SqliteBackend::issued_count() {
  size_t n = 0;
  for (const char* system : {"SYS-7", "SYS-8"}) n += value_or_fail(directory_->issued(system)).size();
  return n;
}

}  // namespace sublink
