#include "common/json_writer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

namespace papr {
namespace {

std::string Quoted(std::string_view s) {
  std::string out;
  AppendJsonString(&out, s);
  return out;
}

TEST(JsonWriterTest, EscapesQuotesBackslashAndShortForms) {
  EXPECT_EQ(Quoted(R"(say "hi" \ bye)"), R"("say \"hi\" \\ bye")");
  EXPECT_EQ(Quoted("a\nb\rc\td\be\ff"), R"("a\nb\rc\td\be\ff")");
  EXPECT_EQ(Quoted("/ and \x7f stay"), "\"/ and \x7f stay\"");
  EXPECT_EQ(Quoted(""), "\"\"");
}

TEST(JsonWriterTest, EscapesOtherControlCharactersAsU00XX) {
  EXPECT_EQ(Quoted(std::string("\x00\x01\x1f", 3)), R"("\u0000\u0001\u001f")");
  EXPECT_EQ(Quoted("\x0b\x1b"), R"("\u000b\u001b")");
}

TEST(JsonWriterTest, KeepsValidUtf8AndReplacesInvalidWithFffd) {
  const std::string kFffd = "\xef\xbf\xbd";
  EXPECT_EQ(Quoted("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
            "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
  EXPECT_EQ(Quoted("a\xff" "b"), "\"a" + kFffd + "b\"");
  EXPECT_EQ(Quoted("\x80"), "\"" + kFffd + "\"");                   // lone continuation
  EXPECT_EQ(Quoted("\xc0\xaf"), "\"" + kFffd + kFffd + "\"");       // overlong '/'
  EXPECT_EQ(Quoted("\xed\xa0\x80"), "\"" + kFffd + kFffd + kFffd + "\"");  // surrogate
  EXPECT_EQ(Quoted("\xf4\x90\x80\x80"), "\"" + kFffd + kFffd + kFffd + kFffd + "\"");  // > U+10FFFF
  EXPECT_EQ(Quoted("x\xe2\x82"), "\"x" + kFffd + kFffd + "\"");     // truncated at the end
}

TEST(JsonWriterTest, InsertsCommasInNestedContainers) {
  JsonWriter w;
  w.BeginObject()
      .Key("a")
      .BeginArray()
      .Int(1)
      .Int(2)
      .BeginObject()
      .Key("b")
      .Null()
      .EndObject()
      .BeginArray()
      .EndArray()
      .EndArray()
      .Key("c")
      .BeginObject()
      .EndObject()
      .Field("d", "x")
      .EndObject();
  EXPECT_EQ(w.str(), R"({"a":[1,2,{"b":null},[]],"c":{},"d":"x"})");
}

TEST(JsonWriterTest, RawInsertsJsonTextAndEmptyIsNull) {
  JsonWriter w;
  w.BeginObject()
      .FieldRaw("metadata", R"({"topics":["a"]})")
      .FieldRaw("none", "")
      .Key("list")
      .BeginArray()
      .Raw("1")
      .Raw(R"({"x":2})")
      .Raw("")
      .EndArray()
      .EndObject();
  EXPECT_EQ(w.str(), R"({"metadata":{"topics":["a"]},"none":null,"list":[1,{"x":2},null]})");
}

TEST(JsonWriterTest, WritesNumbersAndLiterals) {
  JsonWriter w;
  w.BeginArray()
      .Int(0)
      .Int(-42)
      .Int(std::numeric_limits<int64_t>::min())
      .Int(std::numeric_limits<int64_t>::max())
      .Double(0.1)
      .Double(3.0)
      .Double(-2.5)
      .Double(1e21)
      .Double(std::nan(""))
      .Double(std::numeric_limits<double>::infinity())
      .Bool(true)
      .Bool(false)
      .Null()
      .EndArray();
  EXPECT_EQ(w.str(),
            "[0,-42,-9223372036854775808,9223372036854775807,0.1,3,-2.5,1e+21,null,null,true,"
            "false,null]");
}

TEST(JsonWriterTest, FieldShorthands) {
  JsonWriter w;
  w.BeginObject()
      .Field("s", std::string_view("v"))
      .Field("c", "w")
      .Field("i64", int64_t{7})
      .Field("i", 8)
      .Field("b", false)
      .FieldOrNull("empty", "")
      .FieldOrNull("full", "z")
      .EndObject();
  EXPECT_EQ(w.str(), R"({"s":"v","c":"w","i64":7,"i":8,"b":false,"empty":null,"full":"z"})");
  std::string taken = w.Take();
  EXPECT_EQ(taken.front(), '{');
}

TEST(JsonWriterTest, EscapesKeys) {
  JsonWriter w;
  w.BeginObject().Field("a\"b\n", 1).EndObject();
  EXPECT_EQ(w.str(), R"({"a\"b\n":1})");
}

}  // namespace
}  // namespace papr
