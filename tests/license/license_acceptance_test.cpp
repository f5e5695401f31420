#include "firmware/license/license_acceptance.h"

#include <gtest/gtest.h>

#include <deque>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "firmware/json/json_arena.h"
#include "test_license_signer.h"

namespace sublink {
namespace {

constexpr Millis kIssued = 1'700'000'000'000;
constexpr Millis kNotBefore = 1'700'000'100'000;
constexpr Millis kExpires = 1'731'536'000'000;

struct Spec {
  std::string serial = "L-0001";
  std::string customer = "C-42";
  std::string system = "SYS-7";
  Millis issued = kIssued;
  std::string features = R"([{"name":"trunks","qty":30},{"name":"recording","qty":1},{"name":"fax","qty":0}])";

  std::string json() const {
    return R"({"serial":")" + serial + R"(","customer_id":")" + customer + R"(","system_id":")" + system +
           R"(","issued":)" + std::to_string(issued) + R"(,"not_before":)" + std::to_string(kNotBefore) +
           R"(,"expires":)" + std::to_string(kExpires) + R"(,"features":)" + features + "}";
  }
};

class LicenseAcceptance : public ::testing::Test {
 protected:
  void SetUp() override {
    arena.install();
    ASSERT_TRUE(key.load(signer.public_key_pem()).ok());
  }

  LicenseGrantFields grant_for(const std::string& license_json) {
    bodies.push_back(test::base64url_encode(license_json));
    auto sig = signer.sign(license_json);
    sigs.push_back(test::base64url_encode(sig));
    return {bodies.back(), sigs.back(), "ES256"};
  }

  LicenseDecision accept(const LicenseGrantFields& grant, std::optional<Millis> now = kNotBefore + 1000,
                         const License* held = nullptr) {
    LicenseContext context{"C-42", "SYS-7", now, held};
    return accept_license_grant(key, grant, context, *scratch);
  }

  LicenseRefusal refusal_for(const std::string& json) { return accept(grant_for(json)).refusal; }

  std::vector<uint8_t> arena_storage = std::vector<uint8_t>(16384);
  JsonArena arena{arena_storage};
  test::TestLicenseSigner signer;
  LicenseKey key;
  std::unique_ptr<License> scratch = std::make_unique<License>();
  std::deque<std::string> bodies, sigs;  // deque: grant views stay valid as it grows
  void TearDown() override { EXPECT_EQ(arena.live_blocks(), 0u) << "a JSON tree leaked"; }
};

TEST_F(LicenseAcceptance, AcceptsAValidGrantAndAnswersFeatureQueries) {
  LicenseDecision d = accept(grant_for(Spec{}.json()));
  ASSERT_TRUE(d.accepted()) << license_refusal_name(d.refusal);
  const LicenseTerms& t = scratch->terms;
  EXPECT_EQ(t.serial.view(), "L-0001");
  EXPECT_EQ(t.customer_id.view(), "C-42");
  EXPECT_EQ(t.system_id.view(), "SYS-7");
  EXPECT_EQ(t.issued, kIssued);
  EXPECT_EQ(t.not_before, kNotBefore);
  EXPECT_EQ(t.expires, kExpires);
  ASSERT_EQ(t.feature_count, 3u);
  EXPECT_TRUE(t.feature_on("trunks"));
  EXPECT_EQ(t.quantity("trunks"), 30u);
  EXPECT_TRUE(t.feature_on("recording"));
  EXPECT_FALSE(t.feature_on("fax")) << "a quantity of 0 is not a licensed feature";
  EXPECT_FALSE(t.feature_on("video"));
  EXPECT_EQ(t.quantity("video"), 0u);
  EXPECT_FALSE(t.feature_on("trunk")) << "names match exactly";
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(scratch->signed_form.bytes.data()), scratch->signed_form.size),
            Spec{}.json());
  EXPECT_GT(arena.high_water(), 0u);
}

TEST_F(LicenseAcceptance, RefusesOtherAlgorithms) {
  auto grant = grant_for(Spec{}.json());
  for (std::string_view alg : {"es256", "RS256", "none", "ES384", ""}) {
    grant.alg = alg;
    EXPECT_EQ(accept(grant).refusal, LicenseRefusal::unsupported_alg) << alg;
  }
}

TEST_F(LicenseAcceptance, RefusesBadEncodingOfLicenseOrSignature) {
  auto good = grant_for(Spec{}.json());
  std::string padded = std::string(good.license) + "=";
  auto g = good;
  g.license = padded;
  EXPECT_EQ(accept(g).refusal, LicenseRefusal::bad_encoding);
  std::string std_alphabet = std::string(good.sig);
  std_alphabet[0] = '+';
  g = good;
  g.sig = std_alphabet;
  EXPECT_EQ(accept(g).refusal, LicenseRefusal::bad_encoding);
}

TEST_F(LicenseAcceptance, RefusesTruncatedOrForeignSignatures) {
  auto good = grant_for(Spec{}.json());
  std::string truncated = std::string(good.sig).substr(0, 84);  // 63 bytes
  auto g = good;
  g.sig = truncated;
  EXPECT_EQ(accept(g).refusal, LicenseRefusal::bad_signature);
  g.sig = "";
  EXPECT_EQ(accept(g).refusal, LicenseRefusal::bad_signature);
  std::string very_long(400, 'A');
  g.sig = very_long;
  EXPECT_EQ(accept(g).refusal, LicenseRefusal::bad_signature);

  // The signature of another license over these bytes.
  Spec other;
  other.serial = "L-0002";
  auto other_grant = grant_for(other.json());
  g = good;
  g.sig = other_grant.sig;
  EXPECT_EQ(accept(g).refusal, LicenseRefusal::bad_signature);

  test::TestLicenseSigner stranger;
  std::string forged = test::base64url_encode(stranger.sign(Spec{}.json()));
  g = good;
  g.sig = forged;
  EXPECT_EQ(accept(g).refusal, LicenseRefusal::bad_signature);
}

TEST_F(LicenseAcceptance, RefusesWithoutAKey) {
  LicenseKey empty;
  LicenseContext context{"C-42", "SYS-7", kNotBefore, nullptr};
  EXPECT_EQ(accept_license_grant(empty, grant_for(Spec{}.json()), context, *scratch).refusal, LicenseRefusal::no_key);
}

TEST_F(LicenseAcceptance, RefusesAnotherCustomerOrSystem) {
  Spec s;
  s.customer = "C-43";
  EXPECT_EQ(refusal_for(s.json()), LicenseRefusal::wrong_customer);
  s = Spec{};
  s.system = "SYS-7 ";
  EXPECT_EQ(refusal_for(s.json()), LicenseRefusal::wrong_system);
  s = Spec{};
  s.system = "sys-7";
  EXPECT_EQ(refusal_for(s.json()), LicenseRefusal::wrong_system);
}

TEST_F(LicenseAcceptance, AppliesTheValidityWindowInclusivelyByServerTime) {
  auto grant = grant_for(Spec{}.json());
  EXPECT_EQ(accept(grant, kNotBefore - kServerClockLagMs - 1).refusal, LicenseRefusal::not_yet_valid);
  EXPECT_EQ(accept(grant, kNotBefore - kServerClockLagMs).refusal, LicenseRefusal::none)
      << "the device's estimate of the server clock trails it by a message's transit time";
  EXPECT_EQ(accept(grant, kNotBefore).refusal, LicenseRefusal::none);
  EXPECT_EQ(accept(grant, kExpires).refusal, LicenseRefusal::none);
  EXPECT_EQ(accept(grant, kExpires + 1).refusal, LicenseRefusal::expired);
  EXPECT_EQ(accept(grant, 0).refusal, LicenseRefusal::not_yet_valid);
  EXPECT_EQ(accept(grant, std::nullopt).refusal, LicenseRefusal::no_server_time);
}

TEST_F(LicenseAcceptance, RefusesReplayOfAnEqualOrOlderIssue) {
  License held;
  ASSERT_TRUE(accept_license_grant(key, grant_for(Spec{}.json()), {"C-42", "SYS-7", kNotBefore, nullptr}, held)
                  .accepted());
  EXPECT_EQ(accept(grant_for(Spec{}.json()), kNotBefore, &held).refusal, LicenseRefusal::replayed);
  Spec older;
  older.issued = kIssued - 1;
  older.serial = "L-0000";
  EXPECT_EQ(accept(grant_for(older.json()), kNotBefore, &held).refusal, LicenseRefusal::replayed);
  Spec newer;
  newer.issued = kIssued + 1;
  newer.serial = "L-0002";
  EXPECT_EQ(accept(grant_for(newer.json()), kNotBefore, &held).refusal, LicenseRefusal::none);
}

TEST_F(LicenseAcceptance, BoundsFeatureCountAndNameLength) {
  auto features = [](size_t n) {
    std::string f = "[";
    for (size_t i = 0; i < n; ++i) f += (i ? "," : "") + std::string(R"({"name":"feature-)") + std::to_string(i) + R"(","qty":1})";
    return f + "]";
  };
  Spec s;
  s.features = features(kMaxLicenseFeatures);
  ASSERT_EQ(refusal_for(s.json()), LicenseRefusal::none);
  EXPECT_EQ(scratch->terms.feature_count, kMaxLicenseFeatures);
  EXPECT_TRUE(scratch->terms.feature_on("feature-31"));
  RecordProperty("arena_high_water_32_features", static_cast<int>(arena.high_water()));
  RecordProperty("sizeof_License", static_cast<int>(sizeof(License)));
  s.features = features(kMaxLicenseFeatures + 1);
  EXPECT_EQ(refusal_for(s.json()), LicenseRefusal::too_many_features);

  s = Spec{};
  s.features = R"([{"name":")" + std::string(kMaxFeatureNameLength, 'n') + R"(","qty":1}])";
  EXPECT_EQ(refusal_for(s.json()), LicenseRefusal::none);
  s.features = R"([{"name":")" + std::string(kMaxFeatureNameLength + 1, 'n') + R"(","qty":1}])";
  LicenseDecision d = accept(grant_for(s.json()));
  EXPECT_EQ(d.refusal, LicenseRefusal::field_too_long);
  EXPECT_STREQ(d.json.field, "name");
  EXPECT_STREQ(d.json.parent, "features");
  EXPECT_EQ(d.json.index, 0);

  s = Spec{};
  s.serial = std::string(kMaxLicenseIdLength + 1, 's');
  d = accept(grant_for(s.json()));
  EXPECT_EQ(d.refusal, LicenseRefusal::field_too_long);
  EXPECT_STREQ(d.json.field, "serial");
}

TEST_F(LicenseAcceptance, RefusesADuplicateFeature) {
  Spec s;
  s.features = R"([{"name":"trunks","qty":30},{"name":"trunks","qty":300}])";
  EXPECT_EQ(refusal_for(s.json()), LicenseRefusal::duplicate_feature);
}

TEST_F(LicenseAcceptance, NamesTheFieldThatIsMissingMistypedOrOutOfRange) {
  struct Case {
    std::string json;
    const char* field;
    JsonProblem problem;
  };
  Spec s;
  std::string base = s.json();
  auto replace = [&](const std::string& from, const std::string& to) {
    std::string out = base;
    out.replace(out.find(from), from.size(), to);
    return out;
  };
  std::vector<Case> cases = {
      {replace(R"("serial":"L-0001",)", ""), "serial", JsonProblem::missing},
      {replace(R"("issued":1700000000000)", R"("issued":"1700000000000")"), "issued", JsonProblem::wrong_type},
      {replace(R"("issued":1700000000000)", R"("issued":1.7e300)"), "issued", JsonProblem::out_of_range},
      {replace(R"("issued":1700000000000)", R"("issued":9007199254740993)"), "issued", JsonProblem::out_of_range},
      {replace(R"("issued":1700000000000)", R"("issued":1700000000000.5)"), "issued", JsonProblem::wrong_type},
      {replace(R"("expires":1731536000000)", R"("expires":null)"), "expires", JsonProblem::wrong_type},
      {replace(R"("qty":30)", R"("qty":-1)"), "qty", JsonProblem::out_of_range},
      {replace(R"("qty":30)", R"("qty":4294967296)"), "qty", JsonProblem::out_of_range},
      {replace(R"("qty":30)", R"("qty":true)"), "qty", JsonProblem::wrong_type},
      {replace(R"("name":"trunks",)", ""), "name", JsonProblem::missing},
      {replace(R"("features":[)", R"("features":{"a":[)") + "}", "features", JsonProblem::wrong_type},
  };
  for (const Case& c : cases) {
    LicenseDecision d = accept(grant_for(c.json));
    EXPECT_EQ(d.refusal, LicenseRefusal::bad_field) << c.json;
    EXPECT_STREQ(d.json.field, c.field) << c.json;
    EXPECT_EQ(d.json.problem, c.problem) << c.json;
  }
}

TEST_F(LicenseAcceptance, RefusesTimesOutsideTheirRangeOrOutOfOrder) {
  // Times are UTC ms within [0, kMaxLicenseTimeMs]; a license cannot end
  // before it starts or before it was issued.
  struct Case {
    std::string from, to;
    const char* field;
    JsonProblem problem;
  };
  const std::string year_10000 = std::to_string(kMaxLicenseTimeMs + 1);
  const Case cases[] = {
      {R"("issued":1700000000000)", R"("issued":-1)", "issued", JsonProblem::out_of_range},
      {R"("not_before":1700000100000)", R"("not_before":-9007199254740991)", "not_before", JsonProblem::out_of_range},
      {R"("expires":1731536000000)", R"("expires":)" + year_10000, "expires", JsonProblem::out_of_range},
      {R"("expires":1731536000000)", R"("expires":9007199254740991)", "expires", JsonProblem::out_of_range},
      {R"("expires":1731536000000)", R"("expires":1700000099999)", "expires", JsonProblem::bad_value},
      {R"("issued":1700000000000)", R"("issued":1731536000001)", "expires", JsonProblem::bad_value},
  };
  const std::string base = Spec{}.json();
  for (const Case& c : cases) {
    std::string json = base;
    json.replace(json.find(c.from), c.from.size(), c.to);
    LicenseDecision d = accept(grant_for(json));
    EXPECT_EQ(d.refusal, LicenseRefusal::bad_field) << json;
    EXPECT_STREQ(d.json.field, c.field) << json;
    EXPECT_EQ(d.json.problem, c.problem) << json;
  }
  std::string at_the_limit = base;
  const std::string expires = R"("expires":1731536000000)";
  at_the_limit.replace(at_the_limit.find(expires), expires.size(), R"("expires":)" + std::to_string(kMaxLicenseTimeMs));
  EXPECT_EQ(accept(grant_for(at_the_limit)).refusal, LicenseRefusal::none) << "the top of the range is in range";
}

TEST_F(LicenseAcceptance, RefusesSignedBytesThatAreNotOneJsonObject) {
  std::string deep = std::string(200, '[') + std::string(200, ']');
  for (const std::string& bad : {std::string("not json"), std::string("[1,2]"), std::string("\"str\""),
                                 Spec{}.json() + "{}", Spec{}.json().substr(0, 40), std::string(""),
                                 R"({"serial":"x)" + deep, deep}) {
    EXPECT_EQ(refusal_for(bad), LicenseRefusal::bad_json) << bad;
  }
  // A customer id cut at an embedded NUL must not compare equal to ours.
  Spec s;
  s.customer = R"(C-42\u0000evil)";
  EXPECT_EQ(refusal_for(s.json()), LicenseRefusal::bad_json);
}

TEST_F(LicenseAcceptance, RefusesARawControlCharacterEvenWhenSigned) {
  // Signed bytes that say system "SYS-7" NUL "X" are a license for another
  // system name; cJSON alone would read "SYS-7" and accept it here.
  Spec nul;
  nul.system = std::string("SYS-7\0X", 7);
  LicenseDecision d = accept(grant_for(nul.json()));
  EXPECT_EQ(d.refusal, LicenseRefusal::bad_json);
  EXPECT_EQ(d.json.problem, JsonProblem::control_char);
  EXPECT_EQ(d.json.byte, 0);
  Spec tab;
  tab.serial = "L-0001\t";
  EXPECT_EQ(refusal_for(tab.json()), LicenseRefusal::bad_json);
  Spec escaped;
  escaped.serial = "L-0001\\t";  // the same character, escaped: valid JSON
  EXPECT_TRUE(accept(grant_for(escaped.json())).accepted());
}

TEST_F(LicenseAcceptance, DecodesEscapedAndUnicodeIdentities) {
  Spec s;
  s.customer = R"(C-\u0034\u0032)";  // "C-42" spelt with escapes
  EXPECT_EQ(refusal_for(s.json()), LicenseRefusal::none);
  s = Spec{};
  s.serial = R"(L-\u00e9\ud83d\ude00\"q\"\\)";
  ASSERT_EQ(refusal_for(s.json()), LicenseRefusal::none);
  EXPECT_EQ(scratch->terms.serial.view(), "L-\xC3\xA9\xF0\x9F\x98\x80\"q\"\\");
}

TEST_F(LicenseAcceptance, RefusesLicensesBeyondTheStorageBound) {
  Spec s;
  s.serial = "L";
  std::string big = s.json();
  big.insert(1, R"("pad":")" + std::string(kMaxLicenseBytes, 'p') + R"(",)");
  EXPECT_EQ(refusal_for(big), LicenseRefusal::too_large);
}

TEST_F(LicenseAcceptance, ReportsJsonThatOverflowsTheArenaAsBadJson) {
  std::vector<uint8_t> tiny_storage(512);
  JsonArena tiny(tiny_storage);
  tiny.install();
  EXPECT_EQ(refusal_for(Spec{}.json()), LicenseRefusal::bad_json);
  EXPECT_GT(tiny.failed_allocations(), 0u);
  EXPECT_EQ(tiny.live_blocks(), 0u);
  arena.install();
  EXPECT_EQ(refusal_for(Spec{}.json()), LicenseRefusal::none);
}

TEST(LicenseRefusalNames, AreDistinctAndStable) {
  EXPECT_STREQ(license_refusal_name(LicenseRefusal::bad_signature), "bad_signature");
  EXPECT_STREQ(license_refusal_name(LicenseRefusal::replayed), "replayed");
  std::set<std::string> names;
  for (int i = 0; i <= static_cast<int>(LicenseRefusal::bad_record); ++i) {
    names.insert(license_refusal_name(static_cast<LicenseRefusal>(i)));
  }
  EXPECT_EQ(names.size(), static_cast<size_t>(LicenseRefusal::bad_record) + 1);
  EXPECT_EQ(names.count("unknown"), 0u);
}

}  // namespace
}  // namespace sublink
