#include "engine/internal/closed_row_cache.h"

#include <string>

#include <gtest/gtest.h>

namespace papr::engine::internal {
namespace {

TEST(ClosedRowCacheTest, AnswersAPutRowUntilItsTimeLimit) {
  ClosedRowCache cache(10, 1000, 100);
  cache.Put("a", "row a", 1000);
  EXPECT_EQ(cache.Get("a", 1000).value_or(""), "row a");
  EXPECT_EQ(cache.Get("a", 1100).value_or(""), "row a");
  EXPECT_FALSE(cache.Get("a", 1101).has_value());
  EXPECT_FALSE(cache.Get("b", 1000).has_value());
}

TEST(ClosedRowCacheTest, AnErasedRowIsGoneAndAPutAgainReplacesTheOld) {
  ClosedRowCache cache(10, 1000, 100);
  cache.Put("a", "first", 0);
  cache.Erase("a");
  EXPECT_FALSE(cache.Get("a", 0).has_value());
  cache.Put("a", "second", 0);
  cache.Put("a", "third", 50);
  EXPECT_EQ(cache.Get("a", 120).value_or(""), "third");
}

TEST(ClosedRowCacheTest, DropsTheOldestPutsPastItsEntryBound) {
  ClosedRowCache cache(3, 1000, 100);
  for (const char* id : {"a", "b", "c", "d"}) cache.Put(id, id, 0);
  EXPECT_FALSE(cache.Get("a", 0).has_value());
  for (const char* id : {"b", "c", "d"}) EXPECT_TRUE(cache.Get(id, 0).has_value()) << id;
  // "b" put again is now the newest: "c" goes first.
  cache.Put("b", "b2", 0);
  cache.Put("e", "e", 0);
  EXPECT_FALSE(cache.Get("c", 0).has_value());
  EXPECT_EQ(cache.Get("b", 0).value_or(""), "b2");
}

TEST(ClosedRowCacheTest, StaysWithinItsByteBoundAndSkipsARowLargerThanIt) {
  ClosedRowCache cache(100, 10, 100);
  cache.Put("a", std::string(6, 'a'), 0);
  cache.Put("b", std::string(6, 'b'), 0);  // 12 bytes: "a" goes
  EXPECT_FALSE(cache.Get("a", 0).has_value());
  EXPECT_TRUE(cache.Get("b", 0).has_value());
  cache.Put("c", std::string(11, 'c'), 0);
  EXPECT_FALSE(cache.Get("c", 0).has_value());
  EXPECT_TRUE(cache.Get("b", 0).has_value());
}

}  // namespace
}  // namespace papr::engine::internal
