#include "common/ascii.h"

#include <gtest/gtest.h>

namespace papr {
namespace {

TEST(AsciiTest, LowerFoldsOnlyAsciiLetters) {
  EXPECT_EQ(AsciiLower("Content-Type: X-API-Key 42"), "content-type: x-api-key 42");
  EXPECT_EQ(AsciiLower("\xc3\x84@[`{"), "\xc3\x84@[`{");  // non-ASCII bytes and neighbours of A-Z
}

TEST(AsciiTest, StartsWithIgnoreCaseWantsALowerCasePrefix) {
  EXPECT_TRUE(StartsWithIgnoreCase("HTTPS://example.com", "https://"));
  EXPECT_TRUE(StartsWithIgnoreCase("http://", "http://"));
  EXPECT_FALSE(StartsWithIgnoreCase("http:/", "http://"));
  EXPECT_FALSE(StartsWithIgnoreCase("ftp://x", "http://"));
}

TEST(AsciiTest, ContainsIgnoreCaseFindsTheNeedleAnywhere) {
  EXPECT_TRUE(ContainsIgnoreCase("IO error: No space left on device", "no space"));
  EXPECT_TRUE(ContainsIgnoreCase("ENOSPC", "enospc"));
  EXPECT_TRUE(ContainsIgnoreCase("anything", ""));
  EXPECT_FALSE(ContainsIgnoreCase("no spac", "no space"));
}

}  // namespace
}  // namespace papr
