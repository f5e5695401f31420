#include "tools/server/admin_commands.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "tools/server/db/sqlite_directory.h"

namespace sublink {

namespace {

constexpr const char* kCommands[] = {"init-db", "add-customer", "add-system", "entitle"};

struct AdminArgs {
  std::string db;
  std::string customer;
  std::optional<int64_t> until;
  bool suspended = false;
  std::vector<std::string> positional;
};

bool parse(int argc, char** argv, AdminArgs& args) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--suspended") {
      args.suspended = true;
    } else if ((a == "--db" || a == "--customer" || a == "--until") && i + 1 < argc) {
      const char* value = argv[++i];
      if (a == "--db") args.db = value;
      if (a == "--customer") args.customer = value;
      if (a == "--until") {
        char* end = nullptr;
        args.until = std::strtoll(value, &end, 10);
        if (*end != '\0') return false;
      }
    } else if (a.rfind("--", 0) == 0) {
      return false;
    } else {
      args.positional.push_back(a);
    }
  }
  return !args.db.empty();
}

// QTY as the admin command reads it: digits only, 0 to 4294967295.
bool parse_quantity(const std::string& text, int64_t& out) {
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos || text.size() > 10) return false;
  const long long v = std::strtoll(text.c_str(), nullptr, 10);
  if (v > UINT32_MAX) return false;
  out = v;
  return true;
}

int failed(const char* command, SqliteDirectory* db, Status s) {
  fprintf(stderr, "sublink-server %s: %s (%d)%s%s\n", command, reason_name(s.reason()), s.detail(), db ? ": " : "",
          db ? db->error_message().c_str() : "");
  return 1;
}

}  // namespace

Status register_system(SqliteDirectory& db, SystemRecord record) {
  // Re-adding a system keeps what it is entitled to.
  record.entitlements.clear();
  Result<SystemLookup> known = db.find_system(record.customer_id, record.system_id);
  if (!known.ok()) return known.status();
  if (known->match == SystemMatch::found) record.entitlements = known->record.entitlements;
  return db.put_system(record);
}

bool is_admin_command(const char* name) {
  for (const char* c : kCommands) {
    if (std::strcmp(c, name) == 0) return true;
  }
  return false;
}

int run_admin_command(int argc, char** argv) {
  const std::string command = argv[0];
  AdminArgs args;
  const size_t want = command == "init-db" ? 0 : command == "entitle" ? 3 : 1;
  // add-customer takes an optional display name.
  const size_t allowed = command == "add-customer" ? 2 : want;
  if (!parse(argc, argv, args) || args.positional.size() < want || args.positional.size() > allowed ||
      (command == "add-system" && args.customer.empty())) {
    const char* usage = command == "init-db"        ? "init-db --db FILE"
                        : command == "add-customer" ? "add-customer --db FILE CUSTOMER_ID [NAME]"
                        : command == "add-system"
                            ? "add-system --db FILE --customer CUSTOMER_ID [--until UTC_MS] [--suspended] SYSTEM_ID"
                            : "entitle --db FILE SYSTEM_ID FEATURE QTY";
    fprintf(stderr, "sublink-server %s: usage: sublink-server %s\ntry 'sublink-server --help'\n", command.c_str(),
            usage);
    return 2;
  }
  // As the running server's admin commands: no empty id, name or feature
  // (an empty --db or --customer is bad usage above).
  for (const std::string& a : args.positional) {
    if (a.empty()) {
      fprintf(stderr, "sublink-server %s: an argument is empty\ntry 'sublink-server --help'\n", command.c_str());
      return 2;
    }
  }
  int64_t qty = 0;
  if (command == "entitle" && !parse_quantity(args.positional[2], qty)) {
    fprintf(stderr,
            "sublink-server entitle: QTY must be a whole number from 0 to 4294967295, not '%s'\n"
            "try 'sublink-server --help'\n",
            args.positional[2].c_str());
    return 2;
  }
  // Only init-db makes a database: a mistyped --db is named, not created.
  std::string why;
  const auto mode = command == "init-db" ? SqliteDirectory::OpenMode::create : SqliteDirectory::OpenMode::existing;
  Result<std::unique_ptr<SqliteDirectory>> opened = SqliteDirectory::open(args.db, 0, mode, &why);
  if (!opened.ok()) {
    struct stat st {};
    if (mode == SqliteDirectory::OpenMode::existing && ::stat(args.db.c_str(), &st) != 0 && errno == ENOENT) {
      fprintf(stderr, "sublink-server %s: no database '%s' (make one with 'sublink-server init-db --db %s')\n",
              command.c_str(), args.db.c_str(), args.db.c_str());
    } else {
      fprintf(stderr, "sublink-server %s: --db '%s': %s (SQLite %d)\n", command.c_str(), args.db.c_str(), why.c_str(),
              opened.status().detail());
    }
    return 1;
  }
  SqliteDirectory& db = **opened;
  Status s;
  if (command == "add-customer") {
    s = args.positional.size() > 1 ? db.put_customer(args.positional[0], args.positional[1])
                                   : db.put_customer(args.positional[0]);
  } else if (command == "add-system") {
    // A mistyped customer is caught here, not found later as a stray row.
    Result<std::optional<std::string>> customer = db.customer_name(args.customer);
    if (!customer.ok()) return failed(command.c_str(), &db, customer.status());
    if (!customer->has_value()) {
      fprintf(stderr, "sublink-server add-system: no customer %s (add-customer first)\n", args.customer.c_str());
      return 1;
    }
    SystemRecord record;
    record.customer_id = args.customer;
    record.system_id = args.positional[0];
    record.subscription_end = args.until.value_or(kNever);
    record.suspended = args.suspended;
    s = register_system(db, std::move(record));
  } else if (command == "entitle") {
    s = db.set_entitlement(args.positional[0], args.positional[1], static_cast<uint32_t>(qty));
    if (s.reason() == Reason::invalid_argument) {
      fprintf(stderr, "sublink-server entitle: no system '%s'\n", args.positional[0].c_str());
      return 1;
    }
  }
  return s.ok() ? 0 : failed(command.c_str(), &db, s);
}

}  // namespace sublink
