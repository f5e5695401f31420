#include "net/proxy/proxy_url.h"

#include <gtest/gtest.h>

#include <string>

namespace sublink {
namespace {

int32_t error_of(std::string_view url) {
  Result<ProxyUrl> r = parse_proxy_url(url);
  EXPECT_FALSE(r.ok()) << url;
  if (r.ok()) return 0;
  EXPECT_EQ(r.status().reason(), Reason::invalid_argument) << url;
  return r.status().detail();
}

constexpr int32_t E(ProxyUrlError e) { return static_cast<int32_t>(e); }

TEST(ProxyUrl, HostAndPortWithoutCredentials) {
  Result<ProxyUrl> r = parse_proxy_url("http://proxy.example.net:3128");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->host(), "proxy.example.net");
  EXPECT_EQ(r->port(), 3128);
  EXPECT_FALSE(r->has_credentials());
  EXPECT_EQ(r->user(), "");
}

TEST(ProxyUrl, SchemeIsCaseInsensitiveAndATrailingSlashIsAllowed) {
  Result<ProxyUrl> r = parse_proxy_url("HTTP://10.0.0.1:8080/");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->host(), "10.0.0.1");
  EXPECT_EQ(r->port(), 8080);
}

TEST(ProxyUrl, CredentialsArePercentDecoded) {
  Result<ProxyUrl> r = parse_proxy_url("http://dom%5Cuser:p%40ss%3Aword%25@proxy:3128");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->has_credentials());
  EXPECT_EQ(r->user(), "dom\\user");
  EXPECT_EQ(r->password(), "p@ss:word%");
  EXPECT_EQ(r->host(), "proxy");
}

TEST(ProxyUrl, UnescapedAtInThePasswordEndsAtTheLastAt) {
  Result<ProxyUrl> r = parse_proxy_url("http://user:p@ss@proxy:3128");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->user(), "user");
  EXPECT_EQ(r->password(), "p@ss");
  EXPECT_EQ(r->host(), "proxy");
}

TEST(ProxyUrl, UserWithoutPasswordAndEmptyPassword) {
  Result<ProxyUrl> a = parse_proxy_url("http://user@proxy:1");
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(a->has_credentials());
  EXPECT_EQ(a->password(), "");
  Result<ProxyUrl> b = parse_proxy_url("http://user:@proxy:65535");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->port(), 65535);
}

TEST(ProxyUrl, Ipv6LiteralInBrackets) {
  Result<ProxyUrl> r = parse_proxy_url("http://u:p@[2001:db8::1]:3128");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->host(), "2001:db8::1");
  EXPECT_EQ(r->port(), 3128);
  Result<ProxyUrl> loop = parse_proxy_url("http://[::1]:8888");
  ASSERT_TRUE(loop.ok());
  EXPECT_EQ(loop->host(), "::1");
}

TEST(ProxyUrl, WrongSchemeIsNamed) {
  EXPECT_EQ(error_of("https://proxy:3128"), E(ProxyUrlError::scheme));
  EXPECT_EQ(error_of("socks5://proxy:1080"), E(ProxyUrlError::scheme));
  EXPECT_EQ(error_of("proxy:3128"), E(ProxyUrlError::scheme));
  EXPECT_EQ(error_of(""), E(ProxyUrlError::scheme));
  EXPECT_EQ(error_of("http:/proxy:3128"), E(ProxyUrlError::scheme));
}

TEST(ProxyUrl, MissingPortIsNamed) {
  EXPECT_EQ(error_of("http://proxy"), E(ProxyUrlError::port_missing));
  EXPECT_EQ(error_of("http://proxy:"), E(ProxyUrlError::port_missing));
  EXPECT_EQ(error_of("http://[::1]"), E(ProxyUrlError::port_missing));
  EXPECT_EQ(error_of("http://proxy/"), E(ProxyUrlError::port_missing));
}

TEST(ProxyUrl, PortOutOfRangeOrNotANumberIsNamed) {
  EXPECT_EQ(error_of("http://proxy:0"), E(ProxyUrlError::port_range));
  EXPECT_EQ(error_of("http://proxy:65536"), E(ProxyUrlError::port_range));
  EXPECT_EQ(error_of("http://proxy:99999999999999999999"), E(ProxyUrlError::port_range));
  EXPECT_EQ(error_of("http://proxy:31a8"), E(ProxyUrlError::port_invalid));
  EXPECT_EQ(error_of("http://proxy:-1"), E(ProxyUrlError::port_invalid));
}

TEST(ProxyUrl, BadHostIsNamed) {
  EXPECT_EQ(error_of("http://:3128"), E(ProxyUrlError::host));
  EXPECT_EQ(error_of("http://user:pw@:3128"), E(ProxyUrlError::host));
  EXPECT_EQ(error_of("http://[]:3128"), E(ProxyUrlError::host));
  EXPECT_EQ(error_of("http://[::1:3128"), E(ProxyUrlError::host));
  EXPECT_EQ(error_of("http://2001:db8::1:3128"), E(ProxyUrlError::host)) << "IPv6 needs brackets";
  EXPECT_EQ(error_of("http://[::1]x:3128"), E(ProxyUrlError::host));
  EXPECT_EQ(error_of("http://[::1]:31:28"), E(ProxyUrlError::port_invalid));
  EXPECT_EQ(error_of("http://[1.2.3.4]:3128"), E(ProxyUrlError::host));
  EXPECT_EQ(error_of("http://pro xy:3128"), E(ProxyUrlError::host));
  EXPECT_EQ(error_of("http://proxy\r\nX-Evil: 1:3128"), E(ProxyUrlError::host));
  EXPECT_EQ(error_of("http://" + std::string(256, 'a') + ":3128"), E(ProxyUrlError::host));
}

TEST(ProxyUrl, BadCredentialsAreNamed) {
  EXPECT_EQ(error_of("http://@proxy:3128"), E(ProxyUrlError::userinfo));
  EXPECT_EQ(error_of("http://:pw@proxy:3128"), E(ProxyUrlError::userinfo));
  EXPECT_EQ(error_of("http://us%4ger:pw@proxy:3128"), E(ProxyUrlError::userinfo));
  EXPECT_EQ(error_of("http://user:pw%@proxy:3128"), E(ProxyUrlError::userinfo));
  EXPECT_EQ(error_of("http://user:pw%4@proxy:3128"), E(ProxyUrlError::userinfo));
  EXPECT_EQ(error_of("http://user:p%0d%0aX:1@proxy:3128"), E(ProxyUrlError::userinfo)) << "no CR LF";
  EXPECT_EQ(error_of("http://a%3Ab:pw@proxy:3128"), E(ProxyUrlError::userinfo)) << "':' in user";
  EXPECT_EQ(error_of("http://" + std::string(129, 'u') + ":pw@proxy:3128"), E(ProxyUrlError::userinfo));
}

TEST(ProxyUrl, PathQueryOrFragmentIsNamed) {
  EXPECT_EQ(error_of("http://proxy:3128/path"), E(ProxyUrlError::path));
  EXPECT_EQ(error_of("http://proxy:3128?x=1"), E(ProxyUrlError::path));
  EXPECT_EQ(error_of("http://proxy:3128#frag"), E(ProxyUrlError::path));
}

TEST(ProxyUrl, EveryErrorHasItsOwnText) {
  std::string seen;
  for (int32_t d = E(ProxyUrlError::scheme); d <= E(ProxyUrlError::path); ++d) {
    std::string text = proxy_url_error_text(d);
    EXPECT_FALSE(text.empty());
    EXPECT_EQ(seen.find("|" + text + "|"), std::string::npos) << "duplicate text " << text;
    seen += "|" + text + "|";
  }
  EXPECT_NE(std::string(proxy_url_error_text(E(ProxyUrlError::port_range))).find("65535"), std::string::npos);
}

// Every character a host name may hold (RFC 1123 letters, digits, '-' and
// '.', and '_' as found in internal names), in either case; hex digits of
// either case in an IPv6 literal.
TEST(ProxyUrl, HostNamesOfEveryAllowedCharacterAndIpv6InEitherCase) {
  Result<ProxyUrl> name = parse_proxy_url("http://Proxy-01.corp_net.EXAMPLE:3128");
  ASSERT_TRUE(name.ok());
  EXPECT_EQ(name->host(), "Proxy-01.corp_net.EXAMPLE");
  Result<ProxyUrl> v6 = parse_proxy_url("http://[2001:DB8:a:F::192.0.2.1]:8080");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host(), "2001:DB8:a:F::192.0.2.1");
  EXPECT_EQ(error_of("http://[fe80::1%eth0]:3128"), E(ProxyUrlError::host)) << "no zone ids";
  EXPECT_EQ(error_of("http://[::g]:3128"), E(ProxyUrlError::host));
  EXPECT_EQ(error_of("http://proxy!:3128"), E(ProxyUrlError::host));
  EXPECT_EQ(error_of("http://pr~oxy:3128"), E(ProxyUrlError::host));
}

// Percent escapes decode with hex digits of either case; a decoded DEL, like
// any control character, would end up in a header and is refused.
TEST(ProxyUrl, PercentEscapesInEitherCaseAndNoDecodedDel) {
  Result<ProxyUrl> r = parse_proxy_url("http://a%2fB%2F:p%7e%7E@proxy:3128");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->user(), "a/B/");
  EXPECT_EQ(r->password(), "p~~");
  EXPECT_EQ(error_of("http://user:p%7f@proxy:3128"), E(ProxyUrlError::userinfo));
  EXPECT_EQ(error_of("http://user:p\x7f@proxy:3128"), E(ProxyUrlError::userinfo));
  EXPECT_EQ(error_of("http://user:p%g0@proxy:3128"), E(ProxyUrlError::userinfo));
  EXPECT_EQ(error_of("http://user:p%0g@proxy:3128"), E(ProxyUrlError::userinfo));
}

TEST(ProxyUrl, AnUnknownErrorDetailStillHasWords) {
  EXPECT_STREQ(proxy_url_error_text(9999), "proxy URL is invalid");
}

}  // namespace
}  // namespace sublink
