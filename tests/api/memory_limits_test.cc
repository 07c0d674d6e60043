// Limits on the free-form fields of a memory (api/memory_limits.h) through the decoders, and
// the reserved top-level fields of the memory object (api/response_json.h).
#include "api/memory_limits.h"

#include <set>
#include <string>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "api/request_decoder.h"
#include "api/response_json.h"

namespace papr::api {
namespace {

DecodeLimits SmallLimits() {
  DecodeLimits limits;
  limits.fields.max_metadata_bytes = 200;
  limits.fields.max_metadata_keys = 5;
  limits.fields.max_metadata_depth = 3;
  limits.fields.max_metadata_string_bytes = 20;
  limits.fields.max_context_items = 2;
  limits.fields.max_context_item_bytes = 30;
  return limits;
}

std::string Memory(const std::string& extra) {
  return R"({"content":"a memory",)" + extra + "}";
}

struct Expected {
  std::string extra;  // fields added to the memory
  std::string field;  // details.field
  std::string limit;  // details.limit ("" for none)
};

TEST(MemoryLimitsTest, EachLimitIs422NamingTheFieldAndTheLimit) {
  const std::string big(300, 'x');
  const std::vector<Expected> cases = {
      {R"("metadata":{"a":")" + big + R"("})", "metadata", "limits.max_metadata_bytes"},
      {R"("metadata":{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6})", "metadata.f",
       "limits.max_metadata_keys"},
      {R"("metadata":{"a":{"b":{"c":{"d":1}}}})", "metadata.a.b.c", "limits.max_metadata_depth"},
      {R"("metadata":{"tags":[[["deep"]]]})", "metadata.tags[0][0]", "limits.max_metadata_depth"},
      {R"("metadata":{"tags":["ok","this string is too long"]})", "metadata.tags[1]",
       "limits.max_metadata_string_bytes"},
      {R"("metadata":{"this key is far too long":1})", "metadata.this key is far too long",
       "limits.max_metadata_string_bytes"},
      {R"("context":[{"role":"u","content":"a"},{"role":"u","content":"b"},)"
       R"({"role":"u","content":"c"}])",
       "context", "limits.max_context_items"},
      {R"("context":[{"role":"u","content":"a"},{"role":"user","content":")" +
           std::string(40, 'y') + R"("}])",
       "context[1]", "limits.max_context_item_bytes"},
      {R"("metadata":{"batch_index":1,"batch_index":2})", "metadata.batch_index", ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.extra);
    workflows::MemoryInput m;
    ApiError error;
    ASSERT_FALSE(DecodeAddMemory(Memory(c.extra), SmallLimits(), &m, &error));
    EXPECT_EQ(error.status, 422) << error.message;
    simdjson::dom::parser parser;
    simdjson::dom::element details = parser.parse(error.details_json).value();
    EXPECT_EQ(std::string(details["field"].get_string().value()), c.field) << error.details_json;
    if (!c.limit.empty()) {
      EXPECT_EQ(std::string(details["limit"].get_string().value()), c.limit);
      EXPECT_GT(details["actual"].get_int64().value(), details["max"].get_int64().value());
      EXPECT_NE(error.message.find(c.limit), std::string::npos) << error.message;
    }
    // In a batch: 422 with the memory's index and the same field.
    workflows::BatchRequest batch;
    ApiError batch_error;
    std::string body = R"({"memories":[{"content":"fine"},)" + Memory(c.extra) + "]}";
    ASSERT_FALSE(DecodeBatch(body, SmallLimits(), &batch, &batch_error));
    EXPECT_EQ(batch_error.status, 422);
    EXPECT_NE(batch_error.details_json.find(R"("index":1,"field":")" + c.field + "\""),
              std::string::npos)
        << batch_error.details_json;
  }
}

TEST(MemoryLimitsTest, MemoriesWithinTheLimitsPass) {
  workflows::MemoryInput m;
  ApiError error;
  std::string body = Memory(
      R"("metadata":{"a":{"b":[1,"twenty bytes exactly"]},"c":true},)"
      R"("context":[{"role":"u","content":"hello"},{"role":"a","content":"hi"}])");
  ASSERT_TRUE(DecodeAddMemory(body, SmallLimits(), &m, &error)) << error.message;
  EXPECT_EQ(m.metadata_json, R"({"a":{"b":[1,"twenty bytes exactly"]},"c":true})");
}

// Every top-level field WriteMemory writes is in MemoryServerFields, and metadata with all
// of those names (plus a lifted one) gives an object without a duplicate key.
TEST(MemoryLimitsTest, MetadataNeverShadowsServerFields) {
  storage::MemoryRecord m;
  m.id = "mem-1";
  m.user_id = "u";
  m.content = "c";
  m.batch_id = "b-1";
  m.batch_index = 3;
  m.enrichment_json = "{}";
  std::string metadata = "{";
  for (std::string_view f : MemoryServerFields()) {
    metadata += "\"" + std::string(f) + "\":\"shadow\",";
  }
  metadata += R"("topics":["t"]})";
  m.metadata_json = metadata;
  JsonWriter w;
  WriteMemory(w, m, 0.5);
  simdjson::dom::parser parser;
  simdjson::dom::object obj = parser.parse(w.str()).get_object().value();
  std::set<std::string> seen;
  const auto& reserved = MemoryServerFields();
  for (auto field : obj) {
    std::string key(field.key);
    EXPECT_TRUE(seen.insert(key).second) << "duplicate top-level key " << key << ": " << w.str();
    bool is_server = std::find(reserved.begin(), reserved.end(), key) != reserved.end();
    EXPECT_TRUE(is_server || key == "topics") << "unlisted top-level key " << key;
  }
  EXPECT_EQ(obj["batch_index"].get_int64().value(), 3);
  EXPECT_EQ(std::string(obj["id"].get_string().value()), "mem-1");
  EXPECT_TRUE(seen.count("topics"));
}

}  // namespace
}  // namespace papr::api
