// Strict URL parsing (net/url.h): what may reach a request line and a Host header.
#include "net/url.h"

#include <string>

#include <gtest/gtest.h>

namespace papr::net {
namespace {

TEST(UrlTest, AcceptsOrdinaryUrls) {
  for (const char* url :
       {"http://example.com", "https://hooks.example.com:8443/a/b?x=1&y=%20z#frag",
        "http://127.0.0.1:9000/hook", "http://[2001:db8::1]:80/", "https://EXAMPLE.com/~u/a;b=c",
        "http://a-b.c.d/path/with/@and:colon!$&'()*+,;="}) {
    auto u = ParseUrl(url);
    EXPECT_TRUE(u.ok()) << url << ": " << u.status().ToString();
  }
  auto u = ParseUrl("https://EXAMPLE.com/x#frag");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "example.com");
  EXPECT_EQ(u->target, "/x");
}

// The request-splitting reproduction of issue 12 and its relatives: no control byte, space or
// non-ASCII byte anywhere in the URL.
TEST(UrlTest, RefusesControlBytesSpacesAndNonAscii) {
  const std::string smuggle =
      "http://127.0.0.1:9/b HTTP/1.1\r\nHost: internal\r\n\r\nDELETE /smuggled HTTP/1.1\r\n\r\n";
  for (const std::string& url :
       {smuggle, std::string("http://example.com/a\r\nX-Injected: 1"),
        std::string("http://example.com/a\nb"), std::string("http://example.com/a b"),
        std::string("http://example.com/a\tb"), std::string("http://exa\rmple.com/"),
        std::string("http://example.com/\x7f"), std::string("http://example.com/a\0b", 22),
        std::string("http://example.com/caf\xc3\xa9"), std::string("http://example.com/%zz"),
        std::string("http://example.com/%4"), std::string("http://example.com/a\"b"),
        std::string("http://example.com/<script>"), std::string("http://example.com/a\\b"),
        std::string("http://example.com/{x}"), std::string("http://example.com/a|b"),
        std::string("http://example.com/a^b"), std::string("http://example.com/`")}) {
    auto u = ParseUrl(url);
    EXPECT_FALSE(u.ok()) << "accepted " << url;
    if (!u.ok()) EXPECT_EQ(u.status().code(), StatusCode::kInvalidArgument);
  }
}

TEST(UrlTest, RefusesBadHosts) {
  for (const char* url :
       {"http://exa_mple.com/", "http://exa%2fmple.com/", "http://a..b/", "http://.a/",
        "http://a./", "http://ex!ample.com/", "http://[::1%25eth0]/", "http://[fe80::1%eth0]/",
        "http://[not-v6]/", "http://[1.2.3.4]/", "http://host:/", "http://host:80:80/",
        "http://example.com/[x]",
        "http://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com/"}) {
    auto u = ParseUrl(url);
    EXPECT_FALSE(u.ok()) << "accepted " << url << " as host " << (u.ok() ? u->host : "");
  }
}

TEST(UrlTest, RefusesOverlongUrls) {
  std::string url = "http://example.com/" + std::string(kMaxUrlBytes, 'a');
  EXPECT_FALSE(ParseUrl(url).ok());
  EXPECT_TRUE(ParseUrl(url.substr(0, kMaxUrlBytes)).ok());
}

TEST(UrlTest, HasControlByte) {
  EXPECT_FALSE(HasControlByte("plain value\twith tab"));
  EXPECT_TRUE(HasControlByte("a\rb"));
  EXPECT_TRUE(HasControlByte("a\nb"));
  EXPECT_TRUE(HasControlByte(std::string("a\0b", 3)));
  EXPECT_TRUE(HasControlByte("\x7f"));
}

}  // namespace
}  // namespace papr::net
