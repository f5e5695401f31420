// The operator's device list: the records merged with the live links.
#include "tools/server/fleet_listing.h"

#include <gtest/gtest.h>

#include "server_core/json_text.h"

namespace sublink {
namespace {

SystemSummary system(std::string id, std::optional<ConnectionHistory> last = std::nullopt,
                     std::optional<std::string> serial = std::nullopt) {
  return {std::move(id), "CUST-1", std::move(last), std::move(serial), std::nullopt};
}

SessionInfo link(std::string id, uint16_t port, Millis since, Millis contact) {
  SessionInfo s;
  s.system_id = std::move(id);
  s.customer_id = "CUST-1";
  s.peer = "127.0.0.1:" + std::to_string(40000 + port);
  s.port = port;
  s.welcomed = true;
  s.connected_since = since;
  s.last_contact = contact;
  s.license_serial = "L-" + std::to_string(port);
  return s;
}

TEST(FleetListingTest, ALiveLinkShowsItselfAndASystemWithoutOneItsRecords) {
  ConnectionHistory ended;
  ended.record = {"SYS-2", "CUST-1", 443, "127.0.0.1:5000", 100};
  ended.down = 400;
  ended.last_contact = 350;
  const std::vector<DeviceRow> rows =
      merge_fleet({system("SYS-1", std::nullopt, "L-1"), system("SYS-2", ended, "L-9"), system("SYS-3")},
                  {link("SYS-1", 8443, 1000, 1500)});
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_TRUE(rows[0].up);
  EXPECT_EQ(rows[0].port, 8443);
  EXPECT_EQ(rows[0].last_contact, 1500);
  EXPECT_EQ(rows[0].serial, "L-8443") << "the serial held on the link, not the records' latest";
  EXPECT_FALSE(rows[1].up);
  EXPECT_FALSE(rows[1].port.has_value()) << "no port without a link";
  EXPECT_EQ(rows[1].last_contact, 350);
  EXPECT_EQ(rows[1].serial, "L-9");
  EXPECT_FALSE(rows[2].last_contact.has_value()) << "never seen";
}

TEST(FleetListingTest, TheNewestOfSeveralLinksWinsAndUnregisteredLinksShow) {
  const std::vector<DeviceRow> rows =
      merge_fleet({system("SYS-1")}, {link("SYS-1", 443, 2000, 2100), link("SYS-1", 8443, 1000, 2200),
                                      link("SYS-0", 443, 5, 6)});
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].system_id, "SYS-0") << "a linked system removed from the records still shows";
  EXPECT_EQ(rows[1].port, 443) << "the link that came up last";
}

TEST(FleetListingTest, ARecordedLinkWithoutAnEndIsDownAndLastHeardAtItsStart) {
  ConnectionHistory open;  // the server stopped hard while it was up
  open.record = {"SYS-1", "CUST-1", 443, "127.0.0.1:5000", 100};
  const std::vector<DeviceRow> rows = merge_fleet({system("SYS-1", open)}, {});
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_FALSE(rows[0].up);
  EXPECT_EQ(rows[0].last_contact, 100);
}

TEST(FleetListingTest, ARowIsTheContractsJsonObject) {
  DeviceRow up{"SYS-1", "CUST-1", true, 443, "127.0.0.1:5000", 1234, "L-2", "L-1", false, std::nullopt};
  Result<std::string> text = write_json_text([&](JsonWriter& w) { write_device_row(w, up); });
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text,
            R"({"system_id":"SYS-1","customer_id":"CUST-1","link":"up","port":443,"peer":"127.0.0.1:5000",)"
            R"("last_contact":1234,"serial":"L-2","held":"L-1","blackholed":false,"alarms":[]})");
  DeviceRow down{"SYS-2", "CUST-1", false, std::nullopt, std::nullopt, std::nullopt, std::nullopt, std::nullopt, false, std::nullopt};
  text = write_json_text([&](JsonWriter& w) { write_device_row(w, down); });
  EXPECT_EQ(*text,
            R"({"system_id":"SYS-2","customer_id":"CUST-1","link":"down","port":null,"peer":null,)"
            R"("last_contact":null,"serial":null,"held":null,"blackholed":false,"alarms":[]})");
  down.duplicate_identity = SystemAlarm{"SYS-2", "duplicate_identity", 99, "a and b", std::nullopt};
  text = write_json_text([&](JsonWriter& w) { write_device_row(w, down); });
  EXPECT_EQ(*text,
            R"({"system_id":"SYS-2","customer_id":"CUST-1","link":"down","port":null,"peer":null,)"
            R"("last_contact":null,"serial":null,"held":null,"blackholed":false,)"
            R"("alarms":[{"kind":"duplicate_identity","raised":99,"detail":"a and b"}]})");
}

}  // namespace
}  // namespace sublink
