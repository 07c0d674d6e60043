#include "api/request_checks.h"

#include <string>

#include <gtest/gtest.h>

#include "api/request_decoder.h"

namespace papr::api {
namespace {

TEST(RequestChecksTest, JsonContentTypes) {
  for (const char* ok : {"application/json", "Application/JSON", "application/json; charset=utf-8",
                         "application/json;charset=UTF-8", " application/json ",
                         "application/json; charset=\"utf-8\"", "application/json; foo=bar"}) {
    EXPECT_TRUE(IsJsonContentType(ok)) << ok;
  }
  for (const char* bad : {"", "text/plain", "application/x-www-form-urlencoded", "text/json",
                          "application/jsonp", "application/json; charset=latin1",
                          "multipart/form-data; boundary=x", "application/json-seq"}) {
    EXPECT_FALSE(IsJsonContentType(bad)) << bad;
  }
}

// Issue 12: content of only non-breaking or other Unicode spaces was stored as non-empty.
TEST(RequestChecksTest, UnicodeWhitespaceOnlyContentIsBlank) {
  for (const std::string& blank :
       {std::string(""), std::string(" \t\r\n\f\v"), std::string("\xc2\xa0\xc2\xa0"),  // NBSP
        std::string("\xe2\x80\x80\xe2\x80\x8a"),                                       // U+2000, U+200A
        std::string("\xe3\x80\x80"),                                                   // U+3000
        std::string("\xe2\x80\xaf\xe2\x81\x9f"),                                       // U+202F, U+205F
        std::string("\xe1\x9a\x80\xc2\x85\xe2\x80\xa8\xe2\x80\xa9"),                   // U+1680 ...
        std::string("\xe2\x80\x8b\xef\xbb\xbf\xe2\x81\xa0")}) {                        // ZWSP, BOM, WJ
    EXPECT_TRUE(IsBlankText(blank)) << blank;
    workflows::MemoryInput m;
    ApiError error;
    std::string body = R"({"content":")" + blank + "\"}";
    if (blank.find_first_of("\t\r\n\f\v") != std::string::npos) continue;  // not raw in JSON
    EXPECT_FALSE(DecodeAddMemory(body, DecodeLimits(), &m, &error)) << body;
    EXPECT_EQ(error.status, 400);
    EXPECT_NE(error.message.find("must not be empty"), std::string::npos) << error.message;
  }
  for (const std::string& text : {std::string("a"), std::string("\xc2\xa0x"),
                                  std::string("\xe2\x80\x8b\xe4\xb8\xad")}) {
    EXPECT_FALSE(IsBlankText(text)) << text;
  }
}

TEST(RequestChecksTest, SignalInputOver64KiBIs413NamingTheField) {
  AdminActionRequest out;
  ApiError error;
  std::string input(64 * 1024, 'x');  // as a JSON string: 2 bytes more than the limit
  ASSERT_FALSE(DecodeAdminAction(R"({"name":"n","input":")" + input + "\"}", "signal", &out, &error));
  EXPECT_EQ(error.status, 413);
  EXPECT_NE(error.details_json.find(R"("field":"input")"), std::string::npos) << error.details_json;
  ASSERT_FALSE(DecodeAdminAction(R"({"name":")" + std::string(300, 'n') + "\"}", "signal", &out,
                                 &error));
  EXPECT_NE(error.details_json.find(R"("field":"name")"), std::string::npos);
  std::string fits(64 * 1024 - 2, 'x');
  EXPECT_TRUE(DecodeAdminAction(R"({"name":"n","input":")" + fits + "\"}", "signal", &out, &error))
      << error.message;
}

}  // namespace
}  // namespace papr::api
