#include "workflows/metadata_filter.h"

#include <gtest/gtest.h>

namespace papr::workflows {
namespace {

bool Matches(const std::string& filter, const std::string& metadata) {
  auto parsed = MetadataFilter::Parse(filter);
  EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
  return parsed.ok() && parsed->Matches(metadata);
}

TEST(MetadataFilterTest, ScalarsAreEqualityAndArraysAreAnyOf) {
  const std::string m = R"({"topics":["sea","ships"],"location":"Oslo","year":2024,)"
                        R"("customMetadata":{"team":"red","score":3}})";
  EXPECT_TRUE(Matches(R"({"location":"Oslo"})", m));
  EXPECT_FALSE(Matches(R"({"location":"Bergen"})", m));
  EXPECT_TRUE(Matches(R"({"topics":"ships"})", m));                  // one of the memory's
  EXPECT_TRUE(Matches(R"({"topics":["planes","sea"]})", m));         // any of the filter's
  EXPECT_FALSE(Matches(R"({"topics":["planes","trains"]})", m));
  EXPECT_TRUE(Matches(R"({"year":2024,"location":["Oslo","Bergen"]})", m));  // all fields
  EXPECT_FALSE(Matches(R"({"year":2023,"location":"Oslo"})", m));
  EXPECT_FALSE(Matches(R"({"year":"2024"})", m));  // JSON types differ
  EXPECT_TRUE(Matches(R"({"customMetadata":{"team":"red"}})", m));
  EXPECT_TRUE(Matches(R"({"customMetadata":{"score":[1,3]}})", m));
  EXPECT_FALSE(Matches(R"({"customMetadata":{"team":"blue"}})", m));
  EXPECT_FALSE(Matches(R"({"customMetadata":{"absent":1}})", m));
  EXPECT_FALSE(Matches(R"({"sourceUrl":"x"})", m));  // a field the memory lacks
  EXPECT_TRUE(Matches(R"({"sourceUrl":null,"topics":null})", m));  // unset fields: no filter
  EXPECT_TRUE(MetadataFilter::Parse("{}")->empty());
}

TEST(MetadataFilterTest, OversizedFiltersAreRefused) {
  std::string many = "{";
  for (int i = 0; i < 65; ++i) many += (i ? ",\"f" : "\"f") + std::to_string(i) + "\":1";
  EXPECT_EQ(MetadataFilter::Parse(many + "}").status().code(), StatusCode::kInvalidArgument);
  std::string values = R"({"topics":[)";
  for (int i = 0; i < 257; ++i) values += (i ? "," : "") + std::to_string(i);
  EXPECT_EQ(MetadataFilter::Parse(values + "]}").status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(MetadataFilter::Parse("[1]").ok());
}

}  // namespace
}  // namespace papr::workflows
