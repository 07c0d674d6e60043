#include "api/multipart.h"

#include <gtest/gtest.h>

namespace papr::api {
namespace {

const char* kType = "multipart/form-data; boundary=----b0und";

std::string Part(const std::string& headers, const std::string& body) {
  return "------b0und\r\n" + headers + "\r\n\r\n" + body + "\r\n";
}

TEST(MultipartTest, FieldsAndAFileAsNodesFormDataSendsThem) {
  std::string body =
      Part("Content-Disposition: form-data; name=\"external_user_id\"", "alice") +
      Part("Content-Disposition: form-data; name=\"file\"; filename=\"notes.md\"\r\n"
           "Content-Type: text/markdown; charset=utf-8",
           "# A\r\n\r\nline\r\n--not-the-boundary") +
      "------b0und--\r\n";
  auto parts = ParseMultipartForm(kType, body, 10);
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[0].name, "external_user_id");
  EXPECT_EQ((*parts)[0].body, "alice");
  EXPECT_EQ((*parts)[1].filename, "notes.md");
  EXPECT_EQ((*parts)[1].content_type, "text/markdown");
  EXPECT_EQ((*parts)[1].body, "# A\r\n\r\nline\r\n--not-the-boundary");
}

TEST(MultipartTest, MalformedBodiesAreRefusedSayingWhat) {
  const std::string ok_part = Part("Content-Disposition: form-data; name=\"a\"", "x");
  struct Case {
    std::string type, body, says;
  } cases[] = {
      {"application/json", ok_part + "------b0und--", "multipart/form-data"},
      {"multipart/form-data", ok_part + "------b0und--", "boundary"},
      {kType, "no boundary here", "no boundary"},
      {kType, "------b0und\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nnever closed",
       "not closed"},
      {kType, Part("Content-Type: text/plain", "x") + "------b0und--", "form-data with a name"},
      {kType, Part("Content-Disposition: form-data; name=\"a\"\r\n" + std::string(9000, 'h') + ": v", "x") + "------b0und--",
       "8 KiB"},
  };
  for (const auto& c : cases) {
    auto parts = ParseMultipartForm(c.type, c.body, 10);
    ASSERT_FALSE(parts.ok()) << c.says;
    EXPECT_EQ(parts.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(parts.status().message().find(c.says), std::string::npos) << parts.status().message();
  }
}

TEST(MultipartTest, MorePartsThanAllowedAreRefused) {
  std::string body;
  for (int i = 0; i < 5; ++i) body += Part("Content-Disposition: form-data; name=\"f\"", "x");
  body += "------b0und--";
  EXPECT_TRUE(ParseMultipartForm(kType, body, 5).ok());
  auto parts = ParseMultipartForm(kType, body, 4);
  ASSERT_FALSE(parts.ok());
  EXPECT_NE(parts.status().message().find("more than 4"), std::string::npos);
}

}  // namespace
}  // namespace papr::api
