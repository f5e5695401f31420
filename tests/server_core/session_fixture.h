// A ServerSession under test: in-memory records, the test signer, and the
// device played by hand with the device's own message builders.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "agent/agent_rig.h"
#include "firmware/license/license_key.h"
#include "license/test_license_signer.h"
#include "server_core/memory_directory.h"
#include "server_core/server_session.h"

namespace sublink::test {

class SessionTest : public ::testing::Test {
 protected:
  SessionTest();

  /// A new connection whose certificate names `cn`.
  void open(const std::string& cn = "SYS-7");
  /// The device's hello (built by the device codec) with `proto`.
  static std::string hello(int64_t id = 1, const std::string& customer = "C-42", const std::string& system = "SYS-7",
                           int64_t proto = 1, std::optional<std::string_view> serial = std::nullopt);
  /// open() + hello + the welcome taken.
  void welcomed();
  /// The device says `text` at `now`.
  void say(const std::string& text);
  /// Takes the output: the messages parsed (kept in `last_close`).
  std::vector<std::unique_ptr<Sent>> take();
  /// take() expecting exactly one message.
  std::unique_ptr<Sent> take_one();
  /// A license_request for `features` (JSON array text).
  static std::string license_request(int64_t id, const std::string& features);

  TestLicenseSigner signer;
  LicenseKey key;
  MemoryDirectory directory;
  IdentityRegistry identities;
  SessionSettings settings;
  Millis now = kT0;
  std::unique_ptr<ServerSession> session;
  std::optional<CloseRequest> last_close;
};

}  // namespace sublink::test
